// Command origin-prefix-list is the cloudfrontorigin construct's deploy-time lookup of an
// AWS-managed prefix list's regional ID. Wiring only: the logic is in handler.go.
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/securestacks/securestacks/lambda-src/internal/awsconfig"
	"github.com/securestacks/securestacks/lambda-src/internal/cfnresponse"
	"github.com/securestacks/securestacks/lambda-src/internal/logging"
)

func main() {
	logger := logging.New(os.Stderr)
	lambda.Start(cfnresponse.Handler(&Lookup{EC2: ec2.NewFromConfig(awsconfig.FromEnv(1)), Logger: logger}, &cfnresponse.Options{Logger: logger}))
}
