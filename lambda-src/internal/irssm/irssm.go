// Package irssm is the Systems Manager client of the incident-response
// forensics step over awsjson: DescribeInstanceInformation, SendCommand and
// GetCommandInvocation (service/ssm would add about 0.8 MiB). API:
// https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_SendCommand.html
package irssm

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/securestacks/securestacks/lambda-src/internal/awsjson"
	"github.com/securestacks/securestacks/lambda-src/internal/irworkflow"
	"github.com/securestacks/securestacks/lambda-src/internal/ssmparam"
)

// SDKService is the aws-sdk-go-v2 service this client stands in for.
const SDKService = "ssm"

// DescribeInstanceInformationInput filters by instance ID.
type DescribeInstanceInformationInput struct {
	Filters []filter `json:"Filters"`
}

type filter struct {
	Key    string   `json:"Key"`
	Values []string `json:"Values"`
}

type describeOutput struct {
	InstanceInformationList []struct {
		InstanceID   string `json:"InstanceId"`
		PingStatus   string `json:"PingStatus"`
		PlatformType string `json:"PlatformType"`
	} `json:"InstanceInformationList"`
}

// SendCommandInput is the subset of SendCommand the step sends.
type SendCommandInput struct {
	InstanceIDs        []string            `json:"InstanceIds"`
	DocumentName       string              `json:"DocumentName"`
	Parameters         map[string][]string `json:"Parameters"`
	TimeoutSeconds     int                 `json:"TimeoutSeconds,omitempty"`
	OutputS3BucketName string              `json:"OutputS3BucketName,omitempty"`
	OutputS3KeyPrefix  string              `json:"OutputS3KeyPrefix,omitempty"`
	Comment            string              `json:"Comment,omitempty"`
}

type sendCommandOutput struct {
	Command struct {
		CommandID string `json:"CommandId"`
	} `json:"Command"`
}

// GetCommandInvocationInput names one invocation.
type GetCommandInvocationInput struct {
	CommandID  string `json:"CommandId"`
	InstanceID string `json:"InstanceId"`
}

type invocationOutput struct {
	Status                string `json:"Status"`
	StandardOutputContent string `json:"StandardOutputContent"`
	StandardErrorContent  string `json:"StandardErrorContent"`
}

// Client is irworkflow.SSM.
type Client struct {
	API interface {
		Call(ctx context.Context, operation string, in, out any) error
	}
}

var _ irworkflow.SSM = (*Client)(nil)

// New returns a Client for cfg.
func New(cfg aws.Config, dnsSuffix func(context.Context, string) (string, error)) *Client {
	return &Client{API: &awsjson.Client{Service: ssmparam.Service, Config: cfg, DNSSuffix: dnsSuffix}}
}

// Managed reports whether the instance's agent answers.
func (c *Client) Managed(ctx context.Context, instanceID string) (bool, string, error) {
	var out describeOutput
	if err := c.describe(ctx, &DescribeInstanceInformationInput{
		Filters: []filter{{Key: "InstanceIds", Values: []string{instanceID}}},
	}, &out); err != nil {
		return false, "", fmt.Errorf("ssm:DescribeInstanceInformation: %w", err)
	}
	for _, i := range out.InstanceInformationList {
		if i.InstanceID == instanceID {
			return i.PingStatus == "Online", i.PlatformType, nil
		}
	}
	return false, "", nil
}

// SendCommand runs the forensic commands.
func (c *Client) SendCommand(ctx context.Context, in irworkflow.SendCommandInput) (string, error) {
	var out sendCommandOutput
	err := c.send(ctx, &SendCommandInput{
		InstanceIDs: []string{in.InstanceID}, DocumentName: in.DocumentName,
		Parameters:     map[string][]string{"commands": in.Commands, "executionTimeout": {fmt.Sprint(in.TimeoutSeconds)}},
		TimeoutSeconds: max(in.TimeoutSeconds, 30), OutputS3BucketName: in.Bucket, OutputS3KeyPrefix: in.KeyPrefix, Comment: in.Comment,
	}, &out)
	if err != nil {
		return "", err
	}
	if out.Command.CommandID == "" {
		return "", errors.New("ssm:SendCommand returned no command ID")
	}
	return out.Command.CommandID, nil
}

// Invocation reads the command's result on the instance.
func (c *Client) Invocation(ctx context.Context, commandID, instanceID string) (irworkflow.Invocation, error) {
	var out invocationOutput
	if err := c.invocation(ctx, &GetCommandInvocationInput{CommandID: commandID, InstanceID: instanceID}, &out); err != nil {
		return irworkflow.Invocation{}, err
	}
	return irworkflow.Invocation{Status: out.Status, Stdout: out.StandardOutputContent, Stderr: out.StandardErrorContent}, nil
}

// One method per operation, so internal/rolecoverage sees each.
func (c *Client) describe(ctx context.Context, in *DescribeInstanceInformationInput, out *describeOutput) error {
	return c.API.Call(ctx, "DescribeInstanceInformation", in, out)
}

func (c *Client) send(ctx context.Context, in *SendCommandInput, out *sendCommandOutput) error {
	return c.API.Call(ctx, "SendCommand", in, out)
}

func (c *Client) invocation(ctx context.Context, in *GetCommandInvocationInput, out *invocationOutput) error {
	return c.API.Call(ctx, "GetCommandInvocation", in, out)
}
