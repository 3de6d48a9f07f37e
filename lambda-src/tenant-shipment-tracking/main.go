// Command tenant-shipment-tracking is the shipment-tracking sample of the
// TenantIsolation stack: behind an HTTP API with a Cognito JWT authorizer, it
// reads a tenant's shipment from the pooled DynamoDB table and its document
// from S3 (SSE-KMS under the tenant's key) with the tenant's session only.
// Wiring only: the logic is in handler.go.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/securestacks/securestacks/internal/tenantsession"
	"github.com/securestacks/securestacks/lambda-src/internal/awsconfig"
	"github.com/securestacks/securestacks/lambda-src/internal/logging"
)

func main() {
	logger := logging.New(os.Stderr)
	cfg := awsconfig.FromEnv(0)
	vendor, err := tenantsession.New(sts.NewFromConfig(cfg), tenantsession.Options{RoleARN: os.Getenv(AccessRoleEnv)})
	if err != nil {
		logger.Error("invalid configuration", "error", err.Error())
		os.Exit(1)
	}
	h := &Handler{
		Clients:     &sessionClients{cfg: cfg, vendor: vendor},
		Table:       os.Getenv(TableEnv),
		Bucket:      os.Getenv(BucketEnv),
		TenantClaim: os.Getenv(TenantClaimEnv),
		Logger:      logger,
	}
	lambda.Start(func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		if lc, ok := lambdacontext.FromContext(ctx); ok {
			ctx = tenantsession.WithRequestID(ctx, lc.AwsRequestID)
		}
		return h.Handle(ctx, req)
	})
}

// sessionClients builds clients whose credentials are the tenant's session.
type sessionClients struct {
	cfg    aws.Config
	vendor *tenantsession.Vendor
}

func (c *sessionClients) For(tenant string) (GetItemAPI, GetObjectAPI) {
	creds := c.vendor.Provider(tenant)
	return dynamodb.NewFromConfig(c.cfg, func(o *dynamodb.Options) { o.Credentials = creds }),
		s3.NewFromConfig(c.cfg, func(o *s3.Options) { o.Credentials = creds })
}
