package mtlssecret_test

import (
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/securestacks/securestacks/internal/mtlssecret"
	"github.com/securestacks/securestacks/internal/mtlssecret/mtlstest"
)

var (
	fixtureOnce sync.Once
	fixture     *mtlssecret.Payload
)

// validPayload is a payload as the export Lambda writes it, shared by the
// tests of this file (RSA key generation is the slow part).
func validPayload(t testing.TB) mtlssecret.Payload {
	t.Helper()
	fixtureOnce.Do(func() {
		h := mtlstest.NewHierarchy(t, "Fixture", mtlstest.HierarchyOptions{KeyAlgorithm: mtlstest.ECPrime256v1})
		leaf := h.Issue(t, "colorgateway.mtls.internal", mtlstest.LeafOptions{KeyAlgorithm: mtlstest.ECPrime256v1})
		fixture = h.Export(t, leaf, mtlstest.Passphrase(t), mtlstest.ACMExport)
	})
	return *fixture
}

func TestParseAcceptsWhatMarshalWrites(t *testing.T) {
	// GIVEN a payload as the export Lambda builds it
	p := validPayload(t)

	// WHEN it is marshalled and parsed back
	raw, err := p.Marshal()
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	got, err := mtlssecret.Parse(raw)

	// THEN every field survives, under the documented JSON keys
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if *got != p {
		t.Fatal("round trip changed the payload")
	}
	var keys map[string]string
	if err := json.Unmarshal(raw, &keys); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{mtlssecret.KeyCertificateArn, mtlssecret.KeyCertificate, mtlssecret.KeyChain, mtlssecret.KeyEncryptedPrivateKey, mtlssecret.KeyPassphrase} {
		if keys[k] == "" {
			t.Errorf("secret JSON lacks key %q", k)
		}
	}
	if len(keys) != 5 {
		t.Errorf("secret JSON has %d keys, want 5", len(keys))
	}
}

func TestParseRejectsBadFieldsWithoutQuotingThem(t *testing.T) {
	base := validPayload(t)
	cases := []struct {
		name  string
		edit  func(p *mtlssecret.Payload)
		field string
	}{
		{"arn missing", func(p *mtlssecret.Payload) { p.CertificateArn = "" }, "certificate_arn"},
		{"arn of another service", func(p *mtlssecret.Payload) {
			p.CertificateArn = "arn:aws:acm-pca:eu-west-2:111122223333:certificate-authority/x"
		}, "certificate_arn"},
		{"certificate missing", func(p *mtlssecret.Payload) { p.Certificate = "" }, "certificate"},
		{"two certificates", func(p *mtlssecret.Payload) { p.Certificate += p.Certificate }, "certificate"},
		{"certificate with text before it", func(p *mtlssecret.Payload) { p.Certificate = "junk\n" + p.Certificate }, "certificate"},
		{"certificate not X.509", func(p *mtlssecret.Payload) {
			p.Certificate = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
		}, "certificate"},
		{"chain empty", func(p *mtlssecret.Payload) { p.Chain = "\n" }, "chain"},
		{"chain holds a key", func(p *mtlssecret.Payload) { p.Chain += p.EncryptedPrivateKey }, "chain"},
		{"plaintext key", func(p *mtlssecret.Payload) {
			p.EncryptedPrivateKey = strings.ReplaceAll(p.EncryptedPrivateKey, "ENCRYPTED PRIVATE KEY", "PRIVATE KEY")
		}, "encrypted_private_key"},
		{"two keys", func(p *mtlssecret.Payload) { p.EncryptedPrivateKey += p.EncryptedPrivateKey }, "encrypted_private_key"},
		{"passphrase short", func(p *mtlssecret.Payload) { p.Passphrase = "abc" }, "passphrase"},
		{"passphrase too long", func(p *mtlssecret.Payload) { p.Passphrase = strings.Repeat("a", 129) }, "passphrase"},
		{"passphrase with punctuation", func(p *mtlssecret.Payload) { p.Passphrase = p.Passphrase[:40] + "$" }, "passphrase"},
		{"passphrase base64 padded", func(p *mtlssecret.Payload) { p.Passphrase = p.Passphrase[:40] + "==" }, "passphrase"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// GIVEN a secret value with one bad field
			p := base
			tc.edit(&p)
			raw, err := json.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}

			// WHEN it is parsed
			_, err = mtlssecret.Parse(raw)

			// THEN the error names that field, fits on one line and quotes no secret
			var fe *mtlssecret.FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field {
				t.Fatalf("got %v, want a FieldError for %s", err, tc.field)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("error spans lines: %q", msg)
			}
			if strings.Contains(msg, base.Passphrase[:16]) || strings.Contains(msg, "BEGIN") {
				t.Errorf("error quotes secret material: %q", msg)
			}
		})
	}
}

func TestParseRejectsMalformedJSON(t *testing.T) {
	secret := validPayload(t).Passphrase
	cases := map[string]string{
		"empty":          ``,
		"not an object":  `[]`,
		"unknown key":    `{"certificate_arn":"x","extra":"` + secret + `"}`,
		"wrong type":     `{"passphrase": 42}`,
		"trailing data":  `{} {}`,
		"syntax error":   `{"passphrase":"` + secret + `",}`,
		"truncated":      `{"passphrase":"` + secret,
		"too large":      `{"chain":"` + strings.Repeat("A", mtlssecret.MaxPayloadBytes) + `"}`,
		"null key value": `{"certificate":null}`,
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			// GIVEN a secret value that is not one payload object
			// WHEN it is parsed
			_, err := mtlssecret.Parse([]byte(in))

			// THEN it fails with one line that quotes no value
			if err == nil {
				t.Fatal("Parse accepted it")
			}
			if strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), secret) {
				t.Errorf("bad error text: %q", err)
			}
		})
	}
}

func TestExportPassphraseIsTheStoredTextNotBase64(t *testing.T) {
	// GIVEN a passphrase as GetRandomPassword returns it
	p := mtlstest.Passphrase(t)

	// WHEN the export Lambda turns it into ExportCertificate's Passphrase
	b, err := mtlssecret.ExportPassphrase(p)

	// THEN ACM receives exactly its bytes: the SDK does the wire base64
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != p {
		t.Fatalf("ExportPassphrase changed the passphrase")
	}
	if len(p) != mtlssecret.PassphraseLength {
		t.Fatalf("fixture passphrase has %d characters, want %d", len(p), mtlssecret.PassphraseLength)
	}
}

func TestValidatePassphrase(t *testing.T) {
	cases := []struct {
		in string
		ok bool
	}{
		{strings.Repeat("a", 31), false},
		{strings.Repeat("a", 32), true},
		{strings.Repeat("Z9", 64), true},
		{strings.Repeat("a", 129), false},
		{strings.Repeat("a", 40) + " ", false},
		{strings.Repeat("a", 40) + "#", false},
		{strings.Repeat("a", 40) + "é", false},
	}
	for _, tc := range cases {
		// GIVEN a candidate passphrase WHEN it is validated THEN only 32-128 letters and digits pass
		err := mtlssecret.ValidatePassphrase(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("ValidatePassphrase(%d chars ending %q) = %v, want ok=%t", len(tc.in), tc.in[len(tc.in)-1:], err, tc.ok)
		}
	}
}
