package appstreamsandbox_test

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/appstreamsandbox"
)

// A sandbox for one team: an always-on fleet of two running the team's image, users federated
// from the corporate IdP, and the security alarms' topic exported for subscription.
func ExampleNewSandbox() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("DataSandbox"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String("123456789012"), Region: jsii.String("eu-west-1")},
	})

	sandbox := appstreamsandbox.NewSandbox(stack, "Sandbox", &appstreamsandbox.SandboxProps{
		EnvironmentName:  jsii.String("DataSandbox"),
		VpcCidr:          jsii.String("10.20.0.0/16"),
		ImageName:        jsii.String("DataSandbox-Image-2026-03"),
		FleetType:        jsii.String(appstreamsandbox.FleetTypeAlwaysOn),
		DesiredInstances: jsii.Number(2),
		IdpName:          jsii.String("CorpIdP"),
	})
	awscdk.NewCfnOutput(stack, jsii.String("AlarmTopic"), &awscdk.CfnOutputProps{Value: sandbox.AlarmTopic.TopicArn()})
}
