// Package mtlsexport exports an ACM private certificate into an endpoint's
// Secrets Manager secret: a passphrase from GetRandomPassword, then
// ExportCertificate, then PutSecretValue with the payload of package
// internal/mtlssecret. The mtls-cert-export custom resource and the
// mtls-cert-renew function share it, so the first export and every renewal
// write the same thing.
package mtlsexport

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math/big"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/securestacks/securestacks/internal/mtlssecret"
	"github.com/securestacks/securestacks/lambda-src/internal/awsretry"
)

// The narrow SDK interfaces of an export, one per operation.
type (
	// GetRandomPasswordAPI generates the passphrase.
	GetRandomPasswordAPI interface {
		GetRandomPassword(ctx context.Context, in *secretsmanager.GetRandomPasswordInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetRandomPasswordOutput, error)
	}
	// ExportCertificateAPI exports the certificate with its encrypted key.
	ExportCertificateAPI interface {
		ExportCertificate(ctx context.Context, in *acm.ExportCertificateInput, optFns ...func(*acm.Options)) (*acm.ExportCertificateOutput, error)
	}
	// PutSecretValueAPI stores the payload as the secret's new current version.
	PutSecretValueAPI interface {
		PutSecretValue(ctx context.Context, in *secretsmanager.PutSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
	}
)

var (
	_ GetRandomPasswordAPI = (*secretsmanager.Client)(nil)
	_ ExportCertificateAPI = (*acm.Client)(nil)
	_ PutSecretValueAPI    = (*secretsmanager.Client)(nil)
)

var (
	certificateArnRe = regexp.MustCompile(`^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[A-Za-z0-9-]{1,128}$`)
	secretArnRe      = regexp.MustCompile(`^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]{1,512}$`)
)

// ValidateCertificateArn checks that arn is an ACM certificate ARN; the
// message names what the caller calls the value.
func ValidateCertificateArn(what, arn string) error {
	if !certificateArnRe.MatchString(arn) {
		return fmt.Errorf("%s: expected an ACM certificate ARN (arn:<partition>:acm:<region>:<account>:certificate/<id>), got %q", what, arn)
	}
	return nil
}

// ValidateSecretArn checks that arn is a Secrets Manager secret ARN.
func ValidateSecretArn(what, arn string) error {
	if !secretArnRe.MatchString(arn) {
		return fmt.Errorf("%s: expected a Secrets Manager secret ARN (arn:<partition>:secretsmanager:<region>:<account>:secret:<name>), got %q", what, arn)
	}
	return nil
}

// Exporter runs exports. Every AWS call goes through Retry.
type Exporter struct {
	GetRandomPassword GetRandomPasswordAPI
	ExportCertificate ExportCertificateAPI
	PutSecretValue    PutSecretValueAPI
	// Retry bounds each call (attempts, backoff, per-attempt timeout; default
	// 10s per attempt when zero). Throttling and 5xx are retried; anything
	// else, such as ResourceNotFoundException, fails at once.
	Retry awsretry.Policy
	// Logger receives one line per export, with ARNs, version id and expiry,
	// never the passphrase or the key. Default slog.Default().
	Logger *slog.Logger
}

// Result describes a completed export.
type Result struct {
	CertificateArn string
	SecretArn      string
	// VersionId is the secret version PutSecretValue created.
	VersionId string
	// Serial and NotAfter identify the exported end-entity certificate.
	Serial   *big.Int
	NotAfter time.Time
}

const defaultAttemptTimeout = 10 * time.Second

// Export writes a fresh export of certificateArn to secretArn. It is
// idempotent in effect: a repeated export writes a new version with the same
// certificate under a new passphrase, and the secret's current version is
// always a complete, valid payload (a failed step writes nothing).
func (x *Exporter) Export(ctx context.Context, certificateArn, secretArn string) (*Result, error) {
	if err := ValidateCertificateArn("certificate", certificateArn); err != nil {
		return nil, err
	}
	if err := ValidateSecretArn("secret", secretArn); err != nil {
		return nil, err
	}
	policy := x.Retry
	if policy.AttemptTimeout <= 0 {
		policy.AttemptTimeout = defaultAttemptTimeout
	}

	password, err := randomPassphrase(ctx, policy, x.GetRandomPassword)
	if err != nil {
		return nil, err
	}
	passphrase, err := mtlssecret.ExportPassphrase(password)
	if err != nil {
		return nil, fmt.Errorf("GetRandomPassword returned an unusable passphrase: %w", err)
	}

	var exported *acm.ExportCertificateOutput
	err = awsretry.Do(ctx, policy, func(ctx context.Context) error {
		out, err := x.ExportCertificate.ExportCertificate(ctx, &acm.ExportCertificateInput{
			CertificateArn: aws.String(certificateArn),
			Passphrase:     passphrase,
		})
		exported = out
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("ExportCertificate %s: %w", certificateArn, err)
	}

	payload := &mtlssecret.Payload{
		CertificateArn:      certificateArn,
		Certificate:         aws.ToString(exported.Certificate),
		Chain:               aws.ToString(exported.CertificateChain),
		EncryptedPrivateKey: aws.ToString(exported.PrivateKey),
		Passphrase:          password,
	}
	return storePayload(ctx, policy, x.PutSecretValue, x.logger(), "ExportCertificate", "certificate exported", payload, secretArn)
}

// storePayload checks payload (from the source operation), stores it in
// the secret, logs event and returns the Result.
func storePayload(ctx context.Context, policy awsretry.Policy, put PutSecretValueAPI, logger *slog.Logger, source, event string, payload *mtlssecret.Payload, secretArn string) (*Result, error) {
	value, err := payload.Marshal()
	if err != nil {
		return nil, fmt.Errorf("%s %s returned material the proxies could not use: %w", source, payload.CertificateArn, err)
	}
	leaf, err := payload.Leaf()
	if err != nil {
		return nil, err
	}
	versionId, err := putSecret(ctx, policy, put, secretArn, value)
	if err != nil {
		return nil, err
	}
	logger.LogAttrs(ctx, slog.LevelInfo, event,
		slog.String("certificate_arn", payload.CertificateArn),
		slog.String("secret_arn", secretArn),
		slog.String("secret_version_id", versionId),
		slog.String("serial", FormatSerial(leaf.SerialNumber)),
		slog.Time("not_after", leaf.NotAfter))
	return &Result{CertificateArn: payload.CertificateArn, SecretArn: secretArn, VersionId: versionId, Serial: leaf.SerialNumber, NotAfter: leaf.NotAfter}, nil
}

// randomPassphrase asks Secrets Manager for a passphrase of the form
// mtlssecret.ValidatePassphrase accepts.
func randomPassphrase(ctx context.Context, policy awsretry.Policy, api GetRandomPasswordAPI) (string, error) {
	var password string
	err := awsretry.Do(ctx, policy, func(ctx context.Context) error {
		out, err := api.GetRandomPassword(ctx, &secretsmanager.GetRandomPasswordInput{
			PasswordLength:          aws.Int64(mtlssecret.PassphraseLength),
			ExcludePunctuation:      aws.Bool(mtlssecret.PasswordExcludePunctuation),
			IncludeSpace:            aws.Bool(mtlssecret.PasswordIncludeSpace),
			RequireEachIncludedType: aws.Bool(mtlssecret.PasswordRequireEachIncludedType),
		})
		if err != nil {
			return err
		}
		password = aws.ToString(out.RandomPassword)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("GetRandomPassword: %w", err)
	}
	return password, nil
}

// putSecret writes value as secretArn's new current version.
func putSecret(ctx context.Context, policy awsretry.Policy, api PutSecretValueAPI, secretArn string, value []byte) (string, error) {
	// One token for every attempt: a retried PutSecretValue that already
	// succeeded is then a no-op instead of a second version.
	token, err := requestToken()
	if err != nil {
		return "", err
	}
	var versionId string
	err = awsretry.Do(ctx, policy, func(ctx context.Context) error {
		out, err := api.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
			SecretId:           aws.String(secretArn),
			SecretString:       aws.String(string(value)),
			ClientRequestToken: aws.String(token),
		})
		if err != nil {
			return err
		}
		versionId = aws.ToString(out.VersionId)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("PutSecretValue %s: %w", secretArn, err)
	}
	return versionId, nil
}

func (x *Exporter) logger() *slog.Logger {
	if x.Logger != nil {
		return x.Logger
	}
	return slog.Default()
}

// requestToken is a random UUID v4, the form Secrets Manager expects.
func requestToken() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generating a request token: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32], nil
}

// FormatSerial writes a serial number as ACM's DescribeCertificate does:
// lower-case hex bytes separated by colons.
func FormatSerial(n *big.Int) string {
	b := n.Bytes()
	if len(b) == 0 {
		b = []byte{0}
	}
	parts := make([]string, len(b))
	for i, c := range b {
		parts[i] = hex.EncodeToString([]byte{c})
	}
	return strings.Join(parts, ":")
}

// ParseSerial reads a serial number as DescribeCertificate returns it
// ("0a:1b:..."), tolerating upper case and missing colons.
func ParseSerial(s string) (*big.Int, bool) {
	h := strings.ReplaceAll(strings.TrimSpace(s), ":", "")
	if h == "" {
		return nil, false
	}
	n, ok := new(big.Int).SetString(h, 16)
	return n, ok
}
