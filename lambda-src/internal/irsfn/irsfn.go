// Package irsfn starts and describes incident-response executions over
// awsjson (StartExecution, DescribeExecution). API:
// https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html
package irsfn

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/securestacks/securestacks/lambda-src/internal/awsjson"
)

// SDKService is the aws-sdk-go-v2 service this client stands in for.
const SDKService = "sfn"

// Service is Step Functions' JSON 1.0 identity.
var Service = awsjson.Service{SDKID: "SFN", EndpointPrefix: "states", SigningName: "states", TargetPrefix: "AWSStepFunctions", JSONVersion: "1.0"}

// StartExecutionInput starts one execution named after the case.
type StartExecutionInput struct {
	StateMachineArn string `json:"stateMachineArn"`
	Name            string `json:"name"`
	Input           string `json:"input"`
}

type startExecutionOutput struct {
	ExecutionArn string `json:"executionArn"`
}

// DescribeExecutionInput names an execution.
type DescribeExecutionInput struct {
	ExecutionArn string `json:"executionArn"`
}

// Execution is DescribeExecution's answer, in part.
type Execution struct {
	Status    string  `json:"status"`
	StartDate float64 `json:"startDate"`
	StopDate  float64 `json:"stopDate,omitempty"`
}

// Client calls Step Functions.
type Client struct{ json awsjson.Client }

// New returns a Client for cfg.
func New(cfg aws.Config, dnsSuffix func(context.Context, string) (string, error)) *Client {
	return &Client{json: awsjson.Client{Service: Service, Config: cfg, DNSSuffix: dnsSuffix}}
}

// StartExecution starts the state machine and returns the execution ARN.
func (c *Client) StartExecution(ctx context.Context, in *StartExecutionInput) (string, error) {
	var out startExecutionOutput
	if err := c.json.Call(ctx, "StartExecution", in, &out); err != nil {
		return "", err
	}
	return out.ExecutionArn, nil
}

// DescribeExecution reads an execution's status.
func (c *Client) DescribeExecution(ctx context.Context, in *DescribeExecutionInput) (*Execution, error) {
	var out Execution
	if err := c.json.Call(ctx, "DescribeExecution", in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
