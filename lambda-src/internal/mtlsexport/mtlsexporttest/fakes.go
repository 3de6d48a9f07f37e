// Package mtlsexporttest holds the fakes of the mtls Lambdas' tests: one
// function type per SDK operation, and a fake certificate store that answers
// ExportCertificate with real material (mtlstest) encrypted under the
// passphrase it receives, so a test can check that what is stored decrypts.
package mtlsexporttest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	acmtypes "github.com/aws/aws-sdk-go-v2/service/acm/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"

	"github.com/securestacks/securestacks/internal/mtlssecret/mtlstest"
	"github.com/securestacks/securestacks/lambda-src/internal/mtlsexport"
)

// Function-type fakes, one per SDK operation.
type (
	GetRandomPasswordFunc func(context.Context, *secretsmanager.GetRandomPasswordInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetRandomPasswordOutput, error)
	ExportCertificateFunc func(context.Context, *acm.ExportCertificateInput, ...func(*acm.Options)) (*acm.ExportCertificateOutput, error)
	PutSecretValueFunc    func(context.Context, *secretsmanager.PutSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
)

// GetRandomPassword calls f.
func (f GetRandomPasswordFunc) GetRandomPassword(ctx context.Context, in *secretsmanager.GetRandomPasswordInput, o ...func(*secretsmanager.Options)) (*secretsmanager.GetRandomPasswordOutput, error) {
	return f(ctx, in, o...)
}

// ExportCertificate calls f.
func (f ExportCertificateFunc) ExportCertificate(ctx context.Context, in *acm.ExportCertificateInput, o ...func(*acm.Options)) (*acm.ExportCertificateOutput, error) {
	return f(ctx, in, o...)
}

// PutSecretValue calls f.
func (f PutSecretValueFunc) PutSecretValue(ctx context.Context, in *secretsmanager.PutSecretValueInput, o ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error) {
	return f(ctx, in, o...)
}

var (
	_ mtlsexport.GetRandomPasswordAPI = GetRandomPasswordFunc(nil)
	_ mtlsexport.ExportCertificateAPI = ExportCertificateFunc(nil)
	_ mtlsexport.PutSecretValueAPI    = PutSecretValueFunc(nil)
)

// APIError is the error shape the SDK returns for a service error code,
// e.g. "ThrottlingException" or "ResourceNotFoundException".
func APIError(code string) error {
	return &smithy.GenericAPIError{Code: code, Message: code + " (fake)", Fault: smithy.FaultClient}
}

// Certificate is one certificate of the fake ACM.
type Certificate struct {
	CA   *mtlstest.Hierarchy
	Leaf *mtlstest.Leaf
}

// ACM is a fake certificate store with real material. Its methods are safe
// for concurrent use.
type ACM struct {
	mu    sync.Mutex
	certs map[string]*Certificate
	// Passphrases records the Passphrase of every ExportCertificate call.
	Passphrases [][]byte
}

// NewACM returns an empty store.
func NewACM() *ACM { return &ACM{certs: map[string]*Certificate{}} }

// Issue adds (or replaces, as a renewal does) the certificate arn: a leaf
// for dnsName from ca, valid from notBefore to notAfter.
func (a *ACM) Issue(t testing.TB, arn string, ca *mtlstest.Hierarchy, dnsName string, notBefore, notAfter time.Time) *Certificate {
	t.Helper()
	c := &Certificate{CA: ca, Leaf: ca.Issue(t, dnsName, mtlstest.LeafOptions{KeyAlgorithm: mtlstest.ECPrime256v1, NotBefore: notBefore, NotAfter: notAfter})}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.certs[arn] = c
	return c
}

// Get returns the certificate arn, or nil.
func (a *ACM) Get(arn string) *Certificate {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.certs[arn]
}

// Describe is DescribeCertificate's answer for arn: status ISSUED, the
// leaf's serial (colon hex) and NotAfter, or ResourceNotFoundException.
func (a *ACM) Describe(arn string) (*acm.DescribeCertificateOutput, error) {
	c := a.Get(arn)
	if c == nil {
		return nil, APIError("ResourceNotFoundException")
	}
	return &acm.DescribeCertificateOutput{Certificate: &acmtypes.CertificateDetail{
		CertificateArn: aws.String(arn),
		Status:         acmtypes.CertificateStatusIssued,
		Type:           acmtypes.CertificateTypePrivate,
		Serial:         aws.String(mtlsexport.FormatSerial(c.Leaf.Cert.SerialNumber)),
		NotAfter:       aws.Time(c.Leaf.Cert.NotAfter),
	}}, nil
}

// Export answers ExportCertificate as ACM does: certificate, chain (issuing
// CA first) and the key as PKCS #8 encrypted under exactly the Passphrase
// bytes received.
func (a *ACM) Export(ctx context.Context, in *acm.ExportCertificateInput, _ ...func(*acm.Options)) (*acm.ExportCertificateOutput, error) {
	arn := aws.ToString(in.CertificateArn)
	c := a.Get(arn)
	if c == nil {
		return nil, APIError("ResourceNotFoundException")
	}
	if n := len(in.Passphrase); n < 4 || n > 128 {
		return nil, APIError("ValidationException")
	}
	a.mu.Lock()
	a.Passphrases = append(a.Passphrases, append([]byte(nil), in.Passphrase...))
	a.mu.Unlock()
	key, err := mtlstest.EncryptPKCS8PEM(c.Leaf.Key, in.Passphrase, mtlstest.ACMExport)
	if err != nil {
		return nil, fmt.Errorf("fake ACM: %w", err)
	}
	return &acm.ExportCertificateOutput{
		Certificate:      aws.String(c.Leaf.PEM()),
		CertificateChain: aws.String(c.CA.Chain()),
		PrivateKey:       aws.String(key),
	}, nil
}

// Password is a GetRandomPassword fake that honours the length and the
// letters-and-digits options the exporter sends, and fails otherwise.
func Password(t testing.TB) GetRandomPasswordFunc {
	return func(_ context.Context, in *secretsmanager.GetRandomPasswordInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetRandomPasswordOutput, error) {
		if aws.ToInt64(in.PasswordLength) != 64 || !aws.ToBool(in.ExcludePunctuation) || aws.ToBool(in.IncludeSpace) {
			return nil, fmt.Errorf("fake GetRandomPassword: unexpected options length=%d excludePunctuation=%t includeSpace=%t",
				aws.ToInt64(in.PasswordLength), aws.ToBool(in.ExcludePunctuation), aws.ToBool(in.IncludeSpace))
		}
		return &secretsmanager.GetRandomPasswordOutput{RandomPassword: aws.String(mtlstest.Passphrase(t))}, nil
	}
}

// Secrets is a fake secret store: PutSecretValue records versions.
type Secrets struct {
	mu     sync.Mutex
	values map[string]string
	// Puts counts PutSecretValue calls that stored a version.
	Puts int
	// Tokens are the ClientRequestTokens received, in order.
	Tokens []string
}

// NewSecrets returns an empty store.
func NewSecrets() *Secrets { return &Secrets{values: map[string]string{}} }

// Put implements PutSecretValue.
func (s *Secrets) Put(_ context.Context, in *secretsmanager.PutSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Tokens = append(s.Tokens, aws.ToString(in.ClientRequestToken))
	s.values[aws.ToString(in.SecretId)] = aws.ToString(in.SecretString)
	s.Puts++
	return &secretsmanager.PutSecretValueOutput{VersionId: in.ClientRequestToken, ARN: in.SecretId}, nil
}

// Value returns the current value of secret arn ("" when none).
func (s *Secrets) Value(arn string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.values[arn]
}

// Set stores value as the current value of arn.
func (s *Secrets) Set(arn, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.values[arn] = value
}

// GetSecretValueFunc is the fake of GetSecretValue.
type GetSecretValueFunc func(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)

// GetSecretValue calls f.
func (f GetSecretValueFunc) GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, o ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	return f(ctx, in, o...)
}

// Get implements GetSecretValue: the current value, or
// ResourceNotFoundException when the secret has none (as Secrets Manager
// answers for a secret without an AWSCURRENT version).
func (s *Secrets) Get(_ context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.values[aws.ToString(in.SecretId)]
	if !ok {
		return nil, APIError("ResourceNotFoundException")
	}
	return &secretsmanager.GetSecretValueOutput{ARN: in.SecretId, SecretString: aws.String(v)}, nil
}
