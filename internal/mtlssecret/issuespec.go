package mtlssecret

import (
	"fmt"
	"regexp"
)

// ClientAuthTemplate is the AWS Private CA template of the gateway's client
// certificate: extended key usage clientAuth only, which ACM no longer issues
// (https://docs.aws.amazon.com/acm/latest/userguide/acm-concepts.html).
const ClientAuthTemplate = "EndEntityClientAuthCertificate/V1"

// IssueSpec is a certificate AWS Private CA issues for a key the export or
// renew function generates: constructs/mtls writes it (the export resource's
// Issue property and the renew targets), the functions read it.
type IssueSpec struct {
	// CertificateAuthorityArn is the issuing CA.
	CertificateAuthorityArn string `json:"certificateAuthorityArn"`
	// TemplateArn is arn:<partition>:acm-pca:::template/<ClientAuthTemplate>.
	TemplateArn string `json:"templateArn"`
	// SigningAlgorithm is the CA's, such as SHA256WITHRSA.
	SigningAlgorithm string `json:"signingAlgorithm"`
	// ValidityDays of the certificate, 1 to 825.
	ValidityDays int `json:"validityDays"`
	// DnsName is the subject CN and only DNS SAN.
	DnsName string `json:"dnsName"`
	// KeyAlgorithm of the generated key: RSA_2048, EC_prime256v1 or
	// EC_secp384r1.
	KeyAlgorithm string `json:"keyAlgorithm"`
}

var (
	caArnRe       = regexp.MustCompile(`^arn:aws[a-z-]*:acm-pca:[a-z0-9-]+:[0-9]{12}:certificate-authority/[0-9a-f-]{36}$`)
	templateArnRe = regexp.MustCompile(`^arn:aws[a-z-]*:acm-pca:::template/[A-Za-z0-9_]+/V[0-9]+$`)
	dnsNameRe     = regexp.MustCompile(`^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$`)
)

// Validate checks every field; errors name the field, prefixed by what.
func (s IssueSpec) Validate(what string) error {
	switch {
	case !caArnRe.MatchString(s.CertificateAuthorityArn):
		return fmt.Errorf("%s.certificateAuthorityArn: expected an AWS Private CA ARN, got %q", what, s.CertificateAuthorityArn)
	case !templateArnRe.MatchString(s.TemplateArn):
		return fmt.Errorf("%s.templateArn: expected an AWS Private CA template ARN, got %q", what, s.TemplateArn)
	case !signingAlgorithmRe.MatchString(s.SigningAlgorithm):
		return fmt.Errorf("%s.signingAlgorithm: expected SHA256|384|512WITHRSA or SHA256|384|512WITHECDSA, got %q", what, s.SigningAlgorithm)
	case s.ValidityDays < 1 || s.ValidityDays > 825:
		return fmt.Errorf("%s.validityDays: expected a whole number from 1 to 825, got %d", what, s.ValidityDays)
	case !dnsNameRe.MatchString(s.DnsName):
		return fmt.Errorf("%s.dnsName: expected a lower-case DNS name, got %q", what, s.DnsName)
	}
	switch s.KeyAlgorithm {
	case "RSA_2048", "EC_prime256v1", "EC_secp384r1":
		return nil
	}
	return fmt.Errorf("%s.keyAlgorithm: expected RSA_2048, EC_prime256v1 or EC_secp384r1, got %q", what, s.KeyAlgorithm)
}

var signingAlgorithmRe = regexp.MustCompile(`^SHA(256|384|512)WITH(RSA|ECDSA)$`)
