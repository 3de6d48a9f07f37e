package stacks

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsssm"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/alexaskill"
)

// DefaultAlexaParameterPrefix is where the Alexa developer credentials live by default: the
// seed post's prefix, so its upload script works unchanged.
const DefaultAlexaParameterPrefix = "/alexa-cdk-blog/"

// DefaultSkillPackagePath is the sample "time teller" skill package, relative to the
// directory `cdk synth` runs in (the one holding cdk.json).
const DefaultSkillPackagePath = "skills/time-teller"

// AlexaSkillBackendEntry is the Go import path of the time-teller backend.
const AlexaSkillBackendEntry = "github.com/securestacks/securestacks/lambda-src/alexa-skill-backend"

// AlexaEndpointRegions are the AWS Regions Alexa's own tooling puts skill
// endpoints in: the ASK CLI maps Alexa's endpoint regions NA, EU and FE to
// us-east-1, eu-west-1 and us-west-2, and Alexa's skill samples add
// ap-northeast-1 ("AWS Lambda only works with the Alexa Skills Kit in these
// regions: US East (N. Virginia), US West (Oregon), Asia Pacific (Tokyo) and EU
// (Ireland)", https://github.com/alexa-samples/skill-sample-nodejs-trivia/blob/en-US/instructions/2-lambda-function.md;
// hosting guide:
// https://developer.amazon.com/docs/custom-skills/host-a-custom-skill-as-an-aws-lambda-function.html).
var AlexaEndpointRegions = []string{"us-east-1", "eu-west-1", "us-west-2", "ap-northeast-1"}

// AlexaRegionWarningId identifies the synth warning for a Region outside
// AlexaEndpointRegions (acknowledge it with Annotations.AcknowledgeWarning).
const AlexaRegionWarningId = "securestacks:alexa:Region"

// The names, under the prefix, of the credentials the stack reads at deploy time.
const (
	// AlexaVendorIdParameter is an SSM String parameter: the Alexa developer vendor id.
	AlexaVendorIdParameter = "alexa-developer-vendor-id"
	// AlexaLwaClientIdParameter is an SSM String parameter: the LWA security profile's client id.
	AlexaLwaClientIdParameter = "lwa-client-id"
	// AlexaLwaClientSecretSecret is a Secrets Manager secret (plain text): the client secret.
	AlexaLwaClientSecretSecret = "lwa-client-secret"
	// AlexaLwaRefreshTokenSecret is a Secrets Manager secret (plain text): the refresh token.
	AlexaLwaRefreshTokenSecret = "lwa-refresh-token"
)

// AlexaSkillConfig is the "alexaSkill" section of an environment. A missing section means
// every default.
type AlexaSkillConfig struct {
	// ParameterPrefix is the path under which the two SSM parameters and the two Secrets
	// Manager secrets are named (prefix + AlexaVendorIdParameter, …). It must start and end
	// with "/". Default DefaultAlexaParameterPrefix.
	ParameterPrefix string `json:"parameterPrefix,omitempty"`
	// SkillPackagePath is the skill package directory (skill.json and interactionModels/),
	// relative to the directory `cdk synth` runs in, or absolute. Default
	// DefaultSkillPackagePath.
	SkillPackagePath string `json:"skillPackagePath,omitempty"`
}

// A prefix usable both for SSM parameter names and Secrets Manager secret names.
var alexaPrefixRe = regexp.MustCompile(`^/([A-Za-z0-9_.-]+/)*$`)

// validate checks the section; key is its dotted path, such as
// "environments.prod.alexaSkill". A nil section is valid.
func (c *AlexaSkillConfig) validate(key string) error {
	if c == nil {
		return nil
	}
	if p := c.ParameterPrefix; p != "" {
		first := strings.ToLower(strings.SplitN(strings.TrimPrefix(p, "/"), "/", 2)[0])
		if !alexaPrefixRe.MatchString(p) || strings.HasPrefix(first, "aws") || strings.HasPrefix(first, "ssm") {
			return errorf(key+".parameterPrefix", "expected a path that starts and ends with / and holds only letters, digits, _ . - and / (not starting with aws or ssm), such as /alexa-cdk-blog/, got %q", p)
		}
	}
	if c.SkillPackagePath != "" && strings.TrimSpace(c.SkillPackagePath) != c.SkillPackagePath {
		return errorf(key+".skillPackagePath", "expected a directory path without surrounding spaces, got %q", c.SkillPackagePath)
	}
	return nil
}

// withDefaults returns the section with every unset key at its default.
func (c *AlexaSkillConfig) withDefaults() AlexaSkillConfig {
	var out AlexaSkillConfig
	if c != nil {
		out = *c
	}
	if out.ParameterPrefix == "" {
		out.ParameterPrefix = DefaultAlexaParameterPrefix
	}
	if out.SkillPackagePath == "" {
		out.SkillPackagePath = DefaultSkillPackagePath
	}
	return out
}

// NewAlexaSkillStack builds <Env>-AlexaSkill: the time-teller backend and the skill from the
// configured skill package, with the Alexa developer credentials read at deploy time from SSM
// Parameter Store (vendor id, LWA client id) and Secrets Manager (LWA client secret and
// refresh token) under the configured prefix. Those four must exist before the deploy (see
// constructs/alexaskill/README.md). An invalid section panics with one line, which BuildApp
// turns into an error.
func NewAlexaSkillStack(scope constructs.Construct, id string, props *SystemProps) awscdk.Stack {
	if props == nil {
		props = &SystemProps{}
	}
	section := props.Config.AlexaSkill
	if err := section.validate("environments." + props.Config.Name + ".alexaSkill"); err != nil {
		panic(err.Error())
	}
	cfg := section.withDefaults()
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	if r := props.Config.Region; r != "" && !slices.Contains(AlexaEndpointRegions, r) {
		awscdk.Annotations_Of(stack).AddWarningV2(jsii.String(AlexaRegionWarningId), jsii.String(fmt.Sprintf(
			"region %s is none of Alexa's skill-endpoint Regions (%s): Alexa may not call a skill backend there, and the skill answers from far away", r, strings.Join(AlexaEndpointRegions, ", "))), nil)
	}

	prefix := cfg.ParameterPrefix
	vendorId := awsssm.StringParameter_ValueForStringParameter(stack, jsii.String(prefix+AlexaVendorIdParameter), nil)
	lwaClientId := awsssm.StringParameter_ValueForStringParameter(stack, jsii.String(prefix+AlexaLwaClientIdParameter), nil)
	lwaClientSecret := awscdk.SecretValue_SecretsManager(jsii.String(prefix+AlexaLwaClientSecretSecret), nil)
	lwaRefreshToken := awscdk.SecretValue_SecretsManager(jsii.String(prefix+AlexaLwaRefreshTokenSecret), nil)

	skill := alexaskill.NewSkill(stack, "Skill", &alexaskill.SkillProps{
		SkillPackagePath: jsii.String(cfg.SkillPackagePath),
		BackendEntry:     jsii.String(AlexaSkillBackendEntry),
		VendorId:         vendorId,
		LwaClientId:      lwaClientId,
		LwaClientSecret:  lwaClientSecret,
		LwaRefreshToken:  lwaRefreshToken,
	})

	awscdk.NewCfnOutput(stack, jsii.String("SkillId"), &awscdk.CfnOutputProps{
		Description: jsii.String("Id of the Alexa skill"),
		Value:       skill.SkillId,
	})
	awscdk.NewCfnOutput(stack, jsii.String("BackendFunctionName"), &awscdk.CfnOutputProps{
		Description: jsii.String("Name of the skill's backend function"),
		Value:       skill.Backend.FunctionName(),
	})
	return stack
}
