// Command asff-ingest is the DevSecOps pipeline's findings ingestion Lambda
// (constructs/devsecops). A scan build invokes it with the report envelope
// {messageType:"CodeScanReport", reportType, createdAt, source_repository, source_branch,
// build_id, source_commitid, report}; it stores the raw envelope in S3 first, then parses the
// report, builds ASFF findings and imports them into Security Hub, and returns the count of
// findings per severity so that the build can apply its threshold. Wiring only: the logic is
// in handler.go.
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
	// One retry layer: awsretry in the handler and the importer, so the SDK makes one attempt
	// per call.
	cfg := awsconfig.FromEnv(1)
	objects := s3.NewFromConfig(cfg)
	h := &Handler{
		Put:       objects,
		Get:       objects,
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
