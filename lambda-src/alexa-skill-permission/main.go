// Command alexa-skill-permission is the onEvent handler of the Alexa Skill construct's
// permission custom resource (constructs/alexaskill). Once the skill exists, it replaces the
// unscoped Alexa permission on the skill's endpoint function with one scoped by
// EventSourceToken = skill id, and writes the skill id to the SSM parameter the backend reads.
// Wiring only: the logic is in handler.go.
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	lambdasvc "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/securestacks/securestacks/lambda-src/internal/awsconfig"
	"github.com/securestacks/securestacks/lambda-src/internal/cfnresponse"
	"github.com/securestacks/securestacks/lambda-src/internal/logging"
)

func main() {
	logger := logging.New(os.Stderr)
	cfg := awsconfig.FromEnv(0)
	fn := lambdasvc.NewFromConfig(cfg)
	params := ssm.NewFromConfig(cfg)
	lambda.Start(cfnresponse.Handler(&Permission{
		GetPolicy:        fn,
		AddPermission:    fn,
		RemovePermission: fn,
		PutParameter:     params,
		DeleteParameter:  params,
		Logger:           logger,
	}, &cfnresponse.Options{Logger: logger}))
}
