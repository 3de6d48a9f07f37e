package main_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"

	"github.com/securestacks/securestacks/internal/mtlssecret"
	"github.com/securestacks/securestacks/internal/mtlssecret/mtlstest"
	"github.com/securestacks/securestacks/lambda-src/internal/awsretry"
	"github.com/securestacks/securestacks/lambda-src/internal/cfnresponse"
	"github.com/securestacks/securestacks/lambda-src/internal/mtlsexport"
	fake "github.com/securestacks/securestacks/lambda-src/internal/mtlsexport/mtlsexporttest"
	main "github.com/securestacks/securestacks/lambda-src/mtls-cert-export"
)

const (
	certA  = "arn:aws:acm:eu-west-1:111122223333:certificate/11111111-2222-3333-4444-555555555555"
	certB  = "arn:aws:acm:eu-west-1:111122223333:certificate/99999999-8888-7777-6666-555555555555"
	secret = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:MtlsColorgatewaySecret-AbCdEf"
)

// harness wires the resource to fakes: a certificate store with certA and
// certB, a secret store, and counters per operation.
type harness struct {
	acm     *fake.ACM
	secrets *fake.Secrets
	ca      *mtlstest.Hierarchy
	exports int
	// exportErrs are returned by the first ExportCertificate calls, in order.
	exportErrs []error
	logs       bytes.Buffer
	handler    func(context.Context, cfnresponse.Event) (cfnresponse.Response, error)
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{acm: fake.NewACM(), secrets: fake.NewSecrets()}
	h.ca = mtlstest.NewHierarchy(t, "ColorGateway", mtlstest.HierarchyOptions{KeyAlgorithm: mtlstest.ECPrime256v1})
	now := time.Now()
	h.acm.Issue(t, certA, h.ca, "colorgateway.mtls.internal", now.Add(-time.Hour), now.AddDate(0, 0, 395))
	h.acm.Issue(t, certB, h.ca, "colorgateway.mtls.internal", now.Add(-time.Hour), now.AddDate(0, 0, 395))
	logger := slog.New(slog.NewJSONHandler(&h.logs, nil))
	resource := &main.Export{
		Exporter: &mtlsexport.Exporter{
			GetRandomPassword: fake.Password(t),
			ExportCertificate: fake.ExportCertificateFunc(func(ctx context.Context, in *acm.ExportCertificateInput, o ...func(*acm.Options)) (*acm.ExportCertificateOutput, error) {
				h.exports++
				if len(h.exportErrs) > 0 {
					err := h.exportErrs[0]
					h.exportErrs = h.exportErrs[1:]
					return nil, err
				}
				return h.acm.Export(ctx, in, o...)
			}),
			PutSecretValue: fake.PutSecretValueFunc(h.secrets.Put),
			Retry: awsretry.Policy{
				MaxAttempts: 3,
				Sleep:       func(ctx context.Context, _ time.Duration) error { return ctx.Err() },
			},
			Logger: logger,
		},
		Logger: logger,
	}
	h.handler = cfnresponse.Handler(resource, &cfnresponse.Options{Logger: logger})
	return h
}

func loadEvent(t *testing.T, name string) cfnresponse.Event {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var e cfnresponse.Event
	if err := json.Unmarshal(raw, &e); err != nil {
		t.Fatal(err)
	}
	return e
}

func TestCreateExportsIntoTheSecret(t *testing.T) {
	// GIVEN an issued certificate and the endpoint's empty secret
	h := newHarness(t)
	e := loadEvent(t, "create.json")

	// WHEN CloudFormation creates the export resource
	resp, err := h.handler(context.Background(), e)

	// THEN the secret holds a valid payload of that certificate, the key in it was
	// encrypted under exactly the stored passphrase's bytes, and the start script decrypts it
	if err != nil {
		t.Fatalf("Create failed: %v", err)
	}
	if resp.PhysicalResourceId != cfnresponse.DefaultPhysicalResourceId(e.StackId, e.LogicalResourceId) {
		t.Errorf("physical id %q is not the stable default", resp.PhysicalResourceId)
	}
	p, err := mtlssecret.Parse([]byte(h.secrets.Value(secret)))
	if err != nil {
		t.Fatalf("stored secret does not parse: %v", err)
	}
	if p.CertificateArn != certA || p.Certificate != h.acm.Get(certA).Leaf.PEM() {
		t.Errorf("secret holds another certificate")
	}
	if len(h.acm.Passphrases) != 1 || string(h.acm.Passphrases[0]) != p.Passphrase {
		t.Fatalf("ExportCertificate got a passphrase other than the stored text (the walkthrough's base64 mistake)")
	}
	if _, err := mtlstest.RunStartScript(t, p, h.ca.Root.PEM()); err != nil {
		t.Fatalf("the container could not decrypt what was stored: %v", err)
	}
	if got := resp.Data["Serial"]; got != mtlsexport.FormatSerial(h.acm.Get(certA).Leaf.Cert.SerialNumber) {
		t.Errorf("Data.Serial = %v", got)
	}
	assertNoSecretsLogged(t, h, p)
}

func TestUpdate(t *testing.T) {
	cases := []struct {
		name        string
		edit        func(e *cfnresponse.Event)
		wantExports int
		wantCert    string
	}{
		{"certificate changed", func(e *cfnresponse.Event) {}, 1, certB},
		{"nothing changed", func(e *cfnresponse.Event) { e.ResourceProperties["CertificateArn"] = certA }, 0, ""},
		{"secret changed", func(e *cfnresponse.Event) {
			e.ResourceProperties["CertificateArn"] = certA
			e.OldResourceProperties["SecretArn"] = secret + "x"
		}, 1, certA},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// GIVEN an Update event with (or without) a changed certificate or secret
			h := newHarness(t)
			e := loadEvent(t, "update.json")
			tc.edit(&e)

			// WHEN CloudFormation updates the export resource
			resp, err := h.handler(context.Background(), e)

			// THEN it exports exactly when the certificate or secret changed, keeping its id
			if err != nil {
				t.Fatalf("Update failed: %v", err)
			}
			if resp.PhysicalResourceId != e.PhysicalResourceId {
				t.Errorf("Update replaced the resource: %q", resp.PhysicalResourceId)
			}
			if h.exports != tc.wantExports || h.secrets.Puts != tc.wantExports {
				t.Fatalf("exports=%d puts=%d, want %d", h.exports, h.secrets.Puts, tc.wantExports)
			}
			if tc.wantCert != "" {
				p, err := mtlssecret.Parse([]byte(h.secrets.Value(secret)))
				if err != nil || p.CertificateArn != tc.wantCert {
					t.Fatalf("secret holds %v (err %v), want %s", p, err, tc.wantCert)
				}
			}
		})
	}
}

func TestDeleteLeavesEverythingInPlace(t *testing.T) {
	// GIVEN a secret written by an earlier export
	h := newHarness(t)
	h.secrets.Set(secret, "previous value")

	// WHEN CloudFormation deletes the export resource
	resp, err := h.handler(context.Background(), loadEvent(t, "delete.json"))

	// THEN it succeeds without calling anything and the secret is untouched
	if err != nil {
		t.Fatalf("Delete failed: %v", err)
	}
	if resp.PhysicalResourceId != "MtlsColorgatewayExport1A2B3C4D-0123456789abcdef" {
		t.Errorf("physical id changed: %q", resp.PhysicalResourceId)
	}
	if h.exports != 0 || h.secrets.Puts != 0 || h.secrets.Value(secret) != "previous value" {
		t.Fatalf("Delete touched ACM or the secret")
	}
}

func TestFaults(t *testing.T) {
	cases := []struct {
		name        string
		errs        []error
		edit        func(e *cfnresponse.Event)
		wantErr     string // "" means success
		wantExports int
	}{
		{"throttled twice, then exported", []error{fake.APIError("ThrottlingException"), fake.APIError("ThrottlingException")}, nil, "", 3},
		{"throttled on every attempt", []error{fake.APIError("ThrottlingException"), fake.APIError("ThrottlingException"), fake.APIError("ThrottlingException")}, nil, "gave up after 3 attempts", 3},
		{"certificate not found", []error{fake.APIError("ResourceNotFoundException")}, nil, "ExportCertificate " + certA + ": ", 1},
		{"certificate ARN of another service", nil, func(e *cfnresponse.Event) {
			e.ResourceProperties["CertificateArn"] = "arn:aws:acm-pca:eu-west-1:111122223333:certificate-authority/x"
		}, "new property CertificateArn: expected an ACM certificate ARN", 0},
		{"secret property missing", nil, func(e *cfnresponse.Event) { delete(e.ResourceProperties, "SecretArn") },
			"new property SecretArn: expected a Secrets Manager secret ARN", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// GIVEN ACM answering with the injected faults
			h := newHarness(t)
			h.exportErrs = tc.errs
			e := loadEvent(t, "create.json")
			if tc.edit != nil {
				tc.edit(&e)
			}

			// WHEN CloudFormation creates the export resource
			_, err := h.handler(context.Background(), e)

			// THEN throttling is retried within bounds, anything else fails at once with one
			// line, and the secret is written only by a complete export
			if h.exports != tc.wantExports {
				t.Errorf("ExportCertificate called %d times, want %d", h.exports, tc.wantExports)
			}
			if tc.wantErr == "" {
				if err != nil || h.secrets.Puts != 1 {
					t.Fatalf("err=%v puts=%d, want success and one put", err, h.secrets.Puts)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("got error %v, want one line containing %q", err, tc.wantErr)
			}
			if h.secrets.Puts != 0 {
				t.Fatalf("a failed export wrote the secret")
			}
		})
	}
}

func TestRefusesMaterialTheProxyCannotUse(t *testing.T) {
	// GIVEN ACM returning a plaintext key (not what ExportCertificate documents)
	h := newHarness(t)
	plain := &main.Export{Exporter: &mtlsexport.Exporter{
		GetRandomPassword: fake.Password(t),
		ExportCertificate: fake.ExportCertificateFunc(func(ctx context.Context, in *acm.ExportCertificateInput, o ...func(*acm.Options)) (*acm.ExportCertificateOutput, error) {
			out, err := h.acm.Export(ctx, in, o...)
			if err != nil {
				return nil, err
			}
			out.PrivateKey = aws.String(strings.ReplaceAll(aws.ToString(out.PrivateKey), "ENCRYPTED PRIVATE KEY", "PRIVATE KEY"))
			return out, nil
		}),
		PutSecretValue: fake.PutSecretValueFunc(h.secrets.Put),
	}}

	// WHEN the resource is created
	_, err := cfnresponse.Handler(plain, nil)(context.Background(), loadEvent(t, "create.json"))

	// THEN it fails naming the field and writes nothing
	if err == nil || !strings.Contains(err.Error(), "field encrypted_private_key") {
		t.Fatalf("got %v", err)
	}
	if h.secrets.Puts != 0 {
		t.Fatal("unusable material was stored")
	}
}

func assertNoSecretsLogged(t *testing.T, h *harness, p *mtlssecret.Payload) {
	t.Helper()
	logs := h.logs.String()
	if strings.Contains(logs, p.Passphrase) || strings.Contains(logs, "PRIVATE KEY") || strings.Contains(logs, "BEGIN CERTIFICATE") {
		t.Fatalf("logs hold secret material:\n%s", logs)
	}
	if !strings.Contains(logs, `"msg":"certificate exported"`) {
		t.Fatalf("no export log line:\n%s", logs)
	}
}

func TestCreateIssuesTheGatewayClientCertificate(t *testing.T) {
	// GIVEN the gateway's export resource, which asks AWS Private CA for a clientAuth
	// certificate (ACM issues none since 2025-06-11:
	// https://docs.aws.amazon.com/acm/latest/userguide/acm-concepts.html), with CloudFormation's
	// string-typed validityDays
	ca := mtlstest.NewHierarchy(t, "ColorGateway", mtlstest.HierarchyOptions{KeyAlgorithm: mtlstest.ECPrime256v1})
	pca := &fake.PCA{T: t, CA: ca, CaArn: "arn:aws:acm-pca:eu-west-1:111122223333:certificate-authority/11111111-2222-3333-4444-555555555555", Pending: 1}
	secrets := fake.NewSecrets()
	noSleep := func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	resource := &main.Export{Issuer: &mtlsexport.Issuer{
		GetRandomPassword: fake.Password(t), IssueCertificate: pca, GetCertificate: pca,
		PutSecretValue: fake.PutSecretValueFunc(secrets.Put), Sleep: noSleep, Retry: awsretry.Policy{Sleep: noSleep},
	}}
	handler := cfnresponse.Handler(resource, nil)

	// WHEN CloudFormation creates it
	resp, err := handler(context.Background(), loadEvent(t, "create-issue.json"))

	// THEN the secret holds an AWS Private CA certificate with clientAuth, and the
	// response names it
	if err != nil {
		t.Fatal(err)
	}
	p, err := mtlssecret.Parse([]byte(secrets.Value(secret)))
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := p.Leaf()
	if leaf.ExtKeyUsage[0] != x509.ExtKeyUsageClientAuth || resp.Data["CertificateArn"] != p.CertificateArn {
		t.Fatalf("EKU %v, response %v", leaf.ExtKeyUsage, resp.Data)
	}
	// AND an Update with the same properties issues nothing new
	ev := loadEvent(t, "create-issue.json")
	ev.RequestType, ev.OldResourceProperties, ev.PhysicalResourceId = "Update", ev.ResourceProperties, "gateway-export"
	if _, err := handler(context.Background(), ev); err != nil || secrets.Puts != 1 {
		t.Fatalf("update: %v, %d puts", err, secrets.Puts)
	}
	// AND both CertificateArn and Issue is refused with one line
	ev = loadEvent(t, "create-issue.json")
	ev.ResourceProperties["CertificateArn"] = certA
	if _, err := handler(context.Background(), ev); err == nil || !strings.Contains(err.Error(), "CertificateArn conflicts with Issue") {
		t.Fatalf("got %v", err)
	}
}
