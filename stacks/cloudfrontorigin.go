package stacks

import (
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudfront"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudfrontorigins"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/cloudfrontorigin"
	"github.com/securestacks/securestacks/internal/nag"
)

// CloudFrontOriginConfig is the "cloudFrontOrigin" section of an environment: a sample ALB
// that only CloudFront may reach, behind a CloudFront distribution. The ALB's group admits
// CloudFront through AWS's managed prefix list (cloudfrontorigin's default mode). Off unless
// Enabled, because an ALB costs money every hour it exists.
type CloudFrontOriginConfig struct {
	// Enabled deploys the stack. Default false.
	Enabled bool `json:"enabled,omitempty"`
	// Updater adds the origin updater (cloudfrontorigin Mode Updater) on a second group of the
	// ALB. Default: none.
	Updater *CloudFrontUpdaterConfig `json:"updater,omitempty"`
}

// CloudFrontUpdaterConfig is the "cloudFrontOrigin.updater" section.
type CloudFrontUpdaterConfig struct {
	// Target is prefix-list (default) or security-groups.
	Target string `json:"target,omitempty"`
	// Service and Region select ip-ranges.json ranges. Default CLOUDFRONT_ORIGIN_FACING, GLOBAL.
	Service string `json:"service,omitempty"`
	Region  string `json:"region,omitempty"`
	// DryRun makes the updater log its plans and change nothing.
	DryRun bool `json:"dryRun,omitempty"`
}

func (c *CloudFrontOriginConfig) validate(key string) error {
	if c == nil || c.Updater == nil {
		return nil
	}
	switch c.Updater.Target {
	case "", cloudfrontorigin.TargetPrefixList, cloudfrontorigin.TargetSecurityGroups:
	default:
		return errorf(key+".updater.target", "expected %s or %s, got %q", cloudfrontorigin.TargetPrefixList, cloudfrontorigin.TargetSecurityGroups, c.Updater.Target)
	}
	if s := c.Updater.Service; s != "" && strings.ToUpper(s) != s {
		return errorf(key+".updater.service", "expected an ip-ranges.json service such as CLOUDFRONT_ORIGIN_FACING, got %q", s)
	}
	return nil
}

// NewCloudFrontOriginStack builds the sample origin. When the section is not enabled the stack
// holds only a wait-condition handle, which costs nothing and lets the stack deploy (a template
// needs one resource), so every environment still has one stack per system.
func NewCloudFrontOriginStack(scope constructs.Construct, id string, props *SystemProps) awscdk.Stack {
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	c := props.Config.CloudFrontOrigin
	if c == nil || !c.Enabled {
		awscdk.NewCfnWaitConditionHandle(stack, jsii.String("Disabled"), nil)
		return stack
	}

	vpc := awsec2.NewVpc(stack, jsii.String("Vpc"), &awsec2.VpcProps{
		MaxAzs:      jsii.Number(2),
		NatGateways: jsii.Number(0),
		SubnetConfiguration: &[]*awsec2.SubnetConfiguration{{
			Name: jsii.String("Public"), SubnetType: awsec2.SubnetType_PUBLIC, CidrMask: jsii.Number(24), MapPublicIpOnLaunch: jsii.Bool(false),
		}},
		RestrictDefaultSecurityGroup: jsii.Bool(true),
	})
	albGroup := awsec2.NewSecurityGroup(stack, jsii.String("AlbSecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc: vpc, Description: jsii.String("Sample origin ALB: CloudFront only"), AllowAllOutbound: jsii.Bool(false),
	})
	// The ALB's group admits CloudFront's origin-facing servers through AWS's managed list; the
	// construct's key encrypts every log group of the stack.
	origin := cloudfrontorigin.NewOrigin(stack, "Origin", &cloudfrontorigin.OriginProps{
		ExistingSecurityGroup: albGroup, Ports: []float64{80},
	})
	logsKey := origin.LogsKey
	flowLogs := awslogs.NewLogGroup(stack, jsii.String("FlowLogGroup"), &awslogs.LogGroupProps{
		EncryptionKey: logsKey, Retention: awslogs.RetentionDays_ONE_YEAR, RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	flowRole := awsiam.NewRole(stack, jsii.String("FlowLogRole"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("vpc-flow-logs.amazonaws.com"), &awsiam.ServicePrincipalOpts{
			Conditions: &map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": stack.Account()}},
		}),
		Description: jsii.String("Delivers the sample VPC's flow logs to their log group"),
	})
	flowPolicy := awsiam.NewManagedPolicy(stack, jsii.String("FlowLogPolicy"), &awsiam.ManagedPolicyProps{
		Description: jsii.String("Write the sample VPC's flow logs"),
		Roles:       &[]awsiam.IRole{flowRole},
		Statements: &[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("FlowLogGroup"),
			Actions:   jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"),
			Resources: jsii.Strings(*flowLogs.LogGroupArn()),
		})},
	})
	flowLog := vpc.AddFlowLog(jsii.String("FlowLog"), &awsec2.FlowLogOptions{
		Destination: awsec2.FlowLogDestination_ToCloudWatchLogs(flowLogs, flowRole.WithoutPolicyUpdates(nil)),
		TrafficType: awsec2.FlowLogTrafficType_ALL,
	})
	flowLog.Node().AddDependency(flowPolicy)
	nag.SuppressTree(vpc, nag.NISTAndHIPAA("VPCNoUnrestrictedRouteToIGW", "An internet-facing ALB needs the public subnets' default route to the internet gateway; its security group admits only CloudFront's origin-facing servers")...)

	alb := awselasticloadbalancingv2.NewApplicationLoadBalancer(stack, jsii.String("Alb"), &awselasticloadbalancingv2.ApplicationLoadBalancerProps{
		Vpc: vpc, InternetFacing: jsii.Bool(true), SecurityGroup: albGroup, DropInvalidHeaderFields: jsii.Bool(true),
	})
	// The sample answers every request itself: no target, so nothing behind the ALB to reach.
	alb.AddListener(jsii.String("Http"), &awselasticloadbalancingv2.BaseApplicationListenerProps{
		Port: jsii.Number(80), Open: jsii.Bool(false),
		DefaultAction: awselasticloadbalancingv2.ListenerAction_FixedResponse(jsii.Number(200), &awselasticloadbalancingv2.FixedResponseOptions{
			ContentType: jsii.String("text/plain"), MessageBody: jsii.String("reached through CloudFront\n"),
		}),
	})

	if u := c.Updater; u != nil {
		op := &cloudfrontorigin.OriginProps{
			Mode: cloudfrontorigin.ModeUpdater, UpdaterTarget: u.Target, ExistingVpc: vpc, Ports: []float64{80},
			DryRun: u.DryRun, LogsKey: logsKey, Service: strOrNil(u.Service), IpRangesRegion: strOrNil(u.Region),
		}
		if u.Target == cloudfrontorigin.TargetSecurityGroups {
			op.ExistingConnectable = alb
		} else {
			updaterGroup := awsec2.NewSecurityGroup(stack, jsii.String("UpdaterSecurityGroup"), &awsec2.SecurityGroupProps{
				Vpc: vpc, Description: jsii.String("Sample origin ALB: the updater prefix list"), AllowAllOutbound: jsii.Bool(false),
			})
			alb.AddSecurityGroup(updaterGroup)
			op.ExistingSecurityGroup = updaterGroup
		}
		cloudfrontorigin.NewOrigin(stack, "Updater", op)
	}

	dist := awscloudfront.NewDistribution(stack, jsii.String("Distribution"), &awscloudfront.DistributionProps{
		Comment:           jsii.String("securestacks CloudFront-only origin sample"),
		DefaultRootObject: jsii.String("index.html"),
		DefaultBehavior: &awscloudfront.BehaviorOptions{
			Origin: awscloudfrontorigins.NewLoadBalancerV2Origin(alb, &awscloudfrontorigins.LoadBalancerV2OriginProps{
				ProtocolPolicy: awscloudfront.OriginProtocolPolicy_HTTP_ONLY,
			}),
			ViewerProtocolPolicy: awscloudfront.ViewerProtocolPolicy_REDIRECT_TO_HTTPS,
			CachePolicy:          awscloudfront.CachePolicy_CACHING_DISABLED(),
		},
	})
	awscdk.NewCfnOutput(stack, jsii.String("DistributionDomainName"), &awscdk.CfnOutputProps{Value: dist.DistributionDomainName()})
	awscdk.NewCfnOutput(stack, jsii.String("AlbDnsName"), &awscdk.CfnOutputProps{Value: alb.LoadBalancerDnsName(),
		Description: jsii.String("Direct requests to this name time out: only CloudFront's origin-facing servers may connect")})

	const sample = "A sample origin that answers a fixed text and stores nothing"
	nag.SuppressTree(alb, slices.Concat(
		[]nag.Rule{{ID: "AwsSolutions-ELB2", Reason: sample + "; ELB access logs need a region-specific bucket policy that an environment-agnostic stack cannot name, and CloudFront sees every request first"}},
		nag.NISTAndHIPAA("ELBLoggingEnabled", sample+"; see AwsSolutions-ELB2"),
		nag.NISTAndHIPAA("ALBHttpToHttpsRedirection", "Only CloudFront reaches the listener, over AWS's network; viewers get HTTPS from CloudFront (redirect-to-https). HTTPS to the origin needs a certificate for a domain the sample does not have"),
		nag.NISTAndHIPAA("ELBTlsHttpsListenersOnly", "See ALBHttpToHttpsRedirection: the origin listener is HTTP behind CloudFront, which alone may connect"),
		nag.NISTAndHIPAA("ELBv2ACMCertificateRequired", "See ALBHttpToHttpsRedirection: an HTTPS listener needs a certificate for a domain the sample does not have"),
		nag.NISTAndHIPAA("ELBDeletionProtectionEnabled", sample+"; deletion protection would make cdk destroy fail, and the sample holds no data"),
		[]nag.Rule{{ID: "NIST.800.53.R5-ALBWAFEnabled", Reason: sample + "; only CloudFront reaches the ALB, and a web ACL costs a fixed monthly fee"}},
	)...)
	nag.Suppress(dist, slices.Concat(
		[]nag.Rule{
			{ID: "AwsSolutions-CFR1", Reason: sample + "; geo restriction is a business decision the sample cannot make"},
			{ID: "AwsSolutions-CFR2", Reason: sample + "; a WAF web ACL costs a fixed monthly fee the sample does not justify"},
			{ID: "AwsSolutions-CFR3", Reason: sample + "; standard logs need a bucket with ACLs enabled, which the secure bucket defaults forbid"},
			{ID: "AwsSolutions-CFR4", Reason: "The distribution uses the default CloudFront certificate, whose viewer TLS policy CloudFront fixes (a minimum protocol version needs a custom certificate for a domain the sample does not have)"},
			{ID: "AwsSolutions-CFR5", Reason: "See ALBHttpToHttpsRedirection on the ALB: the origin is HTTP, so no SSLv3 is offered to it"},
		},
		nag.NISTAndHIPAA("CloudFrontDistributionAccessLogging", sample+"; see AwsSolutions-CFR3"),
		nag.NISTAndHIPAA("CloudFrontDistributionWAFIntegration", sample+"; see AwsSolutions-CFR2"),
	)...)
	return stack
}
