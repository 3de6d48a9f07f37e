package stacks_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/internal/nag"
	"github.com/securestacks/securestacks/stacks"
)

// alexaSamplePackage is the sample skill package seen from this package's directory (cdk synth
// runs from the module root, where the default "skills/time-teller" resolves).
const alexaSamplePackage = "../skills/time-teller"

func alexaProps(name, account, region string, section *stacks.AlexaSkillConfig) *stacks.SystemProps {
	p := &stacks.SystemProps{Config: stacks.Environment{Name: name, Account: account, Region: region, AlexaSkill: section}}
	p.StackName = jsii.String(stacks.Environment{Name: name}.StackPrefix() + "-AlexaSkill")
	if account != "" {
		p.Env = &awscdk.Environment{Account: jsii.String(account), Region: jsii.String(region)}
	}
	return p
}

func TestAlexaSkillStack(t *testing.T) {
	// GIVEN one app with the AlexaSkill stack of three environments: sandbox with the default
	// prefix, prod pinned to a GovCloud account with its own prefix, and a custom package path
	app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{
		"aws:cdk:bundling-stacks":        []any{},
		"@aws-cdk/core:checkSecretUsage": true,
	}})
	sandbox := stacks.NewAlexaSkillStack(app, "Sandbox-AlexaSkill", alexaProps("sandbox", "", "",
		&stacks.AlexaSkillConfig{SkillPackagePath: alexaSamplePackage}))
	prod := stacks.NewAlexaSkillStack(app, "Prod-AlexaSkill", alexaProps("prod", "123456789012", "us-gov-west-1",
		&stacks.AlexaSkillConfig{ParameterPrefix: "/voice/prod/", SkillPackagePath: alexaSamplePackage}))
	ireland := stacks.NewAlexaSkillStack(app, "Eu-AlexaSkill", alexaProps("eu", "123456789012", "eu-west-1",
		&stacks.AlexaSkillConfig{SkillPackagePath: alexaSamplePackage}))
	nag.ApplyPacks(app)

	t.Run("a Region outside Alexa's endpoint Regions warns, theirs do not", func(t *testing.T) {
		// Alexa's own sources for the Regions of a skill's Lambda endpoint:
		// - the ASK CLI's deploy template maps Alexa's endpoint regions to AWS Regions:
		//   "AlexaAwsRegionMap: NA: us-east-1, EU: eu-west-1, FE: us-west-2"
		//   (https://unpkg.com/ask-cli@2.11.2/test/unit/fixture/model/yaml-config.yaml);
		// - Alexa's skill samples: "AWS Lambda only works with the Alexa Skills Kit in these
		//   regions: US East (N. Virginia), US West (Oregon), Asia Pacific (Tokyo) and EU
		//   (Ireland)" (https://github.com/alexa-samples/skill-sample-nodejs-trivia/blob/en-US/instructions/2-lambda-function.md);
		// - video skills enforce us-east-1, eu-west-1 and us-west-2
		//   (https://developer.amazon.com/docs/video-skills-multimodal-devices/supported-countries).
		// https://developer.amazon.com/docs/custom-skills/host-a-custom-skill-as-an-aws-lambda-function.html
		// is the hosting guide; its stored copy names no Region list.
		if got := strings.Join(stacks.AlexaEndpointRegions, ","); got != "us-east-1,eu-west-1,us-west-2,ap-northeast-1" {
			t.Errorf("AlexaEndpointRegions = %s, want the four Regions Alexa's sources name", got)
		}
		assertions.Annotations_FromStack(prod).HasWarning(jsii.String("/Prod-AlexaSkill"),
			assertions.Match_StringLikeRegexp(jsii.String("region us-gov-west-1 is none of Alexa's skill-endpoint Regions")))
		for _, s := range []awscdk.Stack{sandbox, ireland} {
			if w := *assertions.Annotations_FromStack(s).FindWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("skill-endpoint Regions"))); len(w) != 0 {
				t.Errorf("%s warns: %v", *s.StackName(), w)
			}
		}
	})

	cases := []struct {
		name   string
		stack  awscdk.Stack
		prefix string
	}{
		{"sandbox, default prefix", sandbox, "/alexa-cdk-blog/"},
		{"prod, own prefix, pinned GovCloud env", prod, "/voice/prod/"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// WHEN the stack is synthesized
			tpl := assertions.Template_FromStack(tc.stack, nil)
			raw, _ := json.Marshal(tpl.ToJSON())
			// THEN the vendor id and client id come from SSM parameters under the prefix
			for _, name := range []string{"alexa-developer-vendor-id", "lwa-client-id"} {
				tpl.HasParameter(jsii.String("*"), &map[string]any{
					"Type":    "AWS::SSM::Parameter::Value<String>",
					"Default": tc.prefix + name,
				})
			}
			// AND the client secret and refresh token are Secrets Manager references under it
			tpl.HasResourceProperties(jsii.String("Alexa::ASK::Skill"), &map[string]any{
				"VendorId": map[string]any{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^SsmParameterValue"))},
				"AuthenticationConfiguration": map[string]any{
					"ClientId":     map[string]any{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^SsmParameterValue"))},
					"ClientSecret": fmt.Sprintf("{{resolve:secretsmanager:%slwa-client-secret:SecretString:::}}", tc.prefix),
					"RefreshToken": fmt.Sprintf("{{resolve:secretsmanager:%slwa-refresh-token:SecretString:::}}", tc.prefix),
				},
			})
			// AND the time teller is the endpoint, answering within Alexa's 8 seconds and
			// reading the skill id from the parameter of this stack
			tpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), &map[string]any{
				"Timeout": 7,
				"Environment": map[string]any{"Variables": map[string]any{
					"SKILL_ID_PARAMETER": assertions.Match_StringLikeRegexp(jsii.String("^/securestacks/alexa-skill/" + *tc.stack.StackName() + "/Skill-[0-9A-F]{8}/skill-id$")),
				}},
			})
			tpl.ResourceCountIs(jsii.String("Custom::AlexaSkillPermission"), jsii.Number(1))
			tpl.HasOutput(jsii.String("SkillId"), &map[string]any{"Value": map[string]any{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^Skill"))}})
			// AND no ARN hard-codes the commercial partition
			if strings.Contains(string(raw), `arn:aws:`) {
				t.Errorf("template hard-codes the aws partition")
			}
			// AND the stack is nag-clean under the three packs
			if errs := nag.Errors(tc.stack); len(errs) > 0 {
				t.Errorf("cdk-nag errors:\n%s", strings.Join(errs, "\n"))
			}
		})
	}
}

func TestAlexaSkillStackIsRegistered(t *testing.T) {
	// GIVEN the system registry WHEN it is listed THEN AlexaSkill is built by NewAlexaSkillStack
	for _, s := range stacks.Systems() {
		if s.Name == "AlexaSkill" {
			return
		}
	}
	t.Fatal("AlexaSkill is not in stacks.Systems()")
}

func TestAlexaSkillStackRejectsBadConfig(t *testing.T) {
	cases := []struct {
		name    string
		section *stacks.AlexaSkillConfig
		want    string
	}{
		{"prefix without a trailing slash", &stacks.AlexaSkillConfig{ParameterPrefix: "/alexa", SkillPackagePath: alexaSamplePackage},
			`config: environments.prod.alexaSkill.parameterPrefix: expected a path that starts and ends with /`},
		{"relative prefix", &stacks.AlexaSkillConfig{ParameterPrefix: "alexa/", SkillPackagePath: alexaSamplePackage},
			`got "alexa/"`},
		{"reserved prefix", &stacks.AlexaSkillConfig{ParameterPrefix: "/aws/alexa/", SkillPackagePath: alexaSamplePackage},
			`not starting with aws or ssm`},
		{"prefix with a space", &stacks.AlexaSkillConfig{ParameterPrefix: "/my alexa/", SkillPackagePath: alexaSamplePackage},
			`environments.prod.alexaSkill.parameterPrefix`},
		{"package path with spaces around it", &stacks.AlexaSkillConfig{SkillPackagePath: " skills/time-teller"},
			`config: environments.prod.alexaSkill.skillPackagePath: expected a directory path without surrounding spaces`},
		{"package path that does not exist", &stacks.AlexaSkillConfig{SkillPackagePath: "skills/none"},
			`alexaskill: SkillPackagePath "skills/none": expected a directory with skill.json and interactionModels/`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// GIVEN an alexaSkill section with one defect
			app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{"aws:cdk:bundling-stacks": []any{}}})
			// WHEN the stack is built
			// THEN it stops with one line naming the key (BuildApp turns the panic into an error)
			defer func() {
				r := recover()
				msg := fmt.Sprint(r)
				if r == nil || !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") {
					t.Fatalf("panic %q: want one line containing %q", msg, tc.want)
				}
			}()
			stacks.NewAlexaSkillStack(app, "Prod-AlexaSkill", alexaProps("prod", "123456789012", "eu-west-1", tc.section))
		})
	}
}
