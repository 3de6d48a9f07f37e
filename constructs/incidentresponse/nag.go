package incidentresponse

import (
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"

	"github.com/securestacks/securestacks/constructs/gofunction"
	"github.com/securestacks/securestacks/internal/nag"
)

func suppressFunction(fn *gofunction.GoFunction) {
	nag.Suppress(fn, slices.Concat(
		nag.NISTAndHIPAA("LambdaConcurrency", "Cases are rare and one per instance; reserving concurrency would take it from the account pool, which new accounts cannot spare"),
		nag.NISTAndHIPAA("LambdaDLQ", "Step Functions and API Gateway invoke these functions synchronously and record every failure in the case; EventBridge retries the finding target"),
		nag.NISTAndHIPAA("LambdaInsideVPC", "The functions call only AWS public APIs (EC2, Auto Scaling, ELB, S3, SNS, SSM, DynamoDB, Step Functions) and reach no VPC resource"),
	)...)
}

func suppressResponseRole(fn *gofunction.GoFunction) {
	nag.SuppressTree(fn.Role(), nag.Rule{
		ID: "AwsSolutions-IAM5",
		Reason: "Incident response acts on instances, interfaces, groups and snapshots named at run time; each statement names its resource type and " +
			"carries EC2's conditions (protected tag, deployment tag, tag keys, create action); Describe and GetCommandInvocation support no resource-level permissions",
	})
}

func suppressForensicRole(role awsiam.Role) {
	nag.SuppressTree(role, slices.Concat([]nag.Rule{{
		ID:     "AwsSolutions-IAM5",
		Reason: "The Systems Manager agent's channel actions support no resource-level permissions; output goes only under cases/*/forensics/ of the evidence bucket",
	}}, nag.NISTAndHIPAA("IAMNoInlinePolicy", "The forensic role's policy belongs to this one role, attached only during forensics, and is deleted with it"))...)
}

func suppressStateMachine(sm awsstepfunctions.StateMachine) {
	nag.SuppressTree(sm, nag.Rule{
		ID:     "AwsSolutions-IAM5",
		Reason: "CDK grants the state machine lambda:InvokeFunction on the two task functions and their versions (<arn>:*)",
	}, nag.Rule{ID: "NIST.800.53.R5-IAMNoInlinePolicy", Reason: "CDK's default policy of the state machine role holds only the invoke grants of its own tasks"},
		nag.Rule{ID: "HIPAA.Security-IAMNoInlinePolicy", Reason: "CDK's default policy of the state machine role holds only the invoke grants of its own tasks"})
}

func suppressAPI(api awsapigateway.RestApi, accessLogs bool) {
	const waf = "The API accepts only SigV4-signed calls from the principals its resource policy names; a web ACL adds cost and no protection for that audience"
	const cache = "Every call starts, reads or releases a case; a cached answer would be stale"
	const cognito = "IAM (SigV4) authorization: responders and automation call with their IAM credentials"
	if !accessLogs {
		const off = "Access logs need the account-wide API Gateway CloudWatch role, which a fresh account lacks (ApiAccessLogs turns them on); ir-api logs every request with the caller ARN and request ID"
		nag.SuppressTree(api, append([]nag.Rule{{ID: "AwsSolutions-APIG1", Reason: off}}, nag.NISTAndHIPAA("APIGWAccessLogging", off)...)...)
	}
	nag.SuppressTree(api, slices.Concat([]nag.Rule{
		{ID: "AwsSolutions-APIG3", Reason: waf},
		{ID: "AwsSolutions-COG4", Reason: cognito},
		{ID: "AwsSolutions-APIG6", Reason: "Execution logging needs an account-wide API Gateway CloudWatch role; access logs (JSON, KMS) and the case record hold every call"},
	}, nag.NISTAndHIPAA("APIGWAssociatedWithWAF", waf),
		nag.NISTAndHIPAA("APIGWCacheEnabledAndEncrypted", cache),
		nag.NISTAndHIPAA("APIGWExecutionLoggingEnabled", "Execution logging needs an account-wide API Gateway CloudWatch role; access logs and the case record hold every call"),
		nag.NISTAndHIPAA("APIGWSSLEnabled", "The backend is a Lambda integration, not an HTTP backend: a client certificate would have nothing to present to"),
	)...)
}
