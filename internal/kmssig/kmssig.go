// Package kmssig signs with KMS asymmetric keys and verifies their signatures
// offline, with the public key alone, exactly as KMS computes them: the nine
// KMS signing algorithms over a RAW message or a precomputed DIGEST, RSA
// signatures as raw bytes and ECDSA signatures as DER, the forms
// `openssl dgst -verify` reads.
package kmssig

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	_ "crypto/sha256" // registers SHA-256 for crypto.Hash.New
	_ "crypto/sha512" // registers SHA-384 and SHA-512
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	secpecdsa "github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
)

// Algorithm is a KMS signing algorithm (SigningAlgorithmSpec).
type Algorithm string

// The KMS signing algorithms for RSA and ECC keys.
const (
	RsassaPssSha256      Algorithm = "RSASSA_PSS_SHA_256"
	RsassaPssSha384      Algorithm = "RSASSA_PSS_SHA_384"
	RsassaPssSha512      Algorithm = "RSASSA_PSS_SHA_512"
	RsassaPkcs1V15Sha256 Algorithm = "RSASSA_PKCS1_V1_5_SHA_256"
	RsassaPkcs1V15Sha384 Algorithm = "RSASSA_PKCS1_V1_5_SHA_384"
	RsassaPkcs1V15Sha512 Algorithm = "RSASSA_PKCS1_V1_5_SHA_512"
	EcdsaSha256          Algorithm = "ECDSA_SHA_256"
	EcdsaSha384          Algorithm = "ECDSA_SHA_384"
	EcdsaSha512          Algorithm = "ECDSA_SHA_512"
)

// Algorithms lists every Algorithm, in KMS documentation order.
var Algorithms = []Algorithm{
	RsassaPssSha256, RsassaPssSha384, RsassaPssSha512,
	RsassaPkcs1V15Sha256, RsassaPkcs1V15Sha384, RsassaPkcs1V15Sha512,
	EcdsaSha256, EcdsaSha384, EcdsaSha512,
}

// ParseAlgorithm returns the Algorithm named s (exact KMS spelling).
func ParseAlgorithm(s string) (Algorithm, error) {
	for _, a := range Algorithms {
		if string(a) == s {
			return a, nil
		}
	}
	names := make([]string, len(Algorithms))
	for i, a := range Algorithms {
		names[i] = string(a)
	}
	return "", fmt.Errorf("algorithm: expected one of %s, got %q", strings.Join(names, ", "), s)
}

// Hash is the digest the algorithm signs.
func (a Algorithm) Hash() crypto.Hash {
	switch {
	case strings.HasSuffix(string(a), "_SHA_256"):
		return crypto.SHA256
	case strings.HasSuffix(string(a), "_SHA_384"):
		return crypto.SHA384
	case strings.HasSuffix(string(a), "_SHA_512"):
		return crypto.SHA512
	}
	return 0
}

// OpenSSLDigest is the `openssl dgst` option that selects a's hash: -sha256,
// -sha384 or -sha512.
func (a Algorithm) OpenSSLDigest() string {
	return "-" + strings.ToLower(strings.ReplaceAll(a.Hash().String(), "-", ""))
}

func (a Algorithm) isPSS() bool   { return strings.HasPrefix(string(a), "RSASSA_PSS_") }
func (a Algorithm) isRSA() bool   { return strings.HasPrefix(string(a), "RSASSA_") }
func (a Algorithm) isECDSA() bool { return strings.HasPrefix(string(a), "ECDSA_") }

// MessageType says whether a message is the data itself or its digest, as in
// the KMS Sign and Verify APIs.
type MessageType string

// The KMS message types.
const (
	// MessageRaw messages are hashed with the algorithm's hash before signing.
	MessageRaw MessageType = "RAW"
	// MessageDigest messages are already that hash and are signed as given.
	MessageDigest MessageType = "DIGEST"
)

// ParseMessageType returns the MessageType named s: RAW or DIGEST (any case).
func ParseMessageType(s string) (MessageType, error) {
	switch MessageType(strings.ToUpper(s)) {
	case MessageRaw:
		return MessageRaw, nil
	case MessageDigest:
		return MessageDigest, nil
	}
	return "", fmt.Errorf("message type: expected RAW or DIGEST, got %q", s)
}

// MaxRawMessage is the largest message KMS Sign accepts as RAW. Longer
// messages must be hashed by the caller and signed as DIGEST.
const MaxRawMessage = 4096

// ErrVerification means the signature does not match the message and key: the
// one outcome of Verify that is about the data, not about the inputs.
var ErrVerification = errors.New("signature verification failed")

// Digest returns the digest Verify and Sign work on: message itself when mt
// is MessageDigest (after checking its length), else its hash under a.
func Digest(a Algorithm, mt MessageType, message []byte) ([]byte, error) {
	h := a.Hash()
	if h == 0 {
		return nil, fmt.Errorf("algorithm: %q is not a KMS signing algorithm", a)
	}
	switch mt {
	case MessageDigest:
		if len(message) != h.Size() {
			return nil, fmt.Errorf("message: a %s digest for %s is %d bytes, got %d", h, a, h.Size(), len(message))
		}
		return message, nil
	case MessageRaw:
		d := h.New()
		d.Write(message)
		return d.Sum(nil), nil
	}
	return nil, fmt.Errorf("message type: expected RAW or DIGEST, got %q", mt)
}

// CheckKey reports whether pub can carry a: RSA algorithms need an RSA key;
// ECDSA needs an ECC key on the curve KMS pairs with the hash (P-256 and
// secp256k1 with SHA-256, P-384 with SHA-384, P-521 with SHA-512).
func CheckKey(pub crypto.PublicKey, a Algorithm) error {
	want := ""
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if a.isRSA() {
			return nil
		}
		return fmt.Errorf("algorithm: %s needs an ECC key, got an RSA-%d key", a, k.N.BitLen())
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			want = string(EcdsaSha256)
		case elliptic.P384():
			want = string(EcdsaSha384)
		case elliptic.P521():
			want = string(EcdsaSha512)
		default:
			return fmt.Errorf("public key: curve %s is not a KMS curve", k.Curve.Params().Name)
		}
	case *secp256k1.PublicKey:
		want = string(EcdsaSha256)
	default:
		return fmt.Errorf("public key: %T is not a KMS signing key", pub)
	}
	if !a.isECDSA() {
		return fmt.Errorf("algorithm: %s needs an RSA key, got an ECC key", a)
	}
	if string(a) != want {
		return fmt.Errorf("algorithm: KMS signs with this ECC key only as %s, got %s", want, a)
	}
	return nil
}

// Verify checks signature over message (or its digest, see MessageType) with
// pub under a, as KMS Verify would, but offline. It returns ErrVerification
// (wrapped) when the signature does not match, including a signature that is
// not even well-formed, and another error when the inputs cannot be used
// together (wrong key type for a, a DIGEST of the wrong length).
//
// RSASSA-PSS signatures are accepted with any salt length: AWS KMS uses the
// digest length, local-kms the maximum, and both are valid PSS.
func Verify(pub crypto.PublicKey, a Algorithm, mt MessageType, message, signature []byte) error {
	if err := CheckKey(pub, a); err != nil {
		return err
	}
	digest, err := Digest(a, mt, message)
	if err != nil {
		return err
	}
	ok := false
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if a.isPSS() {
			err = rsa.VerifyPSS(k, a.Hash(), digest, signature, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto, Hash: a.Hash()})
		} else {
			err = rsa.VerifyPKCS1v15(k, a.Hash(), digest, signature)
		}
		ok = err == nil
	case *ecdsa.PublicKey:
		ok = ecdsa.VerifyASN1(k, digest, signature)
	case *secp256k1.PublicKey:
		if sig, err := secpecdsa.ParseDERSignature(signature); err == nil {
			ok = sig.Verify(digest, k)
		}
	}
	if !ok {
		return fmt.Errorf("%s: %w", a, ErrVerification)
	}
	return nil
}

// SignAPI is the part of the KMS client that Sign needs.
type SignAPI interface {
	Sign(ctx context.Context, in *kms.SignInput, optFns ...func(*kms.Options)) (*kms.SignOutput, error)
}

var _ SignAPI = (*kms.Client)(nil)

// Signature is the result of Sign.
type Signature struct {
	// Bytes is the signature as KMS returns it (raw RSA, DER ECDSA).
	Bytes []byte
	// KeyID is the ARN of the key that signed.
	KeyID string
	// MessageType is what was sent to KMS: DIGEST when Sign hashed a long
	// RAW message locally.
	MessageType MessageType
}

// Sign signs message with the KMS key keyID under a. A RAW message longer than
// MaxRawMessage is hashed here and sent as DIGEST, so that message never
// leaves the machine; the signature is the one KMS would compute over the RAW
// message, and verifies as RAW or as DIGEST alike.
func Sign(ctx context.Context, api SignAPI, keyID string, a Algorithm, mt MessageType, message []byte) (*Signature, error) {
	if keyID == "" {
		return nil, errors.New("key id: expected a key id, key ARN or alias, got an empty string")
	}
	if a.Hash() == 0 {
		return nil, fmt.Errorf("algorithm: %q is not a KMS signing algorithm", a)
	}
	send, sendType := message, mt
	switch {
	case mt == MessageRaw && len(message) > MaxRawMessage:
		d, _ := Digest(a, MessageRaw, message)
		send, sendType = d, MessageDigest
	case mt == MessageDigest:
		if _, err := Digest(a, MessageDigest, message); err != nil {
			return nil, err
		}
	case mt != MessageRaw:
		return nil, fmt.Errorf("message type: expected RAW or DIGEST, got %q", mt)
	}
	out, err := api.Sign(ctx, &kms.SignInput{
		KeyId:            &keyID,
		Message:          send,
		MessageType:      types.MessageType(sendType),
		SigningAlgorithm: types.SigningAlgorithmSpec(a),
	})
	if err != nil {
		return nil, fmt.Errorf("kms Sign %s: %w", keyID, err)
	}
	s := &Signature{Bytes: out.Signature, KeyID: keyID, MessageType: sendType}
	if out.KeyId != nil {
		s.KeyID = *out.KeyId
	}
	return s, nil
}
