package main_test

import (
	"bytes"
	"crypto/x509/pkix"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/securestacks/securestacks/internal/kmstest"
	"github.com/securestacks/securestacks/internal/mtlssecret/mtlstest"
	"github.com/securestacks/securestacks/internal/pcaimport/pcaimporttest"
)

const subArn = "arn:aws:acm-pca:eu-west-2:111122223333:certificate-authority/12345678-1234-1234-1234-123456789012"

// fakePCA serves one PENDING_CERTIFICATE subordinate with the CSR AWS Private CA would
// return for the post's subject, with the SDK environment pointed nowhere: only
// --endpoint-url reaches it.
func fakePCA(t *testing.T) (*pcaimporttest.FakePCA, *pcaimporttest.Subordinate) {
	t.Helper()
	sub := pcaimporttest.NewSubordinate(t, pkix.Name{Country: []string{"US"}, Organization: []string{"Example Corp"}, CommonName: "Example Issuing CA"}, mtlstest.RSA2048)
	kmstest.SetEnv(t, "http://127.0.0.1:1")
	t.Setenv("AWS_ENDPOINT_URL_ACM_PCA", "http://127.0.0.1:1")
	return pcaimporttest.StartFakePCA(t, subArn, sub.CsrPEM), sub
}

func TestPcaCsrSignImportWithTheExternalRoot(t *testing.T) {
	// GIVEN a subordinate waiting for its certificate and the post's openssl root
	pca, _ := fakePCA(t)
	root := pcaimporttest.NewRoot(t, "Example Root CA", pcaimporttest.RootOptions{})
	dir := t.TempDir()

	// WHEN the CSR is exported, the root signs it as the post does, and the result is imported
	csrFile := filepath.Join(dir, "IntermediateCA.csr")
	code, stdout, stderr := cli(t, "pca", "csr", "--ca-arn", subArn, "--out", csrFile, "--endpoint-url", pca.URL)
	if code != 0 {
		t.Fatalf("pca csr: exit %d: %s", code, stderr)
	}
	csr, err := os.ReadFile(csrFile)
	if err != nil || !bytes.Equal(csr, pca.Csr) || stdout != "" {
		t.Fatalf("pca csr wrote %q (stdout %q), want the CA's CSR: %v", csr, stdout, err)
	}
	if !strings.Contains(stderr, "next: have the external root sign it") {
		t.Errorf("pca csr printed no next step: %q", stderr)
	}
	signed := root.Sign(t, csr, pcaimporttest.PostExtensions, 3650)
	certFile := writeFile(t, dir, "IntermediateCA.crt", signed)
	code, stdout, stderr = cli(t, "pca", "import", "--ca-arn", subArn, "--certificate", certFile, "--chain", root.CertFile, "--endpoint-url", pca.URL)

	// THEN the CA got exactly those files after the local checks, and the next step is printed
	if code != 0 || stderr != "" {
		t.Fatalf("pca import: exit %d, stderr %q", code, stderr)
	}
	if !strings.HasPrefix(stdout, "imported: "+subArn+" is ACTIVE, valid until ") || !strings.Contains(stdout, "next: set mtls.ca.externalRoot.imported to true") {
		t.Errorf("stdout %q", stdout)
	}
	gotCert, gotChain := pca.Imported()
	if !bytes.Equal(gotCert, signed) || !bytes.Equal(gotChain, root.PEM(t)) {
		t.Error("the import did not send the certificate and chain files unchanged")
	}
	if want := []string{"GetCertificateAuthorityCsr", "DescribeCertificateAuthority", "GetCertificateAuthorityCsr", "ImportCertificateAuthorityCertificate"}; !slices.Equal(pca.Calls(), want) {
		t.Errorf("calls %v, want %v", pca.Calls(), want)
	}

	t.Run("signing again later is a re-sign of the active CA", func(t *testing.T) {
		// WHEN the root signs the same CSR again (renewal) and it is imported
		again := writeFile(t, dir, "renewed.crt", root.Sign(t, csr, pcaimporttest.PostExtensions, 3650))
		code, stdout, stderr := cli(t, "pca", "import", "--ca-arn", subArn, "--certificate", again, "--chain", root.CertFile, "--endpoint-url", pca.URL)
		// THEN it is installed with nothing to deploy
		if code != 0 || !strings.HasPrefix(stdout, "re-signed: "+subArn) || !strings.Contains(stdout, "nothing to deploy") {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
	})
}

func TestPcaImportRefusesBeforeTheCall(t *testing.T) {
	pca, sub := fakePCA(t)
	root := pcaimporttest.NewRoot(t, "Example Root CA", pcaimporttest.RootOptions{})
	other := pcaimporttest.NewRoot(t, "Other Root CA", pcaimporttest.RootOptions{})
	pathLen0 := pcaimporttest.NewRoot(t, "PathLen0 Root CA", pcaimporttest.RootOptions{Extensions: "basicConstraints = critical, CA:true, pathlen:0\nkeyUsage = critical, keyCertSign, cRLSign\n"})
	stranger := pcaimporttest.NewSubordinate(t, pkix.Name{CommonName: "Stranger CA"}, mtlstest.RSA2048)
	dir := t.TempDir()
	file := func(name string, b []byte) string { return writeFile(t, dir, name, b) }
	ext := pcaimporttest.PostExtensions

	cases := []struct {
		name, cert, chain, want string
	}{
		{"wrong key", file("stranger.crt", root.Sign(t, stranger.CsrPEM, ext, 3650)), root.CertFile,
			"securestacks pca import: not imported: wrong key: the certificate (CN=Stranger CA) is not for the key of the CA's CSR (CN=Example Issuing CA,O=Example Corp,C=US)"},
		{"broken chain", file("post.crt", root.Sign(t, sub.CsrPEM, ext, 3650)), other.CertFile,
			"securestacks pca import: not imported: broken chain: (CN=Example Issuing CA,O=Example Corp,C=US) is not signed by chain certificate 1 (CN=Other Root CA,OU=PKI,O=Example Corp,C=US)"},
		{"CA:FALSE", file("leaf.crt", root.Sign(t, sub.CsrPEM, strings.Replace(ext, "CA:true", "CA:false", 1), 3650)), root.CertFile,
			"securestacks pca import: not imported: certificate (CN=Example Issuing CA,O=Example Corp,C=US) has basic constraints CA:FALSE (or none): expected critical CA:TRUE"},
		{"path length too small", file("pathlen.crt", pathLen0.Sign(t, sub.CsrPEM, ext, 3000)), pathLen0.CertFile,
			"securestacks pca import: not imported: path length too small: chain certificate 1 (CN=PathLen0 Root CA,OU=PKI,O=Example Corp,C=US) has pathlen:0"},
		{"expiry too soon", file("short.crt", root.Sign(t, sub.CsrPEM, ext, 200)), root.CertFile,
			"securestacks pca import: not imported: expiry too soon: certificate (CN=Example Issuing CA,O=Example Corp,C=US) ends "},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// WHEN the import is asked with a bad certificate or chain
			before := len(pca.Calls())
			code, stdout, stderr := cli(t, "pca", "import", "--ca-arn", subArn, "--certificate", tc.cert, "--chain", tc.chain, "--endpoint-url", pca.URL)

			// THEN it fails with one line naming the problem, and ImportCertificateAuthorityCertificate
			// is never called
			if code != 1 || stdout != "" || !strings.HasPrefix(stderr, tc.want) || strings.Count(stderr, "\n") != 1 {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit 1 and one line starting %q", code, stdout, stderr, tc.want)
			}
			if calls := pca.Calls()[before:]; slices.Contains(calls, "ImportCertificateAuthorityCertificate") {
				t.Fatalf("the import was called: %v", calls)
			}
		})
	}

	t.Run("a certificate that ends soon is imported with a warning naming the date", func(t *testing.T) {
		cert := file("soon.crt", root.Sign(t, sub.CsrPEM, ext, 500))
		code, stdout, stderr := cli(t, "pca", "import", "--ca-arn", subArn, "--certificate", cert, "--chain", root.CertFile, "--endpoint-url", pca.URL)
		if code != 0 || !strings.HasPrefix(stderr, "securestacks pca import: warning: the subordinate certificate ends "+day(500)) || !strings.HasPrefix(stdout, "imported: ") {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
	})

	t.Run("a CA that is still creating is refused", func(t *testing.T) {
		// AWS installs a certificate only on a PENDING_CERTIFICATE, ACTIVE, DISABLED or
		// EXPIRED subordinate (https://docs.aws.amazon.com/privateca/latest/userguide/PcaExternalRoot.html)
		pca.Status = "CREATING"
		defer func() { pca.Status = "PENDING_CERTIFICATE" }()
		code, _, stderr := cli(t, "pca", "import", "--ca-arn", subArn, "--certificate", cases[1].cert, "--chain", root.CertFile, "--endpoint-url", pca.URL)
		if code != 1 || !strings.Contains(stderr, "is CREATING: expected PENDING_CERTIFICATE (first import)") {
			t.Fatalf("exit %d, stderr %q", code, stderr)
		}
	})

	t.Run("a root CA is refused", func(t *testing.T) {
		pca.Type = "ROOT"
		defer func() { pca.Type = "SUBORDINATE" }()
		code, _, stderr := cli(t, "pca", "import", "--ca-arn", subArn, "--certificate", cases[1].cert, "--chain", root.CertFile, "--endpoint-url", pca.URL)
		if code != 1 || !strings.Contains(stderr, "is not a SUBORDINATE CA") {
			t.Fatalf("exit %d, stderr %q", code, stderr)
		}
	})
}

func TestPcaUsageErrors(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"pca", "csr", "--ca-arn", "my-ca"}, "securestacks pca csr: --ca-arn: expected an AWS Private CA ARN"},
		{[]string{"pca", "import", "--ca-arn", subArn, "--chain", "root.pem"}, "securestacks pca import: --certificate: expected a PEM file\n"},
		{[]string{"pca", "import", "--ca-arn", subArn, "--certificate", "/nonexistent/sub.pem", "--chain", "root.pem"}, "securestacks pca import: --certificate: open /nonexistent/sub.pem: no such file or directory\n"},
		{[]string{"pca", "import", "--ca-arn", subArn, "--renew-before-days", "0"}, "securestacks pca import: --renew-before-days: expected a whole number from 1 to 365, got 0\n"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, _, stderr := cli(t, tc.args...)
			if code != 2 || !strings.HasPrefix(stderr, tc.want) || strings.Count(stderr, "\n") != 1 {
				t.Fatalf("exit %d, stderr %q, want %q", code, stderr, tc.want)
			}
		})
	}
}

// day is the UTC date n days from now, as the messages print it.
func day(n int) string { return time.Now().AddDate(0, 0, n).UTC().Format("2006-01-02") }
