// Command appstream-fleet-lifecycle is the onEvent handler of the AppStream sandbox's fleet
// lifecycle custom resource (constructs/appstreamsandbox): it starts the fleet on Create and
// stops it, waiting boundedly for STOPPED, on Delete. Wiring only: the logic is in handler.go.
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/appstream"

	"github.com/securestacks/securestacks/lambda-src/internal/awsconfig"
	"github.com/securestacks/securestacks/lambda-src/internal/cfnresponse"
	"github.com/securestacks/securestacks/lambda-src/internal/logging"
)

func main() {
	logger := logging.New(os.Stderr)
	// One retry layer, the handler's: the SDK makes a single attempt per call.
	cfg := awsconfig.FromEnv(1)
	client := appstream.NewFromConfig(cfg)
	lambda.Start(cfnresponse.Handler(&Lifecycle{
		DescribeFleets: client,
		StartFleet:     client,
		StopFleet:      client,
		Logger:         logger,
	}, &cfnresponse.Options{Logger: logger}))
}
