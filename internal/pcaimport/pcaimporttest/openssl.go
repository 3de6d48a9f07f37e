// Package pcaimporttest plays, for tests, both sides of the portable-root
// flow of "Create a portable root CA using AWS CloudHSM and ACM Private CA":
// openssl is the external root, with the post's commands (the CloudHSM
// engine left out: `-engine cloudhsm` only moves the key into the HSM), and
// Subordinate makes the CSR AWS Private CA would return for a SUBORDINATE CA
// of a given subject and key algorithm. Nothing here talks to AWS.
package pcaimporttest

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/securestacks/securestacks/internal/mtlssecret/mtlstest"
)

// PostExtensions is the post's ext.conf, the extensions the root signs the
// subordinate with.
const PostExtensions = `subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid,issuer
basicConstraints = critical, CA:true
keyUsage = critical, digitalSignature, cRLSign, keyCertSign
`

// Root is an external root CA kept in files, as openssl (with or without the
// CloudHSM engine) keeps it.
type Root struct {
	Dir     string
	KeyFile string
	// CertFile is Root_CA.crt; Cert its parsed form.
	CertFile string
	Cert     *x509.Certificate
}

// PEM returns the root certificate file's content.
func (r *Root) PEM(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(r.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// RootOptions tunes NewRoot. The zero value is the post's root: RSA 2048,
// 3650 days, a version 1 self-signed certificate without extensions.
type RootOptions struct {
	// Days of validity. Default 3650.
	Days int
	// Extensions, in ext.conf syntax, make it a version 3 certificate with
	// them (for example a path length). Default none, as the post.
	Extensions string
}

// NewRoot creates a root CA the post's way:
//
//	openssl genrsa -out Root_CA.key
//	openssl req -new -key Root_CA.key -out Root_CA.csr
//	openssl x509 -req -days 3650 -in Root_CA.csr -signkey Root_CA.key -out Root_CA.crt
func NewRoot(t testing.TB, commonName string, opts RootOptions) *Root {
	t.Helper()
	dir := t.TempDir()
	r := &Root{Dir: dir, KeyFile: filepath.Join(dir, "Root_CA.key"), CertFile: filepath.Join(dir, "Root_CA.crt")}
	days := opts.Days
	if days == 0 {
		days = 3650
	}
	csr := filepath.Join(dir, "Root_CA.csr")
	Openssl(t, dir, "genrsa", "-out", r.KeyFile, "2048")
	Openssl(t, dir, "req", "-new", "-key", r.KeyFile, "-subj", "/C=US/O=Example Corp/OU=PKI/CN="+commonName, "-out", csr)
	args := []string{"x509", "-req", "-days", strconv.Itoa(days), "-in", csr, "-signkey", r.KeyFile, "-out", r.CertFile}
	if opts.Extensions != "" {
		args = append(args, "-extfile", write(t, dir, "root-ext.conf", opts.Extensions))
	}
	Openssl(t, dir, args...)
	r.Cert = parseCert(t, r.PEM(t))
	return r
}

// Sign signs csrPEM the post's way and returns the PEM certificate:
//
//	openssl x509 -extfile ext.conf -req -in IntermediateCA.csr -CA Root_CA.crt \
//	  -CAkey Root_CA.key -CAcreateserial -days 3650 -sha256 -out IntermediateCA.crt
//
// ext is the ext.conf content (PostExtensions for the post's).
func (r *Root) Sign(t testing.TB, csrPEM []byte, ext string, days int) []byte {
	t.Helper()
	dir := t.TempDir()
	in := write(t, dir, "IntermediateCA.csr", string(csrPEM))
	out := filepath.Join(dir, "IntermediateCA.crt")
	Openssl(t, r.Dir, "x509", "-extfile", write(t, dir, "ext.conf", ext), "-req", "-in", in,
		"-CA", r.CertFile, "-CAkey", r.KeyFile, "-CAcreateserial", "-days", strconv.Itoa(days), "-sha256", "-out", out)
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// SignWithCA signs csrPEM with `openssl ca`, the minimal CA application the
// post names, instead of `openssl x509`: a database and serial file in a
// fresh directory, the subject taken from the CSR as it is, ext (ext.conf
// syntax) as the extensions, and returns the PEM certificate.
func (r *Root) SignWithCA(t testing.TB, csrPEM []byte, ext string, days int) []byte {
	t.Helper()
	dir := t.TempDir()
	write(t, dir, "index.txt", "")
	write(t, dir, "serial", "1000\n")
	conf := write(t, dir, "ca.cnf", `[ ca ]
default_ca = root
[ root ]
dir = `+dir+`
database = $dir/index.txt
serial = $dir/serial
new_certs_dir = $dir
certificate = `+r.CertFile+`
private_key = `+r.KeyFile+`
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[ any ]
commonName = supplied
countryName = optional
stateOrProvinceName = optional
localityName = optional
organizationName = optional
organizationalUnitName = optional
`)
	out := filepath.Join(dir, "IntermediateCA.crt")
	Openssl(t, dir, "ca", "-batch", "-config", conf, "-extfile", write(t, dir, "ext.conf", ext), "-days", strconv.Itoa(days),
		"-notext", "-preserveDN", "-in", write(t, dir, "IntermediateCA.csr", string(csrPEM)), "-out", out)
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Subordinate is the AWS Private CA side: the CA's key (which AWS never
// reveals; the tests need it to issue as the CA would) and its CSR.
type Subordinate struct {
	Key    crypto.Signer
	CsrPEM []byte
}

// NewSubordinate generates a key of alg and the CSR AWS Private CA returns
// from GetCertificateAuthorityCsr for a CA of that KeyAlgorithm and subject:
// the subject as configured, signed with the CA's signing algorithm.
func NewSubordinate(t testing.TB, subject pkix.Name, alg mtlstest.KeyAlgorithm) *Subordinate {
	t.Helper()
	key := mtlstest.NewKey(t, alg)
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: subject}, key)
	if err != nil {
		t.Fatal(err)
	}
	return &Subordinate{Key: key, CsrPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})}
}

// Hierarchy is the hierarchy after the import: the external root and the
// subordinate with certificatePEM as its certificate, ready to issue the
// end-entity certificates ACM and AWS Private CA would.
func (s *Subordinate) Hierarchy(t testing.TB, root *Root, certificatePEM []byte) *mtlstest.Hierarchy {
	t.Helper()
	return &mtlstest.Hierarchy{Root: &mtlstest.CA{Cert: root.Cert}, Issuing: &mtlstest.CA{Cert: parseCert(t, certificatePEM), Key: s.Key}}
}

// Openssl runs openssl args in dir and fails the test with its output.
func Openssl(t testing.TB, dir string, args ...string) {
	t.Helper()
	bin := mtlstest.Command(t, "openssl", "openssl")
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func write(t testing.TB, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func parseCert(t testing.TB, b []byte) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatalf("pcaimporttest: no PEM certificate in %q", b)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
