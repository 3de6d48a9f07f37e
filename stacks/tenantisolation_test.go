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

func tenantProps(name, account, region string, section *stacks.TenantIsolationConfig) *stacks.SystemProps {
	p := &stacks.SystemProps{Config: stacks.Environment{Name: name, Account: account, Region: region, TenantIsolation: section}}
	p.StackName = jsii.String(stacks.Environment{Name: name}.StackPrefix() + "-TenantIsolation")
	if account != "" {
		p.Env = &awscdk.Environment{Account: jsii.String(account), Region: jsii.String(region)}
	}
	return p
}

func TestTenantIsolationStack(t *testing.T) {
	// GIVEN the sandbox default (no tenants) and a pinned environment with two tenants
	app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{"aws:cdk:bundling-stacks": []any{}}})
	sandbox := stacks.NewTenantIsolationStack(app, "Sandbox-TenantIsolation", tenantProps("sandbox", "", "", nil))
	pinned := stacks.NewTenantIsolationStack(app, "Pinned-TenantIsolation", tenantProps("pinned", "123456789012", "eu-west-1",
		&stacks.TenantIsolationConfig{Tenants: []string{"yellow", "blue"}}))
	nag.ApplyPacks(app)

	for _, s := range []awscdk.Stack{sandbox, pinned} {
		if errs := nag.Errors(s); len(errs) > 0 {
			t.Errorf("%s: cdk-nag:\n%s", *s.StackName(), strings.Join(errs, "\n"))
		}
	}
	// THEN the sandbox has no tenant key (each costs a monthly fee) and the
	// pinned env one per tenant, tagged with the tenant
	sb := assertions.Template_FromStack(sandbox, nil)
	pt := assertions.Template_FromStack(pinned, nil)
	tenantKeys := func(tpl assertions.Template) int {
		n := 0
		for _, r := range *tpl.FindResources(jsii.String("AWS::KMS::Key"), nil) {
			if strings.Contains(fmtJSON(r), `"Key":"TenantID"`) {
				n++
			}
		}
		return n
	}
	if n := tenantKeys(sb); n != 0 {
		t.Errorf("sandbox has %d tenant keys, want 0", n)
	}
	if n := tenantKeys(pt); n != 2 {
		t.Errorf("pinned has %d tenant keys, want 2", n)
	}
	pt.HasResourceProperties(jsii.String("AWS::KMS::Key"), map[string]any{
		"Tags": assertions.Match_ArrayWith(&[]any{map[string]any{"Key": "TenantID", "Value": "yellow"}}),
	})
	// AND the API authorizes every route with a JWT authorizer on the user
	// pool, and the tenant attribute can be set only at creation
	pt.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Authorizer"), map[string]any{
		"AuthorizerType": "JWT",
		"JwtConfiguration": map[string]any{
			"Issuer": assertions.Match_AnyValue(), "Audience": assertions.Match_AnyValue(),
		},
	})
	for _, r := range *pt.FindResources(jsii.String("AWS::ApiGatewayV2::Route"), nil) {
		if !strings.Contains(fmtJSON(r), `"AuthorizationType":"JWT"`) {
			t.Errorf("a route without the JWT authorizer: %s", fmtJSON(r))
		}
	}
	pt.ResourceCountIs(jsii.String("AWS::ApiGatewayV2::Route"), jsii.Number(2))
	// The route keys are the ones lambda-src/tenant-shipment-tracking serves.
	for _, key := range []string{"GET /tenants/{tenantId}/shipments/{shipmentId}", "GET /tenants/{tenantId}/shipments/{shipmentId}/document"} {
		pt.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Route"), map[string]any{"RouteKey": key})
	}
	pt.HasResourceProperties(jsii.String("AWS::Cognito::UserPool"), map[string]any{
		"AdminCreateUserConfig": map[string]any{"AllowAdminCreateUserOnly": true},
		"Schema": assertions.Match_ArrayWith(&[]any{map[string]any{
			"AttributeDataType": "String", "Name": "tenant_id", "Mutable": false,
			"StringAttributeConstraints": map[string]any{"MinLength": "1", "MaxLength": "26"},
		}}),
	})
	for _, r := range *pt.FindResources(jsii.String("AWS::Cognito::UserPoolClient"), nil) {
		if strings.Contains(fmtJSON((*r)["Properties"].(map[string]any)["WriteAttributes"]), "tenant_id") {
			t.Errorf("the app client may write the tenant attribute")
		}
	}
	// AND the access role's sessions are bounded to one hour
	pt.HasResourceProperties(jsii.String("AWS::IAM::Role"), map[string]any{
		"MaxSessionDuration": 3600,
		"AssumeRolePolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{
			assertions.Match_ObjectLike(&map[string]any{"Action": []any{"sts:AssumeRole", "sts:TagSession"}}),
		})},
	})
}

func TestTenantIsolationConfigRejectsBadTenants(t *testing.T) {
	for _, tenants := range [][]string{{"Yellow"}, {"ab/c"}, {""}, {"a", "a"}} {
		_, err := stacks.LoadConfig(map[string]any{"prod": map[string]any{
			"account": "123456789012", "region": "eu-west-1",
			"tenantIsolation": map[string]any{"tenants": toAny(tenants)},
		}})
		if err == nil || !strings.Contains(err.Error(), "environments.prod.tenantIsolation.tenants") || strings.Contains(err.Error(), "\n") {
			t.Errorf("tenants %q: err = %v, want one line naming environments.prod.tenantIsolation.tenants", tenants, err)
		}
	}
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func fmtJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestTenantIsolationInvokePermissionsNameTheAccount(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{"aws:cdk:bundling-stacks": []any{}}})
	stack := stacks.NewTenantIsolationStack(app, "Pinned-TenantIsolation", tenantProps("pinned", "123456789012", "eu-west-1", nil))
	tpl := assertions.Template_FromStack(stack, nil)
	perms := *tpl.FindResources(jsii.String("AWS::Lambda::Permission"), nil)
	if len(perms) != 2 {
		t.Fatalf("%d invoke permissions, want one per route (2)", len(perms))
	}
	for id, p := range perms {
		props := (*p)["Properties"].(map[string]any)
		if props["SourceAccount"] != "123456789012" || props["SourceArn"] == nil {
			t.Errorf("%s: SourceAccount %v, SourceArn %v", id, props["SourceAccount"], props["SourceArn"])
		}
	}
}
