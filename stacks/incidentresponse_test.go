package stacks_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/internal/nag"
	"github.com/securestacks/securestacks/stacks"
)

func TestIncidentResponseStack(t *testing.T) {
	// GIVEN the sandbox defaults and a pinned environment with the API, GuardDuty and a security-account bucket
	app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{"aws:cdk:bundling-stacks": []any{}}})
	sandbox := stacks.NewIncidentResponseStack(app, "Sandbox-IncidentResponse", &stacks.SystemProps{Config: stacks.Environment{Name: "sandbox"}})
	severity := 7.0
	prod := stacks.NewIncidentResponseStack(app, "Prod-IncidentResponse", &stacks.SystemProps{
		StackProps: awscdk.StackProps{Env: &awscdk.Environment{Account: jsii.String("123456789012"), Region: jsii.String("eu-west-1")}},
		Config: stacks.Environment{Name: "prod", Account: "123456789012", Region: "eu-west-1", IncidentResponse: &stacks.IncidentResponseConfig{
			Invokers: []string{"arn:aws:iam::123456789012:role/Responder"}, GuardDutyMinSeverity: &severity,
			EvidenceBucketName: "security-evidence", EvidenceKeyArn: "arn:aws:kms:eu-west-1:999999999999:key/11111111-2222-3333-4444-555555555555",
			EvidenceAccount: "999999999999",
		}},
	})
	nag.ApplyPacks(app)
	// THEN both are nag clean
	for _, s := range []awscdk.Stack{sandbox, prod} {
		if errs := nag.Errors(s); len(errs) > 0 {
			t.Errorf("%s:\n%s", *s.StackName(), strings.Join(errs, "\n"))
		}
	}
	// AND sandbox has its own locked bucket and no GuardDuty rule
	st := assertions.Template_FromStack(sandbox, nil)
	st.ResourceCountIs(jsii.String("AWS::Events::Rule"), jsii.Number(0))
	st.HasResourceProperties(jsii.String("AWS::S3::Bucket"), &map[string]any{"ObjectLockEnabled": true})
	// AND prod writes to the security account's bucket, naming its owner
	pt := assertions.Template_FromStack(prod, nil)
	pt.ResourceCountIs(jsii.String("AWS::Events::Rule"), jsii.Number(1))
	pt.ResourceCountIs(jsii.String("AWS::S3::Bucket"), jsii.Number(0))
	pt.HasResourceProperties(jsii.String("AWS::Lambda::Function"), &map[string]any{
		"Environment": map[string]any{"Variables": assertions.Match_ObjectLike(&map[string]any{"IR_BUCKET": "security-evidence", "IR_BUCKET_OWNER": "999999999999"})},
	})
}

func TestIncidentResponseConfigErrors(t *testing.T) {
	for _, tc := range []struct{ section, want string }{
		{`{"invokers":["alice"]}`, `environments.prod.incidentResponse.invokers: entry 0: expected an IAM role or user ARN`},
		{`{"objectLockMode":"LEGAL"}`, `environments.prod.incidentResponse.objectLockMode: expected GOVERNANCE or COMPLIANCE, got "LEGAL"`},
		{`{"guardDutyMinSeverity":0.5}`, `environments.prod.incidentResponse.guardDutyMinSeverity: expected 1 to 10, got 0.5`},
		{`{"evidenceBucketName":"b"}`, `environments.prod.incidentResponse.evidenceBucketName: expected evidenceBucketName, evidenceKeyArn and evidenceAccount together, or none`},
	} {
		var envs any
		raw := `{"prod":{"account":"123456789012","region":"eu-west-1","incidentResponse":` + tc.section + `}}`
		if err := json.Unmarshal([]byte(raw), &envs); err != nil {
			t.Fatal(err)
		}
		_, err := stacks.LoadConfig(envs)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v, want %s", tc.section, err, tc.want)
		}
	}
}
