// Package sagemakernotebook is the SageMaker client of handlers that only
// presign notebook URLs: CreatePresignedNotebookInstanceUrl over awsjson,
// with the SDK's field names, instead of service/sagemaker (about 2 MiB per
// binary). API: https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreatePresignedNotebookInstanceUrl.html
package sagemakernotebook

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/securestacks/securestacks/lambda-src/internal/awsjson"
)

// SDKService is the aws-sdk-go-v2 service package this client stands in for:
// its <Op>Input types name that service's operations (internal/rolecoverage
// reads it to check the handlers' roles).
const SDKService = "sagemaker"

// Service is SageMaker's JSON 1.1 identity (endpoint api.sagemaker.<region>.<suffix>).
var Service = awsjson.Service{SDKID: "SageMaker", EndpointPrefix: "api.sagemaker", SigningName: "sagemaker", TargetPrefix: "SageMaker"}

// CreatePresignedNotebookInstanceUrlInput is the request.
type CreatePresignedNotebookInstanceUrlInput struct {
	NotebookInstanceName               *string `json:"NotebookInstanceName,omitempty"`
	SessionExpirationDurationInSeconds *int32  `json:"SessionExpirationDurationInSeconds,omitempty"`
}

// CreatePresignedNotebookInstanceUrlOutput is the answer.
type CreatePresignedNotebookInstanceUrlOutput struct {
	AuthorizedUrl *string `json:"AuthorizedUrl"`
}

// Client calls SageMaker.
type Client struct{ json awsjson.Client }

// New returns a Client for cfg; dnsSuffix resolves the region's partition
// DNS suffix (see awsjson.SuffixFromEndpoint).
func New(cfg aws.Config, dnsSuffix func(ctx context.Context, region string) (string, error)) *Client {
	return &Client{json: awsjson.Client{Service: Service, Config: cfg, DNSSuffix: dnsSuffix}}
}

// CreatePresignedNotebookInstanceUrl returns a presigned notebook URL. A
// failure is an *awsjson.Error carrying SageMaker's error code.
func (c *Client) CreatePresignedNotebookInstanceUrl(ctx context.Context, in *CreatePresignedNotebookInstanceUrlInput) (*CreatePresignedNotebookInstanceUrlOutput, error) {
	var out CreatePresignedNotebookInstanceUrlOutput
	if err := c.json.Call(ctx, "CreatePresignedNotebookInstanceUrl", in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
