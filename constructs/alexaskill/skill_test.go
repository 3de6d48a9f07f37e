package alexaskill_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/alexaskill"
	"github.com/securestacks/securestacks/constructs/gofunction"
	"github.com/securestacks/securestacks/internal/nag"
)

// samplePackage is the repository's sample skill package.
const samplePackage = "../../skills/time-teller"

// backendEntry is the repository's time-teller backend.
const backendEntry = "github.com/securestacks/securestacks/lambda-src/alexa-skill-backend"

// TestMain owns the one jsii runtime (node process) of this test binary.
func TestMain(m *testing.M) {
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}

// newApp returns an app that skips bundling, with the secret-usage check of our cdk.json on,
// so that the construct is tested under the flag that rejects careless secret handling.
func newApp() awscdk.App {
	return awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{
		"aws:cdk:bundling-stacks":        []any{},
		"@aws-cdk/core:checkSecretUsage": true,
	}})
}

func credentials(p *alexaskill.SkillProps) *alexaskill.SkillProps {
	p.VendorId = jsii.String("M1EXAMPLEVENDOR")
	p.LwaClientId = jsii.String("amzn1.application-oa2-client.example")
	p.LwaClientSecret = awscdk.SecretValue_SecretsManager(jsii.String("/alexa-cdk-blog/lwa-client-secret"), nil)
	p.LwaRefreshToken = awscdk.SecretValue_SecretsManager(jsii.String("/alexa-cdk-blog/lwa-refresh-token"), nil)
	return p
}

// template is a synthesized template as plain JSON, for walking DependsOn and policies.
type template struct {
	Resources map[string]struct {
		Type       string         `json:"Type"`
		Properties map[string]any `json:"Properties"`
		DependsOn  []string       `json:"DependsOn"`
	} `json:"Resources"`
}

func toTemplate(t *testing.T, tpl assertions.Template) template {
	t.Helper()
	b, err := json.Marshal(tpl.ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	var out template
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// only returns the logical id of the one resource of type typ whose id starts with prefix.
func (tp template) only(t *testing.T, typ, prefix string) string {
	t.Helper()
	var ids []string
	for id, r := range tp.Resources {
		if r.Type == typ && strings.HasPrefix(id, prefix) {
			ids = append(ids, id)
		}
	}
	if len(ids) != 1 {
		t.Fatalf("want one %s starting with %q, got %v", typ, prefix, ids)
	}
	return ids[0]
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// endpointStack builds the stack most tests share: a Go backend and a skill pointing at it.
type endpointStack struct {
	stack   awscdk.Stack
	backend *gofunction.GoFunction
	skill   *alexaskill.Skill
	tpl     template
	raw     assertions.Template
}

var shared *endpointStack

func withEndpoint(t *testing.T) *endpointStack {
	t.Helper()
	if shared != nil {
		return shared
	}
	app := newApp()
	stack := awscdk.NewStack(app, jsii.String("SkillTest"), nil)
	skill := alexaskill.NewSkill(stack, "Skill", credentials(&alexaskill.SkillProps{
		SkillPackagePath: jsii.String(samplePackage),
		BackendEntry:     jsii.String(backendEntry),
	}))
	nag.ApplyPacks(app)
	raw := assertions.Template_FromStack(stack, nil)
	shared = &endpointStack{stack: stack, backend: skill.Backend, skill: skill, tpl: toTemplate(t, raw), raw: raw}
	return shared
}

func TestSkillPropertiesAndManifestOverride(t *testing.T) {
	// GIVEN a skill with a Go backend as its endpoint
	s := withEndpoint(t)
	backend := s.tpl.only(t, "AWS::Lambda::Function", "SkillBackend")
	role := s.tpl.only(t, "AWS::IAM::Role", "SkillAskResourceRole")
	// WHEN the stack is synthesized
	// THEN the skill reads its package through the role, authenticates with dynamic
	// references, and its manifest points at the backend's ARN
	s.raw.HasResourceProperties(jsii.String("Alexa::ASK::Skill"), &map[string]any{
		"VendorId": "M1EXAMPLEVENDOR",
		"AuthenticationConfiguration": map[string]any{
			"ClientId":     "amzn1.application-oa2-client.example",
			"ClientSecret": "{{resolve:secretsmanager:/alexa-cdk-blog/lwa-client-secret:SecretString:::}}",
			"RefreshToken": "{{resolve:secretsmanager:/alexa-cdk-blog/lwa-refresh-token:SecretString:::}}",
		},
		"SkillPackage": map[string]any{
			"S3Bucket":     assertions.Match_AnyValue(),
			"S3Key":        assertions.Match_StringLikeRegexp(jsii.String(`^[0-9a-f]{64}\.zip$`)),
			"S3BucketRole": map[string]any{"Fn::GetAtt": []any{role, "Arn"}},
			"Overrides": map[string]any{"Manifest": map[string]any{"apis": map[string]any{"custom": map[string]any{
				"endpoint": map[string]any{"uri": map[string]any{"Fn::GetAtt": []any{backend, "Arn"}}},
			}}}},
		},
	})
}

func TestAskResourceRoleTrustAndReadGrant(t *testing.T) {
	// GIVEN the synthesized skill
	s := withEndpoint(t)
	role := s.tpl.only(t, "AWS::IAM::Role", "SkillAskResourceRole")
	policy := s.tpl.only(t, "AWS::IAM::ManagedPolicy", "SkillAskResourceRolePolicy")
	// THEN only Alexa may assume the role
	trust := js(s.tpl.Resources[role].Properties["AssumeRolePolicyDocument"])
	if !strings.Contains(trust, `"Principal":{"Service":"alexa-appkit.amazon.com"}`) || strings.Count(trust, `"Principal"`) != 1 {
		t.Fatalf("trust policy: %s", trust)
	}
	// AND its one policy reads exactly the package object, attached to that role
	p := s.tpl.Resources[policy].Properties
	doc := js(p["PolicyDocument"])
	if js(p["Roles"]) != js([]any{map[string]any{"Ref": role}}) {
		t.Fatalf("policy roles: %s", js(p["Roles"]))
	}
	var parsed struct{ Statement []map[string]any }
	_ = json.Unmarshal([]byte(doc), &parsed)
	if len(parsed.Statement) != 1 || js(parsed.Statement[0]["Action"]) != `"s3:GetObject"` {
		t.Fatalf("policy statements: %s", doc)
	}
	key := *s.skill.SkillPackage.S3ObjectKey()
	if res := js(parsed.Statement[0]["Resource"]); !strings.Contains(res, "/"+key) || strings.Contains(res, "*") {
		t.Fatalf("read grant must name the package object %s and nothing wider: %s", key, res)
	}
	if n := len(s.tpl.Resources[role].Properties); s.tpl.Resources[role].Properties["Policies"] != nil || n == 0 {
		t.Fatalf("the role must carry no inline policy: %s", js(s.tpl.Resources[role].Properties))
	}
}

func TestCreationOrder(t *testing.T) {
	// GIVEN the synthesized skill
	s := withEndpoint(t)
	skill := s.tpl.only(t, "Alexa::ASK::Skill", "Skill")
	role := s.tpl.only(t, "AWS::IAM::Role", "SkillAskResourceRole")
	rolePolicy := s.tpl.only(t, "AWS::IAM::ManagedPolicy", "SkillAskResourceRolePolicy")
	unscoped := s.tpl.only(t, "AWS::Lambda::Permission", "SkillUnscopedPermission")
	cr := s.tpl.only(t, alexaskill.ScopedPermissionResourceType, "SkillScopedPermission")
	fnPolicy := s.tpl.only(t, "AWS::IAM::ManagedPolicy", "SkillPermissionFunctionPolicy")
	fn := s.tpl.only(t, "AWS::Lambda::Function", "SkillPermissionFunction")
	cases := []struct {
		name, resource string
		dependsOn      []string
	}{
		{"skill waits for the role, its policy and the unscoped permission", skill, []string{role, rolePolicy, unscoped}},
		{"custom resource waits for the skill and the unscoped permission", cr, []string{skill, unscoped, fnPolicy}},
		{"permission function waits for its only policy", fn, []string{fnPolicy}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// THEN each resource's DependsOn names what must exist before it
			got := s.tpl.Resources[tc.resource].DependsOn
			for _, want := range tc.dependsOn {
				if !slices.Contains(got, want) {
					t.Errorf("%s DependsOn %v: missing %s", tc.resource, got, want)
				}
			}
		})
	}
}

func TestPermissionsAndCustomResource(t *testing.T) {
	// GIVEN the synthesized skill
	s := withEndpoint(t)
	backend := s.tpl.only(t, "AWS::Lambda::Function", "SkillBackend")
	skill := s.tpl.only(t, "Alexa::ASK::Skill", "Skill")
	unscoped := s.tpl.only(t, "AWS::Lambda::Permission", "SkillUnscopedPermission")
	backendArn := map[string]any{"Fn::GetAtt": []any{backend, "Arn"}}
	// THEN the unscoped permission lets Alexa invoke the backend, with no token (yet)
	s.raw.ResourceCountIs(jsii.String("AWS::Lambda::Permission"), jsii.Number(1))
	s.raw.HasResourceProperties(jsii.String("AWS::Lambda::Permission"), &map[string]any{
		"Action": "lambda:InvokeFunction", "Principal": "alexa-appkit.amazon.com", "FunctionName": backendArn,
		"EventSourceToken": assertions.Match_Absent(),
	})
	// AND one custom resource receives the function, the skill id, the parameter and the
	// unscoped permission, so a change to any of them runs an Update
	s.raw.ResourceCountIs(jsii.String(alexaskill.ScopedPermissionResourceType), jsii.Number(1))
	s.raw.HasResourceProperties(jsii.String(alexaskill.ScopedPermissionResourceType), &map[string]any{
		"FunctionArn":          backendArn,
		"SkillId":              map[string]any{"Ref": skill},
		"SkillIdParameterName": assertions.Match_StringLikeRegexp(jsii.String(`^/securestacks/alexa-skill/SkillTest/Skill-[0-9A-F]{8}/skill-id$`)),
		"UnscopedPermission":   map[string]any{"Ref": unscoped},
	})
}

func TestPermissionFunctionLeastPrivilege(t *testing.T) {
	// GIVEN the synthesized skill
	s := withEndpoint(t)
	backend := s.tpl.only(t, "AWS::Lambda::Function", "SkillBackend")
	fn := s.tpl.only(t, "AWS::Lambda::Function", "SkillPermissionFunction")
	fnRole := s.tpl.only(t, "AWS::IAM::Role", "SkillPermissionFunctionRole")
	fnPolicy := s.tpl.only(t, "AWS::IAM::ManagedPolicy", "SkillPermissionFunctionPolicy")
	// THEN the function runs our Go handler under its own role
	props := s.tpl.Resources[fn].Properties
	if js(props["Role"]) != js(map[string]any{"Fn::GetAtt": []any{fnRole, "Arn"}}) || props["Runtime"] != "provided.al2023" ||
		js(props["Architectures"]) != `["arm64"]` || props["Handler"] != "bootstrap" {
		t.Fatalf("permission function: %s", js(props))
	}
	// AND that role has exactly one policy: these actions on these resources, nothing more
	var doc struct {
		Statement []struct {
			Action   []string
			Resource any
		}
	}
	if err := json.Unmarshal([]byte(js(s.tpl.Resources[fnPolicy].Properties["PolicyDocument"])), &doc); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, st := range doc.Statement {
		for _, a := range st.Action {
			got[a] = js(st.Resource)
		}
	}
	backendArn := js(map[string]any{"Fn::GetAtt": []any{backend, "Arn"}})
	paramArn := js(awscdk.Stack_Of(s.skill).Resolve(s.skill.SkillIdParameterArn))
	logGroup := s.tpl.only(t, "AWS::Logs::LogGroup", "SkillPermissionFunctionLogGroup")
	want := map[string]string{
		"lambda:AddPermission":    backendArn,
		"lambda:RemovePermission": backendArn,
		"lambda:GetPolicy":        backendArn,
		"ssm:PutParameter":        paramArn,
		"ssm:DeleteParameter":     paramArn,
		"logs:CreateLogStream":    js(map[string]any{"Fn::GetAtt": []any{logGroup, "Arn"}}),
		"logs:PutLogEvents":       js(map[string]any{"Fn::GetAtt": []any{logGroup, "Arn"}}),
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("permission function policy:\n got %v\nwant %v", got, want)
	}
	if !strings.Contains(paramArn, ":parameter/securestacks/alexa-skill/SkillTest/") {
		t.Fatalf("parameter ARN %s", paramArn)
	}
	for id, r := range s.tpl.Resources {
		if r.Type == "AWS::IAM::Policy" && strings.HasPrefix(id, "SkillPermissionFunction") {
			t.Fatalf("inline policy %s on the permission function: %s", id, js(r.Properties))
		}
	}
	if s.tpl.Resources[fnRole].Properties["ManagedPolicyArns"] != nil {
		t.Fatalf("permission function role has AWS managed policies: %s", js(s.tpl.Resources[fnRole].Properties))
	}
}

func TestBackendFromEntry(t *testing.T) {
	// GIVEN the skill built with BackendEntry
	s := withEndpoint(t)
	backend := s.tpl.only(t, "AWS::Lambda::Function", "SkillBackend")
	role := s.tpl.only(t, "AWS::IAM::Role", "SkillBackendRole")
	policy := s.tpl.only(t, "AWS::IAM::ManagedPolicy", "SkillBackendPolicy")
	logGroup := s.tpl.only(t, "AWS::Logs::LogGroup", "SkillBackendLogGroup")
	// THEN the backend answers within Alexa's wait, knows where the skill id is, and runs
	// under its own role once that role's policy is attached
	props := s.tpl.Resources[backend].Properties
	env := js(props["Environment"])
	if props["Timeout"] != float64(alexaskill.DefaultBackendTimeout) || props["Runtime"] != "provided.al2023" ||
		js(props["Role"]) != js(map[string]any{"Fn::GetAtt": []any{role, "Arn"}}) ||
		!strings.Contains(env, `"SKILL_ID_PARAMETER":"/securestacks/alexa-skill/SkillTest/`) {
		t.Fatalf("backend: %s", js(props))
	}
	if !slices.Contains(s.tpl.Resources[backend].DependsOn, policy) {
		t.Fatalf("backend DependsOn %v: missing %s", s.tpl.Resources[backend].DependsOn, policy)
	}
	// AND its one policy covers its logs, the skill-id parameter and X-Ray, nothing else
	s.raw.HasResourceProperties(jsii.String("AWS::IAM::ManagedPolicy"), &map[string]any{
		"Roles": []any{map[string]any{"Ref": role}},
		"PolicyDocument": map[string]any{"Statement": []any{
			map[string]any{"Sid": "Logs", "Effect": "Allow", "Action": []any{"logs:CreateLogStream", "logs:PutLogEvents"},
				"Resource": map[string]any{"Fn::GetAtt": []any{logGroup, "Arn"}}},
			map[string]any{"Sid": "ReadSkillId", "Effect": "Allow", "Action": "ssm:GetParameter",
				"Resource": awscdk.Stack_Of(s.skill).Resolve(s.skill.SkillIdParameterArn)},
			map[string]any{"Sid": "Traces", "Effect": "Allow", "Action": []any{"xray:PutTraceSegments", "xray:PutTelemetryRecords"}, "Resource": "*"},
		}},
	})
	for id, r := range s.tpl.Resources {
		// The provider framework's generated role is the one exception (suppressed in nag).
		if r.Type == "AWS::IAM::Policy" && !strings.HasPrefix(id, "SkillPermissionProviderframeworkonEvent") {
			t.Errorf("inline policy %s: every role of the construct has one managed policy", id)
		}
	}
	// AND its log group is encrypted
	if s.tpl.Resources[logGroup].Properties["KmsKeyId"] == nil {
		t.Fatalf("backend log group unencrypted: %s", js(s.tpl.Resources[logGroup].Properties))
	}
}

func TestBackendFunctionPropsOverrideDefaults(t *testing.T) {
	// GIVEN BackendFunctionProps with a shorter timeout, no tracing and a variable that
	// tries to take over SKILL_ID_PARAMETER
	stack := awscdk.NewStack(newApp(), jsii.String("Overrides"), nil)
	skill := alexaskill.NewSkill(stack, "Skill", credentials(&alexaskill.SkillProps{
		SkillPackagePath: jsii.String(samplePackage),
		BackendEntry:     jsii.String(backendEntry),
		BackendFunctionProps: &awslambda.FunctionProps{
			Timeout:     awscdk.Duration_Seconds(jsii.Number(5)),
			Tracing:     awslambda.Tracing_DISABLED,
			Environment: &map[string]*string{"GREETING": jsii.String("hi"), alexaskill.SkillIdParameterEnv: jsii.String("/elsewhere")},
		},
	}))
	// WHEN it is synthesized
	tpl := assertions.Template_FromStack(stack, nil)
	// THEN the caller's values win, except the variable the construct requires
	tpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), &map[string]any{
		"Timeout": 5,
		"Environment": map[string]any{"Variables": map[string]any{
			"GREETING": "hi", "SKILL_ID_PARAMETER": *skill.SkillIdParameterName,
		}},
	})
	// AND without tracing there is no X-Ray grant
	tpl.HasResourceProperties(jsii.String("AWS::IAM::ManagedPolicy"), &map[string]any{
		"Roles": []any{map[string]any{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^SkillBackendRole"))}},
		"PolicyDocument": map[string]any{"Statement": []any{
			assertions.Match_ObjectLike(&map[string]any{"Sid": "Logs"}),
			assertions.Match_ObjectLike(&map[string]any{"Sid": "ReadSkillId"}),
		}},
	})
}

func TestSkillIsNagClean(t *testing.T) {
	// GIVEN the skill stack with the three packs applied WHEN it is synthesized
	s := withEndpoint(t)
	// THEN no finding is left unsuppressed
	if errs := nag.Errors(s.stack); len(errs) > 0 {
		t.Fatalf("cdk-nag errors:\n%s", strings.Join(errs, "\n"))
	}
}

func TestSkillWithoutEndpoint(t *testing.T) {
	// GIVEN a skill without an endpoint
	app := newApp()
	stack := awscdk.NewStack(app, jsii.String("NoEndpoint"), nil)
	skill := alexaskill.NewSkill(stack, "Skill", credentials(&alexaskill.SkillProps{SkillPackagePath: jsii.String(samplePackage)}))
	nag.ApplyPacks(app)
	// WHEN it is synthesized
	tpl := assertions.Template_FromStack(stack, nil)
	// THEN there is the skill and its package role, and no permission, function or custom resource
	tpl.ResourceCountIs(jsii.String("Alexa::ASK::Skill"), jsii.Number(1))
	for _, typ := range []string{"AWS::Lambda::Permission", "AWS::Lambda::Function", alexaskill.ScopedPermissionResourceType, "AWS::KMS::Key"} {
		tpl.ResourceCountIs(jsii.String(typ), jsii.Number(0))
	}
	tpl.HasResourceProperties(jsii.String("Alexa::ASK::Skill"), &map[string]any{
		"SkillPackage": map[string]any{"Overrides": assertions.Match_Absent()},
	})
	if skill.SkillIdParameterName != nil || skill.ScopedPermission != nil || skill.UnscopedPermission != nil {
		t.Fatal("endpoint fields set without an endpoint")
	}
	if errs := nag.Errors(stack); len(errs) > 0 {
		t.Fatalf("cdk-nag errors:\n%s", strings.Join(errs, "\n"))
	}
}

func TestGrantSkillIdReadAndImportedEndpoint(t *testing.T) {
	// GIVEN a skill whose endpoint is a function imported by ARN, and a role for the backend
	const fnArn = "arn:aws:lambda:eu-west-1:123456789012:function:ExistingBackend"
	stack := awscdk.NewStack(newApp(), jsii.String("Imported"), nil)
	endpoint := awslambda.Function_FromFunctionArn(stack, jsii.String("Existing"), jsii.String(fnArn))
	skill := alexaskill.NewSkill(stack, "Skill", credentials(&alexaskill.SkillProps{
		SkillPackagePath: jsii.String(samplePackage), Endpoint: endpoint,
	}))
	reader := awsiam.NewRole(stack, jsii.String("Reader"), &awsiam.RoleProps{AssumedBy: awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil)})
	// WHEN the role is granted read on the skill id
	skill.GrantSkillIdRead(reader)
	tpl := assertions.Template_FromStack(stack, nil)
	// THEN the role may call ssm:GetParameter on that one parameter
	tpl.HasResourceProperties(jsii.String("AWS::IAM::Policy"), &map[string]any{
		"Roles": []any{map[string]any{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^Reader"))}},
		"PolicyDocument": map[string]any{"Statement": []any{map[string]any{
			"Action": "ssm:GetParameter", "Effect": "Allow", "Resource": stack.Resolve(skill.SkillIdParameterArn),
		}}},
	})
	// AND the imported function is wired by its literal ARN
	tpl.HasResourceProperties(jsii.String("AWS::Lambda::Permission"), &map[string]any{"FunctionName": fnArn})
	tpl.HasResourceProperties(jsii.String(alexaskill.ScopedPermissionResourceType), &map[string]any{"FunctionArn": fnArn})
	tpl.HasResourceProperties(jsii.String("AWS::IAM::ManagedPolicy"), &map[string]any{
		"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{map[string]any{
			"Sid": "EndpointPolicy", "Effect": "Allow", "Resource": fnArn,
			"Action": []any{"lambda:AddPermission", "lambda:RemovePermission", "lambda:GetPolicy"},
		}})},
	})
}

func TestUnqualifiedEndpointsAndTokensPassTheSynthCheck(t *testing.T) {
	// GIVEN one stack with a function of the app and a function whose ARN is a token that
	// only the deploy-time check can inspect
	stack := awscdk.NewStack(newApp(), jsii.String("Endpoints"), nil)
	goFn := gofunction.NewGoFunction(stack, "Fn", &gofunction.GoFunctionProps{Entry: jsii.String(backendEntry)})
	imported := awslambda.Function_FromFunctionArn(stack, jsii.String("Imported"), awscdk.Fn_ImportValue(jsii.String("BackendArn")))
	cases := []struct {
		name     string
		endpoint awslambda.IFunction
		wantArn  any
	}{
		{"function of the app", goFn, stack.Resolve(goFn.FunctionArn())},
		{"imported ARN token", imported, map[string]any{"Fn::ImportValue": "BackendArn"}},
	}
	// WHEN each is a skill's endpoint
	for i, tc := range cases {
		alexaskill.NewSkill(stack, fmt.Sprintf("Skill%d", i), credentials(&alexaskill.SkillProps{
			SkillPackagePath: jsii.String(samplePackage), Endpoint: tc.endpoint,
		}))
	}
	tpl := assertions.Template_FromStack(stack, nil)
	// THEN both skills are defined, each custom resource with its endpoint's ARN
	tpl.ResourceCountIs(jsii.String("Alexa::ASK::Skill"), jsii.Number(len(cases)))
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tpl.HasResourceProperties(jsii.String(alexaskill.ScopedPermissionResourceType), &map[string]any{"FunctionArn": tc.wantArn})
		})
	}
}

func TestSkillIdParameterNamesAreDistinctAndValid(t *testing.T) {
	// GIVEN two skills whose ids differ only in a character SSM rejects, one nested deeper
	stack := awscdk.NewStack(newApp(), jsii.String("Names"), nil)
	group := constructs.NewConstruct(stack, jsii.String("Group"))
	a := alexaskill.NewSkill(stack, "Time Teller", credentials(&alexaskill.SkillProps{SkillPackagePath: jsii.String(samplePackage), BackendEntry: jsii.String(backendEntry)}))
	b := alexaskill.NewSkill(stack, "Time-Teller", credentials(&alexaskill.SkillProps{SkillPackagePath: jsii.String(samplePackage), BackendEntry: jsii.String(backendEntry)}))
	c := alexaskill.NewSkill(group, "Time Teller", credentials(&alexaskill.SkillProps{SkillPackagePath: jsii.String(samplePackage), BackendEntry: jsii.String(backendEntry)}))
	// WHEN their parameter names are derived
	names := []string{*a.SkillIdParameterName, *b.SkillIdParameterName, *c.SkillIdParameterName}
	// THEN they differ and use only characters SSM accepts, at a fixed depth
	valid := regexp.MustCompile(`^/securestacks/alexa-skill/Names/(Group-)?Time-Teller-[0-9A-F]{8}/skill-id$`)
	for _, n := range names {
		if !valid.MatchString(n) {
			t.Errorf("parameter name %q", n)
		}
	}
	if names[0] == names[1] || names[0] == names[2] {
		t.Fatalf("names collide: %q", names)
	}
}

func TestFromSkillId(t *testing.T) {
	// GIVEN an existing skill's id WHEN it is imported
	stack := awscdk.NewStack(newApp(), jsii.String("Import"), nil)
	skill := alexaskill.FromSkillId(stack, "Existing", "amzn1.ask.skill.11111111-1111-1111-1111-111111111111")
	awscdk.NewCfnOutput(stack, jsii.String("Id"), &awscdk.CfnOutputProps{Value: skill.SkillId})
	// THEN it carries the id and defines nothing
	if *skill.SkillId != "amzn1.ask.skill.11111111-1111-1111-1111-111111111111" || skill.CfnSkill != nil || skill.Backend != nil {
		t.Fatalf("imported skill: %+v", skill)
	}
	tpl := assertions.Template_FromStack(stack, nil)
	tpl.ResourceCountIs(jsii.String("Alexa::ASK::Skill"), jsii.Number(0))
	tpl.HasOutput(jsii.String("Id"), &map[string]any{"Value": "amzn1.ask.skill.11111111-1111-1111-1111-111111111111"})
	// AND asking it for a parameter grant is a clear error
	wantPanic(t, "alexaskill: GrantSkillIdRead: this skill has no skill-id parameter", func() {
		skill.GrantSkillIdRead(awsiam.NewAccountRootPrincipal())
	})
}

func wantPanic(t *testing.T, want string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Fatalf("no panic; want %q", want)
		}
		msg := fmt.Sprint(r)
		if !strings.Contains(msg, want) || strings.Contains(msg, "\n") {
			t.Fatalf("panic %q: want one line containing %q", msg, want)
		}
	}()
	f()
}

func TestSkillRejectsBadProps(t *testing.T) {
	dir := t.TempDir()
	mk := func(name string, files map[string]string) string {
		p := filepath.Join(dir, name)
		for f, content := range files {
			full := filepath.Join(p, f)
			if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return p
	}
	noSkillJSON := mk("no-skill-json", map[string]string{"interactionModels/custom/en-US.json": "{}"})
	badSkillJSON := mk("bad-skill-json", map[string]string{"skill.json": `{"manifest": [}`, "interactionModels/custom/en-US.json": "{}"})
	noModels := mk("no-models", map[string]string{"skill.json": `{"manifest": {}}`})
	ssmSecure := awscdk.SecretValue_SsmSecure(jsii.String("/alexa-cdk-blog/lwa-client-secret"), nil)
	ssmSecureVersioned := awscdk.SecretValue_SsmSecure(jsii.String("/alexa-cdk-blog/lwa-refresh-token"), jsii.String("3"))
	// Qualified endpoints, in one stack of their own: a version and an alias defined in the app
	// (ARNs that are tokens), and imports whose literal ARNs carry a qualifier.
	endpoints := awscdk.NewStack(newApp(), jsii.String("Endpoints"), nil)
	const fnArn = "arn:aws:lambda:eu-west-1:123456789012:function:F"
	fn := awslambda.Function_FromFunctionArn(endpoints, jsii.String("F"), jsii.String(fnArn))
	version := awslambda.NewVersion(endpoints, jsii.String("V"), &awslambda.VersionProps{Lambda: fn})
	alias := awslambda.NewAlias(endpoints, jsii.String("A"), &awslambda.AliasProps{AliasName: jsii.String("live"), Version: version})
	importedVersion := awslambda.Version_FromVersionArn(endpoints, jsii.String("IV"), jsii.String(fnArn+":7"))
	importedAlias := awslambda.Function_FromFunctionArn(endpoints, jsii.String("IA"), jsii.String(fnArn+":live"))
	endpointProps := func(endpoint awslambda.IFunction) func() *alexaskill.SkillProps {
		return func() *alexaskill.SkillProps {
			return credentials(&alexaskill.SkillProps{SkillPackagePath: jsii.String(samplePackage), Endpoint: endpoint})
		}
	}

	cases := []struct {
		name  string
		props func() *alexaskill.SkillProps
		want  string
	}{
		{"nil props", func() *alexaskill.SkillProps { return nil }, "alexaskill: props are required"},
		{"two endpoints", func() *alexaskill.SkillProps {
			return credentials(&alexaskill.SkillProps{SkillPackagePath: jsii.String(samplePackage), BackendEntry: jsii.String(backendEntry),
				Endpoint: awslambda.Function_FromFunctionArn(awscdk.NewStack(newApp(), jsii.String("Other"), nil), jsii.String("F"), jsii.String("arn:aws:lambda:eu-west-1:123456789012:function:F"))})
		}, "alexaskill: Endpoint and BackendEntry are both set"},
		{"backend props without an entry", func() *alexaskill.SkillProps {
			return credentials(&alexaskill.SkillProps{SkillPackagePath: jsii.String(samplePackage), BackendFunctionProps: &awslambda.FunctionProps{}})
		}, "alexaskill: BackendFunctionProps is set without BackendEntry"},
		{"backend role", func() *alexaskill.SkillProps {
			return credentials(&alexaskill.SkillProps{SkillPackagePath: jsii.String(samplePackage), BackendEntry: jsii.String(backendEntry),
				BackendFunctionProps: &awslambda.FunctionProps{Role: awsiam.Role_FromRoleArn(awscdk.NewStack(newApp(), jsii.String("Other"), nil), jsii.String("R"), jsii.String("arn:aws:iam::123456789012:role/r"), nil)}})
		}, "alexaskill: BackendFunctionProps.Role must be nil"},
		{"backend log retention", func() *alexaskill.SkillProps {
			return credentials(&alexaskill.SkillProps{SkillPackagePath: jsii.String(samplePackage), BackendEntry: jsii.String(backendEntry),
				//lint:ignore SA1019 the construct must reject the deprecated field
				BackendFunctionProps: &awslambda.FunctionProps{LogRetention: "ONE_DAY"}})
		}, "alexaskill: BackendFunctionProps.LogGroup and LogRetention must be unset"},
		{"SSM SecureString client secret", func() *alexaskill.SkillProps {
			p := credentials(&alexaskill.SkillProps{SkillPackagePath: jsii.String(samplePackage)})
			p.LwaClientSecret = ssmSecure
			return p
		}, "alexaskill: LwaClientSecret is an SSM SecureString reference, which Alexa::ASK::Skill cannot resolve"},
		{"SSM SecureString refresh token with a version", func() *alexaskill.SkillProps {
			p := credentials(&alexaskill.SkillProps{SkillPackagePath: jsii.String(samplePackage)})
			p.LwaRefreshToken = ssmSecureVersioned
			return p
		}, "alexaskill: LwaRefreshToken is an SSM SecureString reference"},
		{"version as endpoint", endpointProps(version), "alexaskill: Endpoint is a Lambda version: expected the unqualified function"},
		{"alias as endpoint", endpointProps(alias), "alexaskill: Endpoint is a Lambda alias: expected the unqualified function"},
		{"imported version as endpoint", endpointProps(importedVersion), "alexaskill: Endpoint is a Lambda version: expected the unqualified function"},
		{"function imported by a qualified ARN", endpointProps(importedAlias),
			`alexaskill: Endpoint has the qualified ARN "arn:aws:lambda:eu-west-1:123456789012:function:F:live": expected the unqualified function ARN`},
		{"missing client secret", func() *alexaskill.SkillProps {
			p := credentials(&alexaskill.SkillProps{SkillPackagePath: jsii.String(samplePackage)})
			p.LwaClientSecret = nil
			return p
		}, "alexaskill: LwaClientSecret is required"},
		{"missing vendor id", func() *alexaskill.SkillProps {
			p := credentials(&alexaskill.SkillProps{SkillPackagePath: jsii.String(samplePackage)})
			p.VendorId = nil
			return p
		}, "alexaskill: VendorId is required"},
		{"missing package path", func() *alexaskill.SkillProps { return credentials(&alexaskill.SkillProps{}) }, "alexaskill: SkillPackagePath is required"},
		{"package path that does not exist", func() *alexaskill.SkillProps {
			return credentials(&alexaskill.SkillProps{SkillPackagePath: jsii.String(filepath.Join(dir, "nope"))})
		}, "expected a directory with skill.json and interactionModels/, found none"},
		{"package without skill.json", func() *alexaskill.SkillProps {
			return credentials(&alexaskill.SkillProps{SkillPackagePath: jsii.String(noSkillJSON)})
		}, "expected a skill.json file in it"},
		{"skill.json that is not a manifest", func() *alexaskill.SkillProps {
			return credentials(&alexaskill.SkillProps{SkillPackagePath: jsii.String(badSkillJSON)})
		}, `skill.json: expected a JSON object with a "manifest" object`},
		{"package without interaction models", func() *alexaskill.SkillProps {
			return credentials(&alexaskill.SkillProps{SkillPackagePath: jsii.String(noModels)})
		}, "expected an interactionModels directory in it"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// GIVEN props with one defect
			stack := awscdk.NewStack(newApp(), jsii.String("Bad"), nil)
			// WHEN the skill is defined THEN it panics with one line naming the prop
			wantPanic(t, tc.want, func() { alexaskill.NewSkill(stack, "Skill", tc.props()) })
		})
	}
}
