package cloudfrontorigin_test

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/cloudfrontorigin"
)

// An ALB's security group that admits only CloudFront's origin-facing servers on 443, through
// AWS's managed prefix list (the default mode): no Lambda after deploy, nothing polls.
func ExampleNewOrigin() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Web"), nil)
	vpc := awsec2.NewVpc(stack, jsii.String("Vpc"), &awsec2.VpcProps{MaxAzs: jsii.Number(2)})
	origin := cloudfrontorigin.NewOrigin(stack, "Origin", &cloudfrontorigin.OriginProps{ExistingVpc: vpc, DualStack: true})
	awscdk.NewCfnOutput(stack, jsii.String("OriginGroup"), &awscdk.CfnOutputProps{Value: origin.SecurityGroup.SecurityGroupId()})
}

// The seed's design, for a service without a managed prefix list: a Lambda subscribed to
// AmazonIpSpaceChanged keeps a customer-managed prefix list equal to the service's ranges.
func ExampleNewOrigin_updater() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Web"), nil)
	vpc := awsec2.NewVpc(stack, jsii.String("Vpc"), &awsec2.VpcProps{MaxAzs: jsii.Number(2)})
	cloudfrontorigin.NewOrigin(stack, "Origin", &cloudfrontorigin.OriginProps{
		Mode:           cloudfrontorigin.ModeUpdater,
		ExistingVpc:    vpc,
		Service:        jsii.String("ROUTE53_HEALTHCHECKS"),
		IpRangesRegion: jsii.String("eu-west-1"),
	})
}
