package mtlsexport_test

import (
	"context"
	"crypto/x509"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/acmpca"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/securestacks/securestacks/internal/mtlssecret"

	"github.com/securestacks/securestacks/internal/mtlssecret/mtlstest"
	"github.com/securestacks/securestacks/lambda-src/internal/awsretry"
	"github.com/securestacks/securestacks/lambda-src/internal/mtlsexport"
	fake "github.com/securestacks/securestacks/lambda-src/internal/mtlsexport/mtlsexporttest"
)

const (
	cert   = "arn:aws-us-gov:acm:us-gov-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"
	secret = "arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:colorteller-AbCdEf"
)

func TestRetriedPutSecretValueReusesItsToken(t *testing.T) {
	// GIVEN PutSecretValue throttled once after (perhaps) storing the value
	store := fake.NewSecrets()
	certs := fake.NewACM()
	h := mtlstest.NewHierarchy(t, "ColorTeller", mtlstest.HierarchyOptions{KeyAlgorithm: mtlstest.ECPrime256v1})
	certs.Issue(t, cert, h, "colorteller.mtls.internal", time.Now().Add(-time.Hour), time.Now().AddDate(1, 0, 0))
	calls := 0
	x := &mtlsexport.Exporter{
		GetRandomPassword: fake.Password(t),
		ExportCertificate: fake.ExportCertificateFunc(certs.Export),
		PutSecretValue: fake.PutSecretValueFunc(func(ctx context.Context, in *secretsmanager.PutSecretValueInput, o ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error) {
			calls++
			out, err := store.Put(ctx, in, o...)
			if calls == 1 {
				return nil, fake.APIError("ThrottlingException")
			}
			return out, err
		}),
		Retry: awsretry.Policy{Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }},
	}

	// WHEN an export runs (in a GovCloud partition)
	res, err := x.Export(context.Background(), cert, secret)

	// THEN the retry carries the same ClientRequestToken, so Secrets Manager keeps one version
	if err != nil {
		t.Fatal(err)
	}
	if len(store.Tokens) != 2 || store.Tokens[0] != store.Tokens[1] || len(store.Tokens[0]) != 36 {
		t.Fatalf("tokens %q", store.Tokens)
	}
	if res.VersionId != store.Tokens[0] || res.Serial.Cmp(certs.Get(cert).Leaf.Cert.SerialNumber) != 0 {
		t.Fatalf("result %+v", res)
	}
}

func TestSerialFormatMatchesACM(t *testing.T) {
	cases := map[string]*big.Int{
		"00":          big.NewInt(0),
		"0a":          big.NewInt(10),
		"01:00":       big.NewInt(256),
		"7f:ff:ff:ff": big.NewInt(0x7fffffff),
	}
	for want, n := range cases {
		// GIVEN a serial WHEN formatted and parsed back THEN it reads as ACM writes it
		if got := mtlsexport.FormatSerial(n); got != want {
			t.Errorf("FormatSerial(%v) = %q, want %q", n, got, want)
		}
		back, ok := mtlsexport.ParseSerial(strings.ToUpper(want))
		if !ok || back.Cmp(n) != 0 {
			t.Errorf("ParseSerial(%q) = %v, %t", want, back, ok)
		}
	}
	if _, ok := mtlsexport.ParseSerial("zz:01"); ok {
		t.Error("ParseSerial accepted non-hex")
	}
}

func TestRejectsMalformedArns(t *testing.T) {
	cases := []struct{ cert, secret, want string }{
		{"", secret, "certificate: expected an ACM certificate ARN"},
		{cert, "colorteller-secret", "secret: expected a Secrets Manager secret ARN"},
		{"arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/abc", secret, "certificate: expected"},
	}
	for _, tc := range cases {
		// GIVEN malformed ARNs WHEN exporting THEN it fails before any call, naming the value
		_, err := (&mtlsexport.Exporter{}).Export(context.Background(), tc.cert, tc.secret)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Export(%q, %q) = %v, want %q", tc.cert, tc.secret, err, tc.want)
		}
	}
}

const (
	caArn          = "arn:aws-us-gov:acm-pca:us-gov-west-1:123456789012:certificate-authority/11111111-2222-3333-4444-555555555555"
	gatewaySecret  = "arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:colorgateway-AbCdEf"
	clientTemplate = "arn:aws-us-gov:acm-pca:::template/EndEntityClientAuthCertificate/V1"
)

func clientSpec() mtlsexport.IssueSpec {
	return mtlsexport.IssueSpec{CertificateAuthorityArn: caArn, TemplateArn: clientTemplate, SigningAlgorithm: "SHA256WITHRSA",
		ValidityDays: 395, DnsName: "colorgateway.mtls.internal", KeyAlgorithm: "EC_prime256v1"}
}

func TestIssueStoresAClientAuthCertificateAndItsKey(t *testing.T) {
	// GIVEN AWS Private CA that issues asynchronously (two RequestInProgress answers) and
	// throttles the first IssueCertificate
	h := mtlstest.NewHierarchy(t, "ColorGateway", mtlstest.HierarchyOptions{})
	pca := &fake.PCA{T: t, CA: h, CaArn: caArn, Pending: 2}
	issueCalls := 0
	store := fake.NewSecrets()
	x := &mtlsexport.Issuer{
		GetRandomPassword: fake.Password(t),
		IssueCertificate: issueFunc(func(ctx context.Context, in *acmpca.IssueCertificateInput) (*acmpca.IssueCertificateOutput, error) {
			issueCalls++
			out, err := pca.IssueCertificate(ctx, in)
			if issueCalls == 1 {
				return nil, fake.APIError("ThrottlingException")
			}
			return out, err
		}),
		GetCertificate: pca,
		PutSecretValue: fake.PutSecretValueFunc(store.Put),
		Retry:          awsretry.Policy{Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }},
		Sleep:          func(ctx context.Context, _ time.Duration) error { return ctx.Err() },
	}

	// WHEN the gateway's certificate is issued
	res, err := x.Issue(context.Background(), clientSpec(), gatewaySecret)

	// THEN one certificate was issued (the retry reused its idempotency token)
	if err != nil {
		t.Fatal(err)
	}
	if len(pca.Tokens) != 2 || pca.Tokens[0] != pca.Tokens[1] {
		t.Fatalf("idempotency tokens %q", pca.Tokens)
	}
	// AND it carries clientAuth, which ACM no longer issues
	// (https://docs.aws.amazon.com/acm/latest/userguide/acm-concepts.html)
	c := pca.Issued(res.CertificateArn)
	if c == nil || len(c.ExtKeyUsage) != 1 || c.ExtKeyUsage[0] != x509.ExtKeyUsageClientAuth || c.DNSNames[0] != "colorgateway.mtls.internal" {
		t.Fatalf("issued %+v", c)
	}
	// AND the secret holds it with a key the start script decrypts and that matches it
	p, err := mtlssecret.Parse([]byte(store.Value(gatewaySecret)))
	if err != nil {
		t.Fatal(err)
	}
	if p.CertificateArn != res.CertificateArn {
		t.Errorf("payload certificate_arn %s, want %s", p.CertificateArn, res.CertificateArn)
	}
	if _, err := mtlstest.RunStartScript(t, p, h.Root.PEM()); err != nil {
		t.Fatalf("start script refused the stored key: %v", err)
	}
}

func TestIssueFailsBoundedAndWritesNothing(t *testing.T) {
	h := mtlstest.NewHierarchy(t, "ColorGateway", mtlstest.HierarchyOptions{})
	cases := map[string]struct {
		pca  *fake.PCA
		spec func(s *mtlsexport.IssueSpec)
		want string
	}{
		"never issued": {&fake.PCA{T: t, CA: h, CaArn: caArn, Pending: 1000}, nil, "issued certificate not available in time"},
		"unknown CA":   {&fake.PCA{T: t, CA: h, CaArn: caArn}, func(s *mtlsexport.IssueSpec) { s.CertificateAuthorityArn = strings.Replace(caArn, "1111", "9999", 1) }, "ResourceNotFoundException"},
		"bad spec":     {&fake.PCA{T: t, CA: h, CaArn: caArn}, func(s *mtlsexport.IssueSpec) { s.KeyAlgorithm = "RSA_1024" }, "issue.keyAlgorithm: expected RSA_2048"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			// GIVEN the fault
			store := fake.NewSecrets()
			spec := clientSpec()
			if tc.spec != nil {
				tc.spec(&spec)
			}
			x := &mtlsexport.Issuer{GetRandomPassword: fake.Password(t), IssueCertificate: tc.pca, GetCertificate: tc.pca,
				PutSecretValue: fake.PutSecretValueFunc(store.Put), MaxWait: 10 * time.Second, PollInterval: time.Second,
				Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }}
			// WHEN an issue runs THEN it fails with the cause and the secret is untouched
			_, err := x.Issue(context.Background(), spec, gatewaySecret)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
			if store.Puts != 0 {
				t.Fatal("a failed issue wrote the secret")
			}
		})
	}
}

type issueFunc func(context.Context, *acmpca.IssueCertificateInput) (*acmpca.IssueCertificateOutput, error)

func (f issueFunc) IssueCertificate(ctx context.Context, in *acmpca.IssueCertificateInput, _ ...func(*acmpca.Options)) (*acmpca.IssueCertificateOutput, error) {
	return f(ctx, in)
}
