package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/tenantisolation"
	"github.com/securestacks/securestacks/internal/tenantid"
)

// TenantIsolationConfig is the "tenantIsolation" section of an environment. A
// missing section means every default.
type TenantIsolationConfig struct {
	// Tenants are onboarded with a KMS key each (tagged TenantID), for their
	// S3 documents. Each is 1 to 26 lower-case letters or digits. Default
	// none: each key costs USD 1 a month. Users are created in the user pool
	// by an administrator, with the custom attribute tenant_id.
	Tenants []string `json:"tenants,omitempty"`
}

func (c *TenantIsolationConfig) validate(key string) error {
	if c == nil {
		return nil
	}
	seen := map[string]bool{}
	for _, t := range c.Tenants {
		if err := tenantid.Validate(t); err != nil {
			return errorf(key+".tenants", "%s", err.Error())
		}
		if seen[t] {
			return errorf(key+".tenants", "expected each tenant once, got %q twice", t)
		}
		seen[t] = true
	}
	return nil
}

// NewTenantIsolationStack builds <Env>-TenantIsolation: the seed post's
// shipment-tracking sample (tenantisolation.ShipmentTracking) with an HTTP
// API, a Cognito user pool, the pooled table, the documents bucket and the
// configured tenants' keys. OpenSearch is not deployed (see the construct's
// README). An invalid section panics with one line, which BuildApp turns into
// an error.
func NewTenantIsolationStack(scope constructs.Construct, id string, props *SystemProps) awscdk.Stack {
	if props == nil {
		props = &SystemProps{}
	}
	section := props.Config.TenantIsolation
	if err := section.validate("environments." + props.Config.Name + ".tenantIsolation"); err != nil {
		panic(err.Error())
	}
	var tenants []string
	if section != nil {
		tenants = section.Tenants
	}
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	s := tenantisolation.NewShipmentTracking(stack, "ShipmentTracking", &tenantisolation.ShipmentTrackingProps{Tenants: tenants})
	outputs := []struct {
		name, description string
		value             *string
	}{
		{"ApiUrl", "Base URL of the shipment-tracking HTTP API", s.Api.ApiEndpoint()},
		{"UserPoolId", "Cognito user pool: create users with the custom attribute tenant_id", s.UserPool.UserPoolId()},
		{"UserPoolClientId", "App client whose ID tokens the API accepts", s.UserPoolClient.UserPoolClientId()},
		{"TableName", "Pooled shipments table (partition key TenantID)", s.Table.TableName()},
		{"BucketName", "Shipment documents, under <tenant>/, SSE-KMS with the tenant's key", s.Bucket.BucketName()},
		{"AccessRoleArn", "Tenant access role (assumed with the TenantID session tag)", s.Isolation.AccessRole.RoleArn()},
	}
	for _, o := range outputs {
		awscdk.NewCfnOutput(stack, jsii.String(o.name), &awscdk.CfnOutputProps{Description: jsii.String(o.description), Value: o.value})
	}
	return stack
}
