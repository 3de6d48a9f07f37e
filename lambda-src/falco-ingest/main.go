// Command falco-ingest is the DevSecOps pipeline's runtime findings Lambda
// (constructs/devsecops RuntimeFindings). A CloudWatch Logs subscription filter on the log
// group where Falco writes its JSON events invokes it; it stores the decompressed events in
// the report bucket first, then imports one ASFF finding per rule and workload into Security
// Hub. Wiring only: the logic is in handler.go.
//
// Environment (all required, set by the construct): REPORT_BUCKET, REPORT_KEY_ARN,
// PARTITION, ACCOUNT_ID, URL_SUFFIX; AWS_REGION is set by Lambda.
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"

	"github.com/securestacks/securestacks/internal/asff"
	"github.com/securestacks/securestacks/lambda-src/internal/awsconfig"
	"github.com/securestacks/securestacks/lambda-src/internal/logging"
	"github.com/securestacks/securestacks/lambda-src/internal/reportstore"
)

func main() {
	logger := logging.New(os.Stderr)
	env, missing := reportstore.EnvFromOS()
	if missing != "" {
		logger.Error("configuration: missing environment variable", "variable", missing)
		os.Exit(1)
	}
	// One retry layer: awsretry in the handler and the importer.
	cfg := awsconfig.FromEnv(1)
	h := &Handler{
		Put:       s3.NewFromConfig(cfg),
		Importer:  asff.Importer{API: securityhub.NewFromConfig(cfg)},
		Bucket:    env.Bucket,
		KMSKeyID:  env.KMSKeyID,
		Partition: env.Partition,
		Region:    env.Region,
		AccountID: env.AccountID,
		URLSuffix: env.URLSuffix,
		Logger:    logger,
	}
	lambda.Start(h.Handle)
}
