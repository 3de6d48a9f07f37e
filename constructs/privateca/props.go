package privateca

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsacmpca"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
)

// Key algorithms of a CA (AWS Private CA KeyAlgorithm).
const (
	KeyAlgorithmRsa2048      = "RSA_2048"
	KeyAlgorithmRsa3072      = "RSA_3072"
	KeyAlgorithmRsa4096      = "RSA_4096"
	KeyAlgorithmEcPrime256v1 = "EC_prime256v1"
	KeyAlgorithmEcSecp384r1  = "EC_secp384r1"
	KeyAlgorithmEcSecp521r1  = "EC_secp521r1"
)

// DefaultKeyAlgorithm is the seed's: RSA 2048, which every TLS peer accepts.
const DefaultKeyAlgorithm = KeyAlgorithmRsa2048

// Default validities. A subordinate must expire before its root (AWS Private
// CA refuses a certificate that outlives its issuer), so the defaults leave
// the root five years to issue a new subordinate.
const (
	DefaultRootValidityDays        = 3650
	DefaultSubordinateValidityDays = 1825
)

// Key storage standards of a CA (AWS Private CA KeyStorageSecurityStandard).
const (
	KeyStorageFips1402Level2 = "FIPS_140_2_LEVEL_2_OR_HIGHER"
	KeyStorageFips1402Level3 = "FIPS_140_2_LEVEL_3_OR_HIGHER"
	KeyStorageCcpcLevel1     = "CCPC_LEVEL_1_OR_HIGHER"
)

// DefaultKeyStorageSecurityStandard is FIPS 140-2 level 2 or higher.
// AWS Private CA's own default, level 3, is refused in some Regions with
// InvalidArgsException ("A certificate authority cannot be created in this
// region with the specified security standard"), and AWS documents level 2
// or higher as the value to pass there
// (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-acmpca-certificateauthority.html).
// An environment-agnostic stack cannot know its Region at synth, so the
// default is the one that deploys everywhere; set KeyStorageFips1402Level3
// where your compliance needs it and the Region supports it, and
// KeyStorageCcpcLevel1 in the China Regions.
const DefaultKeyStorageSecurityStandard = KeyStorageFips1402Level2

// Revocation selects how a CA publishes revocation status.
type Revocation string

// The revocation options.
const (
	// RevocationNone publishes nothing (the default): the certificates of an
	// mTLS mesh are short-lived and renewed, and the peers here check no CRL.
	RevocationNone Revocation = ""
	// RevocationCrl writes a CRL to an encrypted S3 bucket (CrlBucket).
	RevocationCrl Revocation = "CRL"
	// RevocationOcsp answers OCSP queries through AWS Private CA's responder.
	RevocationOcsp Revocation = "OCSP"
)

// CaHierarchyProps configures a CaHierarchy. nil means all defaults: an RSA
// 2048 root valid ten years, an RSA 2048 subordinate valid five, no
// revocation.
type CaHierarchyProps struct {
	// Subject of the root CA. Default: CommonName = the construct id.
	// Ignored with ExternalRoot (the root is not in AWS).
	Subject *awsacmpca.CfnCertificateAuthority_SubjectProperty
	// SubordinateSubject of the issuing subordinate CA. Default: Subject
	// with " Issuing CA" appended to its CommonName. Conflicts with Flat.
	SubordinateSubject *awsacmpca.CfnCertificateAuthority_SubjectProperty

	// KeyAlgorithm of every CA of the hierarchy. Default DefaultKeyAlgorithm.
	KeyAlgorithm *string
	// SigningAlgorithm of every CA. Default: SHA256WITHRSA for RSA keys,
	// SHA256WITHECDSA for P-256, SHA384WITHECDSA for P-384 and
	// SHA512WITHECDSA for P-521. Must match the key family.
	SigningAlgorithm *string

	// RootValidity of the root certificate, in whole days. Default
	// DefaultRootValidityDays.
	RootValidity awscdk.Duration
	// SubordinateValidity of the subordinate certificate, in whole days,
	// shorter than RootValidity. Default DefaultSubordinateValidityDays.
	// Conflicts with Flat and ExternalRoot (the external root signs it).
	SubordinateValidity awscdk.Duration

	// Flat makes the root issue end-entity certificates itself, as the App
	// Mesh walkthrough does. Default false: root → subordinate, AWS's best
	// practice, which keeps the root key out of daily issuance. Conflicts
	// with SubordinateSubject, SubordinateValidity and ExternalRoot.
	Flat bool

	// ExternalRoot chains the subordinate to a root outside AWS Private CA,
	// for example one kept in CloudHSM (the portable-root path). Default nil:
	// the root is a CA of AWS Private CA. Conflicts with Flat.
	ExternalRoot *ExternalRoot

	// KeyStorageSecurityStandard of every CA of the hierarchy. Default
	// DefaultKeyStorageSecurityStandard.
	KeyStorageSecurityStandard *string

	// Revocation selects CRL, OCSP or nothing. Default RevocationNone.
	Revocation Revocation
	// CrlBucket receives the CRLs when Revocation is RevocationCrl. Default:
	// a new encrypted bucket (KMS, versioned, TLS-only, public access
	// blocked) that AWS Private CA may write to. A bucket you pass needs the
	// acm-pca.amazonaws.com grants of the README. Conflicts with any other
	// Revocation.
	CrlBucket awss3.IBucket
	// CrlValidity is how long a CRL stays valid, in whole days. Default 7.
	CrlValidity awscdk.Duration
}

// ExternalRoot is the portable-root path: the subordinate CA is created in
// AWS Private CA, its CSR goes out (the CsrOutput of the hierarchy), the
// external root signs it, and the signed certificate comes back in.
type ExternalRoot struct {
	// CertificateChain is the PEM chain of the subordinate's issuer up to the
	// external root, issuer first. It is the trust bundle of the hierarchy.
	// Required.
	CertificateChain *string
	// SubordinateCertificate is the PEM certificate the external root issued
	// for the subordinate's CSR: the template installs it
	// (CertificateAuthorityActivation). Default nil: the subordinate stays
	// PENDING_CERTIFICATE and can issue nothing until a later deploy passes
	// it, or until SubordinateImported. Conflicts with SubordinateImported.
	SubordinateCertificate *string
	// SubordinateImported says the subordinate's certificate was installed
	// outside CloudFormation (`securestacks pca import`, which checks it
	// first, or ImportCertificateAuthorityCertificate): the CA is ACTIVE and
	// may issue, and the template installs nothing, so a later re-sign needs
	// no deploy. Such a CA has no activation resource to disable it: disable
	// it yourself before you remove it from the stack (README, "The portable
	// root (CloudHSM) path"). Default false. Conflicts with
	// SubordinateCertificate.
	SubordinateImported bool
}
