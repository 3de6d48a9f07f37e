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

func TestCloudFrontOriginStack(t *testing.T) {
	// GIVEN the section left out, or not enabled THEN the stack holds one wait-condition handle
	// and nothing else: nothing costs
	for _, c := range []*stacks.CloudFrontOriginConfig{nil, {Updater: &stacks.CloudFrontUpdaterConfig{}}} {
		app := awscdk.NewApp(nil)
		s := stacks.NewCloudFrontOriginStack(app, "Sandbox-CloudFrontOrigin", &stacks.SystemProps{Config: stacks.Environment{Name: "sandbox", CloudFrontOrigin: c}})
		var tpl struct {
			Resources map[string]struct{ Type string }
		}
		b, _ := json.Marshal(assertions.Template_FromStack(s, nil).ToJSON())
		_ = json.Unmarshal(b, &tpl)
		if len(tpl.Resources) != 1 {
			t.Errorf("%+v: resources %v", c, tpl.Resources)
		}
		for _, r := range tpl.Resources {
			if r.Type != "AWS::CloudFormation::WaitConditionHandle" {
				t.Errorf("%+v: a %s", c, r.Type)
			}
		}
	}

	cases := []struct {
		name    string
		account string
		cfg     stacks.CloudFrontOriginConfig
	}{
		{"sandbox, prefix list", "", stacks.CloudFrontOriginConfig{Enabled: true}},
		{"pinned, updater on security groups", "123456789012", stacks.CloudFrontOriginConfig{Enabled: true, Updater: &stacks.CloudFrontUpdaterConfig{Target: "security-groups"}}},
		{"pinned, updater on a prefix list, dry run", "123456789012", stacks.CloudFrontOriginConfig{Enabled: true, Updater: &stacks.CloudFrontUpdaterConfig{DryRun: true}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{"aws:cdk:bundling-stacks": []any{}}})
			props := &stacks.SystemProps{Config: stacks.Environment{Name: "pinned", Account: tc.account, Region: "eu-west-1", CloudFrontOrigin: &tc.cfg}}
			if tc.account != "" {
				props.Env = &awscdk.Environment{Account: jsii.String(tc.account), Region: jsii.String("eu-west-1")}
			}
			stack := stacks.NewCloudFrontOriginStack(app, "Test-CloudFrontOrigin", props)
			nag.ApplyPacks(app)
			if errs := nag.Errors(stack); len(errs) > 0 {
				t.Fatalf("nag:\n%s", strings.Join(errs, "\n"))
			}
			tpl := assertions.Template_FromStack(stack, nil)
			tpl.ResourceCountIs(jsii.String("AWS::CloudFront::Distribution"), jsii.Number(1))
			// The ALB's group opens nothing to the internet.
			tpl.ResourcePropertiesCountIs(jsii.String("AWS::EC2::SecurityGroupIngress"), &map[string]any{"CidrIp": "0.0.0.0/0"}, jsii.Number(0))
			tpl.HasResourceProperties(jsii.String("AWS::EC2::SecurityGroupIngress"), &map[string]any{
				"FromPort": 80, "SourcePrefixListId": map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("OriginLookupIPv4")), "PrefixListId"}},
			})
			subs := 0.0
			if tc.cfg.Updater != nil {
				subs = 1
			}
			tpl.ResourceCountIs(jsii.String("AWS::SNS::Subscription"), jsii.Number(subs))
		})
	}
}

func TestCloudFrontOriginConfigErrors(t *testing.T) {
	for raw, want := range map[string]string{
		`{"enabled":true,"updater":{"target":"x"}}`:           "config: environments.sandbox.cloudFrontOrigin.updater.target: expected prefix-list or security-groups",
		`{"enabled":true,"updater":{"service":"cloudfront"}}`: "config: environments.sandbox.cloudFrontOrigin.updater.service: expected an ip-ranges.json service",
		`{"enabled":true,"mode":"Updater"}`:                   "config: environments.sandbox.cloudFrontOrigin.mode: unknown key",
	} {
		var section any
		if err := json.Unmarshal([]byte(raw), &section); err != nil {
			t.Fatal(err)
		}
		_, err := stacks.LoadConfig(map[string]any{"sandbox": map[string]any{"cloudFrontOrigin": section}})
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", raw, err, want)
		}
	}
}
