// Package privateca provides CaHierarchy: an AWS Private CA hierarchy of a
// root CA and (by default) a subordinate issuing CA, activated in the same
// deploy, with the permission ACM needs to issue and renew private
// certificates from it.
package privateca

import (
	"fmt"
	"math"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsacmpca"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/internal/defaults"
)

// Certificate templates of AWS Private CA (ARNs are
// arn:<partition>:acm-pca:::template/<name>).
const (
	RootTemplate        = "RootCACertificate/V1"
	SubordinateTemplate = "SubordinateCACertificate_PathLen0/V1"
)

// AcmPrincipal is the service ACM issues and renews private certificates as.
const AcmPrincipal = "acm.amazonaws.com"

// AcmActions are what ACM needs on the issuing CA to issue and renew.
var AcmActions = []string{"IssueCertificate", "GetCertificate", "ListPermissions"}

// CaHierarchy is a root CA and its issuing CA. Fields of CAs that a
// configuration does not create are nil (Subordinate* with Flat, Root* with
// ExternalRoot).
type CaHierarchy struct {
	constructs.Construct

	// Root is the root CA (type ROOT). Nil with ExternalRoot.
	Root awsacmpca.CfnCertificateAuthority
	// RootCertificate is the root's self-signed certificate. Nil with
	// ExternalRoot.
	RootCertificate awsacmpca.CfnCertificate
	// RootActivation installs RootCertificate. Nil with ExternalRoot.
	RootActivation awsacmpca.CfnCertificateAuthorityActivation

	// Subordinate is the issuing CA (type SUBORDINATE). Nil with Flat.
	Subordinate awsacmpca.CfnCertificateAuthority
	// SubordinateCertificate is the subordinate's certificate, issued by
	// Root. Nil with Flat or ExternalRoot.
	SubordinateCertificate awsacmpca.CfnCertificate
	// SubordinateActivation installs the subordinate's certificate. Nil with
	// Flat, and with an ExternalRoot that has no SubordinateCertificate yet.
	SubordinateActivation awsacmpca.CfnCertificateAuthorityActivation
	// CsrOutput publishes the subordinate's CSR for the external root to
	// sign. Nil unless ExternalRoot.
	CsrOutput awscdk.CfnOutput

	// IssuingCa issues end-entity certificates: Subordinate, or Root with
	// Flat. Pass it to awscertificatemanager.PrivateCertificate.
	IssuingCa awsacmpca.ICertificateAuthority
	// IssuingCaArn is the ARN of IssuingCa.
	IssuingCaArn *string
	// SigningAlgorithm is what every CA of the hierarchy signs with, such as
	// SHA256WITHRSA: the value an IssueCertificate call to IssuingCa passes.
	SigningAlgorithm string
	// IssuingCaValidityDays is the validity of IssuingCa's certificate, in
	// days from the deploy that created it: RootValidity with Flat,
	// SubordinateValidity otherwise, 0 with ExternalRoot (the external root
	// chose it). Nothing it issues can outlive it: AWS Private CA refuses a
	// certificate whose end date passes its issuer's, so issuance and ACM
	// renewal start failing a certificate validity before it ends.
	IssuingCaValidityDays float64
	// RootCaArn is the ARN of Root; nil with ExternalRoot.
	RootCaArn *string
	// TrustBundle is the PEM a peer must trust to accept certificates of this
	// hierarchy: the root certificate (or ExternalRoot.CertificateChain).
	// Peers need only the root: the holder of a certificate presents the
	// intermediate itself.
	TrustBundle *string
	// AcmPermission lets ACM issue and renew from IssuingCa. Nil while an
	// ExternalRoot hierarchy waits for its certificate (Activated false).
	AcmPermission awsacmpca.CfnPermission
	// Ready completes when IssuingCa is active and ACM may use it. Make every
	// certificate request depend on it: CloudFormation knows no such order
	// from the CA's ARN alone.
	Ready constructs.DependencyGroup
	// Activated is false only for an ExternalRoot hierarchy waiting for its
	// certificate (neither SubordinateCertificate nor SubordinateImported);
	// such a hierarchy can issue nothing, and has only the subordinate CA and
	// CsrOutput.
	Activated bool
	// CrlBucket receives the CRLs; nil unless Revocation is RevocationCrl.
	CrlBucket awss3.IBucket
}

// NewCaHierarchy creates the hierarchy at scope/id. nil props means all
// defaults (see CaHierarchyProps). Conflicting props panic with a message
// starting "privateca:".
func NewCaHierarchy(scope constructs.Construct, id string, props *CaHierarchyProps) *CaHierarchy {
	var p CaHierarchyProps
	if props != nil {
		p = *props
	}
	keyAlg, sigAlg := algorithms(p.KeyAlgorithm, p.SigningAlgorithm)
	rootDays := wholeDays("RootValidity", p.RootValidity, DefaultRootValidityDays)
	subDays := wholeDays("SubordinateValidity", p.SubordinateValidity, DefaultSubordinateValidityDays)
	checkConflicts(&p, rootDays, subDays)
	keyStorage := keyStorageStandard(p.KeyStorageSecurityStandard)

	h := &CaHierarchy{Ready: constructs.NewDependencyGroup(), Activated: true, SigningAlgorithm: sigAlg}
	constructs.NewConstruct_Override(h, scope, jsii.String(id))
	stack := awscdk.Stack_Of(h)
	revocation := h.revocation(&p)

	rootSubject := p.Subject
	if rootSubject == nil {
		rootSubject = &awsacmpca.CfnCertificateAuthority_SubjectProperty{CommonName: jsii.String(id)}
	}

	var issuer awsacmpca.CfnCertificateAuthority
	if p.ExternalRoot == nil {
		h.Root = awsacmpca.NewCfnCertificateAuthority(h, jsii.String("Root"), &awsacmpca.CfnCertificateAuthorityProps{
			Type:                    jsii.String("ROOT"),
			KeyAlgorithm:            jsii.String(keyAlg),
			SigningAlgorithm:        jsii.String(sigAlg),
			Subject:                 rootSubject,
			UsageMode:               jsii.String("GENERAL_PURPOSE"),
			RevocationConfiguration: revocation,
			// Always set: AWS Private CA's default (level 3) fails in some Regions.
			KeyStorageSecurityStandard: jsii.String(keyStorage),
		})
		h.RootCertificate = awsacmpca.NewCfnCertificate(h, jsii.String("RootCertificate"), &awsacmpca.CfnCertificateProps{
			CertificateAuthorityArn:   h.Root.AttrArn(),
			CertificateSigningRequest: h.Root.AttrCertificateSigningRequest(),
			SigningAlgorithm:          jsii.String(sigAlg),
			TemplateArn:               templateArn(stack, RootTemplate),
			Validity:                  &awsacmpca.CfnCertificate_ValidityProperty{Type: jsii.String("DAYS"), Value: jsii.Number(rootDays)},
		})
		h.RootActivation = awsacmpca.NewCfnCertificateAuthorityActivation(h, jsii.String("RootActivation"), &awsacmpca.CfnCertificateAuthorityActivationProps{
			CertificateAuthorityArn: h.Root.AttrArn(),
			Certificate:             h.RootCertificate.AttrCertificate(),
			Status:                  jsii.String("ACTIVE"),
		})
		h.RootCaArn = h.Root.AttrArn()
		h.TrustBundle = h.RootCertificate.AttrCertificate()
		issuer = h.Root
	} else {
		h.TrustBundle = p.ExternalRoot.CertificateChain
	}

	if p.Flat {
		h.IssuingCaValidityDays = rootDays
		h.Ready.Add(h.RootActivation)
	} else {
		subSubject := p.SubordinateSubject
		if subSubject == nil {
			s := *rootSubject
			if s.CommonName != nil {
				s.CommonName = jsii.String(*s.CommonName + " Issuing CA")
			}
			subSubject = &s
		}
		h.Subordinate = awsacmpca.NewCfnCertificateAuthority(h, jsii.String("Subordinate"), &awsacmpca.CfnCertificateAuthorityProps{
			Type:                    jsii.String("SUBORDINATE"),
			KeyAlgorithm:            jsii.String(keyAlg),
			SigningAlgorithm:        jsii.String(sigAlg),
			Subject:                 subSubject,
			UsageMode:               jsii.String("GENERAL_PURPOSE"),
			RevocationConfiguration: revocation,
			// Always set: AWS Private CA's default (level 3) fails in some Regions.
			KeyStorageSecurityStandard: jsii.String(keyStorage),
		})
		switch {
		case issuer != nil:
			h.IssuingCaValidityDays = subDays
			h.SubordinateCertificate = awsacmpca.NewCfnCertificate(h, jsii.String("SubordinateCertificate"), &awsacmpca.CfnCertificateProps{
				CertificateAuthorityArn:   issuer.AttrArn(),
				CertificateSigningRequest: h.Subordinate.AttrCertificateSigningRequest(),
				SigningAlgorithm:          jsii.String(sigAlg),
				TemplateArn:               templateArn(stack, SubordinateTemplate),
				Validity:                  &awsacmpca.CfnCertificate_ValidityProperty{Type: jsii.String("DAYS"), Value: jsii.Number(subDays)},
			})
			// The root can sign only once it is active.
			h.SubordinateCertificate.Node().AddDependency(h.RootActivation)
			h.SubordinateActivation = awsacmpca.NewCfnCertificateAuthorityActivation(h, jsii.String("SubordinateActivation"), &awsacmpca.CfnCertificateAuthorityActivationProps{
				CertificateAuthorityArn: h.Subordinate.AttrArn(),
				Certificate:             h.SubordinateCertificate.AttrCertificate(),
				CertificateChain:        h.RootCertificate.AttrCertificate(),
				Status:                  jsii.String("ACTIVE"),
			})
		case p.ExternalRoot.SubordinateCertificate != nil:
			h.SubordinateActivation = awsacmpca.NewCfnCertificateAuthorityActivation(h, jsii.String("SubordinateActivation"), &awsacmpca.CfnCertificateAuthorityActivationProps{
				CertificateAuthorityArn: h.Subordinate.AttrArn(),
				Certificate:             p.ExternalRoot.SubordinateCertificate,
				CertificateChain:        p.ExternalRoot.CertificateChain,
				Status:                  jsii.String("ACTIVE"),
			})
		case p.ExternalRoot.SubordinateImported:
			// Installed out of band: nothing to wait for in the template.
		default:
			h.Activated = false
		}
		if p.ExternalRoot != nil {
			h.CsrOutput = awscdk.NewCfnOutput(h, jsii.String("SubordinateCsr"), &awscdk.CfnOutputProps{
				Description: jsii.String("CSR of the subordinate CA, for the external root to sign (see constructs/privateca/README.md)"),
				Value:       h.Subordinate.AttrCertificateSigningRequest(),
			})
		}
		if h.SubordinateActivation != nil {
			h.Ready.Add(h.SubordinateActivation)
		}
		issuer = h.Subordinate
	}

	if b, ok := h.CrlBucket.(awss3.Bucket); ok && p.CrlBucket == nil {
		// AWS Private CA checks that it may write the bucket when the CA is
		// created: the grants must exist first.
		for _, ca := range []awsacmpca.CfnCertificateAuthority{h.Root, h.Subordinate} {
			if ca != nil {
				ca.Node().AddDependency(b.Policy(), b.EncryptionKey())
			}
		}
	}

	h.IssuingCaArn = issuer.AttrArn()
	h.IssuingCa = awsacmpca.CertificateAuthority_FromCertificateAuthorityArn(h, jsii.String("IssuingCaRef"), h.IssuingCaArn)
	if !h.Activated {
		// A CA waiting for its certificate gets nothing else until it has one.
		return h
	}
	h.AcmPermission = awsacmpca.NewCfnPermission(h, jsii.String("AcmPermission"), &awsacmpca.CfnPermissionProps{
		CertificateAuthorityArn: h.IssuingCaArn,
		Principal:               jsii.String(AcmPrincipal),
		Actions:                 jsii.Strings(AcmActions...),
		SourceAccount:           stack.Account(),
	})
	h.Ready.Add(h.AcmPermission)
	return h
}

// WaitFor makes each dependent (for example an ACM private certificate)
// wait until the issuing CA is active and ACM may use it (Ready).
func (h *CaHierarchy) WaitFor(dependents ...constructs.IConstruct) {
	for _, d := range dependents {
		d.Node().AddDependency(h.Ready)
	}
}

// revocation returns the RevocationConfiguration of every CA, creating the
// CRL bucket when needed.
func (h *CaHierarchy) revocation(p *CaHierarchyProps) *awsacmpca.CfnCertificateAuthority_RevocationConfigurationProperty {
	switch p.Revocation {
	case RevocationNone:
		return nil
	case RevocationOcsp:
		return &awsacmpca.CfnCertificateAuthority_RevocationConfigurationProperty{
			OcspConfiguration: &awsacmpca.CfnCertificateAuthority_OcspConfigurationProperty{Enabled: jsii.Bool(true)},
		}
	}
	days := wholeDays("CrlValidity", p.CrlValidity, 7)
	bucket := p.CrlBucket
	if bucket == nil {
		bucket = h.newCrlBucket()
	}
	h.CrlBucket = bucket
	return &awsacmpca.CfnCertificateAuthority_RevocationConfigurationProperty{
		CrlConfiguration: &awsacmpca.CfnCertificateAuthority_CrlConfigurationProperty{
			Enabled:          jsii.Bool(true),
			ExpirationInDays: jsii.Number(days),
			S3BucketName:     bucket.BucketName(),
			// The bucket enforces bucket-owner object ownership (no ACLs).
			S3ObjectAcl: jsii.String("BUCKET_OWNER_FULL_CONTROL"),
			// The bucket is private, so a CRL URL in every certificate would send
			// relying parties to a location they cannot read.
			CrlDistributionPointExtensionConfiguration: &awsacmpca.CfnCertificateAuthority_CrlDistributionPointExtensionConfigurationProperty{
				OmitExtension: jsii.Bool(true),
			},
		},
	}
}

// newCrlBucket creates the secure-default bucket and lets AWS Private CA of
// this account write CRLs into it and use its key, with the statements of the
// AWS Private CA User Guide: "Access policies for CRLs in Amazon S3" for the
// bucket, and the SSE-KMS key statement for a bucket whose S3 Bucket Key is
// enabled. The bucket grant names the account and the CA ARN pattern instead
// of the CAs themselves: the CAs must be created after the policy (AWS Private
// CA checks its access at creation), so the policy cannot reference them. The
// key grant is limited by the encryption context S3 sends with a Bucket Key:
// the bucket's ARN. The key policy cannot reference the bucket, which
// references the key, so the bucket gets a name known at synth: unique per
// construct path, account and region.
func (h *CaHierarchy) newCrlBucket() awss3.Bucket {
	stack := awscdk.Stack_Of(h)
	prefix := strings.ToLower(*awscdk.Names_UniqueResourceName(h, &awscdk.UniqueResourceNameOptions{MaxLength: jsii.Number(28), Separator: jsii.String("-")}))
	name := prefix + "-crl-" + *stack.Account() + "-" + *stack.Region()
	bucketArn := "arn:" + *stack.Partition() + ":s3:::" + name
	bucket := defaults.Bucket(h, "CrlBucket", &awss3.BucketProps{BucketName: jsii.String(name), BucketKeyEnabled: jsii.Bool(true)})
	pca := awsiam.NewServicePrincipal(jsii.String("acm-pca.amazonaws.com"), nil)
	caPattern := stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String("acm-pca"), Resource: jsii.String("certificate-authority"), ResourceName: jsii.String("*")})
	bucket.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("AcmPcaWritesCrls"),
		Principals: &[]awsiam.IPrincipal{pca},
		Actions:    jsii.Strings("s3:PutObject", "s3:PutObjectAcl", "s3:GetBucketAcl", "s3:GetBucketLocation"),
		Resources:  jsii.Strings(*bucket.BucketArn(), *bucket.ArnForObjects(jsii.String("*"))),
		Conditions: &map[string]any{
			"StringEquals": map[string]any{"aws:SourceAccount": stack.Account()},
			"ArnLike":      map[string]any{"aws:SourceArn": caPattern},
		},
	}))
	bucket.EncryptionKey().AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("AcmPcaEncryptsCrls"),
		Principals: &[]awsiam.IPrincipal{pca},
		Actions:    jsii.Strings("kms:GenerateDataKey", "kms:Decrypt"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{"StringLike": map[string]any{"kms:EncryptionContext:aws:s3:arn": bucketArn}},
	}), jsii.Bool(true))
	return bucket
}

// templateArn is arn:<partition>:acm-pca:::template/<name>.
func templateArn(stack awscdk.Stack, name string) *string {
	return jsii.String("arn:" + *stack.Partition() + ":acm-pca:::template/" + name)
}

var defaultSigning = map[string]string{
	KeyAlgorithmRsa2048:      "SHA256WITHRSA",
	KeyAlgorithmRsa3072:      "SHA256WITHRSA",
	KeyAlgorithmRsa4096:      "SHA256WITHRSA",
	KeyAlgorithmEcPrime256v1: "SHA256WITHECDSA",
	KeyAlgorithmEcSecp384r1:  "SHA384WITHECDSA",
	KeyAlgorithmEcSecp521r1:  "SHA512WITHECDSA",
}

var signingAlgorithms = []string{"SHA256WITHRSA", "SHA384WITHRSA", "SHA512WITHRSA", "SHA256WITHECDSA", "SHA384WITHECDSA", "SHA512WITHECDSA"}

// algorithms resolves and checks the key and signing algorithms.
func algorithms(key, signing *string) (string, string) {
	k := DefaultKeyAlgorithm
	if key != nil {
		k = *key
	}
	def, ok := defaultSigning[k]
	if !ok {
		panic(fmt.Sprintf("privateca: KeyAlgorithm %q: expected one of RSA_2048, RSA_3072, RSA_4096, EC_prime256v1, EC_secp384r1, EC_secp521r1", k))
	}
	if signing == nil {
		return k, def
	}
	s := *signing
	known := false
	for _, a := range signingAlgorithms {
		known = known || a == s
	}
	if !known {
		panic(fmt.Sprintf("privateca: SigningAlgorithm %q: expected one of %s", s, strings.Join(signingAlgorithms, ", ")))
	}
	if strings.HasSuffix(s, "WITHRSA") != strings.HasPrefix(k, "RSA_") {
		panic(fmt.Sprintf("privateca: SigningAlgorithm %s conflicts with KeyAlgorithm %s: expected a %s signing algorithm", s, k, map[bool]string{true: "...WITHRSA", false: "...WITHECDSA"}[strings.HasPrefix(k, "RSA_")]))
	}
	return k, s
}

var keyStorageStandards = []string{KeyStorageFips1402Level2, KeyStorageFips1402Level3, KeyStorageCcpcLevel1}

// keyStorageStandard resolves and checks KeyStorageSecurityStandard.
func keyStorageStandard(v *string) string {
	if v == nil {
		return DefaultKeyStorageSecurityStandard
	}
	for _, s := range keyStorageStandards {
		if *v == s {
			return s
		}
	}
	panic(fmt.Sprintf("privateca: KeyStorageSecurityStandard %q: expected one of %s", *v, strings.Join(keyStorageStandards, ", ")))
}

// wholeDays converts d (default def days) to a whole number of days.
func wholeDays(field string, d awscdk.Duration, def float64) float64 {
	if d == nil {
		return def
	}
	days := *d.ToHours(nil) / 24
	if days < 1 || days != math.Trunc(days) {
		panic(fmt.Sprintf("privateca: %s: expected a whole number of days (at least 1), got %s", field, *d.ToHumanString()))
	}
	return days
}

func checkConflicts(p *CaHierarchyProps, rootDays, subDays float64) {
	switch {
	case p.Flat && p.ExternalRoot != nil:
		panic("privateca: Flat conflicts with ExternalRoot: an external root signs a subordinate in AWS Private CA, which a flat hierarchy does not have")
	case p.Flat && p.SubordinateSubject != nil:
		panic("privateca: SubordinateSubject conflicts with Flat: a flat hierarchy has no subordinate")
	case p.Flat && p.SubordinateValidity != nil:
		panic("privateca: SubordinateValidity conflicts with Flat: a flat hierarchy has no subordinate")
	case p.ExternalRoot != nil && p.SubordinateValidity != nil:
		panic("privateca: SubordinateValidity conflicts with ExternalRoot: the external root chooses the subordinate's validity when it signs")
	case p.ExternalRoot != nil && p.ExternalRoot.SubordinateCertificate != nil && p.ExternalRoot.SubordinateImported:
		panic("privateca: ExternalRoot.SubordinateCertificate conflicts with ExternalRoot.SubordinateImported: the certificate is installed either by the template or out of band")
	case p.ExternalRoot != nil && (p.ExternalRoot.CertificateChain == nil || strings.TrimSpace(*p.ExternalRoot.CertificateChain) == ""):
		panic("privateca: ExternalRoot.CertificateChain is required: expected the PEM chain of the external root")
	case !p.Flat && p.ExternalRoot == nil && subDays >= rootDays:
		panic(fmt.Sprintf("privateca: SubordinateValidity (%v days) must be shorter than RootValidity (%v days): AWS Private CA refuses a certificate that outlives its issuer", subDays, rootDays))
	case p.CrlBucket != nil && p.Revocation != RevocationCrl:
		panic("privateca: CrlBucket conflicts with Revocation other than RevocationCrl: expected Revocation = RevocationCrl")
	case p.CrlValidity != nil && p.Revocation != RevocationCrl:
		panic("privateca: CrlValidity conflicts with Revocation other than RevocationCrl: expected Revocation = RevocationCrl")
	case p.Revocation != RevocationNone && p.Revocation != RevocationCrl && p.Revocation != RevocationOcsp:
		panic(fmt.Sprintf("privateca: Revocation %q: expected RevocationNone, RevocationCrl or RevocationOcsp", p.Revocation))
	}
}
