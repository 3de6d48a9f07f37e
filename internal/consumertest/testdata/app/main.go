// Command consumer is a CDK app in its own module that uses every
// securestacks construct with its defaults, plus a GoFunction of its own,
// under the three cdk-nag packs. It is the app of the README's "Using a
// construct from your own Go CDK app".
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsssm"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/securestacks/securestacks/constructs/alexaskill"
	"github.com/securestacks/securestacks/constructs/appstreamsandbox"
	"github.com/securestacks/securestacks/constructs/asymmetrickey"
	"github.com/securestacks/securestacks/constructs/cloudfrontorigin"
	"github.com/securestacks/securestacks/constructs/devsecops"
	"github.com/securestacks/securestacks/constructs/gofunction"
	"github.com/securestacks/securestacks/constructs/mtls"
	"github.com/securestacks/securestacks/constructs/privateca"
	"github.com/securestacks/securestacks/constructs/tenantisolation"
)

func main() {
	app := awscdk.NewApp(nil)

	handler := awscdk.NewStack(app, jsii.String("Handler"), nil)
	fn := gofunction.NewGoFunction(handler, "Hello", &gofunction.GoFunctionProps{
		Entry: jsii.String("example.com/consumer/handler"),
	})
	// The function's placement is this app's decision, not the construct's.
	reason := jsii.String("A public, synchronous hello function: no VPC resource to reach, no queue to retry into, no reserved capacity")
	cdknag.NagSuppressions_AddResourceSuppressions(fn, &[]*cdknag.NagPackSuppression{
		{Id: jsii.String("NIST.800.53.R5-LambdaInsideVPC"), Reason: reason},
		{Id: jsii.String("HIPAA.Security-LambdaInsideVPC"), Reason: reason},
		{Id: jsii.String("NIST.800.53.R5-LambdaDLQ"), Reason: reason},
		{Id: jsii.String("HIPAA.Security-LambdaDLQ"), Reason: reason},
		{Id: jsii.String("NIST.800.53.R5-LambdaConcurrency"), Reason: reason},
		{Id: jsii.String("HIPAA.Security-LambdaConcurrency"), Reason: reason},
	}, jsii.Bool(false))

	keys := awscdk.NewStack(app, jsii.String("Keys"), nil)
	asymmetrickey.NewSigningKey(keys, "SigningKey", nil)
	asymmetrickey.NewEncryptionKey(keys, "EncryptionKey", nil)

	pki := awscdk.NewStack(app, jsii.String("Pki"), nil)
	privateca.NewCaHierarchy(pki, "Ca", nil)

	mtls.NewMutualTls(awscdk.NewStack(app, jsii.String("Mtls"), nil), "Mtls", nil)

	appstreamsandbox.NewSandbox(awscdk.NewStack(app, jsii.String("Sandbox"), nil), "Sandbox", &appstreamsandbox.SandboxProps{
		ImageName: jsii.String("MyImage"),
	})

	devsecops.NewPipeline(awscdk.NewStack(app, jsii.String("Factory"), nil), "Pipeline", &devsecops.PipelineProps{
		RepositoryName: jsii.String("my-app"),
	})

	skill := awscdk.NewStack(app, jsii.String("Skill"), nil)
	alexaskill.NewSkill(skill, "Skill", &alexaskill.SkillProps{
		SkillPackagePath: jsii.String("skill"),
		BackendEntry:     jsii.String("github.com/securestacks/securestacks/lambda-src/alexa-skill-backend"),
		VendorId:         awsssm.StringParameter_ValueForStringParameter(skill, jsii.String("/alexa/vendor-id"), nil),
		LwaClientId:      awsssm.StringParameter_ValueForStringParameter(skill, jsii.String("/alexa/lwa-client-id"), nil),
		LwaClientSecret:  awscdk.SecretValue_SecretsManager(jsii.String("/alexa/lwa-client-secret"), nil),
		LwaRefreshToken:  awscdk.SecretValue_SecretsManager(jsii.String("/alexa/lwa-refresh-token"), nil),
	})

	tenantisolation.NewShipmentTracking(awscdk.NewStack(app, jsii.String("Tenants"), nil), "Tracking", nil)
	web := awscdk.NewStack(app, jsii.String("Web"), nil)
	cloudfrontorigin.NewOrigin(web, "Origin", &cloudfrontorigin.OriginProps{
		ExistingVpc: awsec2.Vpc_FromVpcAttributes(web, jsii.String("Vpc"), &awsec2.VpcAttributes{
			VpcId: jsii.String("vpc-12345678"), AvailabilityZones: jsii.Strings("eu-west-1a"),
		}),
	})

	for _, pack := range []awscdk.IAspect{
		cdknag.NewAwsSolutionsChecks(nil),
		cdknag.NewNIST80053R5Checks(nil),
		cdknag.NewHIPAASecurityChecks(nil),
	} {
		awscdk.Aspects_Of(app).Add(pack, nil)
	}

	err := synth(app)
	jsii.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// synth synthesizes app and returns a failed validation (for example a
// handler that does not build: one "[path] message" line per error) as an
// error instead of a Go panic.
func synth(app awscdk.App) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	app.Synth(nil)
	return nil
}
