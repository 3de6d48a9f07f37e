package mtlsexporttest

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acmpca"
	pcatypes "github.com/aws/aws-sdk-go-v2/service/acmpca/types"

	"github.com/securestacks/securestacks/internal/mtlssecret/mtlstest"
	"github.com/securestacks/securestacks/lambda-src/internal/mtlsexport"
)

// PCA is a fake AWS Private CA over a real hierarchy: IssueCertificate signs
// the CSR with the template's extended key usage (clientAuth for
// EndEntityClientAuthCertificate/V1), GetCertificate answers
// RequestInProgressException Pending times per certificate first, as AWS
// Private CA does while it issues. Safe for concurrent use.
type PCA struct {
	T       testing.TB
	CA      *mtlstest.Hierarchy
	CaArn   string
	Pending int

	mu     sync.Mutex
	issued map[string]*x509.Certificate
	polls  map[string]int
	// Tokens are the IdempotencyTokens received, in order; an already seen
	// token returns the certificate it issued.
	Tokens []string
	byTok  map[string]string
}

var (
	_ mtlsexport.IssueCertificateAPI = (*PCA)(nil)
	_ mtlsexport.GetCertificateAPI   = (*PCA)(nil)
)

// IssueCertificate implements acm-pca IssueCertificate.
func (p *PCA) IssueCertificate(_ context.Context, in *acmpca.IssueCertificateInput, _ ...func(*acmpca.Options)) (*acmpca.IssueCertificateOutput, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.issued == nil {
		p.issued, p.polls, p.byTok = map[string]*x509.Certificate{}, map[string]int{}, map[string]string{}
	}
	tok := aws.ToString(in.IdempotencyToken)
	p.Tokens = append(p.Tokens, tok)
	if arn, ok := p.byTok[tok]; ok {
		return &acmpca.IssueCertificateOutput{CertificateArn: aws.String(arn)}, nil
	}
	if aws.ToString(in.CertificateAuthorityArn) != p.CaArn {
		return nil, APIError("ResourceNotFoundException")
	}
	block, _ := pem.Decode(in.Csr)
	if block == nil {
		return nil, APIError("MalformedCSRException")
	}
	csr, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil || csr.CheckSignature() != nil {
		return nil, APIError("MalformedCSRException")
	}
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: csr.Subject, DNSNames: csr.DNSNames,
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().AddDate(0, 0, int(aws.ToInt64(in.Validity.Value))),
		KeyUsage: x509.KeyUsageDigitalSignature, BasicConstraintsValid: true,
	}
	switch t := aws.ToString(in.TemplateArn); {
	case strings.HasSuffix(t, "/"+mtlsexport.ClientAuthTemplate):
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	case strings.HasSuffix(t, "/EndEntityCertificate/V1"):
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	default:
		return nil, APIError("InvalidArgsException")
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.CA.Issuing.Cert, csr.PublicKey, p.CA.Issuing.Key)
	if err != nil {
		p.T.Fatalf("fake PCA: %v", err)
	}
	c, _ := x509.ParseCertificate(der)
	arn := fmt.Sprintf("%s/certificate/%x", p.CaArn, serial)
	p.issued[arn], p.byTok[tok] = c, arn
	return &acmpca.IssueCertificateOutput{CertificateArn: aws.String(arn)}, nil
}

// GetCertificate implements acm-pca GetCertificate.
func (p *PCA) GetCertificate(_ context.Context, in *acmpca.GetCertificateInput, _ ...func(*acmpca.Options)) (*acmpca.GetCertificateOutput, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	arn := aws.ToString(in.CertificateArn)
	c, ok := p.issued[arn]
	if !ok {
		return nil, APIError("ResourceNotFoundException")
	}
	if p.polls[arn] < p.Pending {
		p.polls[arn]++
		return nil, &pcatypes.RequestInProgressException{Message: aws.String("issuing (fake)")}
	}
	return &acmpca.GetCertificateOutput{Certificate: aws.String(mtlstest.EncodeCert(c)), CertificateChain: aws.String(p.CA.Chain())}, nil
}

// Issued returns the certificate arn, or nil.
func (p *PCA) Issued(arn string) *x509.Certificate {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.issued[arn]
}
