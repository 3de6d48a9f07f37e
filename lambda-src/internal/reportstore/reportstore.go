// Package reportstore writes raw reports and events to the DevSecOps report bucket, the way
// every ingestion handler must: SSE-KMS with the pipeline key named in the request (the bucket
// policy denies anything else), each attempt bounded in time and retried under awsretry. It
// also builds the keys and the SourceUrl links of the stored objects.
package reportstore

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/securestacks/securestacks/lambda-src/internal/awsretry"
)

// PutObjectAPI stores objects.
type PutObjectAPI interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

var _ PutObjectAPI = (*s3.Client)(nil)

// Put stores body at key in bucket, encrypted with the KMS key kmsKeyID, retrying under
// policy (whose AttemptTimeout bounds each attempt).
func Put(ctx context.Context, api PutObjectAPI, policy awsretry.Policy, bucket, kmsKeyID, key string, body []byte) error {
	return awsretry.Do(ctx, policy, func(ctx context.Context) error {
		_, err := api.PutObject(ctx, &s3.PutObjectInput{
			Bucket:               aws.String(bucket),
			Key:                  aws.String(key),
			Body:                 bytes.NewReader(body),
			ContentLength:        aws.Int64(int64(len(body))),
			ContentType:          aws.String("application/json"),
			ServerSideEncryption: s3types.ServerSideEncryptionAwsKms,
			SSEKMSKeyId:          aws.String(kmsKeyID),
			BucketKeyEnabled:     aws.Bool(true),
		})
		return err
	})
}

// ObjectURL is the virtual-hosted HTTPS URL of key in bucket, in the partition of urlSuffix;
// "" when any part is unknown.
func ObjectURL(bucket, region, urlSuffix, key string) string {
	if bucket == "" || region == "" || urlSuffix == "" {
		return ""
	}
	u := url.URL{Scheme: "https", Host: bucket + ".s3." + region + "." + urlSuffix, Path: "/" + key}
	return u.String()
}

// Safe keeps letters, digits and . _ : - (CodeBuild build ids are project:uuid), maps anything
// else to _, and bounds the length; ".." never survives, so a key cannot climb. An empty
// result is fallback.
func Safe(s, fallback string) string {
	s = strings.TrimSpace(s)
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == ':', r == '-', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
		if b.Len() >= 200 {
			break
		}
	}
	out := strings.ReplaceAll(b.String(), "..", "__")
	if strings.Trim(out, "._") == "" {
		return fallback
	}
	return out
}

// DefaultAttemptTimeout bounds each S3 attempt when the handler sets no timeout.
const DefaultAttemptTimeout = 30 * time.Second

// AttemptPolicy is p with every attempt bounded by timeout (DefaultAttemptTimeout when zero).
func AttemptPolicy(p awsretry.Policy, timeout time.Duration) awsretry.Policy {
	p.AttemptTimeout = timeout
	if p.AttemptTimeout <= 0 {
		p.AttemptTimeout = DefaultAttemptTimeout
	}
	return p
}

// Env is the environment every ingestion function gets from its construct: the report bucket
// and key, and where the function runs, which is where the findings go.
type Env struct {
	Bucket, KMSKeyID, Partition, Region, AccountID, URLSuffix string
}

// EnvFromOS reads REPORT_BUCKET, REPORT_KEY_ARN, PARTITION, AWS_REGION, ACCOUNT_ID and
// URL_SUFFIX; missing names the first variable that is not set.
func EnvFromOS() (e Env, missing string) {
	for _, v := range []struct {
		name string
		dst  *string
	}{{"REPORT_BUCKET", &e.Bucket}, {"REPORT_KEY_ARN", &e.KMSKeyID}, {"PARTITION", &e.Partition},
		{"AWS_REGION", &e.Region}, {"ACCOUNT_ID", &e.AccountID}, {"URL_SUFFIX", &e.URLSuffix}} {
		*v.dst = os.Getenv(v.name)
		if *v.dst == "" {
			return e, v.name
		}
	}
	return e, ""
}
