package tenantisolation_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/tenantisolation"
)

func panicOf(f func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
		}
	}()
	f()
	return ""
}

func TestInvalidPropsPanicWithOneLine(t *testing.T) {
	stack := newStack()
	role := awsiam.NewRole(stack, jsii.String("R"), &awsiam.RoleProps{AssumedBy: awsiam.NewAccountRootPrincipal()})
	cases := []struct {
		name string
		f    func()
		want string
	}{
		{"no service role", func() { tenantisolation.NewTenantIsolation(stack, "A", nil) }, "ExistingServiceRole is required"},
		{"session too long", func() {
			tenantisolation.NewTenantIsolation(stack, "B", &tenantisolation.TenantIsolationProps{
				ExistingServiceRole: role, MaxSessionDuration: awscdk.Duration_Hours(jsii.Number(13))})
		}, "MaxSessionDuration: expected 1 to 12 hours"},
		{"session too short", func() {
			tenantisolation.NewTenantIsolation(stack, "C", &tenantisolation.TenantIsolationProps{
				ExistingServiceRole: role, MaxSessionDuration: awscdk.Duration_Minutes(jsii.Number(15))})
		}, "MaxSessionDuration: expected 1 to 12 hours"},
		{"tenant key with a slash", func() {
			tenantisolation.NewTenantKey(stack, "K", &tenantisolation.TenantKeyProps{TenantID: "ab/c"})
		}, "TenantKeyProps.TenantID"},
		{"tenant key with upper case", func() {
			tenantisolation.NewTenantKey(stack, "K2", &tenantisolation.TenantKeyProps{TenantID: "Yellow"})
		}, "TenantKeyProps.TenantID"},
		{"sample tenant with a star", func() {
			tenantisolation.NewShipmentTracking(stack, "S", &tenantisolation.ShipmentTrackingProps{Tenants: []string{"ab*"}})
		}, "ShipmentTrackingProps.Tenants"},
	}
	for _, c := range cases {
		msg := panicOf(c.f)
		if !strings.HasPrefix(msg, "tenantisolation: ") || !strings.Contains(msg, c.want) || strings.Contains(msg, "\n") {
			t.Errorf("%s: panic %q, want one line prefixed tenantisolation: containing %q", c.name, msg, c.want)
		}
	}
}

func TestAccessRoleTemplate(t *testing.T) {
	f := newFixture(t)
	// The trust policy names the service role only, for both actions, with
	// the tag conditions; the session is bounded to an hour.
	f.template.HasResourceProperties(jsii.String("AWS::IAM::Role"), map[string]any{
		"MaxSessionDuration": 3600,
		"AssumeRolePolicyDocument": map[string]any{"Statement": []any{map[string]any{
			"Effect":    "Allow",
			"Action":    []any{"sts:AssumeRole", "sts:TagSession"},
			"Principal": map[string]any{"AWS": map[string]any{"Fn::GetAtt": []any{f.service, "Arn"}}},
			"Condition": map[string]any{
				"StringLike":                map[string]any{"aws:RequestTag/TenantID": "?*"},
				"StringNotLike":             map[string]any{"aws:RequestTag/TenantID": assertions.Match_AnyValue()},
				"ForAllValues:StringEquals": map[string]any{"aws:TagKeys": []any{"TenantID"}},
				"Null":                      map[string]any{"sts:TransitiveTagKeys": "true"},
			},
		}}},
	})
	// Every tenant key carries its tenant's tag.
	for _, tenant := range keyTenants {
		f.template.HasResourceProperties(jsii.String("AWS::KMS::Key"), map[string]any{
			"Tags": assertions.Match_ArrayWith(&[]any{map[string]any{"Key": "TenantID", "Value": tenant}}),
		})
	}
}
