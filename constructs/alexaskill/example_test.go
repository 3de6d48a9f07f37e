package alexaskill_test

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsssm"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/alexaskill"
)

// A skill whose endpoint is a Go handler built from this module, with the Alexa developer
// credentials read at deploy time from SSM Parameter Store and Secrets Manager.
func ExampleNewSkill() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("TimeTeller"), nil)

	skill := alexaskill.NewSkill(stack, "Skill", &alexaskill.SkillProps{
		SkillPackagePath: jsii.String("skills/time-teller"),
		BackendEntry:     jsii.String("github.com/securestacks/securestacks/lambda-src/alexa-skill-backend"),
		VendorId:         awsssm.StringParameter_ValueForStringParameter(stack, jsii.String("/alexa-cdk-blog/alexa-developer-vendor-id"), nil),
		LwaClientId:      awsssm.StringParameter_ValueForStringParameter(stack, jsii.String("/alexa-cdk-blog/lwa-client-id"), nil),
		LwaClientSecret:  awscdk.SecretValue_SecretsManager(jsii.String("/alexa-cdk-blog/lwa-client-secret"), nil),
		LwaRefreshToken:  awscdk.SecretValue_SecretsManager(jsii.String("/alexa-cdk-blog/lwa-refresh-token"), nil),
	})
	awscdk.NewCfnOutput(stack, jsii.String("SkillId"), &awscdk.CfnOutputProps{Value: skill.SkillId})
}

// An existing skill, by id, for constructs that only need to refer to it.
func ExampleFromSkillId() {
	stack := awscdk.NewStack(awscdk.NewApp(nil), jsii.String("Existing"), nil)
	skill := alexaskill.FromSkillId(stack, "Skill", "amzn1.ask.skill.00000000-0000-4000-8000-000000000001")
	awscdk.NewCfnOutput(stack, jsii.String("SkillId"), &awscdk.CfnOutputProps{Value: skill.SkillId})
}
