package tenantisolation_test

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsopensearchservice"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/tenantisolation"
)

// The access role for a service's own role, with a pooled table, a bucket
// of per-tenant prefixes and the tenants' keys; one tenant onboarded.
func ExampleNewTenantIsolation() {
	stack := awscdk.NewStack(awscdk.NewApp(nil), jsii.String("Tracking"), nil)
	serviceRole := awsiam.NewRole(stack, jsii.String("TrackingServiceRole"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
	})
	tenants := tenantisolation.NewTenantIsolation(stack, "Tenants", &tenantisolation.TenantIsolationProps{
		ExistingServiceRole: serviceRole,
	})
	table := awsdynamodb.NewTable(stack, jsii.String("TrackingData"), &awsdynamodb.TableProps{
		PartitionKey: &awsdynamodb.Attribute{Name: jsii.String("TenantID"), Type: awsdynamodb.AttributeType_STRING},
		SortKey:      &awsdynamodb.Attribute{Name: jsii.String("ShipmentID"), Type: awsdynamodb.AttributeType_STRING},
		BillingMode:  awsdynamodb.BillingMode_PAY_PER_REQUEST,
	})
	documents := awss3.NewBucket(stack, jsii.String("Documents"), &awss3.BucketProps{Encryption: awss3.BucketEncryption_KMS})
	tenants.GrantTableReadWrite(table)
	tenants.GrantBucketReadWrite(documents)
	tenants.GrantTenantKeysEncryptDecrypt()
	tenantisolation.NewTenantKey(stack, "YellowKey", &tenantisolation.TenantKeyProps{TenantID: "yellow"})
}

// An OpenSearch domain with an index per tenant. Not deployed by our stack
// (a domain is a fixed monthly cost). The domain's settings matter as much
// as the grant: no explicit index in multi-document request bodies, and an
// access policy that grants nothing of its own.
func ExampleTenantIsolation_GrantOpenSearchIndex() {
	stack := awscdk.NewStack(awscdk.NewApp(nil), jsii.String("Search"), nil)
	serviceRole := awsiam.NewRole(stack, jsii.String("TrackingServiceRole"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
	})
	tenants := tenantisolation.NewTenantIsolation(stack, "Tenants", &tenantisolation.TenantIsolationProps{
		ExistingServiceRole: serviceRole,
	})
	domain := awsopensearchservice.NewDomain(stack, jsii.String("Shipments"), &awsopensearchservice.DomainProps{
		Version:              awsopensearchservice.EngineVersion_OPENSEARCH_2_19(),
		EncryptionAtRest:     &awsopensearchservice.EncryptionAtRestOptions{Enabled: jsii.Bool(true)},
		NodeToNodeEncryption: jsii.Bool(true),
		EnforceHttps:         jsii.Bool(true),
		AdvancedOptions: &map[string]*string{
			// Otherwise _bulk, _mget and _msearch on a tenant's own index can
			// name other indices in the body.
			"rest.action.multi.allow_explicit_index": jsii.String("false"),
		},
	})
	tenants.GrantOpenSearchIndex(domain) // index <tenant>, paths <tenant>/*
}

// The seed post's shipment-tracking sample, with two tenants onboarded.
func ExampleNewShipmentTracking() {
	stack := awscdk.NewStack(awscdk.NewApp(nil), jsii.String("ShipmentTracking"), nil)
	tracking := tenantisolation.NewShipmentTracking(stack, "Tracking", &tenantisolation.ShipmentTrackingProps{
		Tenants: []string{"yellow", "blue"},
	})
	tracking.OnboardTenant("green")
	awscdk.NewCfnOutput(stack, jsii.String("ApiUrl"), &awscdk.CfnOutputProps{Value: tracking.Api.ApiEndpoint()})
}
