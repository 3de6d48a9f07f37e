// Command appstream-homefolder-notification is the onEvent handler of the AppStream sandbox's
// home-folder notification custom resource (constructs/appstreamsandbox): it merges the session
// validator's ObjectCreated notification into the configuration of the bucket AppStream owns,
// and removes only that entry on Delete. Wiring only: the logic is in handler.go.
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/securestacks/securestacks/lambda-src/internal/awsconfig"
	"github.com/securestacks/securestacks/lambda-src/internal/cfnresponse"
	"github.com/securestacks/securestacks/lambda-src/internal/logging"
)

func main() {
	logger := logging.New(os.Stderr)
	// One retry layer, the handler's: the SDK makes a single attempt per call.
	cfg := awsconfig.FromEnv(1)
	client := s3.NewFromConfig(cfg)
	lambda.Start(cfnresponse.Handler(&Notification{Get: client, Put: client, Logger: logger}, &cfnresponse.Options{Logger: logger}))
}
