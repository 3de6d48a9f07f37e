package incidentresponse_test

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/incidentresponse"
)

// A responder role may start cases through the API, and GuardDuty EC2
// findings of severity 7 or more start them too.
func ExampleNewIncidentResponse() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("IncidentResponse"), nil)
	incidentresponse.NewIncidentResponse(stack, "IR", &incidentresponse.IncidentResponseProps{
		Invokers:             *jsii.Strings("arn:aws:iam::111122223333:role/Responder"),
		GuardDutyMinSeverity: jsii.Number(7),
		ObjectLockMode:       jsii.String(incidentresponse.ObjectLockGovernance),
		ObjectLockRetention:  awscdk.Duration_Days(jsii.Number(365)),
	})
}
