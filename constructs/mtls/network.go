package mtls

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/internal/defaults"
	"github.com/securestacks/securestacks/internal/nag"
)

// VpcCidr is the range of the VPC MutualTls creates.
const VpcCidr = "10.0.0.0/16"

// newVpc is the default network: two AZs, public subnets for the load
// balancer only, private subnets with NAT egress for the tasks (the images
// come from public registries by name), interface endpoints so that secrets
// and logs (and, for App Mesh, certificates and mesh configuration) never
// leave the VPC, and flow logs of all traffic.
func (t *MutualTls) newVpc(p *MutualTlsProps, plane Plane) awsec2.Vpc {
	nat := p.NatGateways
	if nat == nil {
		nat = jsii.Number(1)
	}
	vpc := awsec2.NewVpc(t, jsii.String("Vpc"), &awsec2.VpcProps{
		IpAddresses: awsec2.IpAddresses_Cidr(jsii.String(VpcCidr)),
		MaxAzs:      jsii.Number(2),
		NatGateways: nat,
		SubnetConfiguration: &[]*awsec2.SubnetConfiguration{
			{Name: jsii.String("Public"), SubnetType: awsec2.SubnetType_PUBLIC, CidrMask: jsii.Number(24), MapPublicIpOnLaunch: jsii.Bool(false)},
			{Name: jsii.String("Private"), SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS, CidrMask: jsii.Number(22)},
		},
		RestrictDefaultSecurityGroup: jsii.Bool(true),
	})

	const igw = "The public subnets hold only the internet-facing load balancer, the system's public entry, which needs the route to the internet gateway; the tasks run in the private subnets"
	for _, subnet := range *vpc.PublicSubnets() {
		nag.Suppress(subnet.Node().FindChild(jsii.String("DefaultRoute")),
			nag.Rule{ID: "NIST.800.53.R5-VPCNoUnrestrictedRouteToIGW", Reason: igw},
			nag.Rule{ID: "HIPAA.Security-VPCNoUnrestrictedRouteToIGW", Reason: igw},
		)
	}

	flowLogs := defaults.LogGroup(t, "FlowLogGroup", &awslogs.LogGroupProps{EncryptionKey: t.LogsKey})
	flowRole := awsiam.NewRole(t, jsii.String("FlowLogRole"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("vpc-flow-logs.amazonaws.com"), &awsiam.ServicePrincipalOpts{
			Conditions: &map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": awscdk.Stack_Of(t).Account()}},
		}),
		Description: jsii.String("Delivers the mTLS VPC's flow logs to their log group"),
	})
	flowPolicy := awsiam.NewManagedPolicy(t, jsii.String("FlowLogPolicy"), &awsiam.ManagedPolicyProps{
		Description: jsii.String("Write the mTLS VPC's flow logs"),
		Roles:       &[]awsiam.IRole{flowRole},
		Statements: &[]awsiam.PolicyStatement{
			statement("FlowLogGroup", []string{"logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"}, []*string{flowLogs.LogGroupArn()}),
		},
	})
	t.FlowLog = awsec2.NewFlowLog(t, jsii.String("FlowLog"), &awsec2.FlowLogProps{
		ResourceType: awsec2.FlowLogResourceType_FromVpc(vpc),
		Destination:  awsec2.FlowLogDestination_ToCloudWatchLogs(flowLogs, flowRole.WithoutPolicyUpdates(nil)),
		TrafficType:  awsec2.FlowLogTrafficType_ALL,
	})
	t.FlowLog.Node().AddDependency(flowPolicy)

	endpoints := []struct {
		id  string
		svc awsec2.InterfaceVpcEndpointAwsService
	}{
		{"SecretsManagerEndpoint", awsec2.InterfaceVpcEndpointAwsService_SECRETS_MANAGER()},
		{"LogsEndpoint", awsec2.InterfaceVpcEndpointAwsService_CLOUDWATCH_LOGS()},
	}
	if plane == PlaneAppMesh {
		// The App Mesh Envoy fetches its listener certificate from ACM, the
		// trusted CA certificate from ACM Private CA and its configuration
		// from App Mesh.
		endpoints = append(endpoints,
			struct {
				id  string
				svc awsec2.InterfaceVpcEndpointAwsService
			}{"AcmEndpoint", awsec2.InterfaceVpcEndpointAwsService_CERTIFICATE_MANAGER()},
			struct {
				id  string
				svc awsec2.InterfaceVpcEndpointAwsService
			}{"AcmPcaEndpoint", awsec2.InterfaceVpcEndpointAwsService_PRIVATE_CERTIFICATE_AUTHORITY()},
			struct {
				id  string
				svc awsec2.InterfaceVpcEndpointAwsService
			}{"AppMeshEndpoint", awsec2.InterfaceVpcEndpointAwsService_APP_MESH_ENVOY_MANAGEMENT()})
	}
	// One group for every endpoint, open to HTTPS from the VPC's literal
	// range: the group CDK would add references the CIDR as an attribute,
	// which cdk-nag's security-group rules cannot evaluate.
	endpointGroup := awsec2.NewSecurityGroup(t, jsii.String("EndpointSecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              vpc,
		Description:      jsii.String("mTLS interface endpoints: HTTPS from inside the VPC only"),
		AllowAllOutbound: jsii.Bool(false),
	})
	endpointGroup.AddIngressRule(awsec2.Peer_Ipv4(jsii.String(VpcCidr)), awsec2.Port_Tcp(jsii.Number(443)), jsii.String("HTTPS from inside the VPC"), nil)
	for _, ep := range endpoints {
		vpc.AddInterfaceEndpoint(jsii.String(ep.id), &awsec2.InterfaceVpcEndpointOptions{
			Service:        ep.svc,
			Subnets:        &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS},
			SecurityGroups: &[]awsec2.ISecurityGroup{endpointGroup},
			Open:           jsii.Bool(false),
		})
	}
	return vpc
}
