package mtlsexport_test

import (
	"context"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

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
