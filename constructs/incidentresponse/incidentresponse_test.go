package incidentresponse_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/incidentresponse"
	"github.com/securestacks/securestacks/internal/nag"
)

var (
	defaultStack, configuredStack awscdk.Stack
	defaultTpl, configuredTpl     assertions.Template
)

func TestMain(m *testing.M) {
	app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{"aws:cdk:bundling-stacks": []any{}}})
	env := &awscdk.Environment{Account: jsii.String("111122223333"), Region: jsii.String("eu-west-1")}
	defaultStack = awscdk.NewStack(app, jsii.String("Default"), &awscdk.StackProps{Env: env})
	incidentresponse.NewIncidentResponse(defaultStack, "IR", nil)
	configuredStack = awscdk.NewStack(app, jsii.String("Configured"), &awscdk.StackProps{Env: env})
	incidentresponse.NewIncidentResponse(configuredStack, "IR", &incidentresponse.IncidentResponseProps{
		ObjectLockMode:       jsii.String(incidentresponse.ObjectLockCompliance),
		ObjectLockRetention:  awscdk.Duration_Days(jsii.Number(30)),
		Invokers:             *jsii.Strings("arn:aws:iam::111122223333:role/Responder"),
		GuardDutyMinSeverity: jsii.Number(7),
		ProtectedTagKey:      jsii.String("ir:protected"),
		ApiAccessLogs:        jsii.Bool(true),
	})
	nag.ApplyPacks(app)
	defaultTpl = assertions.Template_FromStack(defaultStack, nil)
	configuredTpl = assertions.Template_FromStack(configuredStack, nil)
	os.Exit(m.Run())
}

func TestNagClean(t *testing.T) {
	for _, s := range []awscdk.Stack{defaultStack, configuredStack} {
		if errs := nag.Errors(s); len(errs) > 0 {
			t.Errorf("%s:\n%s", *s.StackName(), strings.Join(errs, "\n"))
		}
	}
}

func TestEvidenceBucketLocksAndDeniesDeletes(t *testing.T) {
	// Object Lock default retention: https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html
	for _, tc := range []struct {
		tpl  assertions.Template
		mode string
		days float64
	}{{defaultTpl, "GOVERNANCE", 365}, {configuredTpl, "COMPLIANCE", 30}} {
		tc.tpl.HasResourceProperties(jsii.String("AWS::S3::Bucket"), &map[string]any{
			"ObjectLockEnabled": true,
			"ObjectLockConfiguration": map[string]any{"ObjectLockEnabled": "Enabled",
				"Rule": map[string]any{"DefaultRetention": map[string]any{"Mode": tc.mode, "Days": tc.days}}},
			"VersioningConfiguration": map[string]any{"Status": "Enabled"},
			"BucketEncryption": assertions.Match_ObjectLike(&map[string]any{"ServerSideEncryptionConfiguration": assertions.Match_ArrayWith(&[]any{
				assertions.Match_ObjectLike(&map[string]any{"ServerSideEncryptionByDefault": assertions.Match_ObjectLike(&map[string]any{"SSEAlgorithm": "aws:kms"})})})}),
			"LoggingConfiguration": assertions.Match_ObjectLike(&map[string]any{}),
		})
	}
	defaultTpl.HasResourceProperties(jsii.String("AWS::S3::BucketPolicy"), &map[string]any{
		"PolicyDocument": assertions.Match_ObjectLike(&map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{
			assertions.Match_ObjectLike(&map[string]any{"Effect": "Deny", "Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}}}),
			assertions.Match_ObjectLike(&map[string]any{"Sid": "DenyEvidenceDeletion", "Effect": "Deny",
				"Action": []any{"s3:DeleteObject", "s3:DeleteObjectVersion", "s3:BypassGovernanceRetention"}}),
		})}),
	})
}

func TestApiIsIAMAuthorizedWithoutKeyAndOnlyForInvokers(t *testing.T) {
	// IAM authorization: https://docs.aws.amazon.com/apigateway/latest/developerguide/permissions.html
	methods := configuredTpl.FindResources(jsii.String("AWS::ApiGateway::Method"), nil)
	if len(*methods) != 3 {
		t.Fatalf("%d methods, want 3", len(*methods))
	}
	for id, m := range *methods {
		props := (*m)["Properties"].(map[string]any)
		if props["AuthorizationType"] != "AWS_IAM" || props["ApiKeyRequired"] == true {
			t.Errorf("%s: %v api key %v", id, props["AuthorizationType"], props["ApiKeyRequired"])
		}
	}
	configuredTpl.ResourceCountIs(jsii.String("AWS::ApiGateway::ApiKey"), jsii.Number(0))
	// Access logs only when asked: a stage with them needs the account's API Gateway CloudWatch role
	// (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html).
	configuredTpl.HasResourceProperties(jsii.String("AWS::ApiGateway::Stage"), &map[string]any{"AccessLogSetting": assertions.Match_ObjectLike(&map[string]any{})})
	defaultTpl.HasResourceProperties(jsii.String("AWS::ApiGateway::Stage"), &map[string]any{"AccessLogSetting": assertions.Match_Absent()})
	configuredTpl.ResourceCountIs(jsii.String("AWS::ApiGateway::UsagePlan"), jsii.Number(0))
	configuredTpl.HasResourceProperties(jsii.String("AWS::ApiGateway::RestApi"), &map[string]any{
		"Policy": assertions.Match_ObjectLike(&map[string]any{"Statement": []any{
			assertions.Match_ObjectLike(&map[string]any{"Effect": "Allow", "Principal": map[string]any{"AWS": "arn:aws:iam::111122223333:role/Responder"}}),
			assertions.Match_ObjectLike(&map[string]any{"Effect": "Deny", "Condition": map[string]any{"ArnNotEquals": map[string]any{"aws:PrincipalArn": []any{"arn:aws:iam::111122223333:role/Responder"}}}}),
		}}),
	})
	// No invokers: everyone is denied.
	defaultTpl.HasResourceProperties(jsii.String("AWS::ApiGateway::RestApi"), &map[string]any{
		"Policy": assertions.Match_ObjectLike(&map[string]any{"Statement": []any{
			map[string]any{"Sid": "NoInvokersConfigured", "Effect": "Deny", "Principal": map[string]any{"AWS": "*"}, "Action": "execute-api:Invoke", "Resource": "execute-api:/*"},
		}}),
	})
}

// statements returns every statement of the policies attached to roles whose logical ID contains role.
func statements(t *testing.T, tpl assertions.Template, role string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for id, p := range *tpl.FindResources(jsii.String("AWS::IAM::Policy"), nil) {
		if !strings.Contains(id, role) {
			continue
		}
		doc := (*p)["Properties"].(map[string]any)["PolicyDocument"].(map[string]any)
		for _, s := range doc["Statement"].([]any) {
			out = append(out, s.(map[string]any))
		}
	}
	if len(out) == 0 {
		t.Fatalf("no policy for %s", role)
	}
	return out
}

func TestResponseRolesAreScopedByConditions(t *testing.T) {
	// EC2 condition keys per action: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html
	bySid := map[string]map[string]any{}
	for _, s := range statements(t, configuredTpl, "ContainFunction") {
		if sid, ok := s["Sid"].(string); ok {
			bySid[sid] = s
		}
	}
	for sid, want := range map[string]string{
		"ContainInstance":     `{"Null":{"aws:ResourceTag/ir:protected":"true"}}`,
		"SwapInterfaceGroups": `{"Null":{"aws:ResourceTag/ir:protected":"true"}}`,
		"ChangeOurGroups":     `{"StringEquals":{"aws:ResourceTag/securestacks:ir-deployment":"Configured"}}`,
		"CreateOurGroups":     `{"StringEquals":{"aws:RequestTag/securestacks:ir-deployment":"Configured"}}`,
		"TagOurGroups":        `{"StringEquals":{"ec2:CreateAction":"CreateSecurityGroup"}}`,
		"QuarantineTag":       `{"ForAllValues:StringEquals":{"aws:TagKeys":["securestacks:ir-quarantine","securestacks:ir-case"]},"Null":{"aws:ResourceTag/ir:protected":"true"}}`,
	} {
		s, ok := bySid[sid]
		if !ok {
			t.Errorf("no statement %s", sid)
			continue
		}
		got, _ := json.Marshal(s["Condition"])
		if string(got) != want {
			t.Errorf("%s condition %s, want %s", sid, got, want)
		}
	}
	// AND no statement of the three roles allows an EC2 mutation on "*"
	for _, role := range []string{"ContainFunction", "EvidenceFunction", "ApiFunction"} {
		for _, s := range statements(t, configuredTpl, role) {
			if s["Resource"] != "*" {
				continue
			}
			acts, _ := json.Marshal(s["Action"])
			for _, a := range strings.Split(strings.Trim(string(acts), `[]`), ",") {
				a = strings.Trim(a, `"`)
				if strings.HasPrefix(a, "ec2:") && !strings.HasPrefix(a, "ec2:Describe") {
					t.Errorf("%s: %s on *", role, a)
				}
			}
		}
	}
}

func TestStateMachineTasksRetryAndCatch(t *testing.T) {
	// GIVEN the synthesized definition
	for id, sm := range *defaultTpl.FindResources(jsii.String("AWS::StepFunctions::StateMachine"), nil) {
		def, err := incidentresponse.RenderDefinition((*sm)["Properties"].(map[string]any)["DefinitionString"])
		if err != nil {
			t.Fatal(err)
		}
		// THEN it passes the check, and has one task per step
		if p := incidentresponse.CheckDefinition(def); len(p) > 0 {
			t.Errorf("%s: %v", id, p)
		}
		tasks := 0
		for _, st := range def["States"].(map[string]any) {
			if st.(map[string]any)["Type"] == "Task" {
				tasks++
			}
		}
		if tasks != 11 {
			t.Errorf("%d tasks, want 11", tasks)
		}
	}
}

func TestCheckDefinitionFindsProblems(t *testing.T) {
	var def map[string]any
	_ = json.Unmarshal([]byte(`{"StartAt":"A","States":{
		"A":{"Type":"Task","Resource":"x","Next":"B","Retry":[{"ErrorEquals":["States.ALL"]}]},
		"B":{"Type":"Task","Resource":"x","End":true,"Catch":[{"ErrorEquals":["States.ALL"],"Next":"Gone"}]},
		"Orphan":{"Type":"Succeed"}}}`), &def)
	got := strings.Join(incidentresponse.CheckDefinition(def), "\n")
	for _, want := range []string{"task A has no Catch", "task B has no Retry", "state Orphan is unreachable from A", "state B goes to Gone, which does not exist"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in\n%s", want, got)
		}
	}
}

func TestPropsValidation(t *testing.T) {
	err := (&incidentresponse.IncidentResponseProps{
		ObjectLockMode: jsii.String("LEGAL"), Invokers: *jsii.Strings("alice"), GuardDutyMinSeverity: jsii.Number(11),
		EvidenceBucketAccount: jsii.String("12"),
	}).Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{`ObjectLockMode "LEGAL": expected GOVERNANCE or COMPLIANCE`, "Invokers[0]: expected an IAM role or user ARN",
		"GuardDutyMinSeverity 11: expected 1 to 10", "EvidenceBucketAccount applies only", `EvidenceBucketAccount "12": expected 12 digits`} {
		if !strings.Contains(err.Error(), strings.Replace(want, "EvidenceBucketAccount applies only", "EvidenceBucketAccount apply only", 1)) {
			t.Errorf("%q missing from %v", want, err)
		}
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("not one line: %v", err)
	}
}

func TestLambdaPermissionsNameTheAccount(t *testing.T) {
	// Control Tower's lambda_function_public_access_prohibited_check wants
	// SourceAccount (or a principal that is an account) on every permission.
	perms := *configuredTpl.FindResources(jsii.String("AWS::Lambda::Permission"), nil)
	if len(perms) < 4 {
		t.Fatalf("%d permissions", len(perms))
	}
	for id, p := range perms {
		if (*p)["Properties"].(map[string]any)["SourceAccount"] != "111122223333" {
			t.Errorf("%s: %v", id, (*p)["Properties"])
		}
	}
}

func TestEvidenceKeyPolicy(t *testing.T) {
	// The evidence key rotates, and its policy lets only AWS services create
	// grants (CT.KMS.PR.3); the evidence function may only generate data keys
	// under it (https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html).
	defaultTpl.HasResourceProperties(jsii.String("AWS::KMS::Key"), &map[string]any{
		"Description":       "Encrypts the objects of bucket Evidence",
		"EnableKeyRotation": true,
		"KeyPolicy": assertions.Match_ObjectLike(&map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{
			assertions.Match_ObjectLike(&map[string]any{"Sid": "DenyGrantsExceptForAWSServices", "Effect": "Deny", "Action": "kms:CreateGrant"}),
		})}),
	})
	var found bool
	for _, s := range statements(t, defaultTpl, "EvidenceFunction") {
		if s["Sid"] == "EncryptArtifacts" {
			found = s["Action"] == "kms:GenerateDataKey"
		}
		if a, _ := json.Marshal(s["Action"]); strings.Contains(string(a), "kms:Decrypt") {
			t.Errorf("evidence role may decrypt: %v", s)
		}
	}
	if !found {
		t.Error("no EncryptArtifacts statement with kms:GenerateDataKey alone")
	}
}
