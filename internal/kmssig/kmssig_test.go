package kmssig_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	secpecdsa "github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"

	"github.com/securestacks/securestacks/internal/kmssig"
)

// signFunc is a fake KMS Sign.
type signFunc func(ctx context.Context, in *kms.SignInput, optFns ...func(*kms.Options)) (*kms.SignOutput, error)

func (f signFunc) Sign(ctx context.Context, in *kms.SignInput, optFns ...func(*kms.Options)) (*kms.SignOutput, error) {
	return f(ctx, in, optFns...)
}

var rsaKey = func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}()

func mustECDSA(c elliptic.Curve) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

func TestParseAlgorithmAcceptsEveryKMSNameAndRejectsOthers(t *testing.T) {
	// GIVEN every KMS signing algorithm name
	for _, a := range kmssig.Algorithms {
		// WHEN it is parsed THEN it comes back unchanged with a hash
		got, err := kmssig.ParseAlgorithm(string(a))
		if err != nil || got != a || got.Hash() == 0 {
			t.Errorf("ParseAlgorithm(%s) = %s, %v (hash %v)", a, got, err, got.Hash())
		}
	}
	if len(kmssig.Algorithms) != 9 {
		t.Errorf("%d algorithms, want the 9 KMS RSA and ECC signing algorithms", len(kmssig.Algorithms))
	}
	// GIVEN names KMS does not use for RSA or ECC keys
	for _, bad := range []string{"", "rsassa_pss_sha_256", "SM2DSA", "ECDSA_SHA_1", "RSASSA_PSS_SHA_256 "} {
		// WHEN parsed THEN the error names the flag and lists what is expected
		_, err := kmssig.ParseAlgorithm(bad)
		if err == nil || !strings.HasPrefix(err.Error(), "algorithm: expected one of RSASSA_PSS_SHA_256,") {
			t.Errorf("ParseAlgorithm(%q) error = %v", bad, err)
		}
	}
}

func TestOpenSSLDigestNamesTheHash(t *testing.T) {
	cases := map[kmssig.Algorithm]string{
		kmssig.RsassaPkcs1V15Sha512: "-sha512",
		kmssig.RsassaPssSha384:      "-sha384",
		kmssig.EcdsaSha256:          "-sha256",
	}
	for a, want := range cases {
		// GIVEN an algorithm WHEN its openssl digest option is asked for THEN it matches the hash
		if got := a.OpenSSLDigest(); got != want {
			t.Errorf("%s: %q, want %q", a, got, want)
		}
	}
}

func TestParseMessageType(t *testing.T) {
	cases := []struct {
		in   string
		want kmssig.MessageType
		err  bool
	}{
		{"RAW", kmssig.MessageRaw, false},
		{"raw", kmssig.MessageRaw, false},
		{"DIGEST", kmssig.MessageDigest, false},
		{"", "", true},
		{"HASH", "", true},
	}
	for _, tc := range cases {
		// GIVEN a --message-type value WHEN parsed THEN RAW/DIGEST in any case are accepted
		got, err := kmssig.ParseMessageType(tc.in)
		if got != tc.want || (err != nil) != tc.err {
			t.Errorf("ParseMessageType(%q) = %q, %v", tc.in, got, err)
		}
		if err != nil && !strings.Contains(err.Error(), "expected RAW or DIGEST") {
			t.Errorf("error %q does not say what is expected", err)
		}
	}
}

// signLocally produces the signature KMS would for a, with a private key.
func signLocally(t testing.TB, priv crypto.Signer, a kmssig.Algorithm, msg []byte, pssSalt int) []byte {
	t.Helper()
	digest, err := kmssig.Digest(a, kmssig.MessageRaw, msg)
	if err != nil {
		t.Fatal(err)
	}
	var opts crypto.SignerOpts = a.Hash()
	if strings.HasPrefix(string(a), "RSASSA_PSS_") {
		opts = &rsa.PSSOptions{SaltLength: pssSalt, Hash: a.Hash()}
	}
	sig, err := priv.Sign(rand.Reader, digest, opts)
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

func TestVerifyAcceptsGoodAndRejectsTamperedSignatures(t *testing.T) {
	msg := []byte("message to verify")
	p256, p384, p521 := mustECDSA(elliptic.P256()), mustECDSA(elliptic.P384()), mustECDSA(elliptic.P521())
	cases := []struct {
		name string
		priv crypto.Signer
		pub  crypto.PublicKey
		a    kmssig.Algorithm
		salt int
	}{
		{"PKCS1 SHA-256", rsaKey, &rsaKey.PublicKey, kmssig.RsassaPkcs1V15Sha256, 0},
		{"PKCS1 SHA-512", rsaKey, &rsaKey.PublicKey, kmssig.RsassaPkcs1V15Sha512, 0},
		{"PSS SHA-256 salt = hash length (AWS KMS)", rsaKey, &rsaKey.PublicKey, kmssig.RsassaPssSha256, rsa.PSSSaltLengthEqualsHash},
		{"PSS SHA-384 salt = maximum (local-kms)", rsaKey, &rsaKey.PublicKey, kmssig.RsassaPssSha384, rsa.PSSSaltLengthAuto},
		{"PSS SHA-512", rsaKey, &rsaKey.PublicKey, kmssig.RsassaPssSha512, rsa.PSSSaltLengthEqualsHash},
		{"ECDSA P-256", p256, &p256.PublicKey, kmssig.EcdsaSha256, 0},
		{"ECDSA P-384", p384, &p384.PublicKey, kmssig.EcdsaSha384, 0},
		{"ECDSA P-521", p521, &p521.PublicKey, kmssig.EcdsaSha512, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// GIVEN a signature made as KMS makes it
			sig := signLocally(t, tc.priv, tc.a, msg, tc.salt)
			// WHEN it is verified over the message THEN it is valid
			if err := kmssig.Verify(tc.pub, tc.a, kmssig.MessageRaw, msg, sig); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			// AND over the precomputed digest as DIGEST
			d, _ := kmssig.Digest(tc.a, kmssig.MessageRaw, msg)
			if err := kmssig.Verify(tc.pub, tc.a, kmssig.MessageDigest, d, sig); err != nil {
				t.Fatalf("Verify DIGEST: %v", err)
			}
			// WHEN one byte of the message, or of the signature, changes THEN it fails verification
			bad := bytes.Clone(msg)
			bad[0] ^= 1
			if err := kmssig.Verify(tc.pub, tc.a, kmssig.MessageRaw, bad, sig); !errors.Is(err, kmssig.ErrVerification) {
				t.Errorf("tampered message: %v, want ErrVerification", err)
			}
			badSig := bytes.Clone(sig)
			badSig[len(badSig)-1] ^= 1
			if err := kmssig.Verify(tc.pub, tc.a, kmssig.MessageRaw, msg, badSig); !errors.Is(err, kmssig.ErrVerification) {
				t.Errorf("tampered signature: %v, want ErrVerification", err)
			}
			// AND garbage in place of a signature is a verification failure, not a crash
			if err := kmssig.Verify(tc.pub, tc.a, kmssig.MessageRaw, msg, []byte("not a signature")); !errors.Is(err, kmssig.ErrVerification) {
				t.Errorf("garbage signature: %v, want ErrVerification", err)
			}
		})
	}
}

func TestVerifySecp256k1(t *testing.T) {
	// GIVEN a secp256k1 signature in DER, the form KMS returns for ECC_SECG_P256K1
	priv, err := secp256k1.GeneratePrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("secp256k1 message")
	d := sha256.Sum256(msg)
	sig := secpecdsa.Sign(priv, d[:]).Serialize()
	// WHEN verified THEN it is valid, and invalid over another message
	if err := kmssig.Verify(priv.PubKey(), kmssig.EcdsaSha256, kmssig.MessageRaw, msg, sig); err != nil {
		t.Fatal(err)
	}
	if err := kmssig.Verify(priv.PubKey(), kmssig.EcdsaSha256, kmssig.MessageRaw, []byte("other"), sig); !errors.Is(err, kmssig.ErrVerification) {
		t.Fatalf("other message: %v, want ErrVerification", err)
	}
}

func TestVerifyRejectsAKeyThatCannotCarryTheAlgorithm(t *testing.T) {
	p256 := mustECDSA(elliptic.P256())
	cases := []struct {
		name string
		pub  crypto.PublicKey
		a    kmssig.Algorithm
		want string
	}{
		{"ECDSA with an RSA key", &rsaKey.PublicKey, kmssig.EcdsaSha256, "algorithm: ECDSA_SHA_256 needs an ECC key, got an RSA-2048 key"},
		{"RSA with an ECC key", &p256.PublicKey, kmssig.RsassaPkcs1V15Sha256, "algorithm: RSASSA_PKCS1_V1_5_SHA_256 needs an RSA key, got an ECC key"},
		{"P-256 with SHA-512", &p256.PublicKey, kmssig.EcdsaSha512, "KMS signs with this ECC key only as ECDSA_SHA_256, got ECDSA_SHA_512"},
		{"P-224 is no KMS curve", &mustECDSA(elliptic.P224()).PublicKey, kmssig.EcdsaSha256, "curve P-224 is not a KMS curve"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// GIVEN a key and an algorithm KMS never pairs
			// WHEN verifying THEN the error explains the mismatch and is no verification failure
			err := kmssig.Verify(tc.pub, tc.a, kmssig.MessageRaw, []byte("m"), []byte("s"))
			if err == nil || errors.Is(err, kmssig.ErrVerification) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Verify error = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestDigestChecksTheLengthOfADigestMessage(t *testing.T) {
	// GIVEN a 32-byte digest declared for a SHA-512 algorithm
	// WHEN it is used as DIGEST THEN the error gives both lengths
	_, err := kmssig.Digest(kmssig.RsassaPkcs1V15Sha512, kmssig.MessageDigest, make([]byte, 32))
	if err == nil || !strings.Contains(err.Error(), "is 64 bytes, got 32") {
		t.Fatalf("error = %v", err)
	}
}

func TestSignSendsLongMessagesAsTheirDigest(t *testing.T) {
	cases := []struct {
		name     string
		msg      []byte
		mt       kmssig.MessageType
		wantType types.MessageType
		wantSent func(msg []byte) []byte
	}{
		{"4096 bytes RAW is sent as is", bytes.Repeat([]byte("a"), 4096), kmssig.MessageRaw, types.MessageTypeRaw, func(m []byte) []byte { return m }},
		{"4097 bytes RAW is hashed locally", bytes.Repeat([]byte("a"), 4097), kmssig.MessageRaw, types.MessageTypeDigest,
			func(m []byte) []byte { d := sha512.Sum512(m); return d[:] }},
		{"a DIGEST is sent as is", make([]byte, 64), kmssig.MessageDigest, types.MessageTypeDigest, func(m []byte) []byte { return m }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// GIVEN a KMS that records what it is asked to sign
			var got *kms.SignInput
			api := signFunc(func(_ context.Context, in *kms.SignInput, _ ...func(*kms.Options)) (*kms.SignOutput, error) {
				got = in
				return &kms.SignOutput{Signature: []byte("sig"), KeyId: aws.String("arn:aws:kms:eu-west-2:111122223333:key/k")}, nil
			})
			// WHEN a message is signed
			sig, err := kmssig.Sign(context.Background(), api, "alias/sample-sign-verify-key", kmssig.RsassaPkcs1V15Sha512, tc.mt, tc.msg)
			if err != nil {
				t.Fatal(err)
			}
			// THEN KMS gets the message or its SHA-512, typed accordingly
			if got.MessageType != tc.wantType || !bytes.Equal(got.Message, tc.wantSent(tc.msg)) {
				t.Errorf("sent %s of %d bytes", got.MessageType, len(got.Message))
			}
			if got.SigningAlgorithm != types.SigningAlgorithmSpecRsassaPkcs1V15Sha512 || *got.KeyId != "alias/sample-sign-verify-key" {
				t.Errorf("sent %s with key %s", got.SigningAlgorithm, *got.KeyId)
			}
			if string(sig.Bytes) != "sig" || sig.KeyID != "arn:aws:kms:eu-west-2:111122223333:key/k" || string(sig.MessageType) != string(tc.wantType) {
				t.Errorf("signature %+v", sig)
			}
		})
	}
}

func TestSignWrapsKMSErrorsAndRejectsBadInput(t *testing.T) {
	denied := errors.New("AccessDeniedException: not allowed")
	api := signFunc(func(context.Context, *kms.SignInput, ...func(*kms.Options)) (*kms.SignOutput, error) {
		return nil, denied
	})
	// GIVEN a KMS that denies WHEN signing THEN the KMS error is wrapped
	if _, err := kmssig.Sign(context.Background(), api, "k", kmssig.EcdsaSha256, kmssig.MessageRaw, []byte("m")); !errors.Is(err, denied) {
		t.Errorf("error = %v, want it to wrap the KMS error", err)
	}
	// GIVEN inputs that cannot be signed WHEN signing THEN KMS is never called
	for _, tc := range []struct {
		key string
		a   kmssig.Algorithm
		mt  kmssig.MessageType
		msg []byte
	}{
		{"", kmssig.EcdsaSha256, kmssig.MessageRaw, []byte("m")},
		{"k", "SHA1", kmssig.MessageRaw, []byte("m")},
		{"k", kmssig.EcdsaSha256, kmssig.MessageDigest, []byte("short")},
		{"k", kmssig.EcdsaSha256, "HASH", []byte("m")},
	} {
		if _, err := kmssig.Sign(context.Background(), api, tc.key, tc.a, tc.mt, tc.msg); err == nil || errors.Is(err, denied) {
			t.Errorf("Sign(%q, %q, %q) error = %v, want a validation error", tc.key, tc.a, tc.mt, err)
		}
	}
}
