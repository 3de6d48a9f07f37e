// Package awsconfig builds the aws.Config of a Lambda handler from the
// environment Lambda sets, without the SDK's config module.
//
// config.LoadDefaultConfig links every credential source the SDK knows (SSO,
// SSO OIDC, sign-in, STS web identity and assume-role, IMDS, the shared config
// and credentials files, process credentials): about 2 MiB of every handler
// binary, none of which runs in Lambda, where the execution role's
// credentials and the region are environment variables
// (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime).
// FromEnv reads those, plus the endpoint overrides the SDK's environment
// configuration honours, so the emulator tests keep pointing clients at
// loopback the same way.
package awsconfig

import (
	"context"
	"errors"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Environment variables FromEnv reads.
const (
	EnvRegion          = "AWS_REGION"
	EnvAccessKeyID     = "AWS_ACCESS_KEY_ID"
	EnvSecretAccessKey = "AWS_SECRET_ACCESS_KEY"
	EnvSessionToken    = "AWS_SESSION_TOKEN"
	// EnvEndpointURL, and EnvEndpointURL + "_" + the service's SDK ID in
	// upper case with spaces as underscores (AWS_ENDPOINT_URL_SECURITYHUB),
	// override the endpoint, as in the SDK's environment configuration
	// (https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html).
	EnvEndpointURL = "AWS_ENDPOINT_URL"
	// EnvIgnoreEndpointURLs set to true ignores both.
	EnvIgnoreEndpointURLs = "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"
)

// ErrNoCredentials is returned by the credentials provider when the
// environment holds no access key.
var ErrNoCredentials = errors.New("awsconfig: " + EnvAccessKeyID + " and " + EnvSecretAccessKey + " are not set")

// FromEnv returns the configuration for SDK clients in a Lambda function:
// AWS_REGION, the execution role's credentials from the environment, and
// maxAttempts attempts per call (0 keeps the SDK's standard retryer, 3
// attempts; the handlers that retry through awsretry pass 1).
func FromEnv(maxAttempts int) aws.Config {
	cfg := aws.Config{
		Region:           os.Getenv(EnvRegion),
		Credentials:      aws.CredentialsProviderFunc(envCredentials),
		RetryMaxAttempts: maxAttempts,
		ConfigSources:    []any{endpoints{}},
	}
	if !ignoreEndpoints() {
		if u := os.Getenv(EnvEndpointURL); u != "" {
			cfg.BaseEndpoint = aws.String(u)
		}
	}
	return cfg
}

// envCredentials reads the credentials on every call: the SDK caches what
// a provider returns only when the provider is wrapped in a cache, and a
// static read of three variables costs nothing.
func envCredentials(context.Context) (aws.Credentials, error) {
	id, secret := os.Getenv(EnvAccessKeyID), os.Getenv(EnvSecretAccessKey)
	if id == "" || secret == "" {
		return aws.Credentials{}, ErrNoCredentials
	}
	return aws.Credentials{
		AccessKeyID:     id,
		SecretAccessKey: secret,
		SessionToken:    os.Getenv(EnvSessionToken),
		Source:          "EnvConfigCredentials",
	}, nil
}

func ignoreEndpoints() bool {
	return strings.EqualFold(strings.TrimSpace(os.Getenv(EnvIgnoreEndpointURLs)), "true")
}

// endpoints is the config source service clients ask for
// AWS_ENDPOINT_URL_<SERVICE> (the SDK's internal ServiceBaseEndpointProvider
// and IgnoreConfiguredEndpointsProvider interfaces).
type endpoints struct{}

// GetServiceBaseEndpoint returns AWS_ENDPOINT_URL_<SDK ID>.
func (endpoints) GetServiceBaseEndpoint(_ context.Context, sdkID string) (string, bool, error) {
	name := EnvEndpointURL + "_" + strings.ReplaceAll(strings.ToUpper(sdkID), " ", "_")
	if u := os.Getenv(name); u != "" {
		return u, true, nil
	}
	return "", false, nil
}

// GetIgnoreConfiguredEndpoints reports AWS_IGNORE_CONFIGURED_ENDPOINT_URLS.
func (endpoints) GetIgnoreConfiguredEndpoints(context.Context) (bool, bool, error) {
	if os.Getenv(EnvIgnoreEndpointURLs) == "" {
		return false, false, nil
	}
	return ignoreEndpoints(), true, nil
}
