// Command ir-evidence runs the evidence steps of an incident-response case
// (metadata, console, snapshots, forensics, manifest and notification) for
// the state machine of constructs/incidentresponse. Wiring only: the steps
// are in lambda-src/internal/irworkflow.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/securestacks/securestacks/lambda-src/internal/awsconfig"
	"github.com/securestacks/securestacks/lambda-src/internal/awsjson"
	"github.com/securestacks/securestacks/lambda-src/internal/irdynamo"
	"github.com/securestacks/securestacks/lambda-src/internal/irssm"
	"github.com/securestacks/securestacks/lambda-src/internal/irworkflow"
	"github.com/securestacks/securestacks/lambda-src/internal/logging"
)

func main() {
	cfg, table, err := irworkflow.ConfigFromEnv(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ir-evidence:", err)
		os.Exit(1)
	}
	awsCfg := awsconfig.FromEnv(0)
	ec2c := ec2.NewFromConfig(awsCfg)
	suffix := awsjson.SuffixFrom("ec2", irworkflow.EC2Endpoint)
	w := &irworkflow.Workflow{
		Config: cfg, Store: irdynamo.New(table, awsCfg, suffix),
		DescribeInstances: ec2c, DescribeSecurityGroups: ec2c, GetConsoleScreenshot: ec2c, GetConsoleOutput: ec2c,
		CreateSnapshots: ec2c, AssociateIamInstanceProfile: ec2c, DisassociateIamInstanceProfile: ec2c,
		PutObject: s3.NewFromConfig(awsCfg), Publish: sns.NewFromConfig(awsCfg), SSM: irssm.New(awsCfg, suffix),
		Logger: logging.New(os.Stderr),
	}
	lambda.Start(w.HandleTask)
}
