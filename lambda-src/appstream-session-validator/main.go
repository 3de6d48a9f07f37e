// Command appstream-session-validator is the AppStream sandbox's session validator
// (constructs/appstreamsandbox). S3 invokes it for every user/*/<AppStream stack>/session.json the
// AppStream session script syncs into the home-folder bucket; it answers with a presigned SageMaker notebook
// URL only for a session AppStream confirms, and with a denial plus a security metric otherwise.
// Wiring only: the logic is in handler.go.
package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strconv"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/appstream"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/securestacks/securestacks/lambda-src/internal/awsconfig"
	"github.com/securestacks/securestacks/lambda-src/internal/awsjson"
	"github.com/securestacks/securestacks/lambda-src/internal/logging"
	"github.com/securestacks/securestacks/lambda-src/internal/sagemakernotebook"
)

// The environment variables the construct sets.
const (
	EnvHomeBucket      = "HOME_FOLDER_BUCKET"
	EnvBucketOwner     = "HOME_FOLDER_BUCKET_OWNER"
	EnvStackName       = "APPSTREAM_STACK_NAME"
	EnvFleetName       = "APPSTREAM_FLEET_NAME"
	EnvNotebookName    = "NOTEBOOK_INSTANCE_NAME"
	EnvSessionExpiry   = "SESSION_EXPIRY_SECONDS"
	EnvMetricNamespace = "METRIC_NAMESPACE"
)

// DefaultMetricNamespace is used when METRIC_NAMESPACE is unset.
const DefaultMetricNamespace = "securestacks/AppStreamSandbox"

// DimensionStack is the dimension of both security metrics: the AppStream stack name.
const DimensionStack = "AppStreamStack"

func main() {
	logger := logging.New(os.Stderr)
	expiry, _ := strconv.Atoi(os.Getenv(EnvSessionExpiry))
	cfg := Config{
		HomeBucket:           os.Getenv(EnvHomeBucket),
		BucketOwner:          os.Getenv(EnvBucketOwner),
		StackName:            os.Getenv(EnvStackName),
		FleetName:            os.Getenv(EnvFleetName),
		NotebookInstanceName: os.Getenv(EnvNotebookName),
		SessionExpirySeconds: int32(min(max(expiry, 0), 1<<30)),
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintln(os.Stderr, "appstream-session-validator:", err)
		os.Exit(1)
	}
	// One retry layer, the handler's: the SDK makes a single attempt per call.
	awsCfg := awsconfig.FromEnv(1)
	namespace := os.Getenv(EnvMetricNamespace)
	if namespace == "" {
		namespace = DefaultMetricNamespace
	}
	objects := s3.NewFromConfig(awsCfg)
	h := &Handler{
		Config:           cfg,
		GetObject:        objects,
		PutObject:        objects,
		DescribeSessions: appstream.NewFromConfig(awsCfg),
		PresignNotebook:  sagemakernotebook.New(awsCfg, awsjson.SuffixFrom("appstream2", appStreamEndpoint)),
		Metrics: &EMF{
			W:          os.Stdout,
			Namespace:  namespace,
			Dimensions: map[string]string{DimensionStack: cfg.StackName},
		},
		Logger: logger,
	}
	lambda.Start(h.Handle)
}

// appStreamEndpoint is the AppStream endpoint of region, from the SDK's
// endpoint rules: the SageMaker call takes its partition's DNS suffix from it.
func appStreamEndpoint(ctx context.Context, region string) (url.URL, error) {
	ep, err := appstream.NewDefaultEndpointResolverV2().ResolveEndpoint(ctx, appstream.EndpointParameters{Region: &region})
	return ep.URI, err
}
