// Command mtls-cert-export is the onEvent handler of the MutualTls
// construct's export custom resource (constructs/mtls): on Create, and on an
// Update that changes the certificate or the secret, it exports the
// endpoint's ACM private certificate into the endpoint's secret, or (for
// the gateway's client certificate) has AWS Private CA issue one for a key
// it generates. Wiring only:
// the logic is in handler.go and lambda-src/internal/mtlsexport.
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/acmpca"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/securestacks/securestacks/lambda-src/internal/awsconfig"
	"github.com/securestacks/securestacks/lambda-src/internal/cfnresponse"
	"github.com/securestacks/securestacks/lambda-src/internal/logging"
	"github.com/securestacks/securestacks/lambda-src/internal/mtlsexport"
)

func main() {
	logger := logging.New(os.Stderr)
	// One retry layer, the handler's: the SDK makes a single attempt per call.
	cfg := awsconfig.FromEnv(1)
	secrets := secretsmanager.NewFromConfig(cfg)
	pca := acmpca.NewFromConfig(cfg)
	lambda.Start(cfnresponse.Handler(&Export{
		Issuer: &mtlsexport.Issuer{
			GetRandomPassword: secrets,
			IssueCertificate:  pca,
			GetCertificate:    pca,
			PutSecretValue:    secrets,
			Logger:            logger,
		},
		Exporter: &mtlsexport.Exporter{
			GetRandomPassword: secrets,
			ExportCertificate: acm.NewFromConfig(cfg),
			PutSecretValue:    secrets,
			Logger:            logger,
		},
		Logger: logger,
	}, &cfnresponse.Options{Logger: logger}))
}
