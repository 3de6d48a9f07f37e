package tenantisolation_test

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsopensearchservice"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/tenantisolation"
	"github.com/securestacks/securestacks/internal/rolecoverage"
)

// TestMain owns the one jsii runtime (node process) of this test binary.
func TestMain(m *testing.M) {
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}

const (
	account = "123456789012"
	region  = "eu-west-1"
	// domainArn is an OpenSearch domain the fixture imports (GrantOpenSearchIndex
	// takes any IDomain; none is deployed).
	domainArn = "arn:aws:es:eu-west-1:123456789012:domain/shipments"
)

// keyTenants get a tenant key each in the fixture.
var keyTenants = []string{"yellow", "blue", "ab", "abc"}

// fixture is a synthesized stack with a service role, a TenantIsolation and
// one store of each kind, every grant given.
type fixture struct {
	stack     awscdk.Stack
	template  assertions.Template
	t         *rolecoverage.Template
	access    string            // logical id of AccessRole
	service   string            // logical id of the service role
	table     string            // logical id of the pooled table
	bucket    string            // logical id of the bucket
	tenantKey map[string]string // tenant -> logical id of its key
}

func newStack() awscdk.Stack {
	app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{"aws:cdk:bundling-stacks": []any{}}})
	return awscdk.NewStack(app, jsii.String("TenantTest"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String(account), Region: jsii.String(region)},
	})
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	stack := newStack()
	service := awsiam.NewRole(stack, jsii.String("TrackingServiceRole"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
	})
	iso := tenantisolation.NewTenantIsolation(stack, "Tenants", &tenantisolation.TenantIsolationProps{
		ExistingServiceRole: service,
	})
	tableKey := awskms.NewKey(stack, jsii.String("TableKey"), &awskms.KeyProps{EnableKeyRotation: jsii.Bool(true)})
	table := awsdynamodb.NewTable(stack, jsii.String("Shipments"), &awsdynamodb.TableProps{
		PartitionKey:  &awsdynamodb.Attribute{Name: jsii.String("TenantID"), Type: awsdynamodb.AttributeType_STRING},
		SortKey:       &awsdynamodb.Attribute{Name: jsii.String("ShipmentID"), Type: awsdynamodb.AttributeType_STRING},
		Encryption:    awsdynamodb.TableEncryption_CUSTOMER_MANAGED,
		EncryptionKey: tableKey,
	})
	bucket := awss3.NewBucket(stack, jsii.String("Documents"), nil)
	domain := awsopensearchservice.Domain_FromDomainAttributes(stack, jsii.String("Domain"), &awsopensearchservice.DomainAttributes{
		DomainArn:      jsii.String(domainArn),
		DomainEndpoint: jsii.String("https://search-shipments-abc.eu-west-1.es.amazonaws.com"),
	})
	iso.GrantTableReadWrite(table)
	iso.GrantBucketReadWrite(bucket)
	iso.GrantTenantKeysEncryptDecrypt()
	iso.GrantOpenSearchIndex(domain)
	keys := map[string]awskms.Key{}
	for _, tenant := range keyTenants {
		keys[tenant] = tenantisolation.NewTenantKey(stack, "Key"+tenant, &tenantisolation.TenantKeyProps{TenantID: tenant})
	}

	tmpl := assertions.Template_FromStack(stack, nil)
	raw, err := json.Marshal(tmpl.ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	rt, err := rolecoverage.NewTemplate("TenantTest", rolecoverage.Env{Account: account, Region: region, Partition: "aws"}, doc)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{stack: stack, template: tmpl, t: rt, tenantKey: map[string]string{},
		access:  logicalID(stack, iso.AccessRole.Node().DefaultChild()),
		service: logicalID(stack, service.Node().DefaultChild()),
		table:   logicalID(stack, table.Node().DefaultChild()),
		bucket:  logicalID(stack, bucket.Node().DefaultChild()),
	}
	for tenant, k := range keys {
		f.tenantKey[tenant] = logicalID(stack, k.Node().DefaultChild())
	}
	return f
}

func logicalID(stack awscdk.Stack, c any) string {
	return *stack.GetLogicalId(c.(awscdk.CfnElement))
}

// arn resolves the Fn::GetAtt Arn of a resource of the fixture.
func (f *fixture) arn(t *testing.T, id string) string {
	t.Helper()
	s, err := f.t.String(map[string]any{"Fn::GetAtt": []any{id, "Arn"}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}
