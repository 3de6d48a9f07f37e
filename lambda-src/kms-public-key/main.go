// Command kms-public-key is the onEvent handler of the asymmetrickey
// construct's public-key publication custom resource: it calls KMS
// GetPublicKey and writes the key as DER and PEM to S3 and as PEM to an SSM
// String parameter. Wiring only: the logic is in handler.go.
package main

import (
	"context"
	"net/url"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/securestacks/securestacks/lambda-src/internal/awsconfig"
	"github.com/securestacks/securestacks/lambda-src/internal/awsjson"
	"github.com/securestacks/securestacks/lambda-src/internal/cfnresponse"
	"github.com/securestacks/securestacks/lambda-src/internal/logging"
	"github.com/securestacks/securestacks/lambda-src/internal/ssmparam"
)

func main() {
	logger := logging.New(os.Stderr)
	// One retry layer: awsretry in the handler, so the SDK makes one attempt per call.
	cfg := awsconfig.FromEnv(1)
	s3c := s3.NewFromConfig(cfg)
	ssmc := ssmparam.New(cfg, awsjson.SuffixFrom("kms", kmsEndpoint))
	lambda.Start(cfnresponse.Handler(&Publisher{
		KMS:             kms.NewFromConfig(cfg),
		PutObject:       s3c,
		DeleteObject:    s3c,
		PutParameter:    ssmc,
		DeleteParameter: ssmc,
		Logger:          logger,
	}, &cfnresponse.Options{Logger: logger}))
}

// kmsEndpoint is the KMS endpoint of region, from the SDK's endpoint rules:
// the SSM calls take their partition's DNS suffix from it.
func kmsEndpoint(ctx context.Context, region string) (url.URL, error) {
	ep, err := kms.NewDefaultEndpointResolverV2().ResolveEndpoint(ctx, kms.EndpointParameters{Region: &region})
	return ep.URI, err
}
