package privateca_test

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/privateca"
	"github.com/securestacks/securestacks/internal/nag"
)

// app is the one App of this test binary: each test adds its own stacks.
var app awscdk.App

func TestMain(m *testing.M) {
	app = awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{"aws:cdk:bundling-stacks": []any{}}})
	nag.ApplyPacks(app)
	buildAll()
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}

var stackCount int

// newStack returns a fresh stack pinned to a GovCloud account, so that a
// hard-coded "arn:aws:" partition would show.
func newStack() awscdk.Stack {
	stackCount++
	return awscdk.NewStack(app, jsii.String(fmt.Sprintf("Ca%d", stackCount)), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String("123456789012"), Region: jsii.String("us-gov-west-1")},
	})
}

// partitionArn is the Fn::Join CDK renders for "arn:<partition>" + rest.
func partitionArn(rest string) map[string]any {
	return map[string]any{"Fn::Join": []any{"", []any{"arn:", map[string]any{"Ref": "AWS::Partition"}, rest}}}
}

func ref(logicalIdPrefix string) map[string]any {
	return map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("^" + logicalIdPrefix)), "Arn"}}
}

// The stacks of this binary, built before the first synthesis: CDK forbids
// changing the tree after it.
var (
	defaultStack     awscdk.Stack
	defaultHierarchy *privateca.CaHierarchy
	variantStacks    []awscdk.Stack
	variantHierarchy []*privateca.CaHierarchy
)

func buildAll() {
	defaultStack = newStack()
	defaultHierarchy = privateca.NewCaHierarchy(defaultStack, "ColorTellerCa", nil)
	for _, v := range variants {
		stack := newStack()
		variantStacks = append(variantStacks, stack)
		variantHierarchy = append(variantHierarchy, privateca.NewCaHierarchy(stack, "Ca", v.props))
	}
}

func TestDefaultIsRootAndSubordinate(t *testing.T) {
	// GIVEN a hierarchy with default props
	stack, h := defaultStack, defaultHierarchy

	// WHEN it is synthesized
	tpl := assertions.Template_FromStack(stack, nil)

	// THEN there is a self-signed RSA 2048 root valid ten years
	tpl.ResourceCountIs(jsii.String("AWS::ACMPCA::CertificateAuthority"), jsii.Number(2))
	tpl.HasResourceProperties(jsii.String("AWS::ACMPCA::CertificateAuthority"), &map[string]any{
		"Type": "ROOT", "KeyAlgorithm": "RSA_2048", "SigningAlgorithm": "SHA256WITHRSA",
		"Subject": map[string]any{"CommonName": "ColorTellerCa"}, "UsageMode": "GENERAL_PURPOSE",
	})
	tpl.HasResourceProperties(jsii.String("AWS::ACMPCA::Certificate"), &map[string]any{
		"CertificateAuthorityArn": ref("ColorTellerCaRoot"),
		"TemplateArn":             partitionArn(":acm-pca:::template/RootCACertificate/V1"),
		"Validity":                map[string]any{"Type": "DAYS", "Value": 3650},
	})
	// AND a subordinate with path length 0, signed by the root after its activation, valid five years
	tpl.HasResourceProperties(jsii.String("AWS::ACMPCA::CertificateAuthority"), &map[string]any{
		"Type": "SUBORDINATE", "Subject": map[string]any{"CommonName": "ColorTellerCa Issuing CA"},
	})
	tpl.HasResource(jsii.String("AWS::ACMPCA::Certificate"), &map[string]any{
		"Properties": map[string]any{
			"CertificateAuthorityArn":   ref("ColorTellerCaRoot"),
			"CertificateSigningRequest": map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("^ColorTellerCaSubordinate")), "CertificateSigningRequest"}},
			"TemplateArn":               partitionArn(":acm-pca:::template/SubordinateCACertificate_PathLen0/V1"),
			"Validity":                  map[string]any{"Type": "DAYS", "Value": 1825},
		},
		"DependsOn": assertions.Match_ArrayWith(&[]any{assertions.Match_StringLikeRegexp(jsii.String("^ColorTellerCaRootActivation"))}),
	})
	// AND both are activated in this deploy, the subordinate with the root as its chain
	tpl.ResourceCountIs(jsii.String("AWS::ACMPCA::CertificateAuthorityActivation"), jsii.Number(2))
	tpl.HasResourceProperties(jsii.String("AWS::ACMPCA::CertificateAuthorityActivation"), &map[string]any{
		"CertificateAuthorityArn": ref("ColorTellerCaSubordinate"),
		"CertificateChain":        map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("^ColorTellerCaRootCertificate")), "Certificate"}},
		"Status":                  "ACTIVE",
	})
	// AND ACM may issue and renew from the subordinate, and only from it
	tpl.ResourceCountIs(jsii.String("AWS::ACMPCA::Permission"), jsii.Number(1))
	tpl.HasResourceProperties(jsii.String("AWS::ACMPCA::Permission"), &map[string]any{
		"CertificateAuthorityArn": ref("ColorTellerCaSubordinate"),
		"Principal":               "acm.amazonaws.com",
		"Actions":                 []any{"IssueCertificate", "GetCertificate", "ListPermissions"},
		"SourceAccount":           "123456789012",
	})
	// AND every CA names its key storage standard: AWS Private CA's default
	// (FIPS 140-2 level 3) is refused in some Regions, where AWS says to pass
	// level 2 or higher (KeyStorageSecurityStandard,
	// https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-acmpca-certificateauthority.html)
	tpl.AllResourcesProperties(jsii.String("AWS::ACMPCA::CertificateAuthority"), &map[string]any{
		"KeyStorageSecurityStandard": "FIPS_140_2_LEVEL_2_OR_HIGHER",
	})
	if h.IssuingCaValidityDays != 1825 {
		t.Errorf("IssuingCaValidityDays = %v, want the subordinate's 1825", h.IssuingCaValidityDays)
	}
	if !h.Activated || h.Subordinate == nil || h.CsrOutput != nil {
		t.Errorf("unexpected fields: activated=%t subordinate=%v csr=%v", h.Activated, h.Subordinate, h.CsrOutput)
	}
	if got := stack.Resolve(h.IssuingCaArn); !strings.Contains(fmt.Sprint(got), "ColorTellerCaSubordinate") {
		t.Errorf("IssuingCaArn resolves to %v", got)
	}
	if got := fmt.Sprint(stack.Resolve(h.TrustBundle)); !strings.Contains(got, "ColorTellerCaRootCertificate") {
		t.Errorf("TrustBundle resolves to %v, want the root certificate", got)
	}
	assertNagClean(t, stack)
	assertNoPartitionLiteral(t, tpl)
}

var variants = []struct {
	name   string
	props  *privateca.CaHierarchyProps
	assert func(t *testing.T, h *privateca.CaHierarchy, tpl assertions.Template)
}{
	{"flat, as the walkthrough", &privateca.CaHierarchyProps{Flat: true}, func(t *testing.T, h *privateca.CaHierarchy, tpl assertions.Template) {
		tpl.ResourceCountIs(jsii.String("AWS::ACMPCA::CertificateAuthority"), jsii.Number(1))
		tpl.HasResourceProperties(jsii.String("AWS::ACMPCA::Permission"), &map[string]any{"CertificateAuthorityArn": ref("CaRoot")})
		if h.Subordinate != nil || h.SubordinateActivation != nil {
			t.Error("flat hierarchy has a subordinate")
		}
		if h.IssuingCaValidityDays != 3650 {
			t.Errorf("IssuingCaValidityDays = %v, want the root's 3650", h.IssuingCaValidityDays)
		}
	}},
	{"FIPS 140-2 level 3 key storage", &privateca.CaHierarchyProps{KeyStorageSecurityStandard: jsii.String(privateca.KeyStorageFips1402Level3)}, func(t *testing.T, h *privateca.CaHierarchy, tpl assertions.Template) {
		tpl.AllResourcesProperties(jsii.String("AWS::ACMPCA::CertificateAuthority"), &map[string]any{"KeyStorageSecurityStandard": "FIPS_140_2_LEVEL_3_OR_HIGHER"})
	}},
	{"EC P-384 with its matching signature", &privateca.CaHierarchyProps{KeyAlgorithm: jsii.String(privateca.KeyAlgorithmEcSecp384r1)}, func(t *testing.T, h *privateca.CaHierarchy, tpl assertions.Template) {
		tpl.AllResourcesProperties(jsii.String("AWS::ACMPCA::CertificateAuthority"), &map[string]any{"KeyAlgorithm": "EC_secp384r1", "SigningAlgorithm": "SHA384WITHECDSA"})
		tpl.AllResourcesProperties(jsii.String("AWS::ACMPCA::Certificate"), &map[string]any{"SigningAlgorithm": "SHA384WITHECDSA"})
	}},
	{"custom validity", &privateca.CaHierarchyProps{RootValidity: awscdk.Duration_Days(jsii.Number(1000)), SubordinateValidity: awscdk.Duration_Days(jsii.Number(400))}, func(t *testing.T, h *privateca.CaHierarchy, tpl assertions.Template) {
		tpl.HasResourceProperties(jsii.String("AWS::ACMPCA::Certificate"), &map[string]any{"Validity": map[string]any{"Type": "DAYS", "Value": 1000}})
		tpl.HasResourceProperties(jsii.String("AWS::ACMPCA::Certificate"), &map[string]any{"Validity": map[string]any{"Type": "DAYS", "Value": 400}})
	}},
	{"OCSP", &privateca.CaHierarchyProps{Revocation: privateca.RevocationOcsp}, func(t *testing.T, h *privateca.CaHierarchy, tpl assertions.Template) {
		tpl.AllResourcesProperties(jsii.String("AWS::ACMPCA::CertificateAuthority"), &map[string]any{
			"RevocationConfiguration": map[string]any{"OcspConfiguration": map[string]any{"Enabled": true}},
		})
		tpl.ResourceCountIs(jsii.String("AWS::S3::Bucket"), jsii.Number(0))
	}},
	{"CRL in an encrypted bucket", &privateca.CaHierarchyProps{Revocation: privateca.RevocationCrl}, func(t *testing.T, h *privateca.CaHierarchy, tpl assertions.Template) {
		bucket := assertions.NewCapture(nil)
		tpl.AllResourcesProperties(jsii.String("AWS::ACMPCA::CertificateAuthority"), &map[string]any{
			"RevocationConfiguration": map[string]any{"CrlConfiguration": map[string]any{
				"Enabled": true, "ExpirationInDays": 7, "S3BucketName": map[string]any{"Ref": bucket},
				"S3ObjectAcl": "BUCKET_OWNER_FULL_CONTROL",
				"CrlDistributionPointExtensionConfiguration": map[string]any{"OmitExtension": true},
			}},
		})
		tpl.HasResourceProperties(jsii.String("AWS::S3::Bucket"), &map[string]any{
			"BucketEncryption": map[string]any{"ServerSideEncryptionConfiguration": []any{map[string]any{
				"ServerSideEncryptionByDefault": map[string]any{"SSEAlgorithm": "aws:kms"},
			}}},
		})
		// AND AWS Private CA may write CRLs there for this account's CAs only: the bucket policy
		// AWS documents for acm-pca.amazonaws.com, with aws:SourceAccount and aws:SourceArn
		// (https://docs.aws.amazon.com/privateca/latest/userguide/crl-planning.html#s3-policies)
		tpl.HasResourceProperties(jsii.String("AWS::S3::BucketPolicy"), &map[string]any{
			"Bucket": map[string]any{"Ref": *bucket.AsString()},
			"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
				"Sid": "AcmPcaWritesCrls", "Principal": map[string]any{"Service": "acm-pca.amazonaws.com"},
				"Condition": map[string]any{
					"StringEquals": map[string]any{"aws:SourceAccount": "123456789012"},
					"ArnLike":      map[string]any{"aws:SourceArn": partitionArn(":acm-pca:us-gov-west-1:123456789012:certificate-authority/*")},
				},
			})})},
		})
		// AND it may use the bucket's key for this bucket only. The key statement AWS documents
		// for a bucket whose S3 Bucket Key is enabled
		// (https://docs.aws.amazon.com/privateca/latest/userguide/PcaAuditReport.html#audit-report-encryption,
		// the same for CRLs):
		//   {"Principal": {"Service": "acm-pca.amazonaws.com"}, "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
		//    "Resource": "*", "Condition": {"StringLike": {"kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::bucket-name"}}}
		// AWS documents no aws:SourceArn or aws:SourceAccount for this statement: S3 calls KMS, and
		// the encryption context is what names the bucket.
		name := assertions.NewCapture(assertions.Match_StringLikeRegexp(jsii.String(`^[a-z0-9][a-z0-9-]*-crl-123456789012-us-gov-west-1$`)))
		tpl.HasResourceProperties(jsii.String("AWS::S3::Bucket"), &map[string]any{
			"BucketName":       name,
			"BucketEncryption": map[string]any{"ServerSideEncryptionConfiguration": []any{map[string]any{"BucketKeyEnabled": true}}},
		})
		crlBucketName := *name.AsString()
		tpl.HasResourceProperties(jsii.String("AWS::KMS::Key"), &map[string]any{
			"KeyPolicy": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{map[string]any{
				"Sid": "AcmPcaEncryptsCrls", "Effect": "Allow", "Principal": map[string]any{"Service": "acm-pca.amazonaws.com"},
				"Action": []any{"kms:GenerateDataKey", "kms:Decrypt"}, "Resource": "*",
				"Condition": map[string]any{"StringLike": map[string]any{
					"kms:EncryptionContext:aws:s3:arn": map[string]any{"Fn::Join": []any{"", []any{"arn:", map[string]any{"Ref": "AWS::Partition"}, ":s3:::" + crlBucketName}}},
				}},
			}})},
		})
		// (that ARN is the bucket's: its name is known at synth, because the key policy cannot
		// reference the bucket, which references the key)
		if len(crlBucketName) > 63 {
			t.Errorf("CRL bucket name %q is longer than S3's 63 characters", crlBucketName)
		}
		// The CAs wait for the grants: AWS Private CA checks them at creation.
		tpl.AllResources(jsii.String("AWS::ACMPCA::CertificateAuthority"), &map[string]any{
			"DependsOn": assertions.Match_ArrayWith(&[]any{assertions.Match_StringLikeRegexp(jsii.String("^CaCrlBucketPolicy"))}),
		})
		if h.CrlBucket == nil {
			t.Error("CrlBucket not exposed")
		}
	}},
	{"external root, before its signature", &privateca.CaHierarchyProps{ExternalRoot: &privateca.ExternalRoot{CertificateChain: jsii.String("-----BEGIN CERTIFICATE-----\nroot\n-----END CERTIFICATE-----\n")}}, func(t *testing.T, h *privateca.CaHierarchy, tpl assertions.Template) {
		tpl.ResourceCountIs(jsii.String("AWS::ACMPCA::CertificateAuthority"), jsii.Number(1))
		tpl.HasResourceProperties(jsii.String("AWS::ACMPCA::CertificateAuthority"), &map[string]any{"Type": "SUBORDINATE"})
		tpl.ResourceCountIs(jsii.String("AWS::ACMPCA::CertificateAuthorityActivation"), jsii.Number(0))
		tpl.HasOutput(jsii.String("*"), &map[string]any{"Value": map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("^CaSubordinate")), "CertificateSigningRequest"}}})
		if h.Activated || h.Root != nil || h.RootCaArn != nil {
			t.Error("pending external hierarchy claims to be active or to have a root")
		}
		// Nothing but the CA until it has its certificate: no ACM permission on a
		// PENDING_CERTIFICATE CA.
		tpl.ResourceCountIs(jsii.String("AWS::ACMPCA::Permission"), jsii.Number(0))
		if h.AcmPermission != nil {
			t.Error("pending external hierarchy has an ACM permission")
		}
	}},
	{"external root, imported out of band", &privateca.CaHierarchyProps{ExternalRoot: &privateca.ExternalRoot{
		CertificateChain:    jsii.String("ROOT-PEM"),
		SubordinateImported: true,
	}}, func(t *testing.T, h *privateca.CaHierarchy, tpl assertions.Template) {
		// THEN the template installs nothing (securestacks pca import did), ACM may issue,
		// and the CSR stays published for the next re-sign
		tpl.ResourceCountIs(jsii.String("AWS::ACMPCA::CertificateAuthorityActivation"), jsii.Number(0))
		tpl.HasResourceProperties(jsii.String("AWS::ACMPCA::Permission"), &map[string]any{"CertificateAuthorityArn": ref("CaSubordinate")})
		if !h.Activated || h.CsrOutput == nil || *h.TrustBundle != "ROOT-PEM" || h.IssuingCaValidityDays != 0 {
			t.Errorf("imported external hierarchy: activated=%t csr=%v validity=%v", h.Activated, h.CsrOutput, h.IssuingCaValidityDays)
		}
	}},
	{"external root, signed", &privateca.CaHierarchyProps{ExternalRoot: &privateca.ExternalRoot{
		CertificateChain:       jsii.String("ROOT-PEM"),
		SubordinateCertificate: jsii.String("SUB-PEM"),
	}}, func(t *testing.T, h *privateca.CaHierarchy, tpl assertions.Template) {
		tpl.HasResourceProperties(jsii.String("AWS::ACMPCA::CertificateAuthorityActivation"), &map[string]any{
			"CertificateAuthorityArn": ref("CaSubordinate"), "Certificate": "SUB-PEM", "CertificateChain": "ROOT-PEM", "Status": "ACTIVE",
		})
		if !h.Activated || *h.TrustBundle != "ROOT-PEM" {
			t.Error("signed external hierarchy is not active or trusts something else")
		}
	}},
}

func TestVariants(t *testing.T) {
	for i, tc := range variants {
		t.Run(tc.name, func(t *testing.T) {
			// GIVEN a hierarchy with the variant's props
			stack, h := variantStacks[i], variantHierarchy[i]

			// WHEN it is synthesized
			tpl := assertions.Template_FromStack(stack, nil)

			// THEN the variant's resources are there, nag-clean, without a partition literal
			tc.assert(t, h, tpl)
			assertNagClean(t, stack)
			assertNoPartitionLiteral(t, tpl)
		})
	}
}

func TestConflictingPropsPanic(t *testing.T) {
	cases := []struct {
		name  string
		props privateca.CaHierarchyProps
		want  string
	}{
		{"flat with external root", privateca.CaHierarchyProps{Flat: true, ExternalRoot: &privateca.ExternalRoot{CertificateChain: jsii.String("x")}}, "privateca: Flat conflicts with ExternalRoot"},
		{"subordinate outlives root", privateca.CaHierarchyProps{RootValidity: awscdk.Duration_Days(jsii.Number(365)), SubordinateValidity: awscdk.Duration_Days(jsii.Number(365))}, "must be shorter than RootValidity"},
		{"part of a day", privateca.CaHierarchyProps{RootValidity: awscdk.Duration_Hours(jsii.Number(36))}, "privateca: RootValidity: expected a whole number of days"},
		{"RSA key, ECDSA signature", privateca.CaHierarchyProps{SigningAlgorithm: jsii.String("SHA256WITHECDSA")}, "conflicts with KeyAlgorithm RSA_2048"},
		{"unknown key storage", privateca.CaHierarchyProps{KeyStorageSecurityStandard: jsii.String("FIPS_140_3")}, `privateca: KeyStorageSecurityStandard "FIPS_140_3": expected one of FIPS_140_2_LEVEL_2_OR_HIGHER`},
		{"unknown key", privateca.CaHierarchyProps{KeyAlgorithm: jsii.String("RSA_1024")}, `privateca: KeyAlgorithm "RSA_1024": expected one of`},
		{"bucket without CRL", privateca.CaHierarchyProps{CrlValidity: awscdk.Duration_Days(jsii.Number(3))}, "CrlValidity conflicts with Revocation"},
		{"external root without chain", privateca.CaHierarchyProps{ExternalRoot: &privateca.ExternalRoot{}}, "ExternalRoot.CertificateChain is required"},
		{"external root installed twice", privateca.CaHierarchyProps{ExternalRoot: &privateca.ExternalRoot{CertificateChain: jsii.String("x"), SubordinateCertificate: jsii.String("y"), SubordinateImported: true}},
			"privateca: ExternalRoot.SubordinateCertificate conflicts with ExternalRoot.SubordinateImported"},
		{"flat with subordinate subject", privateca.CaHierarchyProps{Flat: true, SubordinateValidity: awscdk.Duration_Days(jsii.Number(10))}, "SubordinateValidity conflicts with Flat"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// GIVEN conflicting props WHEN the hierarchy is created THEN it panics naming the conflict
			defer func() {
				r := recover()
				if r == nil || !strings.Contains(fmt.Sprint(r), tc.want) {
					t.Fatalf("panic %v, want %q", r, tc.want)
				}
			}()
			// A throwaway App: the shared one must not change after synthesis.
			stack := awscdk.NewStack(awscdk.NewApp(nil), jsii.String("Conflict"), nil)
			privateca.NewCaHierarchy(stack, "Ca", &tc.props)
		})
	}
}

func assertNagClean(t *testing.T, stack awscdk.Stack) {
	t.Helper()
	if errs := nag.Errors(stack); len(errs) > 0 {
		t.Errorf("%d unsuppressed nag errors:\n%s", len(errs), strings.Join(errs, "\n"))
	}
}

func assertNoPartitionLiteral(t *testing.T, tpl assertions.Template) {
	t.Helper()
	raw, _ := json.Marshal(tpl.ToJSON())
	if strings.Contains(string(raw), `"arn:aws:`) || strings.Contains(string(raw), `arn:aws:`) {
		t.Error("template holds an arn:aws: literal; use the stack's partition")
	}
}
