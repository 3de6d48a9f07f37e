// Package mtlstest builds, for tests, the material ACM Private CA and ACM
// produce: CA hierarchies with the AWS Private CA certificate templates,
// ACM private end-entity certificates, and the PKCS #8 encrypted private key
// ExportCertificate returns. It also starts nginx as an independent TLS peer.
// Nothing here talks to AWS.
package mtlstest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/securestacks/securestacks/internal/mtlssecret"
)

// KeyAlgorithm names a key type as ACM Private CA (KeyAlgorithm) and ACM
// (RequestCertificate KeyAlgorithm) spell it.
type KeyAlgorithm string

// The key algorithms the tests use.
const (
	RSA2048       KeyAlgorithm = "RSA_2048"
	ECPrime256v1  KeyAlgorithm = "EC_prime256v1"
	ECSecp384r1   KeyAlgorithm = "EC_secp384r1"
	defaultLeafCN              = "endpoint"
)

// NewKey generates a key of algorithm alg.
func NewKey(t testing.TB, alg KeyAlgorithm) crypto.Signer {
	t.Helper()
	var (
		k   crypto.Signer
		err error
	)
	switch alg {
	case RSA2048:
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	case ECPrime256v1:
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case ECSecp384r1:
		k, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	default:
		t.Fatalf("mtlstest: unknown key algorithm %q", alg)
	}
	if err != nil {
		t.Fatalf("mtlstest: generating %s key: %v", alg, err)
	}
	return k
}

// CA is one certificate authority: its certificate and key.
type CA struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// PEM returns the CA certificate as one PEM block.
func (c *CA) PEM() string { return EncodeCert(c.Cert) }

// Hierarchy is a root CA and the CA that issues end-entity certificates: a
// subordinate of the root (AWS's recommended two-level hierarchy) or, for a
// flat hierarchy, the root itself.
type Hierarchy struct {
	Root    *CA
	Issuing *CA
}

// HierarchyOptions tunes NewHierarchy. The zero value is a two-level RSA 2048
// hierarchy valid from an hour ago for ten years (root) and five (issuing).
type HierarchyOptions struct {
	// Flat makes the root the issuing CA, as the App Mesh walkthrough does.
	Flat bool
	// KeyAlgorithm of both CAs. Default RSA2048.
	KeyAlgorithm KeyAlgorithm
}

// NewHierarchy creates a hierarchy whose CA certificates follow the AWS
// Private CA templates RootCACertificate/V1 and
// SubordinateCACertificate_PathLen0/V1: basic constraints critical CA:TRUE
// (path length 0 on the subordinate), key usage critical digitalSignature,
// keyCertSign and cRLSign, subject and authority key identifiers.
func NewHierarchy(t testing.TB, name string, opts HierarchyOptions) *Hierarchy {
	t.Helper()
	alg := opts.KeyAlgorithm
	if alg == "" {
		alg = RSA2048
	}
	now := time.Now()
	rootKey := NewKey(t, alg)
	rootTmpl := caTemplate(t, name+" Root CA", now.Add(-time.Hour), now.AddDate(10, 0, 0), rootKey.Public())
	rootTmpl.MaxPathLen = -1
	root := &CA{Cert: sign(t, rootTmpl, rootTmpl, rootKey.Public(), rootKey), Key: rootKey}
	if opts.Flat {
		return &Hierarchy{Root: root, Issuing: root}
	}
	subKey := NewKey(t, alg)
	subTmpl := caTemplate(t, name+" Issuing CA", now.Add(-time.Hour), now.AddDate(5, 0, 0), subKey.Public())
	subTmpl.MaxPathLen = 0
	subTmpl.MaxPathLenZero = true
	sub := &CA{Cert: sign(t, subTmpl, root.Cert, subKey.Public(), root.Key), Key: subKey}
	return &Hierarchy{Root: root, Issuing: sub}
}

// Chain returns what ExportCertificate returns as CertificateChain: the
// issuing CA first and the root last, without the end-entity certificate.
func (h *Hierarchy) Chain() string {
	if h.Issuing == h.Root {
		return h.Root.PEM()
	}
	return h.Issuing.PEM() + h.Root.PEM()
}

// Leaf is an end-entity certificate and its key.
type Leaf struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// PEM returns the certificate as one PEM block.
func (l *Leaf) PEM() string { return EncodeCert(l.Cert) }

// LeafOptions tunes Issue. The zero value is an RSA 2048 server certificate
// valid from an hour ago for 395 days, ACM's validity for private
// certificates.
type LeafOptions struct {
	KeyAlgorithm KeyAlgorithm
	NotBefore    time.Time
	NotAfter     time.Time
	// ClientAuth issues the certificate AWS Private CA's
	// EndEntityClientAuthCertificate/V1 template makes (extended key usage
	// clientAuth only), as the gateway's client certificate is issued.
	// Default false: what ACM issues since 2025-06-11, serverAuth only.
	ClientAuth bool
}

// Issue creates a certificate for dnsName from the issuing CA, with ACM's
// end-entity profile: subject CN and DNS SAN dnsName, basic constraints
// CA:FALSE, key usage digitalSignature and keyEncipherment, and extended key
// usage serverAuth only: "Starting June 11, 2025, AWS Certificate Manager
// no longer issues certificates with the TLS Web Client Authentication
// (ClientAuth) Extended Key Usage"
// (https://docs.aws.amazon.com/acm/latest/userguide/acm-concepts.html). With
// ClientAuth, it is the client certificate of AWS Private CA's
// EndEntityClientAuthCertificate/V1 template instead.
func (h *Hierarchy) Issue(t testing.TB, dnsName string, opts LeafOptions) *Leaf {
	t.Helper()
	alg := opts.KeyAlgorithm
	if alg == "" {
		alg = RSA2048
	}
	if opts.NotBefore.IsZero() {
		opts.NotBefore = time.Now().Add(-time.Hour)
	}
	if opts.NotAfter.IsZero() {
		opts.NotAfter = opts.NotBefore.AddDate(0, 0, 395)
	}
	key := NewKey(t, alg)
	tmpl := &x509.Certificate{
		SerialNumber:          serial(t),
		Subject:               pkix.Name{CommonName: dnsName},
		DNSNames:              []string{dnsName},
		NotBefore:             opts.NotBefore,
		NotAfter:              opts.NotAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  false,
		SubjectKeyId:          keyID(t, key.Public()),
	}
	if opts.ClientAuth {
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	return &Leaf{Cert: sign(t, tmpl, h.Issuing.Cert, key.Public(), h.Issuing.Key), Key: key}
}

// Export returns the payload the export Lambda writes for leaf: what
// ExportCertificate returns (certificate, chain, key encrypted with
// passphrase under params) plus the passphrase and the certificate ARN.
func (h *Hierarchy) Export(t testing.TB, leaf *Leaf, passphrase string, params PBES2Params) *mtlssecret.Payload {
	t.Helper()
	pass, err := mtlssecret.ExportPassphrase(passphrase)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := EncryptPKCS8PEM(leaf.Key, pass, params)
	if err != nil {
		t.Fatal(err)
	}
	return &mtlssecret.Payload{
		CertificateArn:      "arn:aws:acm:eu-west-2:111122223333:certificate/" + strings.ToLower(leaf.Cert.SerialNumber.Text(16)),
		Certificate:         leaf.PEM(),
		Chain:               h.Chain(),
		EncryptedPrivateKey: enc,
		Passphrase:          passphrase,
	}
}

// Stored exports leaf as ACM would (ACMExport parameters, a fresh
// passphrase) and returns the payload as the container reads it back from
// Secrets Manager.
func (h *Hierarchy) Stored(t testing.TB, leaf *Leaf) *mtlssecret.Payload {
	t.Helper()
	raw, err := h.Export(t, leaf, Passphrase(t), ACMExport).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	p, err := mtlssecret.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Passphrase returns a passphrase as GetRandomPassword returns it with the
// options of package mtlssecret.
func Passphrase(t testing.TB) string {
	t.Helper()
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, mtlssecret.PassphraseLength)
	for i := range b {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			t.Fatal(err)
		}
		b[i] = alphabet[n.Int64()]
	}
	return string(b)
}

// EncodeCert returns c as one PEM CERTIFICATE block.
func EncodeCert(c *x509.Certificate) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: mtlssecret.PEMCertificate, Bytes: c.Raw}))
}

func caTemplate(t testing.TB, cn string, notBefore, notAfter time.Time, pub crypto.PublicKey) *x509.Certificate {
	t.Helper()
	return &x509.Certificate{
		SerialNumber:          serial(t),
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"securestacks test"}},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		SubjectKeyId:          keyID(t, pub),
	}
}

func sign(t testing.TB, tmpl, parent *x509.Certificate, pub crypto.PublicKey, signer crypto.Signer) *x509.Certificate {
	t.Helper()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		t.Fatalf("mtlstest: signing %s: %v", tmpl.Subject.CommonName, err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("mtlstest: %v", err)
	}
	return c
}

func serial(t testing.TB) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		t.Fatal(err)
	}
	return n.Add(n, big.NewInt(1))
}

// keyID is a SHA-1 over the DER SubjectPublicKeyInfo: any unique value is a
// valid key identifier, and the authority key identifier of each issued
// certificate is copied from it by crypto/x509.
func keyID(t testing.TB, pub crypto.PublicKey) []byte {
	t.Helper()
	spki, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatalf("mtlstest: %v", err)
	}
	sum := sha1.Sum(spki)
	return sum[:]
}
