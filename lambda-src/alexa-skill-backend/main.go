// Command alexa-skill-backend is the "time teller" Alexa skill: it answers with the time of the
// request in UTC, in the request's locale, and only to the skill whose id the Skill construct's
// permission custom resource wrote to the SSM parameter named by SKILL_ID_PARAMETER.
// Wiring only: the logic is in handler.go.
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/securestacks/securestacks/lambda-src/internal/awsconfig"
	"github.com/securestacks/securestacks/lambda-src/internal/logging"
)

func main() {
	logger := logging.New(os.Stderr)
	cfg := awsconfig.FromEnv(0)
	lambda.Start(&Handler{
		Skill:  &ParameterSkillID{API: ssm.NewFromConfig(cfg), Name: os.Getenv(SkillIDParameterEnv)},
		Logger: logger,
	})
}
