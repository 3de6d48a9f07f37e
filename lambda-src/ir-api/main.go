// Command ir-api is the front of the incident-response system
// (constructs/incidentresponse): the IAM-authorized REST API (start, status,
// release) and the target of the opt-in GuardDuty findings rule. Wiring
// only: the logic is in handler.go.
package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/securestacks/securestacks/internal/incident"
	"github.com/securestacks/securestacks/lambda-src/internal/awsconfig"
	"github.com/securestacks/securestacks/lambda-src/internal/awsjson"
	"github.com/securestacks/securestacks/lambda-src/internal/irdynamo"
	"github.com/securestacks/securestacks/lambda-src/internal/irsfn"
	"github.com/securestacks/securestacks/lambda-src/internal/irworkflow"
	"github.com/securestacks/securestacks/lambda-src/internal/logging"
)

// EnvMinSeverity is the lowest GuardDuty severity that starts a case.
const EnvMinSeverity = "IR_MIN_SEVERITY"

func main() {
	cfg, table, err := irworkflow.ConfigFromEnv(os.Getenv)
	if err == nil && os.Getenv(incident.EnvStateMachineARN) == "" {
		err = fmt.Errorf("environment: %s not set", incident.EnvStateMachineARN)
	}
	minSeverity := 7.0
	if v := os.Getenv(EnvMinSeverity); err == nil && v != "" {
		if minSeverity, err = strconv.ParseFloat(v, 64); err != nil {
			err = fmt.Errorf("environment: %s=%q: expected a number", EnvMinSeverity, v)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ir-api:", err)
		os.Exit(1)
	}
	awsCfg := awsconfig.FromEnv(0)
	ec2c := ec2.NewFromConfig(awsCfg)
	suffix := awsjson.SuffixFrom("ec2", irworkflow.EC2Endpoint)
	store := irdynamo.New(table, awsCfg, suffix)
	states := irsfn.New(awsCfg, suffix)
	logger := logging.New(os.Stderr)
	a := &API{
		Config: cfg, Cases: store, DescribeInstances: ec2c, StartExecution: states, DescribeExecution: states,
		Releaser: &irworkflow.Workflow{Config: cfg, Store: store, ModifyNetworkInterfaceAttribute: ec2c,
			AssociateIamInstanceProfile: ec2c, DeleteTags: ec2c, Logger: logger},
		StateMachineARN: os.Getenv(incident.EnvStateMachineARN), MinSeverity: minSeverity, Logger: logger,
	}
	lambda.Start(a.Handle)
}
