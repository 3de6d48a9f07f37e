package appstreamsandbox

import (
	"net/netip"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/internal/defaults"
)

// endpointSpec is one interface endpoint. policy is false for the services that accept no
// endpoint policy (the SageMaker notebook and the AppStream endpoints), which keep the default.
type endpointSpec struct {
	name    string
	service awsec2.IInterfaceVpcEndpointService
	policy  bool
}

func (s *Sandbox) network(r resolved) {
	prefix := netip.MustParsePrefix(r.cidr)
	s.Vpc = awsec2.NewVpc(s, jsii.String("Vpc"), &awsec2.VpcProps{
		IpAddresses: awsec2.IpAddresses_Cidr(jsii.String(r.cidr)),
		MaxAzs:      jsii.Number(2),
		NatGateways: jsii.Number(0),
		// Isolated only: CDK creates no internet gateway without a public subnet, and the route
		// tables hold the local route plus the S3 gateway endpoint's prefix list.
		SubnetConfiguration: &[]*awsec2.SubnetConfiguration{{
			Name:       jsii.String("Isolated"),
			SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED,
			CidrMask:   jsii.Number(float64(prefix.Bits() + 2)),
		}},
		EnableDnsHostnames:           jsii.Bool(true),
		EnableDnsSupport:             jsii.Bool(true),
		RestrictDefaultSecurityGroup: jsii.Bool(true),
	})
	isolated := &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED}

	s.FlowLogGroup = defaults.LogGroup(s, "FlowLogGroup", &awslogs.LogGroupProps{EncryptionKey: s.LogsKey})
	flowRole := awsiam.NewRole(s, jsii.String("FlowLogRole"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("vpc-flow-logs.amazonaws.com"), &awsiam.ServicePrincipalOpts{
			Conditions: &map[string]any{
				"StringEquals": map[string]any{"aws:SourceAccount": awscdk.Stack_Of(s).Account()},
			},
		}),
		Description: jsii.String("Delivers the sandbox VPC's flow logs to their log group"),
	})
	flowPolicy := awsiam.NewManagedPolicy(s, jsii.String("FlowLogPolicy"), &awsiam.ManagedPolicyProps{
		Description: jsii.String("Write the sandbox VPC's flow logs"),
		Roles:       &[]awsiam.IRole{flowRole},
		Statements: &[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("FlowLogGroup"),
			Actions:   jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"),
			Resources: jsii.Strings(*s.FlowLogGroup.LogGroupArn()),
		})},
	})
	s.FlowLog = awsec2.NewFlowLog(s, jsii.String("FlowLog"), &awsec2.FlowLogProps{
		ResourceType: awsec2.FlowLogResourceType_FromVpc(s.Vpc),
		Destination:  awsec2.FlowLogDestination_ToCloudWatchLogs(s.FlowLogGroup, flowRole.WithoutPolicyUpdates(nil)),
		TrafficType:  awsec2.FlowLogTrafficType_ALL,
	})
	s.FlowLog.Node().AddDependency(flowPolicy)

	s.EndpointSecurityGroup = awsec2.NewSecurityGroup(s, jsii.String("EndpointSecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              s.Vpc,
		Description:      jsii.String("Sandbox interface endpoints: HTTPS from inside the VPC only"),
		AllowAllOutbound: jsii.Bool(false),
	})
	s.EndpointSecurityGroup.AddIngressRule(awsec2.Peer_Ipv4(jsii.String(r.cidr)), awsec2.Port_Tcp(jsii.Number(443)),
		jsii.String("HTTPS from inside the sandbox VPC"), nil)

	s.S3Endpoint = s.Vpc.AddGatewayEndpoint(jsii.String("S3Endpoint"), &awsec2.GatewayVpcEndpointOptions{
		Service: awsec2.GatewayVpcEndpointAwsService_S3(),
		Subnets: &[]*awsec2.SubnetSelection{isolated},
	})
	s.S3Endpoint.AddToPolicy(s.thisAccountOnly())

	specs := []endpointSpec{
		{"ssm", awsec2.InterfaceVpcEndpointAwsService_SSM(), true},
		{"sts", awsec2.InterfaceVpcEndpointAwsService_STS(), true},
		{"kms", awsec2.InterfaceVpcEndpointAwsService_KMS(), true},
		{"logs", awsec2.InterfaceVpcEndpointAwsService_CLOUDWATCH_LOGS(), true},
		{"sagemaker-api", awsec2.InterfaceVpcEndpointAwsService_SAGEMAKER_API(), true},
		{"sagemaker-runtime", awsec2.InterfaceVpcEndpointAwsService_SAGEMAKER_RUNTIME(), true},
		{"sagemaker-notebook", awsec2.InterfaceVpcEndpointAwsService_SAGEMAKER_NOTEBOOK(), false},
		{"appstream-api", awsec2.InterfaceVpcEndpointAwsService_APPSTREAM_API(), false},
	}
	if r.streaming {
		specs = append(specs, endpointSpec{"appstream-streaming", awsec2.InterfaceVpcEndpointAwsService_APPSTREAM_STREAMING(), false})
	}
	s.InterfaceEndpoints = map[string]awsec2.InterfaceVpcEndpoint{}
	for _, spec := range specs {
		ep := s.Vpc.AddInterfaceEndpoint(jsii.String(endpointID(spec.name)), &awsec2.InterfaceVpcEndpointOptions{
			Service:           spec.service,
			PrivateDnsEnabled: jsii.Bool(true),
			SecurityGroups:    &[]awsec2.ISecurityGroup{s.EndpointSecurityGroup},
			Subnets:           isolated,
			// The security group's one rule is ours; Open would add a second, wider one.
			Open: jsii.Bool(false),
		})
		if spec.policy {
			ep.AddToPolicy(s.thisAccountOnly())
		}
		s.InterfaceEndpoints[spec.name] = ep
	}

	s.FleetSecurityGroup = s.egressOnlyGroup("FleetSecurityGroup", "AppStream fleet instances")
}

// endpointID turns "sagemaker-api" into "SagemakerApiEndpoint".
func endpointID(name string) string {
	out := []byte{}
	upper := true
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c == '-' {
			upper = true
			continue
		}
		if upper && c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		upper = false
		out = append(out, c)
	}
	return string(out) + "Endpoint"
}

// thisAccountOnly is the endpoint policy statement: any action, but only by principals of this
// account, and only on this account's resources where the request names a resource. Data can
// then neither leave through the endpoints with foreign credentials nor be written to a foreign
// bucket or key with ours.
func (s *Sandbox) thisAccountOnly() awsiam.PolicyStatement {
	account := awscdk.Stack_Of(s).Account()
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("ThisAccountOnly"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
		Actions:    jsii.Strings("*"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{
			"StringEquals":         map[string]any{"aws:PrincipalAccount": account},
			"StringEqualsIfExists": map[string]any{"aws:ResourceAccount": account},
		},
	})
}

// egressOnlyGroup is a security group with no ingress and HTTPS out. The isolated subnets route
// only inside the VPC and to the S3 gateway endpoint, so "anywhere on 443" reaches exactly the
// endpoints and S3 (whose addresses, a managed prefix list, cannot be named offline).
func (s *Sandbox) egressOnlyGroup(id, what string) awsec2.SecurityGroup {
	sg := awsec2.NewSecurityGroup(s, jsii.String(id), &awsec2.SecurityGroupProps{
		Vpc:              s.Vpc,
		Description:      jsii.String(what + ": no ingress, HTTPS out to the VPC endpoints"),
		AllowAllOutbound: jsii.Bool(false),
	})
	sg.AddEgressRule(awsec2.Peer_AnyIpv4(), awsec2.Port_Tcp(jsii.Number(443)),
		jsii.String("HTTPS; the isolated route tables reach only the VPC endpoints and the S3 gateway endpoint"), nil)
	return sg
}
