// Command fle-decrypt is the field-level decryption Lambda: it finds the
// #01#<base64>#10# markers in a body and has KMS decrypt each one with the
// key named by KEY_ID (RSAES_OAEP_SHA_256), then returns the body with the
// plaintexts in place. Wiring only: the logic is in handler.go.
//
// Environment: KEY_ID (required) the KMS key ARN; INVOKE_KEY_ID (required)
// the HMAC_256 key under which every request's authorization must verify;
// CONCURRENCY (optional) the Decrypt calls in flight, default 8;
// MARKER_KEYS (optional) the keys of other marker prefixes, as
// "02=<key ARN>,03=<key ARN>": a "#02#...#10#" marker decrypts under the
// key named for 02 only.
package main

import (
	"os"
	"strconv"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/securestacks/securestacks/internal/fle"
	"github.com/securestacks/securestacks/lambda-src/internal/awsconfig"
	"github.com/securestacks/securestacks/lambda-src/internal/logging"
)

func main() {
	logger := logging.New(os.Stderr)
	keyID := os.Getenv("KEY_ID")
	if keyID == "" {
		logger.Error("configuration: KEY_ID: expected the KMS key id or ARN, got none")
		os.Exit(1)
	}
	invokeKeyID := os.Getenv("INVOKE_KEY_ID")
	if invokeKeyID == "" {
		logger.Error("configuration: INVOKE_KEY_ID: expected the HMAC key that authorizes requests, got none")
		os.Exit(1)
	}
	concurrency := 0
	if v := os.Getenv("CONCURRENCY"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 64 {
			logger.Error("configuration: CONCURRENCY: expected a whole number from 1 to 64", "value", v)
			os.Exit(1)
		}
		concurrency = n
	}
	markerKeys, err := fle.ParseMarkerKeys(os.Getenv("MARKER_KEYS"))
	if err != nil {
		logger.Error("configuration: MARKER_KEYS: " + err.Error())
		os.Exit(1)
	}
	// One retry layer: awsretry in the handler, so the SDK makes one attempt per call.
	cfg := awsconfig.FromEnv(1)
	client := kms.NewFromConfig(cfg)
	h := &Handler{KMS: client, KeyID: keyID, MarkerKeys: markerKeys, Concurrency: concurrency, Logger: logger,
		Authorizer: &Authorizer{KMS: client, InvokeKeyID: invokeKeyID, Audience: os.Getenv("AWS_LAMBDA_FUNCTION_NAME")}}
	lambda.Start(h.Handle)
}
