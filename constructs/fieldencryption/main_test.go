package fieldencryption_test

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/asymmetrickey"
	"github.com/securestacks/securestacks/constructs/fieldencryption"
	"github.com/securestacks/securestacks/internal/nag"
)

// TestMain owns the one jsii runtime (node process) of this test binary.
func TestMain(m *testing.M) {
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}

// newStack returns a stack in a new app that skips bundling, with the
// cdk-nag packs; env nil is environment-agnostic.
func newStack(env *awscdk.Environment) (awscdk.App, awscdk.Stack) {
	// The flag our cdk.json sets: CDK then adds a log group to the edge function.
	app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{"aws:cdk:bundling-stacks": []any{}, "@aws-cdk/aws-lambda:useCdkManagedLogGroup": true}})
	nag.ApplyPacks(app)
	return app, awscdk.NewStack(app, jsii.String("FieldEncryptionTest"), &awscdk.StackProps{Env: env})
}

func newSystem(stack awscdk.Stack) *fieldencryption.FieldEncryption {
	key := asymmetrickey.NewEncryptionKey(stack, "FieldKey", nil)
	return fieldencryption.NewFieldEncryption(stack, "FLE", &fieldencryption.FieldEncryptionProps{
		EncryptionKey: key,
		Edge:          seedConfig(),
	})
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func mustPanic(t *testing.T, f func()) (msg string) {
	t.Helper()
	defer func() {
		r := recover()
		if r == nil {
			t.Fatal("no panic")
		}
		msg = fmt.Sprint(r)
	}()
	f()
	return ""
}

func resources(t *testing.T, tmpl assertions.Template, typ string) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for id, r := range *tmpl.FindResources(jsii.String(typ), nil) {
		p, _ := (*r)["Properties"].(map[string]any)
		out[id] = p
	}
	return out
}

func TestDistributionRunsTheEncrypterOnOriginRequestWithTheBody(t *testing.T) {
	for name, env := range map[string]*awscdk.Environment{
		"pinned region": {Account: jsii.String("123456789012"), Region: jsii.String("eu-west-1")},
		"agnostic":      nil,
	} {
		t.Run(name, func(t *testing.T) {
			app, stack := newStack(env)
			newSystem(stack)
			tmpl := assertions.Template_FromStack(stack, nil)
			// THEN the edge function runs on origin request and receives the body
			// https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-include-body-access.html
			tmpl.HasResourceProperties(jsii.String("AWS::CloudFront::Distribution"), map[string]any{
				"DistributionConfig": assertions.Match_ObjectLike(&map[string]any{
					"DefaultCacheBehavior": assertions.Match_ObjectLike(&map[string]any{
						"ViewerProtocolPolicy": "https-only",
						"AllowedMethods":       []any{"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"},
						"LambdaFunctionAssociations": []any{assertions.Match_ObjectLike(&map[string]any{
							"EventType": "origin-request", "IncludeBody": true,
						})},
						"OriginRequestPolicyId": "b689b0a8-53d0-40ab-baf2-68738e2966ac", // Managed-AllViewerExceptHostHeader
					}),
					"Logging": assertions.Match_ObjectLike(&map[string]any{"Prefix": "cloudfront/"}),
				}),
			})
			// THEN the origin is the function URL behind a Lambda origin access control
			// https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-restricting-access-to-lambda.html
			tmpl.HasResourceProperties(jsii.String("AWS::CloudFront::OriginAccessControl"), map[string]any{
				"OriginAccessControlConfig": assertions.Match_ObjectLike(&map[string]any{
					"OriginAccessControlOriginType": "lambda", "SigningBehavior": "always", "SigningProtocol": "sigv4",
				}),
			})
			tmpl.HasResourceProperties(jsii.String("AWS::Lambda::Url"), map[string]any{"AuthType": "AWS_IAM"})
			// THEN nothing but this distribution may invoke the origin: no public URL
			for id, p := range resources(t, tmpl, "AWS::Lambda::Permission") {
				if p["Principal"] != "cloudfront.amazonaws.com" || !strings.Contains(js(p["SourceArn"]), "distribution/") {
					t.Errorf("permission %s lets %s invoke", id, js(p))
				}
				if p["FunctionUrlAuthType"] != nil && p["FunctionUrlAuthType"] != "AWS_IAM" {
					t.Errorf("permission %s: %s", id, js(p))
				}
			}
			for id, p := range resources(t, tmpl, "AWS::Lambda::Url") {
				if p["AuthType"] != "AWS_IAM" {
					t.Errorf("function URL %s is %v", id, p["AuthType"])
				}
			}
			// THEN every stack is nag clean, the us-east-1 support stack of a
			// concrete region included
			stacks := 0
			for _, c := range *app.Node().Children() {
				s, ok := c.(awscdk.Stack)
				if !ok {
					continue
				}
				stacks++
				if errs := nag.Errors(s); len(errs) > 0 {
					t.Fatalf("nag:\n%s", strings.Join(errs, "\n"))
				}
			}
			if want := map[bool]int{true: 1, false: 2}[env == nil]; stacks != want {
				t.Fatalf("%d stacks, want %d", stacks, want)
			}
		})
	}
}
