// Package ssmparam is the SSM Parameter Store client of handlers that write
// and delete one parameter: PutParameter and DeleteParameter over awsjson,
// with the SDK's field names, instead of service/ssm (about 0.8 MiB per
// binary). API: https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html
package ssmparam

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/securestacks/securestacks/lambda-src/internal/awsjson"
)

// SDKService is the aws-sdk-go-v2 service package this client stands in for:
// its <Op>Input types name that service's operations (internal/rolecoverage
// reads it to check the handlers' roles).
const SDKService = "ssm"

// Service is SSM's JSON 1.1 identity.
var Service = awsjson.Service{SDKID: "SSM", EndpointPrefix: "ssm", SigningName: "ssm", TargetPrefix: "AmazonSSM"}

// ParameterType is a parameter's type.
type ParameterType string

// ParameterTypeString is a plain String parameter.
const ParameterTypeString ParameterType = "String"

// PutParameterInput is the subset of PutParameter's request the handlers send.
type PutParameterInput struct {
	Name        *string       `json:"Name,omitempty"`
	Value       *string       `json:"Value,omitempty"`
	Type        ParameterType `json:"Type,omitempty"`
	Overwrite   *bool         `json:"Overwrite,omitempty"`
	Description *string       `json:"Description,omitempty"`
}

// PutParameterOutput is PutParameter's answer.
type PutParameterOutput struct {
	Version int64  `json:"Version"`
	Tier    string `json:"Tier"`
}

// DeleteParameterInput names the parameter to delete.
type DeleteParameterInput struct {
	Name *string `json:"Name,omitempty"`
}

// DeleteParameterOutput is DeleteParameter's (empty) answer.
type DeleteParameterOutput struct{}

// Client calls SSM.
type Client struct{ json awsjson.Client }

// New returns a Client for cfg; dnsSuffix resolves the region's partition
// DNS suffix (see awsjson.SuffixFromEndpoint).
func New(cfg aws.Config, dnsSuffix func(ctx context.Context, region string) (string, error)) *Client {
	return &Client{json: awsjson.Client{Service: Service, Config: cfg, DNSSuffix: dnsSuffix}}
}

// PutParameter creates or overwrites a parameter. A failure is an
// *awsjson.Error carrying SSM's error code.
func (c *Client) PutParameter(ctx context.Context, in *PutParameterInput) (*PutParameterOutput, error) {
	var out PutParameterOutput
	if err := c.json.Call(ctx, "PutParameter", in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteParameter deletes a parameter; a missing one fails with the code
// ParameterNotFound.
func (c *Client) DeleteParameter(ctx context.Context, in *DeleteParameterInput) (*DeleteParameterOutput, error) {
	if err := c.json.Call(ctx, "DeleteParameter", in, nil); err != nil {
		return nil, err
	}
	return &DeleteParameterOutput{}, nil
}
