// Package pcaimport checks, before the call, what
// ImportCertificateAuthorityCertificate would install on an AWS Private CA
// subordinate whose root is outside AWS (the portable-root path): the
// certificate an external root signed for the subordinate's CSR, and the
// chain up to that root. `securestacks pca import` runs it; each problem is
// one line that names what is wrong.
//
// The rules are AWS Private CA's for an imported CA certificate
// (https://docs.aws.amazon.com/privateca/latest/APIReference/API_ImportCertificateAuthorityCertificate.html):
// a subordinate certificate is not self-signed, the chain does not include
// it, the root is last and each certificate signs the one before it, the
// chain is PEM, a certificate is at most 32 KB and the chain at most 2 MB,
// basic constraints are marked critical, and authority information access,
// CRL distribution points, freshest CRL, policy constraints and any
// extension not on AWS's list are never critical. On top of those, it
// checks what the mTLS system needs of the CA: its key is the one of its CSR,
// it may sign certificates (CA:TRUE, keyCertSign) at the path length it
// issues at, and it outlives the certificates ACM issues from it.
package pcaimport

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Size limits of ImportCertificateAuthorityCertificate.
const (
	MaxCertificateBytes = 32 * 1024
	MaxChainBytes       = 2 * 1024 * 1024
)

// Input is what the import would send, plus what the CA must do afterwards.
type Input struct {
	// Csr is the subordinate's CSR (PEM), as GetCertificateAuthorityCsr
	// returns it: it holds the CA's public key.
	Csr []byte
	// Certificate is the PEM certificate the external root signed for Csr.
	Certificate []byte
	// Chain is the PEM chain: the certificate's issuer first, the root last.
	Chain []byte
	// Now is the time of the check. Default time.Now().
	Now time.Time
	// PathLen is how many CA levels the subordinate issues below itself: 0
	// (the default) when it issues end-entity certificates only, as the
	// mTLS system's issuing CA does.
	PathLen int
	// MinValidityDays: the certificate must stay valid this many days from
	// Now, or the import fails (the validity of the certificates the CA
	// issues: AWS Private CA refuses one that outlives the CA).
	MinValidityDays int
	// WarnValidityDays: a certificate that ends sooner than this many days
	// from Now is imported with a warning that names its end date.
	WarnValidityDays int
}

// Result is a certificate that passed: its parsed form and the warnings,
// one line each.
type Result struct {
	Certificate *x509.Certificate
	Chain       []*x509.Certificate
	Warnings    []string
}

// Critical extensions AWS Private CA accepts in an imported CA certificate
// or chain.
var allowedCritical = map[string]string{
	"2.5.29.35":          "authority key identifier",
	"2.5.29.19":          "basic constraints",
	"2.5.29.32":          "certificate policies",
	"2.5.29.37":          "extended key usage",
	"2.5.29.54":          "inhibit anyPolicy",
	"2.5.29.18":          "issuer alternative name",
	"2.5.29.15":          "key usage",
	"2.5.29.30":          "name constraints",
	"2.5.29.33":          "policy mappings",
	"2.5.29.17":          "subject alternative name",
	"2.5.29.9":           "subject directory attributes",
	"2.5.29.14":          "subject key identifier",
	"1.3.6.1.5.5.7.1.11": "subject information access",
}

var basicConstraintsOID = asn1.ObjectIdentifier{2, 5, 29, 19}

// Check validates in and returns the parsed certificate and chain with the
// warnings, or the first problem found.
func Check(in Input) (*Result, error) {
	now := in.Now
	if now.IsZero() {
		now = time.Now()
	}
	csr, err := parseCsr(in.Csr)
	if err != nil {
		return nil, err
	}
	if len(in.Certificate) > MaxCertificateBytes {
		return nil, fmt.Errorf("certificate: %d bytes, expected at most %d (AWS Private CA's limit)", len(in.Certificate), MaxCertificateBytes)
	}
	if len(in.Chain) > MaxChainBytes {
		return nil, fmt.Errorf("chain: %d bytes, expected at most %d (AWS Private CA's limit)", len(in.Chain), MaxChainBytes)
	}
	certs, err := parseCerts("certificate", in.Certificate)
	if err != nil {
		return nil, err
	}
	if len(certs) != 1 {
		return nil, fmt.Errorf("certificate: %d certificates, expected exactly one (the subordinate's; the issuers go in the chain)", len(certs))
	}
	cert := certs[0]
	chain, err := parseCerts("chain", in.Chain)
	if err != nil {
		return nil, err
	}

	// The key: the certificate must be for the CA's own key pair.
	if pub, ok := cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(csr.PublicKey) {
		return nil, fmt.Errorf("wrong key: the certificate %s is not for the key of the CA's CSR (%s): expected the certificate the root signed for this CA's CSR", name(cert), csr.Subject)
	}
	if isSelfSigned(cert) {
		return nil, fmt.Errorf("certificate %s is self-signed: AWS Private CA imports a self-signed certificate only as a root; expected the certificate the external root signed", name(cert))
	}

	// The chain: issuer first, root last, each certificate signing the one before.
	for i, c := range chain {
		if bytes.Equal(c.Raw, cert.Raw) {
			return nil, fmt.Errorf("chain: certificate %d is the subordinate's own certificate: expected only its issuers (AWS Private CA refuses a chain that includes the imported certificate)", i+1)
		}
	}
	if err := checkLinks(cert, chain); err != nil {
		return nil, err
	}

	// What the subordinate must be: a CA that signs certificates.
	if !cert.BasicConstraintsValid || !cert.IsCA {
		return nil, fmt.Errorf("certificate %s has basic constraints CA:FALSE (or none): expected critical CA:TRUE (basicConstraints = critical, CA:true)", name(cert))
	}
	for _, c := range append([]*x509.Certificate{cert}, chain...) {
		if err := criticalExtensions(c); err != nil {
			return nil, err
		}
	}
	if cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, fmt.Errorf("certificate %s lacks key usage keyCertSign: expected keyUsage = critical, digitalSignature, cRLSign, keyCertSign", name(cert))
	}
	if allowed, ok := pathLen(cert); ok && allowed < in.PathLen {
		return nil, fmt.Errorf("path length too small: certificate %s allows %d CA levels below it, expected at least %d", name(cert), allowed, in.PathLen)
	}
	for i, c := range chain {
		// Below chain[i]: chain[0..i-1], the subordinate and its own CA levels.
		need := i + 1 + in.PathLen
		if allowed, ok := pathLen(c); ok && allowed < need {
			return nil, fmt.Errorf("path length too small: chain certificate %d %s has pathlen:%d, which forbids the %d CA certificate(s) below it (the subordinate included); expected pathlen:%d or none on the issuer", i+1, name(c), allowed, need, need)
		}
	}

	// Validity.
	for i, c := range append([]*x509.Certificate{cert}, chain...) {
		what := "certificate " + name(c)
		if i > 0 {
			what = fmt.Sprintf("chain certificate %d %s", i, name(c))
		}
		if now.Before(c.NotBefore) {
			return nil, fmt.Errorf("%s is not valid before %s", what, day(c.NotBefore))
		}
		if now.After(c.NotAfter) {
			return nil, fmt.Errorf("%s expired on %s", what, day(c.NotAfter))
		}
	}
	res := &Result{Certificate: cert, Chain: chain}
	ends := day(cert.NotAfter)
	if min := now.AddDate(0, 0, in.MinValidityDays); cert.NotAfter.Before(min) {
		return nil, fmt.Errorf("expiry too soon: certificate %s ends %s, before the %d-day certificates it must issue from now would (%s): expected a certificate valid until at least %s", name(cert), ends, in.MinValidityDays, day(min), day(min))
	}
	if warn := now.AddDate(0, 0, in.WarnValidityDays); cert.NotAfter.Before(warn) {
		res.Warnings = append(res.Warnings, fmt.Sprintf("the subordinate certificate ends %s, before %s (%d days from now): certificates issued or renewed after %s cannot be issued, and the expiry alarm fires from the start; have the root sign a longer one", ends, day(warn), in.WarnValidityDays, day(cert.NotAfter.AddDate(0, 0, -in.MinValidityDays))))
	}
	for i, c := range chain {
		// A day's grace: the post signs the subordinate for as long as the root.
		if c.NotAfter.Before(cert.NotAfter.Add(-24 * time.Hour)) {
			res.Warnings = append(res.Warnings, fmt.Sprintf("chain certificate %d %s ends %s, before the subordinate (%s): peers stop trusting the subordinate's certificates on %s", i+1, name(c), day(c.NotAfter), ends, day(c.NotAfter)))
		}
	}
	return res, nil
}

// ParseChain parses a PEM chain that ends in a self-signed root and in which
// each certificate signs the one before it, as ImportCertificateAuthorityCertificate
// takes it (and as a peer's trust bundle of an external root is given).
func ParseChain(b []byte) ([]*x509.Certificate, error) {
	chain, err := parseCerts("chain", b)
	if err != nil {
		return nil, err
	}
	if err := checkLinks(nil, chain); err != nil {
		return nil, err
	}
	return chain, nil
}

// checkLinks checks that chain is ordered issuer first, root last, each
// certificate signing the one before it (and cert, unless nil).
func checkLinks(cert *x509.Certificate, chain []*x509.Certificate) error {
	for i, c := range chain[:len(chain)-1] {
		if isSelfSigned(c) {
			return fmt.Errorf("broken chain: chain certificate %d %s is a self-signed root but not last: expected the root CA last, after the CAs it signed", i+1, name(c))
		}
	}
	for i, c := range chain {
		// A version 1 root has no extensions and is a CA by being trusted;
		// every other issuer must say CA:TRUE.
		root := i == len(chain)-1 && c.Version == 1
		if (c.BasicConstraintsValid && !c.IsCA) || (!c.BasicConstraintsValid && !root) {
			return fmt.Errorf("broken chain: chain certificate %d %s is not a CA (basic constraints CA:FALSE or missing)", i+1, name(c))
		}
		child := cert
		if i > 0 {
			child = chain[i-1]
		}
		if child == nil {
			continue
		}
		if err := child.CheckSignatureFrom(c); err != nil {
			return fmt.Errorf("broken chain: %s is not signed by chain certificate %d %s: expected the chain in order, the issuer of the certificate first and the root last (%v)", name(child), i+1, name(c), err)
		}
	}
	root := chain[len(chain)-1]
	if !isSelfSigned(root) {
		return fmt.Errorf("broken chain: the last chain certificate %s is not self-signed: expected the root CA last", name(root))
	}
	if err := root.CheckSignature(root.SignatureAlgorithm, root.RawTBSCertificate, root.Signature); err != nil {
		return fmt.Errorf("broken chain: the root %s does not verify its own signature: %v", name(root), err)
	}
	return nil
}

// pathLen is the certificate's pathLenConstraint, and whether it has one.
func pathLen(c *x509.Certificate) (int, bool) {
	if c.MaxPathLen > 0 || (c.MaxPathLen == 0 && c.MaxPathLenZero) {
		return c.MaxPathLen, true
	}
	return 0, false
}

func criticalExtensions(c *x509.Certificate) error {
	bcCritical := false
	for _, e := range c.Extensions {
		if e.Id.Equal(basicConstraintsOID) {
			bcCritical = e.Critical
		}
		if !e.Critical {
			continue
		}
		if _, ok := allowedCritical[e.Id.String()]; !ok {
			return fmt.Errorf("certificate %s marks extension %s critical: AWS Private CA rejects it critical (only %s may be)", name(c), e.Id, allowedList())
		}
	}
	if c.BasicConstraintsValid && c.IsCA && !bcCritical {
		return fmt.Errorf("certificate %s has basic constraints not marked critical: AWS Private CA requires them critical (basicConstraints = critical, CA:true)", name(c))
	}
	return nil
}

func allowedList() string {
	names := make([]string, 0, len(allowedCritical))
	for _, n := range allowedCritical {
		names = append(names, n)
	}
	// Stable order for the message.
	for i := 1; i < len(names); i++ {
		for j := i; j > 0 && names[j] < names[j-1]; j-- {
			names[j], names[j-1] = names[j-1], names[j]
		}
	}
	return strings.Join(names, ", ")
}

func parseCsr(b []byte) (*x509.CertificateRequest, error) {
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "CERTIFICATE REQUEST" {
		return nil, errors.New("CSR: expected a PEM CERTIFICATE REQUEST block")
	}
	csr, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("CSR: %v", err)
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, fmt.Errorf("CSR: bad signature: %v", err)
	}
	return csr, nil
}

// parseCerts reads every PEM CERTIFICATE block of b; anything else fails.
func parseCerts(what string, b []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	rest := bytes.TrimSpace(b)
	for len(rest) > 0 {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, fmt.Errorf("%s: expected PEM CERTIFICATE blocks only (AWS Private CA takes PEM), found other data after %d certificate(s)", what, len(out))
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("%s: found a PEM %s block, expected CERTIFICATE", what, block.Type)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: certificate %d: %v", what, len(out)+1, err)
		}
		out = append(out, c)
		rest = bytes.TrimSpace(rest)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no PEM CERTIFICATE block", what)
	}
	return out, nil
}

// isSelfSigned says whether c names itself as its issuer (a root); its
// signature is checked where it matters, with a message of its own.
func isSelfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawSubject, c.RawIssuer)
}

func name(c *x509.Certificate) string { return "(" + c.Subject.String() + ")" }

func day(t time.Time) string { return t.UTC().Format("2006-01-02") }
