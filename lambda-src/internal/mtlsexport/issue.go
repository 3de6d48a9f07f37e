package mtlsexport

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acmpca"
	pcatypes "github.com/aws/aws-sdk-go-v2/service/acmpca/types"

	"github.com/securestacks/securestacks/internal/mtlssecret"
	"github.com/securestacks/securestacks/lambda-src/internal/awsretry"
)

// ClientAuthTemplate is the AWS Private CA template of the gateway's client
// certificate: extended key usage clientAuth, which ACM no longer issues.
const ClientAuthTemplate = mtlssecret.ClientAuthTemplate

// The narrow AWS Private CA interfaces of an issue.
type (
	// IssueCertificateAPI signs a CSR.
	IssueCertificateAPI interface {
		IssueCertificate(ctx context.Context, in *acmpca.IssueCertificateInput, optFns ...func(*acmpca.Options)) (*acmpca.IssueCertificateOutput, error)
	}
	// GetCertificateAPI returns the issued certificate and its chain.
	GetCertificateAPI interface {
		GetCertificate(ctx context.Context, in *acmpca.GetCertificateInput, optFns ...func(*acmpca.Options)) (*acmpca.GetCertificateOutput, error)
	}
)

var (
	_ IssueCertificateAPI = (*acmpca.Client)(nil)
	_ GetCertificateAPI   = (*acmpca.Client)(nil)
)

// IssueSpec is the certificate to issue (the construct/handler contract of
// package internal/mtlssecret).
type IssueSpec = mtlssecret.IssueSpec

// Issuer issues a certificate for a key it generates and stores both in a
// secret, in the payload of package internal/mtlssecret (the key encrypted
// as ACM would export it). Every AWS call goes through Retry.
type Issuer struct {
	GetRandomPassword GetRandomPasswordAPI
	IssueCertificate  IssueCertificateAPI
	GetCertificate    GetCertificateAPI
	PutSecretValue    PutSecretValueAPI
	Retry             awsretry.Policy
	// MaxWait bounds the wait for the issued certificate (AWS Private CA
	// issues asynchronously; GetCertificate answers RequestInProgressException
	// until it is done). Default 60s.
	MaxWait time.Duration
	// PollInterval between GetCertificate calls. Default 2s.
	PollInterval time.Duration
	// Sleep waits between polls; default awsretry.Sleep.
	Sleep func(ctx context.Context, d time.Duration) error
	// Logger receives one line per issue, never the passphrase or the key.
	Logger *slog.Logger
}

// ErrIssueTimeout marks a certificate AWS Private CA did not issue within
// MaxWait.
var ErrIssueTimeout = errors.New("issued certificate not available in time")

// Issue generates a key, has spec's CA sign it and writes the new
// certificate, its chain and the encrypted key to secretArn. Each call
// issues a new certificate under a new key; a failed step writes nothing.
func (x *Issuer) Issue(ctx context.Context, spec IssueSpec, secretArn string) (*Result, error) {
	if err := spec.Validate("issue"); err != nil {
		return nil, err
	}
	if err := ValidateSecretArn("secret", secretArn); err != nil {
		return nil, err
	}
	policy := x.Retry
	if policy.AttemptTimeout <= 0 {
		policy.AttemptTimeout = defaultAttemptTimeout
	}
	key, err := newKey(spec.KeyAlgorithm)
	if err != nil {
		return nil, err
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject:  pkix.Name{CommonName: spec.DnsName},
		DNSNames: []string{spec.DnsName},
	}, key)
	if err != nil {
		return nil, fmt.Errorf("creating the CSR: %w", err)
	}
	// One token for every attempt: a retried IssueCertificate that already
	// succeeded returns the same certificate instead of a second one.
	token, err := requestToken()
	if err != nil {
		return nil, err
	}
	var certArn string
	err = awsretry.Do(ctx, policy, func(ctx context.Context) error {
		out, err := x.IssueCertificate.IssueCertificate(ctx, &acmpca.IssueCertificateInput{
			CertificateAuthorityArn: aws.String(spec.CertificateAuthorityArn),
			Csr:                     pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csr}),
			SigningAlgorithm:        pcatypes.SigningAlgorithm(spec.SigningAlgorithm),
			TemplateArn:             aws.String(spec.TemplateArn),
			Validity:                &pcatypes.Validity{Type: pcatypes.ValidityPeriodTypeDays, Value: aws.Int64(int64(spec.ValidityDays))},
			IdempotencyToken:        aws.String(token[:36]),
		})
		if err != nil {
			return err
		}
		certArn = aws.ToString(out.CertificateArn)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("IssueCertificate from %s: %w", spec.CertificateAuthorityArn, err)
	}
	got, err := x.await(ctx, policy, spec.CertificateAuthorityArn, certArn)
	if err != nil {
		return nil, err
	}

	password, err := randomPassphrase(ctx, policy, x.GetRandomPassword)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encoding the key: %w", err)
	}
	encrypted, err := mtlssecret.EncryptPrivateKey(der, password)
	if err != nil {
		return nil, err
	}
	payload := &mtlssecret.Payload{
		CertificateArn:      certArn,
		Certificate:         aws.ToString(got.Certificate),
		Chain:               aws.ToString(got.CertificateChain),
		EncryptedPrivateKey: encrypted,
		Passphrase:          password,
	}
	return storePayload(ctx, policy, x.PutSecretValue, x.logger(), "GetCertificate", "client certificate issued", payload, secretArn)
}

// await polls GetCertificate until the certificate is issued, for at most
// MaxWait.
func (x *Issuer) await(ctx context.Context, policy awsretry.Policy, caArn, certArn string) (*acmpca.GetCertificateOutput, error) {
	wait, interval, sleep := x.MaxWait, x.PollInterval, x.Sleep
	if wait <= 0 {
		wait = 60 * time.Second
	}
	if interval <= 0 {
		interval = 2 * time.Second
	}
	if sleep == nil {
		sleep = awsretry.Sleep
	}
	for waited := time.Duration(0); ; waited += interval {
		var out *acmpca.GetCertificateOutput
		err := awsretry.Do(ctx, policy, func(ctx context.Context) error {
			o, err := x.GetCertificate.GetCertificate(ctx, &acmpca.GetCertificateInput{
				CertificateAuthorityArn: aws.String(caArn),
				CertificateArn:          aws.String(certArn),
			})
			out = o
			return err
		})
		var pending *pcatypes.RequestInProgressException
		switch {
		case err == nil:
			return out, nil
		case !errors.As(err, &pending):
			return nil, fmt.Errorf("GetCertificate %s: %w", certArn, err)
		case waited >= wait:
			return nil, fmt.Errorf("GetCertificate %s: %w after %s", certArn, ErrIssueTimeout, wait)
		}
		if err := sleep(ctx, interval); err != nil {
			return nil, fmt.Errorf("GetCertificate %s: %w", certArn, err)
		}
	}
}

func (x *Issuer) logger() *slog.Logger {
	if x.Logger != nil {
		return x.Logger
	}
	return slog.Default()
}

// newKey generates a key of one of the algorithms ACM offers for private
// certificates, so that the gateway's key is what its ACM certificate's was.
func newKey(alg string) (crypto.Signer, error) {
	switch alg {
	case "RSA_2048":
		return rsa.GenerateKey(rand.Reader, 2048)
	case "EC_prime256v1":
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "EC_secp384r1":
		return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	}
	return nil, fmt.Errorf("expected RSA_2048, EC_prime256v1 or EC_secp384r1, got %q", alg)
}
