package incidentresponse

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/internal/defaults"
)

// newAPI is the REST API: every method needs a SigV4 signature (IAM
// authorization, no API key), and the resource policy lets only the
// invokers call it: an Allow for them, and a Deny for every other
// principal, which wins over any identity policy of the caller's account
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-authorization-flow.html).
func (ir *IncidentResponse) newAPI(invokers []*string, accessLogs bool) {
	statements := []awsiam.PolicyStatement{}
	if len(invokers) > 0 {
		var principals []awsiam.IPrincipal
		for _, a := range invokers {
			principals = append(principals, awsiam.NewArnPrincipal(a))
		}
		statements = append(statements,
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid: jsii.String("Invokers"), Principals: &principals,
				Actions: jsii.Strings("execute-api:Invoke"), Resources: jsii.Strings("execute-api:/*"),
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid: jsii.String("DenyEveryoneElse"), Effect: awsiam.Effect_DENY,
				Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
				Actions:    jsii.Strings("execute-api:Invoke"), Resources: jsii.Strings("execute-api:/*"),
				Conditions: &map[string]any{"ArnNotEquals": map[string]any{"aws:PrincipalArn": invokers}},
			}))
	} else {
		statements = append(statements, awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("NoInvokersConfigured"), Effect: awsiam.Effect_DENY,
			Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
			Actions:    jsii.Strings("execute-api:Invoke"), Resources: jsii.Strings("execute-api:/*"),
		}))
	}
	stage := &awsapigateway.StageOptions{
		StageName:            jsii.String("v1"),
		TracingEnabled:       jsii.Bool(true),
		ThrottlingRateLimit:  jsii.Number(10),
		ThrottlingBurstLimit: jsii.Number(20),
	}
	if accessLogs {
		stage.AccessLogDestination = awsapigateway.NewLogGroupLogDestination(defaults.LogGroup(ir, "ApiAccessLogs", &awslogs.LogGroupProps{EncryptionKey: ir.Key}))
		stage.AccessLogFormat = awsapigateway.AccessLogFormat_JsonWithStandardFields(nil)
	}
	ir.Api = awsapigateway.NewRestApi(ir, jsii.String("Api"), &awsapigateway.RestApiProps{
		Description:               jsii.String("EC2 incident response: start, status and release of cases"),
		Policy:                    awsiam.NewPolicyDocument(&awsiam.PolicyDocumentProps{Statements: &statements}),
		EndpointTypes:             &[]awsapigateway.EndpointType{awsapigateway.EndpointType_REGIONAL},
		CloudWatchRole:            jsii.Bool(false),
		DisableExecuteApiEndpoint: jsii.Bool(false),
		DefaultMethodOptions:      &awsapigateway.MethodOptions{AuthorizationType: awsapigateway.AuthorizationType_IAM, ApiKeyRequired: jsii.Bool(false)},
		DeployOptions:             stage,
	})
	// No test-invoke permissions: the console's test button bypasses IAM authorization.
	integration := awsapigateway.NewLambdaIntegration(ir.ApiFunction, &awsapigateway.LambdaIntegrationOptions{AllowTestInvoke: jsii.Bool(false)})
	validator := ir.Api.AddRequestValidator(jsii.String("Validator"), &awsapigateway.RequestValidatorOptions{
		ValidateRequestBody: jsii.Bool(true), ValidateRequestParameters: jsii.Bool(true),
	})
	cases := ir.Api.Root().AddResource(jsii.String("cases"), nil)
	cases.AddMethod(jsii.String("POST"), integration, &awsapigateway.MethodOptions{RequestValidator: validator})
	one := cases.AddResource(jsii.String("{caseId}"), nil)
	one.AddMethod(jsii.String("GET"), integration, &awsapigateway.MethodOptions{RequestValidator: validator})
	one.AddResource(jsii.String("release"), nil).AddMethod(jsii.String("POST"), integration, &awsapigateway.MethodOptions{RequestValidator: validator})
	suppressAPI(ir.Api, accessLogs)
}
