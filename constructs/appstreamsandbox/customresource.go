package appstreamsandbox

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/customresources"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/gofunction"
	"github.com/securestacks/securestacks/constructs/internal/customresource"
	"github.com/securestacks/securestacks/constructs/internal/defaults"
)

// CustomResource is one of the construct's Go custom resources and everything behind it.
type CustomResource struct {
	// Resource is the custom resource in the template.
	Resource awscdk.CustomResource
	// Function is its onEvent handler, a GoFunction outside the VPC (it runs only during
	// deploys and calls public AWS APIs, IAM among them, which has no VPC endpoint).
	Function *gofunction.GoFunction
	// Role is Function's role; Policy is its only policy (Role takes no other).
	Role   awsiam.Role
	Policy awsiam.ManagedPolicy
	// Provider is the CDK provider framework in front of Function.
	Provider customresources.Provider
}

// customResourceSpec describes one custom resource.
type customResourceSpec struct {
	id, entry, resourceType, description string
	timeout                              awscdk.Duration
	statements                           []awsiam.PolicyStatement
	properties                           map[string]any
	// vpcReason says why the handler does not run in the VPC, for the nag suppression.
	vpcReason string
}

func (s *Sandbox) customResource(spec customResourceSpec) *CustomResource {
	c := &CustomResource{}
	logGroup := defaults.LogGroup(s, spec.id+"FunctionLogGroup", &awslogs.LogGroupProps{EncryptionKey: s.LogsKey})
	c.Role = awsiam.NewRole(s, jsii.String(spec.id+"FunctionRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String(spec.description),
	})
	statements := append([]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("Logs"),
		Actions:   jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"),
		Resources: jsii.Strings(*logGroup.LogGroupArn()),
	})}, spec.statements...)
	c.Policy = awsiam.NewManagedPolicy(s, jsii.String(spec.id+"FunctionPolicy"), &awsiam.ManagedPolicyProps{
		Description: jsii.String(spec.description),
		Roles:       &[]awsiam.IRole{c.Role},
		Statements:  &statements,
	})
	c.Function = gofunction.NewGoFunction(s, spec.id+"Function", &gofunction.GoFunctionProps{
		Entry: jsii.String(spec.entry),
		FunctionProps: &awslambda.FunctionProps{
			Description: jsii.String(spec.description),
			// The policy above is the whole of the role's permissions.
			Role:       c.Role.WithoutPolicyUpdates(nil),
			LogGroup:   logGroup,
			Timeout:    spec.timeout,
			MemorySize: jsii.Number(128),
			// A deploy-time function: traces would need an X-Ray grant on "*" for no insight.
			Tracing: awslambda.Tracing_DISABLED,
		},
	})
	c.Function.Node().AddDependency(c.Policy)
	customresource.SuppressHandler(c.Function, spec.vpcReason)
	c.Provider = customresource.NewProvider(s, spec.id+"Provider", c.Function, s.LogsKey)
	props := spec.properties
	c.Resource = awscdk.NewCustomResource(s, jsii.String(spec.id), &awscdk.CustomResourceProps{
		ServiceToken: c.Provider.ServiceToken(),
		ResourceType: jsii.String(spec.resourceType),
		Properties:   &props,
	})
	c.Resource.Node().AddDependency(c.Policy)
	return c
}
