package pcaimport_test

import (
	"crypto/x509/pkix"
	"strings"
	"testing"
	"time"

	"github.com/securestacks/securestacks/internal/mtlssecret"
	"github.com/securestacks/securestacks/internal/mtlssecret/mtlstest"
	"github.com/securestacks/securestacks/internal/pcaimport"
	"github.com/securestacks/securestacks/internal/pcaimport/pcaimporttest"
)

// subject is the post's ca_config.txt subject of the subordinate.
var subject = pkix.Name{Country: []string{"US"}, Organization: []string{"Example Corp"}, OrganizationalUnit: []string{"Sales"},
	Province: []string{"WA"}, Locality: []string{"Seattle"}, CommonName: "Example Corp Issuing CA"}

// The thresholds `securestacks pca import` uses with the default renewBeforeDays (45).
var (
	minDays  = mtlssecret.CertificateValidityDays
	warnDays = int(mtlssecret.MinIssuingCaValidityDays(45))
)

func TestCheck(t *testing.T) {
	// GIVEN the post's root (openssl req + x509 -signkey, version 1, 3650 days), a second
	// root, a root whose path length forbids any CA below it, and the CSR AWS Private CA
	// returns for an RSA 2048 subordinate with the post's subject
	root := pcaimporttest.NewRoot(t, "Example Root CA", pcaimporttest.RootOptions{})
	other := pcaimporttest.NewRoot(t, "Other Root CA", pcaimporttest.RootOptions{})
	pathLen0 := pcaimporttest.NewRoot(t, "PathLen0 Root CA", pcaimporttest.RootOptions{Extensions: "basicConstraints = critical, CA:true, pathlen:0\nkeyUsage = critical, keyCertSign, cRLSign\nsubjectKeyIdentifier = hash\n"})
	sub := pcaimporttest.NewSubordinate(t, subject, mtlstest.RSA2048)
	stranger := pcaimporttest.NewSubordinate(t, subject, mtlstest.RSA2048)
	post := root.Sign(t, sub.CsrPEM, pcaimporttest.PostExtensions, 3650)

	cases := []struct {
		name    string
		cert    []byte
		chain   []byte
		pathLen int
		want    string // "" passes
		warn    string
	}{
		{name: "the post's flow: ext.conf, 3650 days, chain = Root_CA.crt", cert: post, chain: root.PEM(t)},
		{name: "the post's extensions signed by openssl ca", cert: root.SignWithCA(t, sub.CsrPEM, pcaimporttest.PostExtensions, 3650), chain: root.PEM(t)},
		{name: "the post's extensions with pathlen:0 on the subordinate (AWS's PathLen0 template)", chain: root.PEM(t),
			cert: root.Sign(t, sub.CsrPEM, strings.Replace(pcaimporttest.PostExtensions, "CA:true", "CA:true, pathlen:0", 1), 3650)},
		{name: "wrong key: the root signed another CA's CSR", cert: root.Sign(t, stranger.CsrPEM, pcaimporttest.PostExtensions, 3650), chain: root.PEM(t),
			want: "wrong key: the certificate"},
		{name: "broken chain: another root", cert: post, chain: other.PEM(t),
			want: "broken chain: (CN=Example Corp Issuing CA,OU=Sales,O=Example Corp,L=Seattle,ST=WA,C=US) is not signed by chain certificate 1 (CN=Other Root CA,OU=PKI,O=Example Corp,C=US)"},
		{name: "broken chain: the root is not last", cert: post, chain: append(root.PEM(t), other.PEM(t)...),
			want: "broken chain: chain certificate 1 (CN=Example Root CA,OU=PKI,O=Example Corp,C=US) is a self-signed root but not last"},
		{name: "the chain includes the certificate", cert: post, chain: append(post, root.PEM(t)...),
			want: "chain: certificate 1 is the subordinate's own certificate"},
		{name: "CA:FALSE", chain: root.PEM(t),
			cert: root.Sign(t, sub.CsrPEM, strings.Replace(pcaimporttest.PostExtensions, "CA:true", "CA:false", 1), 3650),
			want: "has basic constraints CA:FALSE (or none): expected critical CA:TRUE"},
		{name: "basic constraints not critical", chain: root.PEM(t),
			cert: root.Sign(t, sub.CsrPEM, strings.Replace(pcaimporttest.PostExtensions, "critical, CA:true", "CA:true", 1), 3650),
			want: "basic constraints not marked critical: AWS Private CA requires them critical"},
		{name: "path length too small: the root has pathlen:0", cert: pathLen0.Sign(t, sub.CsrPEM, pcaimporttest.PostExtensions, 3000), chain: pathLen0.PEM(t),
			want: "path length too small: chain certificate 1 (CN=PathLen0 Root CA,OU=PKI,O=Example Corp,C=US) has pathlen:0, which forbids the 1 CA certificate(s) below it"},
		{name: "path length too small: a subordinate that must issue CAs has pathlen:0", pathLen: 1, chain: root.PEM(t),
			cert: root.Sign(t, sub.CsrPEM, strings.Replace(pcaimporttest.PostExtensions, "CA:true", "CA:true, pathlen:0", 1), 3650),
			want: "path length too small: certificate (CN=Example Corp Issuing CA,OU=Sales,O=Example Corp,L=Seattle,ST=WA,C=US) allows 0 CA levels below it, expected at least 1"},
		{name: "no keyCertSign", chain: root.PEM(t),
			cert: root.Sign(t, sub.CsrPEM, strings.Replace(pcaimporttest.PostExtensions, "digitalSignature, cRLSign, keyCertSign", "digitalSignature", 1), 3650),
			want: "lacks key usage keyCertSign"},
		{name: "a critical CRL distribution point, which AWS Private CA rejects", chain: root.PEM(t),
			cert: root.Sign(t, sub.CsrPEM, pcaimporttest.PostExtensions+"crlDistributionPoints = critical, URI:http://crl.example.com/root.crl\n", 3650),
			want: "marks extension 2.5.29.31 critical: AWS Private CA rejects it critical"},
		{name: "expiry too soon: 300 days, shorter than the 395-day certificates it issues", chain: root.PEM(t),
			cert: root.Sign(t, sub.CsrPEM, pcaimporttest.PostExtensions, 300),
			want: "expiry too soon: certificate (CN=Example Corp Issuing CA,OU=Sales,O=Example Corp,L=Seattle,ST=WA,C=US) ends " + day(300) + ", before the 395-day certificates it must issue from now would (" + day(395) + ")"},
		{name: "expiry soon: 500 days imports with a warning naming the date", chain: root.PEM(t),
			cert: root.Sign(t, sub.CsrPEM, pcaimporttest.PostExtensions, 500),
			warn: "the subordinate certificate ends " + day(500) + ", before " + day(warnDays) + " (530 days from now): certificates issued or renewed after " + day(500-395) + " cannot be issued"},
		{name: "the subordinate outlives its root: a warning with the root's end", cert: root.Sign(t, sub.CsrPEM, pcaimporttest.PostExtensions, 4000), chain: root.PEM(t),
			warn: "chain certificate 1 (CN=Example Root CA,OU=PKI,O=Example Corp,C=US) ends " + day(3650) + ", before the subordinate (" + day(4000) + ")"},
		{name: "no chain", cert: post, chain: nil, want: "chain: no PEM CERTIFICATE block"},
		{name: "a key instead of a certificate", cert: []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), chain: root.PEM(t),
			want: "certificate: found a PEM PRIVATE KEY block, expected CERTIFICATE"},
		{name: "two certificates", cert: append(post, root.PEM(t)...), chain: root.PEM(t), want: "certificate: 2 certificates, expected exactly one"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// WHEN the certificate and chain are checked against the CA's CSR
			res, err := pcaimport.Check(pcaimport.Input{Csr: sub.CsrPEM, Certificate: tc.cert, Chain: tc.chain, PathLen: tc.pathLen,
				MinValidityDays: minDays, WarnValidityDays: warnDays})

			// THEN a bad one fails with one line naming what is wrong; a good one passes,
			// with the warning expected or none
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("got %v, want one line containing %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatalf("rejected: %v", err)
			}
			got := strings.Join(res.Warnings, "\n")
			if (tc.warn == "") != (got == "") || !strings.Contains(got, tc.warn) {
				t.Fatalf("warnings %q, want %q", got, tc.warn)
			}
		})
	}

	t.Run("a chain alone: root last, each certificate signing the one before", func(t *testing.T) {
		two := mtlstest.NewHierarchy(t, "Two", mtlstest.HierarchyOptions{})
		for _, tc := range []struct {
			chain, want string
		}{
			{two.Chain(), ""},
			{string(root.PEM(t)), ""},
			{two.Root.PEM() + two.Issuing.PEM(), "broken chain: chain certificate 1 (CN=Two Root CA,O=securestacks test) is a self-signed root but not last"},
			{two.Issuing.PEM(), "broken chain: the last chain certificate (CN=Two Issuing CA,O=securestacks test) is not self-signed"},
			{two.Issuing.PEM() + string(other.PEM(t)), "broken chain: (CN=Two Issuing CA,O=securestacks test) is not signed by chain certificate 2 (CN=Other Root CA"},
		} {
			chain, err := pcaimport.ParseChain([]byte(tc.chain))
			switch {
			case tc.want == "" && (err != nil || len(chain) == 0):
				t.Errorf("chain refused: %v", err)
			case tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want)):
				t.Errorf("got %v, want %q", err, tc.want)
			}
		}
	})

	t.Run("the CSR must be one", func(t *testing.T) {
		_, err := pcaimport.Check(pcaimport.Input{Csr: post, Certificate: post, Chain: root.PEM(t)})
		if err == nil || err.Error() != "CSR: expected a PEM CERTIFICATE REQUEST block" {
			t.Fatalf("got %v", err)
		}
	})
}

// day is the UTC date n days from now, as the messages print it. (A test run across
// midnight UTC may see the next day.)
func day(n int) string { return time.Now().AddDate(0, 0, n).UTC().Format("2006-01-02") }
