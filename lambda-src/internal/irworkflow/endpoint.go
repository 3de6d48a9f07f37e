package irworkflow

import (
	"context"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

// EC2Endpoint is the EC2 endpoint of region from the SDK's endpoint rules:
// the incident-response functions' JSON calls (DynamoDB, SSM, Step
// Functions) take their partition's DNS suffix from it
// (awsjson.SuffixFrom("ec2", EC2Endpoint)).
func EC2Endpoint(ctx context.Context, region string) (url.URL, error) {
	ep, err := ec2.NewDefaultEndpointResolverV2().ResolveEndpoint(ctx, ec2.EndpointParameters{Region: &region})
	return ep.URI, err
}
