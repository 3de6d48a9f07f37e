// Command ir-contain runs the containment steps of an incident-response
// case (protect, profile, autoscaling, targets, isolate, tag) for the state
// machine of constructs/incidentresponse. Wiring only: the steps are in
// lambda-src/internal/irworkflow.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/securestacks/securestacks/lambda-src/internal/awsconfig"
	"github.com/securestacks/securestacks/lambda-src/internal/awsjson"
	"github.com/securestacks/securestacks/lambda-src/internal/irdynamo"
	"github.com/securestacks/securestacks/lambda-src/internal/irworkflow"
	"github.com/securestacks/securestacks/lambda-src/internal/irworkflow/irlb"
	"github.com/securestacks/securestacks/lambda-src/internal/logging"
)

func main() {
	cfg, table, err := irworkflow.ConfigFromEnv(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ir-contain:", err)
		os.Exit(1)
	}
	awsCfg := awsconfig.FromEnv(0)
	ec2c := ec2.NewFromConfig(awsCfg)
	asg := autoscaling.NewFromConfig(awsCfg)
	lb := elb.NewFromConfig(awsCfg)
	w := &irworkflow.Workflow{
		Config: cfg, Store: irdynamo.New(table, awsCfg, awsjson.SuffixFrom("ec2", irworkflow.EC2Endpoint)),
		DescribeInstances: ec2c, DescribeSecurityGroups: ec2c, ModifyInstanceAttribute: ec2c,
		DescribeIamInstanceProfileAssociations: ec2c, DisassociateIamInstanceProfile: ec2c,
		ModifyNetworkInterfaceAttribute: ec2c, CreateSecurityGroup: ec2c, AuthorizeSecurityGroupIngress: ec2c,
		AuthorizeSecurityGroupEgress: ec2c, RevokeSecurityGroupEgress: ec2c, DeleteSecurityGroup: ec2c, CreateTags: ec2c,
		AutoScaling:  &irlb.AutoScaling{DescribeAutoScalingInstances: asg, EnterStandbyAPI: asg, DetachInstances: asg},
		TargetGroups: &irlb.TargetGroups{DescribeTargetGroups: lb, DescribeTargetHealth: lb, DeregisterTargets: lb},
		Logger:       logging.New(os.Stderr),
	}
	lambda.Start(w.HandleTask)
}
