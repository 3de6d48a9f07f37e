package mtlssecret

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// JSON keys of the payload. ECS reads single keys of the secret by these
// names (valueFrom "<secret-arn>:<key>::"), so they are part of the contract.
const (
	KeyCertificateArn      = "certificate_arn"
	KeyCertificate         = "certificate"
	KeyChain               = "chain"
	KeyEncryptedPrivateKey = "encrypted_private_key"
	KeyPassphrase          = "passphrase"
)

// PEM block types in a payload.
const (
	PEMCertificate         = "CERTIFICATE"
	PEMEncryptedPrivateKey = "ENCRYPTED PRIVATE KEY"
)

// MaxPayloadBytes bounds the secret value Parse accepts. Secrets Manager
// stores at most 65536 bytes; a payload with an RSA 4096 key and a
// three-certificate chain is about 9 KB.
const MaxPayloadBytes = 65536

// Payload is the value of an endpoint's secret: what ACM ExportCertificate
// returned, plus the passphrase the key is encrypted under.
type Payload struct {
	// CertificateArn is the ACM certificate this material was exported from.
	// Not secret; the renew Lambda compares it with its certificate map.
	CertificateArn string `json:"certificate_arn"`
	// Certificate is the end-entity certificate, one PEM CERTIFICATE block.
	Certificate string `json:"certificate"`
	// Chain is the issuing CA chain without the end-entity certificate,
	// issuer first and root last, one or more PEM CERTIFICATE blocks.
	Chain string `json:"chain"`
	// EncryptedPrivateKey is one PEM "ENCRYPTED PRIVATE KEY" block (PKCS #8
	// EncryptedPrivateKeyInfo), exactly as ExportCertificate returned it.
	EncryptedPrivateKey string `json:"encrypted_private_key"`
	// Passphrase decrypts EncryptedPrivateKey; see the package documentation
	// for its encoding.
	Passphrase string `json:"passphrase"`
}

// FieldError reports a payload field that is missing or malformed. Its
// message names the field and what was expected but never the value, which
// may be the passphrase or the key.
type FieldError struct {
	// Field is the JSON key, for example "chain".
	Field string
	// Expected says what the field must hold.
	Expected string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("mtlssecret: field %s: expected %s", e.Field, e.Expected)
}

// Parse decodes and validates a secret value. It rejects unknown keys,
// trailing data and values over MaxPayloadBytes, and returns a *FieldError
// for a field that Validate rejects. Errors are one line and never quote the
// value.
func Parse(data []byte) (*Payload, error) {
	if len(data) > MaxPayloadBytes {
		return nil, fmt.Errorf("mtlssecret: secret value: expected at most %d bytes, got %d", MaxPayloadBytes, len(data))
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var p Payload
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("mtlssecret: secret value: expected a JSON object with the keys %s: %s", strings.Join(keys(), ", "), describeJSONError(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("mtlssecret: secret value: expected one JSON object, got trailing data")
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

// describeJSONError says what was wrong without echoing the input: the
// json package quotes unknown keys (harmless) but also offending values.
func describeJSONError(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Sprintf("invalid JSON at byte %d", syntax.Offset)
	case errors.As(err, &typ):
		if typ.Field != "" {
			return fmt.Sprintf("key %s holds a JSON %s, not a string", typ.Field, typ.Value)
		}
		return fmt.Sprintf("got a JSON %s", typ.Value)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the value is empty or truncated"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "unknown key " + strings.TrimPrefix(err.Error(), "json: unknown field ")
	}
	return "invalid JSON"
}

func keys() []string {
	return []string{KeyCertificateArn, KeyCertificate, KeyChain, KeyEncryptedPrivateKey, KeyPassphrase}
}

// Validate checks every field: an ACM certificate ARN, exactly one parseable
// certificate, a chain of one or more parseable certificates, exactly one
// "ENCRYPTED PRIVATE KEY" block with nothing else around it, and a
// passphrase that ValidatePassphrase accepts.
func (p *Payload) Validate() error {
	if !strings.HasPrefix(p.CertificateArn, "arn:") || !strings.Contains(p.CertificateArn, ":acm:") || !strings.Contains(p.CertificateArn, ":certificate/") {
		return &FieldError{KeyCertificateArn, "an ACM certificate ARN (arn:<partition>:acm:<region>:<account>:certificate/<id>)"}
	}
	certs, err := parseCertificates(p.Certificate)
	if err != nil || len(certs) != 1 {
		return &FieldError{KeyCertificate, "exactly one PEM CERTIFICATE block holding an X.509 certificate"}
	}
	if certs, err := parseCertificates(p.Chain); err != nil || len(certs) == 0 {
		return &FieldError{KeyChain, "one or more PEM CERTIFICATE blocks holding X.509 certificates"}
	}
	if !singleBlock(p.EncryptedPrivateKey, PEMEncryptedPrivateKey) {
		return &FieldError{KeyEncryptedPrivateKey, "exactly one PEM \"ENCRYPTED PRIVATE KEY\" block (PKCS #8, as ACM ExportCertificate returns it)"}
	}
	if err := ValidatePassphrase(p.Passphrase); err != nil {
		return &FieldError{KeyPassphrase, err.Error()}
	}
	return nil
}

// Marshal validates p and encodes it as the secret value.
func (p *Payload) Marshal() ([]byte, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return json.Marshal(p)
}

// Leaf returns the parsed end-entity certificate.
func (p *Payload) Leaf() (*x509.Certificate, error) {
	certs, err := parseCertificates(p.Certificate)
	if err != nil || len(certs) != 1 {
		return nil, &FieldError{KeyCertificate, "exactly one PEM CERTIFICATE block holding an X.509 certificate"}
	}
	return certs[0], nil
}

// NotAfter returns the expiry of the end-entity certificate.
func (p *Payload) NotAfter() (time.Time, error) {
	leaf, err := p.Leaf()
	if err != nil {
		return time.Time{}, err
	}
	return leaf.NotAfter, nil
}

// parseCertificates decodes every PEM block of s. Anything but CERTIFICATE
// blocks and the whitespace between them is an error.
func parseCertificates(s string) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	rest := []byte(s)
	for {
		block, next, ok := nextBlock(rest)
		if !ok {
			return nil, errors.New("data outside PEM blocks")
		}
		if block == nil {
			return out, nil
		}
		if block.Type != PEMCertificate || len(block.Headers) != 0 {
			return nil, errors.New("not a CERTIFICATE block")
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
		rest = next
	}
}

// singleBlock reports whether s is exactly one PEM block of type typ without
// headers, optionally surrounded by whitespace.
func singleBlock(s, typ string) bool {
	block, rest, ok := nextBlock([]byte(s))
	if !ok || block == nil || block.Type != typ || len(block.Headers) != 0 || len(block.Bytes) == 0 {
		return false
	}
	end, _, ok := nextBlock(rest)
	return ok && end == nil
}

// nextBlock decodes the PEM block at the start of data, after whitespace.
// It returns (nil, nil, true) at the end of data and ok false when data holds
// anything else: pem.Decode alone would skip text before a block.
func nextBlock(data []byte) (block *pem.Block, rest []byte, ok bool) {
	data = bytes.TrimLeft(data, " \t\r\n")
	if len(data) == 0 {
		return nil, nil, true
	}
	block, rest = pem.Decode(data)
	if block == nil || !bytes.HasPrefix(data, []byte("-----BEGIN "+block.Type+"-----")) {
		return nil, nil, false
	}
	return block, rest, true
}
