// Package kmstest gives integration tests a KMS client for local-kms (started
// by testenv.StartLocalKMS) and creates asymmetric keys in it. Test code only.
package kmstest

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// Region is local-kms's region as testenv starts it.
const Region = "eu-west-2"

// Env is the environment that makes an SDK client (or the CLI) reach
// local-kms at endpoint with dummy credentials and nothing from ~/.aws.
func Env(endpoint string) []string {
	return []string{
		"AWS_ACCESS_KEY_ID=test",
		"AWS_SECRET_ACCESS_KEY=test",
		"AWS_SESSION_TOKEN=",
		"AWS_REGION=" + Region,
		"AWS_PROFILE=",
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_ENDPOINT_URL_KMS=" + endpoint,
	}
}

// SetEnv applies Env for the duration of t.
func SetEnv(t testing.TB, endpoint string) {
	t.Helper()
	for _, kv := range Env(endpoint) {
		for i := 0; i < len(kv); i++ {
			if kv[i] == '=' {
				t.Setenv(kv[:i], kv[i+1:])
				break
			}
		}
	}
}

// Client returns a KMS client for local-kms at endpoint.
func Client(endpoint string) *kms.Client {
	return kms.New(kms.Options{
		Region:       Region,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
}

// CreateKey creates an asymmetric key of spec and usage and returns its ARN.
func CreateKey(t testing.TB, c *kms.Client, spec types.KeySpec, usage types.KeyUsageType) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := c.CreateKey(ctx, &kms.CreateKeyInput{KeySpec: spec, KeyUsage: usage, Description: aws.String("securestacks test key")})
	if err != nil {
		t.Fatalf("kmstest: CreateKey %s %s: %v", spec, usage, err)
	}
	return *out.KeyMetadata.Arn
}

// CreateAlias points alias (with the alias/ prefix) at keyID.
func CreateAlias(t testing.TB, c *kms.Client, alias, keyID string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: &alias, TargetKeyId: &keyID}); err != nil {
		t.Fatalf("kmstest: CreateAlias %s: %v", alias, err)
	}
}
