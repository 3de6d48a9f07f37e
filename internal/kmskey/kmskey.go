// Package kmskey reads the public half of a KMS asymmetric key: it fetches it
// with GetPublicKey, parses it from the DER or PEM that KMS, openssl and the
// published copies carry, and encodes it as PEM. The CLI (kms verify, fle
// encrypt) and the kms-public-key Lambda share it, so a key that one of them
// writes is a key the others read.
package kmskey

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/decred/dcrd/dcrec/secp256k1/v4"
)

// PEMType is the PEM block type of a DER SubjectPublicKeyInfo, the form
// `openssl rsa -pubin -pubout` and the KMS console write.
const PEMType = "PUBLIC KEY"

// GetPublicKeyAPI is the part of the KMS client that Fetch needs.
type GetPublicKeyAPI interface {
	GetPublicKey(ctx context.Context, in *kms.GetPublicKeyInput, optFns ...func(*kms.Options)) (*kms.GetPublicKeyOutput, error)
}

var _ GetPublicKeyAPI = (*kms.Client)(nil)

// PublicKey is the public half of a KMS key as GetPublicKey returns it.
type PublicKey struct {
	// KeyID is the key ARN that KMS resolved the requested id or alias to.
	KeyID string
	// DER is the DER-encoded X.509 SubjectPublicKeyInfo.
	DER []byte
	// KeySpec is the key spec, e.g. "RSA_4096" or "ECC_NIST_P256".
	KeySpec string
	// KeyUsage is "SIGN_VERIFY" or "ENCRYPT_DECRYPT".
	KeyUsage string
}

// PEM returns the key as a PEM "PUBLIC KEY" block.
func (p *PublicKey) PEM() []byte { return EncodePEM(p.DER) }

// Fetch calls GetPublicKey for keyID (a key id, key ARN, alias name or alias
// ARN) and checks that the returned key parses.
func Fetch(ctx context.Context, api GetPublicKeyAPI, keyID string) (*PublicKey, error) {
	if keyID == "" {
		return nil, errors.New("kmskey: key id: expected a key id, key ARN or alias, got an empty string")
	}
	out, err := api.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: &keyID})
	if err != nil {
		return nil, fmt.Errorf("kmskey: GetPublicKey %s: %w", keyID, err)
	}
	if len(out.PublicKey) == 0 {
		return nil, fmt.Errorf("kmskey: GetPublicKey %s: the response holds no public key", keyID)
	}
	if _, err := ParsePublicKey(out.PublicKey); err != nil {
		return nil, fmt.Errorf("kmskey: GetPublicKey %s: %w", keyID, err)
	}
	p := &PublicKey{
		KeyID:    keyID,
		DER:      out.PublicKey,
		KeySpec:  string(out.KeySpec),
		KeyUsage: string(out.KeyUsage),
	}
	if out.KeyId != nil {
		p.KeyID = *out.KeyId
	}
	return p, nil
}

// EncodePEM wraps a DER SubjectPublicKeyInfo in a PEM "PUBLIC KEY" block.
func EncodePEM(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: PEMType, Bytes: der})
}

// ParsePublicKey parses a public key given as a PEM "PUBLIC KEY" block or as
// raw DER SubjectPublicKeyInfo, the two forms GetPublicKey output is stored in.
// It returns *rsa.PublicKey, *ecdsa.PublicKey (NIST curves) or
// *secp256k1.PublicKey (ECC_SECG_P256K1, which crypto/x509 does not know).
// Text around a PEM block is ignored, as openssl ignores it; a PEM private key
// or certificate is refused so that nobody verifies against the wrong thing.
func ParsePublicKey(data []byte) (crypto.PublicKey, error) {
	der := data
	if bytes.Contains(data, []byte("-----BEGIN")) {
		block, _ := pem.Decode(data)
		if block == nil {
			return nil, errors.New("public key: malformed PEM: expected a -----BEGIN PUBLIC KEY----- block")
		}
		if block.Type != PEMType {
			return nil, fmt.Errorf("public key: PEM block is %q: expected %q", block.Type, PEMType)
		}
		der = block.Bytes
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err == nil {
		switch pub.(type) {
		case *rsa.PublicKey, *ecdsa.PublicKey:
			return pub, nil
		}
		return nil, fmt.Errorf("public key: %T keys are not KMS asymmetric keys: expected RSA or ECC", pub)
	}
	if k, ok := parseSecp256k1(der); ok {
		return k, nil
	}
	return nil, fmt.Errorf("public key: expected PEM or DER SubjectPublicKeyInfo: %w", err)
}

var (
	oidECPublicKey = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidSecp256k1   = asn1.ObjectIdentifier{1, 3, 132, 0, 10}
)

type subjectPublicKeyInfo struct {
	Algorithm pkix.AlgorithmIdentifier
	PublicKey asn1.BitString
}

// parseSecp256k1 reads an id-ecPublicKey SubjectPublicKeyInfo on the
// secp256k1 curve, which x509.ParsePKIXPublicKey rejects as unsupported.
func parseSecp256k1(der []byte) (*secp256k1.PublicKey, bool) {
	var spki subjectPublicKeyInfo
	rest, err := asn1.Unmarshal(der, &spki)
	if err != nil || len(rest) != 0 || !spki.Algorithm.Algorithm.Equal(oidECPublicKey) {
		return nil, false
	}
	var curve asn1.ObjectIdentifier
	if rest, err := asn1.Unmarshal(spki.Algorithm.Parameters.FullBytes, &curve); err != nil || len(rest) != 0 || !curve.Equal(oidSecp256k1) {
		return nil, false
	}
	k, err := secp256k1.ParsePubKey(spki.PublicKey.RightAlign())
	if err != nil {
		return nil, false
	}
	return k, true
}
