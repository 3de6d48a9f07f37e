// Package customresource holds what every securestacks Go custom resource
// shares: the CDK provider framework in front of its onEvent handler, with an
// encrypted log group, and the cdk-nag decisions behind deploy-time handlers.
package customresource

import (
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/customresources"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/internal/defaults"
	"github.com/securestacks/securestacks/internal/nag"
)

// NewProvider returns the provider framework at scope/id in front of onEvent,
// logging to scope/(id + "LogGroup") encrypted with logsKey (nil: the stack's
// shared logs key). It records the decisions behind the framework's generated
// framework-onEvent function and role, which CDK does not let us configure.
func NewProvider(scope constructs.Construct, id string, onEvent awslambda.IFunction, logsKey awskms.IKey) customresources.Provider {
	p := customresources.NewProvider(scope, jsii.String(id), &customresources.ProviderProps{
		OnEventHandler: onEvent,
		LogGroup:       defaults.LogGroup(scope, id+"LogGroup", &awslogs.LogGroupProps{EncryptionKey: logsKey}),
	})
	const framework = "The CDK provider framework's generated framework-onEvent function"
	nag.SuppressTree(p, slices.Concat(
		[]nag.Rule{
			{ID: "AwsSolutions-IAM4", Reason: framework + " uses AWSLambdaBasicExecutionRole; CDK offers no way to replace it for the generated role",
				AppliesTo: []string{"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"}},
			{ID: "AwsSolutions-IAM5", Reason: framework + " may invoke every version of its one onEvent function (its ARN followed by :*), which CDK grants"},
		},
		nag.NISTAndHIPAA("IAMNoInlinePolicy", framework+" gets its invoke grant as CDK's inline default policy on the generated role"),
		nag.NISTAndHIPAA("LambdaConcurrency", framework+" runs only during deploys; reserving concurrency would take it from the account pool"),
		nag.NISTAndHIPAA("LambdaDLQ", framework+" is invoked synchronously by CloudFormation; a dead-letter queue applies to asynchronous invocations only"),
		nag.NISTAndHIPAA("LambdaInsideVPC", framework+" calls only the Lambda API and the CloudFormation response URL; a VPC adds no isolation"),
	)...)
	return p
}

// SuppressHandler records why a custom resource's onEvent handler fn has no
// reserved concurrency, no dead-letter queue and no VPC: it runs only during
// deploys, invoked synchronously by the provider framework. outsideVPC names
// what it calls and why a VPC adds nothing, e.g. "Calls only the KMS, S3 and
// SSM public APIs and reaches no VPC resource".
func SuppressHandler(fn constructs.IConstruct, outsideVPC string) {
	const deployOnly = "Runs only while CloudFormation deploys the stack, invoked synchronously by the provider framework"
	nag.Suppress(fn, slices.Concat(
		nag.NISTAndHIPAA("LambdaConcurrency", deployOnly+"; reserving concurrency would take it from the account pool, which new accounts cannot spare"),
		nag.NISTAndHIPAA("LambdaDLQ", deployOnly+"; a dead-letter queue applies to asynchronous invocations only"),
		nag.NISTAndHIPAA("LambdaInsideVPC", outsideVPC),
	)...)
}
