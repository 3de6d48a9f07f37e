// Command fieldencryption-store is the origin of the field-encryption
// distribution: behind a Lambda function URL with CloudFront origin access
// control, it stores each body the edge encrypter protected in S3 under a KMS
// key. Wiring only: the logic is in handler.go.
//
// Environment: BUCKET (required) and KMS_KEY_ID (required).
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/securestacks/securestacks/lambda-src/internal/awsconfig"
	"github.com/securestacks/securestacks/lambda-src/internal/logging"
)

func main() {
	logger := logging.New(os.Stderr)
	bucket, key := os.Getenv("BUCKET"), os.Getenv("KMS_KEY_ID")
	if bucket == "" || key == "" {
		logger.Error("configuration: BUCKET and KMS_KEY_ID: expected the bucket name and the KMS key ARN")
		os.Exit(1)
	}
	h := &Handler{S3: s3.NewFromConfig(awsconfig.FromEnv(0)), Bucket: bucket, KMSKeyID: key, Logger: logger}
	lambda.Start(h.Handle)
}
