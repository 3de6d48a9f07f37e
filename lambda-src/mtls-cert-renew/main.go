// Command mtls-cert-renew keeps the MutualTls construct's endpoint secrets in
// step with their ACM private certificates (constructs/mtls). EventBridge
// invokes it on "ACM Certificate Approaching Expiration" for those
// certificates and once a day. Wiring only: the logic is in handler.go.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/acmpca"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/securestacks/securestacks/lambda-src/internal/awsconfig"
	"github.com/securestacks/securestacks/lambda-src/internal/logging"
	"github.com/securestacks/securestacks/lambda-src/internal/mtlsexport"
)

func main() {
	logger := logging.New(os.Stderr)
	cfg, err := ConfigFromEnv(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mtls-cert-renew:", err)
		os.Exit(1)
	}
	// One retry layer, the handler's: the SDK makes a single attempt per call.
	awsCfg := awsconfig.FromEnv(1)
	certs := acm.NewFromConfig(awsCfg)
	secrets := secretsmanager.NewFromConfig(awsCfg)
	r := &Renewer{
		Config:              cfg,
		DescribeCertificate: certs,
		RenewCertificate:    certs,
		GetSecretValue:      secrets,
		UpdateService:       ecs.NewFromConfig(awsCfg),
		Exporter: &mtlsexport.Exporter{
			GetRandomPassword: secrets,
			ExportCertificate: certs,
			PutSecretValue:    secrets,
			Logger:            logger,
		},
		Logger: logger,
	}
	pca := acmpca.NewFromConfig(awsCfg)
	r.DescribeCertificateAuthority = pca
	r.Issuer = &mtlsexport.Issuer{
		GetRandomPassword: secrets,
		IssueCertificate:  pca,
		GetCertificate:    pca,
		PutSecretValue:    secrets,
		Logger:            logger,
	}
	lambda.Start(r.Handle)
}
