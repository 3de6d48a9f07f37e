package defaults_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/internal/defaults"
	"github.com/securestacks/securestacks/internal/iampolicy"
	"github.com/securestacks/securestacks/internal/nag"
)

func TestSecureDefaults(t *testing.T) {
	// GIVEN a stack with a default bucket, a bucket whose caller turned versioning
	// off and tried to allow public reads, and a default log group
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Defaults"), nil)
	defaults.Bucket(stack, "Data", nil)
	defaults.Bucket(stack, "Loose", &awss3.BucketProps{Versioned: jsii.Bool(false), PublicReadAccess: jsii.Bool(true), EnforceSSL: jsii.Bool(false)})
	defaults.LogGroup(stack, "Logs", nil)
	nag.ApplyPacks(app)

	// WHEN the stack is synthesized
	tpl := assertions.Template_FromStack(stack, nil)

	// THEN the default bucket is KMS-encrypted, versioned, closed and logs to a separate bucket
	tpl.HasResourceProperties(jsii.String("AWS::S3::Bucket"), map[string]any{
		"BucketEncryption": map[string]any{"ServerSideEncryptionConfiguration": []any{map[string]any{
			"BucketKeyEnabled":              true,
			"ServerSideEncryptionByDefault": map[string]any{"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": assertions.Match_AnyValue()},
		}}},
		"VersioningConfiguration":        map[string]any{"Status": "Enabled"},
		"PublicAccessBlockConfiguration": map[string]any{"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true},
		"LoggingConfiguration":           map[string]any{"DestinationBucketName": assertions.Match_AnyValue(), "LogFilePrefix": "Data/"},
	})
	// AND the caller's versioning choice wins, but TLS and the public-access block are forced
	tpl.HasResourceProperties(jsii.String("AWS::S3::Bucket"), map[string]any{
		"LoggingConfiguration":           map[string]any{"LogFilePrefix": "Loose/"},
		"VersioningConfiguration":        assertions.Match_Absent(),
		"PublicAccessBlockConfiguration": map[string]any{"BlockPublicPolicy": true},
	})
	tpl.ResourcePropertiesCountIs(jsii.String("AWS::S3::BucketPolicy"), map[string]any{
		"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
			"Effect": "Deny", "Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
		})})},
	}, jsii.Number(4))
	// AND events reach EventBridge natively, with no notification custom resource
	tpl.AllResourcesProperties(jsii.String("AWS::S3::Bucket"), map[string]any{
		"NotificationConfiguration": map[string]any{"EventBridgeConfiguration": map[string]any{"EventBridgeEnabled": true}},
	})
	tpl.ResourceCountIs(jsii.String("AWS::Lambda::Function"), jsii.Number(0))
	// AND Object Lock is available, with no default retention
	tpl.AllResourcesProperties(jsii.String("AWS::S3::Bucket"), map[string]any{
		"ObjectLockEnabled": true, "ObjectLockConfiguration": assertions.Match_Absent(),
	})
	// AND keys rotate and are retained
	tpl.AllResourcesProperties(jsii.String("AWS::KMS::Key"), map[string]any{"EnableKeyRotation": true})
	tpl.AllResources(jsii.String("AWS::KMS::Key"), map[string]any{"DeletionPolicy": "Retain"})
	// AND only AWS services may create grants on them (CT.KMS.PR.3)
	tpl.AllResourcesProperties(jsii.String("AWS::KMS::Key"), map[string]any{
		"KeyPolicy": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{map[string]any{
			"Sid": "DenyGrantsExceptForAWSServices", "Effect": "Deny", "Principal": map[string]any{"AWS": "*"},
			"Action": "kms:CreateGrant", "Resource": "*",
			"Condition": map[string]any{"BoolIfExists": map[string]any{"kms:GrantIsForAWSResource": "false", "aws:PrincipalIsAWSService": "false"}},
		}})},
	})
	// AND the log group keeps a year of logs under its own key
	tpl.HasResourceProperties(jsii.String("AWS::Logs::LogGroup"), map[string]any{
		"RetentionInDays": 365,
		"KmsKeyId":        map[string]any{"Fn::GetAtt": assertions.Match_ArrayWith(&[]any{"Arn"})},
	})
	// AND every policy (bucket policies, key policies with the CloudWatch Logs
	// statement) is one AWS can evaluate as written: in particular no
	// encryption-context condition on an action that never carries one
	// (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awskeymanagementservice.html)
	ref, err := iampolicy.LoadNearest()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(tpl.ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	findings, docs, err := ref.CheckTemplate(raw)
	if err != nil {
		t.Fatal(err)
	}
	if docs < 6 {
		t.Errorf("checked %d policy documents, want the 4 bucket policies and 2 key policies at least", docs)
	}
	for _, f := range findings {
		t.Errorf("Service Authorization Reference: %s", f)
	}
	// AND the three nag packs find nothing unsuppressed in the defaults, and
	// catch exactly the caller's weakening: versioning off on Loose
	errs := nag.Errors(stack)
	if len(errs) != 2 {
		t.Fatalf("nag errors: want the two versioning findings on Loose, got %d: %v", len(errs), errs)
	}
	for _, e := range errs {
		if !strings.HasPrefix(e, "/Defaults/Loose/Resource: ") || !strings.Contains(e, "S3BucketVersioningEnabled") {
			t.Errorf("unexpected nag error %s", e)
		}
	}
}

func TestSuppressionNeedsAReason(t *testing.T) {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Reasons"), nil)
	cases := map[string]nag.Rule{
		"short reason": {ID: "AwsSolutions-S1", Reason: "not needed"},
		"unknown pack": {ID: "Serverless-LambdaTracing", Reason: "a long enough reason for the test"},
	}
	for name, rule := range cases {
		t.Run(name, func(t *testing.T) {
			// GIVEN a suppression without a reviewable reason or of a pack we do not run
			// WHEN it is recorded THEN it panics with a message naming the rule
			defer func() {
				r := recover()
				if msg, ok := r.(string); !ok || len(msg) < 10 || msg[:4] != "nag:" {
					t.Fatalf("recovered %v, want a nag: panic", r)
				}
			}()
			nag.Suppress(stack, rule)
		})
	}
}
