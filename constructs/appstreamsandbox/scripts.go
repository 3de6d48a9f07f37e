package appstreamsandbox

import (
	_ "embed"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3deployment"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsssm"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/internal/defaults"
	"github.com/securestacks/securestacks/internal/nag"
)

// The two session scripts, embedded so that an app importing this package needs no path to
// them: LauncherScript is baked into the AppStream image, SessionScript is fetched from the
// scripts bucket at every launch.
var (
	//go:embed scripts/sagemaker-notebook-launcher.ps1
	LauncherScript string
	//go:embed scripts/sagemaker-notebook.ps1
	SessionScript string
)

// The object names of the scripts under ScriptsPrefix.
const (
	LauncherScriptName = "sagemaker-notebook-launcher.ps1"
	SessionScriptName  = "sagemaker-notebook.ps1"
)

// ScriptsBucketParameterName is the name of the SSM parameter holding the scripts bucket's name
// for the AppStream stack named appStreamStack; the launcher computes the same name.
func ScriptsBucketParameterName(appStreamStack string) string {
	return ScriptsBucketParameterPrefix + appStreamStack + "/scripts-bucket"
}

func (s *Sandbox) scripts() {
	// One access-log target for every bucket of the construct (scripts, trail, Athena results).
	s.AccessLogsBucket = defaults.AccessLogsBucket(s, "ScriptsBucketAccessLogs")
	s.ScriptsBucket = defaults.Bucket(s, "ScriptsBucket", &awss3.BucketProps{ServerAccessLogsBucket: s.AccessLogsBucket})
	s.ScriptsDeployment = awss3deployment.NewBucketDeployment(s, jsii.String("ScriptsDeployment"), &awss3deployment.BucketDeploymentProps{
		DestinationBucket:    s.ScriptsBucket,
		DestinationKeyPrefix: jsii.String(ScriptsPrefix),
		Sources: &[]awss3deployment.ISource{
			awss3deployment.Source_Data(jsii.String(LauncherScriptName), jsii.String(LauncherScript), nil),
			awss3deployment.Source_Data(jsii.String(SessionScriptName), jsii.String(SessionScript), nil),
		},
		// The prefix belongs to the deployment: a script removed here disappears there.
		Prune:       jsii.Bool(true),
		ContentType: jsii.String("text/plain; charset=utf-8"),
		LogGroup:    defaults.LogGroup(s, "ScriptsDeploymentLogGroup", &awslogs.LogGroupProps{EncryptionKey: s.LogsKey}),
	})
	suppressBucketDeployment(s.ScriptsDeployment)
	s.ScriptsBucketParameter = awsssm.NewStringParameter(s, jsii.String("ScriptsBucketParameter"), &awsssm.StringParameterProps{
		ParameterName: jsii.String(ScriptsBucketParameterName(*s.AppStreamStackName)),
		StringValue:   s.ScriptsBucket.BucketName(),
		Description:   jsii.String("Name of the AppStream sandbox's scripts bucket, read by the launcher in the image"),
		Tier:          awsssm.ParameterTier_STANDARD,
	})
}

// suppressBucketDeployment records the decisions behind the stack-wide function CDK's
// BucketDeployment adds, which this construct cannot configure beyond its log group.
func suppressBucketDeployment(d awss3deployment.BucketDeployment) {
	const deployment = "CDK's BucketDeployment function, which copies the two session scripts at deploy time"
	nag.SuppressTree(d.HandlerRole(),
		nag.Rule{ID: "AwsSolutions-IAM4", Reason: deployment + ", uses AWSLambdaBasicExecutionRole; CDK offers no way to replace it",
			AppliesTo: []string{"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"}},
		nag.Rule{ID: "AwsSolutions-IAM5", Reason: deployment + ", reads the CDK asset bucket and syncs the scripts prefix with the S3 and KMS action families CDK grants"},
		nag.Rule{ID: "NIST.800.53.R5-IAMNoInlinePolicy", Reason: deployment + ", gets its grants as CDK's inline default policy on its generated role"},
		nag.Rule{ID: "HIPAA.Security-IAMNoInlinePolicy", Reason: deployment + ", gets its grants as CDK's inline default policy on its generated role"},
	)
	stack := awscdk.Stack_Of(d)
	for _, child := range *stack.Node().Children() {
		if !strings.HasPrefix(*child.Node().Id(), "Custom::CDKBucketDeployment") {
			continue
		}
		nag.Suppress(child,
			nag.Rule{ID: "AwsSolutions-L1", Reason: deployment + ", runs the Python runtime that CDK pins for its AWS CLI layer"},
			nag.Rule{ID: "NIST.800.53.R5-LambdaConcurrency", Reason: deployment + ", runs only during deploys; reserving concurrency would take it from the account pool"},
			nag.Rule{ID: "HIPAA.Security-LambdaConcurrency", Reason: deployment + ", runs only during deploys; reserving concurrency would take it from the account pool"},
			nag.Rule{ID: "NIST.800.53.R5-LambdaDLQ", Reason: deployment + ", is invoked synchronously by CloudFormation; a dead-letter queue applies to asynchronous invocations only"},
			nag.Rule{ID: "HIPAA.Security-LambdaDLQ", Reason: deployment + ", is invoked synchronously by CloudFormation; a dead-letter queue applies to asynchronous invocations only"},
			nag.Rule{ID: "NIST.800.53.R5-LambdaInsideVPC", Reason: deployment + ", reads the CDK asset bucket of another owner, which the sandbox VPC's endpoint policies refuse"},
			nag.Rule{ID: "HIPAA.Security-LambdaInsideVPC", Reason: deployment + ", reads the CDK asset bucket of another owner, which the sandbox VPC's endpoint policies refuse"},
		)
	}
}
