package alexaskill

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
)

// AlexaPrincipal is the service principal that Alexa uses both to invoke skill endpoints and
// to assume the AskResourceRole.
const AlexaPrincipal = "alexa-appkit.amazon.com"

// SkillIdParameterEnv is the environment variable in which the BackendEntry function
// receives the name of the skill-id parameter.
const SkillIdParameterEnv = "SKILL_ID_PARAMETER"

// DefaultBackendTimeout is the BackendEntry function's default timeout, in seconds: Alexa
// waits 8 seconds for an answer.
const DefaultBackendTimeout = 7

// PermissionHandlerEntry is the Go import path of the permission custom resource's handler.
// GoFunction builds it in the caller's module, so an app that imports this package builds the
// handler from its own module cache.
const PermissionHandlerEntry = "github.com/securestacks/securestacks/lambda-src/alexa-skill-permission"

// SkillProps configures a Skill.
type SkillProps struct {
	// SkillPackagePath is the skill package directory: skill.json (with a "manifest" object)
	// and interactionModels/. It is zipped into an S3 asset. A relative path is resolved
	// against the working directory (for `cdk synth`, the directory of cdk.json). Required.
	// The manifest's apis.custom.endpoint.uri is overridden when there is an endpoint.
	SkillPackagePath *string

	// BackendEntry is the Go import path of a Lambda main package to build (with GoFunction)
	// and use as the skill's endpoint, for example
	// "github.com/securestacks/securestacks/lambda-src/alexa-skill-backend". The construct
	// gives it a role of its own with one managed policy (its log group, X-Ray, and
	// ssm:GetParameter on the skill-id parameter), an encrypted log group, and the parameter's
	// name in the environment variable SkillIdParameterEnv. Default: nil. Conflicts with
	// Endpoint.
	BackendEntry *string

	// BackendFunctionProps overrides the defaults of the BackendEntry function: Timeout 7
	// seconds (Alexa waits 8), MemorySize 128, and GoFunction's own defaults. Role, LogGroup
	// and LogRetention belong to the construct and panic when set; the SkillIdParameterEnv
	// variable is always set. Default: nil. Requires BackendEntry.
	BackendFunctionProps *awslambda.FunctionProps

	// Endpoint is an existing function to use as the skill's endpoint. Its role is yours: to
	// let it read the skill id, call GrantSkillIdRead and pass SkillIdParameterName to it.
	// It must be a function whose policy the permission custom resource may change (any
	// function of this account and region), named by its unqualified ARN: a version or an
	// alias (awslambda.IVersion, awslambda.IAlias, or an ARN that ends in :<version> or
	// :<alias>) panics at synth; pass the function itself (a version's Lambda(), an alias's
	// Version().Lambda()). An ARN that is still a token at synth (an import, a reference) is
	// left to the custom resource, which rejects a qualified one at deploy time.
	// Default: nil. Conflicts with BackendEntry.
	//
	// With BackendEntry or Endpoint, the manifest points at the function's ARN and the
	// function receives a permission that only this skill may use (see README.md for the
	// order of creation). With neither, there is no endpoint, no Lambda permission and no
	// custom resource.
	Endpoint awslambda.IFunction

	// VendorId is the Alexa developer account's vendor id, a string or a token such as
	// awsssm.StringParameter_ValueForStringParameter. Required.
	VendorId *string

	// LwaClientId is the Login with Amazon security profile's client id, a string or a
	// token. Required.
	LwaClientId *string

	// LwaClientSecret is the security profile's client secret. Required. Use
	// awscdk.SecretValue_SecretsManager: Alexa::ASK::Skill cannot resolve SSM SecureString
	// references, so SecretValue_SsmSecure panics.
	LwaClientSecret awscdk.SecretValue

	// LwaRefreshToken is the refresh token from `ask util generate-lwa-tokens`. Required.
	// Same rules as LwaClientSecret.
	LwaRefreshToken awscdk.SecretValue

	// LogsKey encrypts the construct's log groups (the backend's, the permission function's
	// and the provider framework's). Default: a new key from defaults.LogsKey, created only
	// when there is an endpoint.
	LogsKey awskms.IKey
}
