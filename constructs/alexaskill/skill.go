// Package alexaskill provides Skill: an Alexa skill (Alexa::ASK::Skill) deployed from a skill
// package directory, optionally with a Lambda endpoint that at steady state only this skill
// may invoke. It is a Go port of aws-samples/cdk-alexa-skill with one idempotent custom
// resource in place of that library's three, and with the fixes listed in README.md.
package alexaskill

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/alexaask"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3assets"
	"github.com/aws/aws-cdk-go/awscdk/v2/customresources"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/gofunction"
	"github.com/securestacks/securestacks/constructs/internal/defaults"
)

// Skill is an Alexa skill. Every resource it creates is exposed; fields that belong to the
// endpoint wiring are nil when SkillProps.Endpoint is nil, and every field but SkillId is nil
// for a skill imported with FromSkillId.
type Skill struct {
	constructs.Construct

	// SkillId is the skill's id (amzn1.ask.skill.…): the Ref of CfnSkill, or the imported id.
	SkillId *string

	// CfnSkill is the Alexa::ASK::Skill resource.
	CfnSkill alexaask.CfnSkill
	// SkillPackage is the zipped skill package asset.
	SkillPackage awss3assets.Asset
	// AskResourceRole is assumed by alexa-appkit.amazon.com to read SkillPackage.
	AskResourceRole awsiam.Role
	// AskResourceRolePolicy grants AskResourceRole s3:GetObject on the package object only.
	// CfnSkill depends on it as well as on the role.
	AskResourceRolePolicy awsiam.ManagedPolicy

	// Backend is the function built from SkillProps.BackendEntry; nil otherwise.
	Backend *gofunction.GoFunction
	// BackendRole is Backend's role; its only policy is BackendPolicy.
	BackendRole awsiam.Role
	// BackendPolicy allows writing Backend's logs and traces and reading the skill id. Add
	// statements here (not to BackendRole, which takes no policy updates) when the backend
	// needs more.
	BackendPolicy awsiam.ManagedPolicy

	// UnscopedPermission lets any skill invoke Endpoint, for as long as it takes to create
	// the skill (whose endpoint validation needs a permission); ScopedPermission then
	// removes its statement.
	UnscopedPermission awslambda.CfnPermission
	// ScopedPermission is the custom resource that scopes the endpoint's permission to this
	// skill and writes the skill id to the parameter named SkillIdParameterName.
	ScopedPermission awscdk.CustomResource
	// PermissionFunction is ScopedPermission's handler (lambda-src/alexa-skill-permission).
	PermissionFunction *gofunction.GoFunction
	// PermissionFunctionRole is PermissionFunction's role; its only policy is
	// PermissionFunctionPolicy.
	PermissionFunctionRole awsiam.Role
	// PermissionFunctionPolicy allows changing the policy of Endpoint only, and writing and
	// deleting the skill-id parameter only.
	PermissionFunctionPolicy awsiam.ManagedPolicy
	// PermissionProvider is the provider framework in front of PermissionFunction.
	PermissionProvider customresources.Provider

	// SkillIdParameterName is the SSM parameter (type String) holding SkillId:
	// /securestacks/alexa-skill/<stack name>/<path in stack>-<hash>/skill-id. ScopedPermission
	// owns it: written on Create and Update, deleted on Delete. Backend receives it in
	// SkillIdParameterEnv; give it to an Endpoint of your own, with GrantSkillIdRead, so the
	// function can check each request's application id. Nil without an endpoint.
	SkillIdParameterName *string
	// SkillIdParameterArn is the ARN of SkillIdParameterName.
	SkillIdParameterArn *string
}

// NewSkill defines a skill at scope/id. props is required: SkillPackagePath, VendorId,
// LwaClientId, LwaClientSecret and LwaRefreshToken must be set. Invalid props panic with a
// one-line message prefixed "alexaskill:".
func NewSkill(scope constructs.Construct, id string, props *SkillProps) *Skill {
	if props == nil {
		panic("alexaskill: props are required: SkillPackagePath, VendorId, LwaClientId, LwaClientSecret and LwaRefreshToken")
	}
	packagePath := checkSkillPackage(props.SkillPackagePath)
	checkBackendProps(props)
	checkEndpoint(props.Endpoint)
	requireString("VendorId", props.VendorId)
	requireString("LwaClientId", props.LwaClientId)
	clientSecret := unwrapSecret(scope, "LwaClientSecret", props.LwaClientSecret)
	refreshToken := unwrapSecret(scope, "LwaRefreshToken", props.LwaRefreshToken)

	s := &Skill{}
	constructs.NewConstruct_Override(s, scope, jsii.String(id))

	s.AskResourceRole = awsiam.NewRole(s, jsii.String("AskResourceRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String(AlexaPrincipal), nil),
		Description: jsii.String("Assumed by Alexa to read the skill package"),
	})
	s.SkillPackage = awss3assets.NewAsset(s, jsii.String("SkillPackage"), &awss3assets.AssetProps{
		Path: jsii.String(packagePath),
	})
	// Exactly the one package object: Alexa needs nothing else from the assets bucket.
	s.AskResourceRolePolicy = awsiam.NewManagedPolicy(s, jsii.String("AskResourceRolePolicy"), &awsiam.ManagedPolicyProps{
		Description: jsii.String("Read the skill package object"),
		Roles:       &[]awsiam.IRole{s.AskResourceRole},
		Statements: &[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("s3:GetObject"),
			Resources: jsii.Strings(*s.SkillPackage.Bucket().ArnForObjects(s.SkillPackage.S3ObjectKey())),
		})},
	})

	var endpoint awslambda.IFunction = props.Endpoint
	var logsKey awskms.IKey = props.LogsKey
	if endpoint != nil || props.BackendEntry != nil {
		s.nameSkillIdParameter()
		if logsKey == nil {
			logsKey = defaults.LogsKey(s, "LogsKey")
		}
	}
	if props.BackendEntry != nil {
		s.newBackend(props, logsKey)
		endpoint = s.Backend
	}

	packageProps := &alexaask.CfnSkill_SkillPackageProperty{
		S3Bucket:     s.SkillPackage.S3BucketName(),
		S3Key:        s.SkillPackage.S3ObjectKey(),
		S3BucketRole: s.AskResourceRole.RoleArn(),
	}
	if endpoint != nil {
		packageProps.Overrides = &alexaask.CfnSkill_OverridesProperty{
			Manifest: map[string]any{"apis": map[string]any{"custom": map[string]any{
				"endpoint": map[string]any{"uri": endpoint.FunctionArn()},
			}}},
		}
	}
	s.CfnSkill = alexaask.NewCfnSkill(s, jsii.String("Resource"), &alexaask.CfnSkillProps{
		VendorId:     props.VendorId,
		SkillPackage: packageProps,
		AuthenticationConfiguration: &alexaask.CfnSkill_AuthenticationConfigurationProperty{
			ClientId:     props.LwaClientId,
			ClientSecret: clientSecret,
			RefreshToken: refreshToken,
		},
	})
	// Alexa reads the package while the skill is created: the role alone is not enough, its
	// policy must be attached by then (the reference library's open PR #21).
	s.CfnSkill.Node().AddDependency(s.AskResourceRole, s.AskResourceRolePolicy)
	s.SkillId = s.CfnSkill.Ref()

	if endpoint != nil {
		s.wireEndpoint(endpoint, logsKey)
	}
	return s
}

// FromSkillId imports an existing skill by id. The result has SkillId set and every other
// field nil; it defines no resources.
func FromSkillId(scope constructs.Construct, id string, skillId string) *Skill {
	if strings.TrimSpace(skillId) == "" {
		panic("alexaskill: FromSkillId: skillId is empty; expected an id such as amzn1.ask.skill.<uuid>")
	}
	s := &Skill{SkillId: jsii.String(skillId)}
	constructs.NewConstruct_Override(s, scope, jsii.String(id))
	return s
}

// GrantSkillIdRead allows grantee to read the skill-id parameter (ssm:GetParameter on that
// parameter only). It panics for a skill without an endpoint or an imported one, which have
// no parameter.
func (s *Skill) GrantSkillIdRead(grantee awsiam.IGrantable) awsiam.Grant {
	if s.SkillIdParameterArn == nil {
		panic("alexaskill: GrantSkillIdRead: this skill has no skill-id parameter; only a skill created with an Endpoint has one")
	}
	return awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee:      grantee,
		Actions:      jsii.Strings("ssm:GetParameter"),
		ResourceArns: jsii.Strings(*s.SkillIdParameterArn),
	})
}

// checkSkillPackage returns the package directory after checking that it holds a skill.json
// with a manifest object and an interactionModels directory, so that a wrong path fails at
// synth rather than in the Alexa service during deploy.
func checkSkillPackage(p *string) string {
	if p == nil || strings.TrimSpace(*p) == "" {
		panic("alexaskill: SkillPackagePath is required: expected a directory with skill.json and interactionModels/")
	}
	dir := *p
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		panic(fmt.Sprintf("alexaskill: SkillPackagePath %q: expected a directory with skill.json and interactionModels/, found none", dir))
	}
	raw, err := os.ReadFile(filepath.Join(dir, "skill.json"))
	if err != nil {
		panic(fmt.Sprintf("alexaskill: SkillPackagePath %q: expected a skill.json file in it", dir))
	}
	var doc struct {
		Manifest map[string]any `json:"manifest"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil || doc.Manifest == nil {
		panic(fmt.Sprintf("alexaskill: SkillPackagePath %q: skill.json: expected a JSON object with a \"manifest\" object", dir))
	}
	if fi, err := os.Stat(filepath.Join(dir, "interactionModels")); err != nil || !fi.IsDir() {
		panic(fmt.Sprintf("alexaskill: SkillPackagePath %q: expected an interactionModels directory in it", dir))
	}
	return dir
}

func requireString(field string, v *string) {
	if v == nil || *v == "" {
		panic(fmt.Sprintf("alexaskill: %s is required: expected a string or a token", field))
	}
}

// unwrapSecret returns the secret's token for the CfnSkill property. Alexa::ASK::Skill
// resolves Secrets Manager dynamic references but not SSM SecureString ones, which would
// reach the Alexa service as the literal "{{resolve:ssm-secure:…}}" text: reject them here.
func unwrapSecret(scope constructs.Construct, field string, v awscdk.SecretValue) *string {
	if v == nil {
		panic(fmt.Sprintf("alexaskill: %s is required: expected an awscdk.SecretValue, for example awscdk.SecretValue_SecretsManager", field))
	}
	// UnsafeUnwrap returns the token, not the secret: the template holds a dynamic reference
	// that CloudFormation resolves at deploy time.
	token := v.UnsafeUnwrap()
	resolved, err := json.Marshal(awscdk.Stack_Of(scope).Resolve(token))
	if err != nil {
		panic(fmt.Sprintf("alexaskill: %s: cannot resolve the secret reference: %v", field, err))
	}
	if strings.Contains(string(resolved), "{{resolve:ssm-secure:") {
		panic(fmt.Sprintf("alexaskill: %s is an SSM SecureString reference, which Alexa::ASK::Skill cannot resolve; store it in Secrets Manager and use awscdk.SecretValue_SecretsManager", field))
	}
	return token
}
