package awsconfig_test

import (
	"context"
	"errors"
	"testing"

	"github.com/securestacks/securestacks/lambda-src/internal/awsconfig"
)

func TestFromEnvReadsWhatLambdaSets(t *testing.T) {
	// GIVEN the variables the Lambda runtime sets for the execution role
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_SESSION_TOKEN", "token")
	t.Setenv("AWS_ENDPOINT_URL", "")
	// WHEN the config is built
	cfg := awsconfig.FromEnv(1)
	creds, err := cfg.Credentials.Retrieve(context.Background())
	// THEN it carries the region, the role's credentials and one attempt per call
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "eu-west-1" || cfg.RetryMaxAttempts != 1 || cfg.BaseEndpoint != nil {
		t.Errorf("config region %q attempts %d endpoint %v", cfg.Region, cfg.RetryMaxAttempts, cfg.BaseEndpoint)
	}
	if creds.AccessKeyID != "AKIDEXAMPLE" || creds.SecretAccessKey != "secret" || creds.SessionToken != "token" {
		t.Errorf("credentials %+v", creds)
	}
}

func TestFromEnvWithoutCredentialsFailsAtTheCall(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	_, err := awsconfig.FromEnv(0).Credentials.Retrieve(context.Background())
	if !errors.Is(err, awsconfig.ErrNoCredentials) {
		t.Fatalf("error %v, want ErrNoCredentials", err)
	}
}

type endpointSource interface {
	GetServiceBaseEndpoint(context.Context, string) (string, bool, error)
	GetIgnoreConfiguredEndpoints(context.Context) (bool, bool, error)
}

func TestEndpointOverridesAsTheSDKReadsThem(t *testing.T) {
	// GIVEN a global and a per-service endpoint override
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
	t.Setenv("AWS_ENDPOINT_URL_SECURITYHUB", "http://127.0.0.1:2")
	t.Setenv("AWS_ENDPOINT_URL_APPSTREAM", "")
	t.Setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "")
	cfg := awsconfig.FromEnv(0)
	src, ok := cfg.ConfigSources[0].(endpointSource)
	if !ok {
		t.Fatal("the config source does not provide service endpoints")
	}
	// THEN the global one is the base endpoint and the SDK ID selects the service's
	if cfg.BaseEndpoint == nil || *cfg.BaseEndpoint != "http://127.0.0.1:1" {
		t.Errorf("BaseEndpoint = %v", cfg.BaseEndpoint)
	}
	if u, found, _ := src.GetServiceBaseEndpoint(context.Background(), "SecurityHub"); !found || u != "http://127.0.0.1:2" {
		t.Errorf("SecurityHub endpoint %q %v", u, found)
	}
	if _, found, _ := src.GetServiceBaseEndpoint(context.Background(), "AppStream"); found {
		t.Error("an empty AWS_ENDPOINT_URL_APPSTREAM was taken as an endpoint")
	}
	// AND AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true drops both
	t.Setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")
	if cfg := awsconfig.FromEnv(0); cfg.BaseEndpoint != nil {
		t.Error("ignored endpoints still set BaseEndpoint")
	}
	if ignore, found, _ := src.GetIgnoreConfiguredEndpoints(context.Background()); !ignore || !found {
		t.Error("the config source does not report the ignore switch")
	}
}
