package kmskey_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/decred/dcrd/dcrec/secp256k1/v4"

	"github.com/securestacks/securestacks/internal/kmskey"
)

// getPublicKeyFunc is a fake KMS GetPublicKey.
type getPublicKeyFunc func(ctx context.Context, in *kms.GetPublicKeyInput, optFns ...func(*kms.Options)) (*kms.GetPublicKeyOutput, error)

func (f getPublicKeyFunc) GetPublicKey(ctx context.Context, in *kms.GetPublicKeyInput, optFns ...func(*kms.Options)) (*kms.GetPublicKeyOutput, error) {
	return f(ctx, in, optFns...)
}

func spki(t testing.TB, pub any) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// secp256k1SPKI is a SubjectPublicKeyInfo for a secp256k1 key, as KMS returns
// for ECC_SECG_P256K1 (crypto/x509 cannot marshal the curve).
func secp256k1SPKI(t testing.TB) ([]byte, *secp256k1.PublicKey) {
	t.Helper()
	priv, err := secp256k1.GeneratePrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	pt := priv.PubKey().SerializeUncompressed()
	// SEQUENCE { SEQUENCE { id-ecPublicKey, secp256k1 }, BIT STRING point }
	alg := []byte{0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a}
	bits := append([]byte{0x03, byte(len(pt) + 1), 0x00}, pt...)
	body := append(alg, bits...)
	return append([]byte{0x30, byte(len(body))}, body...), priv.PubKey()
}

func TestParsePublicKeyReadsPEMAndDEROfEveryKMSKeyType(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	k1DER, k1 := secp256k1SPKI(t)
	cases := []struct {
		name string
		der  []byte
		want any
	}{
		{"RSA", spki(t, &rsaKey.PublicKey), &rsaKey.PublicKey},
		{"ECC P-384", spki(t, &ecKey.PublicKey), &ecKey.PublicKey},
		{"ECC secp256k1", k1DER, k1},
	}
	for _, tc := range cases {
		for _, form := range []string{"DER", "PEM", "PEM with surrounding text"} {
			t.Run(tc.name+" "+form, func(t *testing.T) {
				// GIVEN the key in one of the forms GetPublicKey output is stored in
				in := tc.der
				switch form {
				case "PEM":
					in = kmskey.EncodePEM(tc.der)
				case "PEM with surrounding text":
					in = append(append([]byte("Public key of alias/sample-sign-verify-key:\n"), kmskey.EncodePEM(tc.der)...), "trailer\n"...)
				}
				// WHEN parsed
				got, err := kmskey.ParsePublicKey(in)
				if err != nil {
					t.Fatal(err)
				}
				// THEN it is the same key
				type equaler interface{ Equal(crypto.PublicKey) bool }
				if k, ok := tc.want.(*secp256k1.PublicKey); ok {
					if !k.IsEqual(got.(*secp256k1.PublicKey)) {
						t.Fatal("different secp256k1 key")
					}
				} else if !tc.want.(equaler).Equal(got) {
					t.Fatal("different key")
				}
			})
		}
	}
}

func TestParsePublicKeyRejectsWhatIsNoKMSPublicKey(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	privPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: must(x509.MarshalPKCS8PrivateKey(rsaKey))})
	cases := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "expected PEM or DER SubjectPublicKeyInfo"},
		{"text", []byte("hello"), "expected PEM or DER SubjectPublicKeyInfo"},
		{"truncated PEM", []byte("-----BEGIN PUBLIC KEY-----\nMIIB\n"), "malformed PEM"},
		{"private key", privPEM, `PEM block is "PRIVATE KEY": expected "PUBLIC KEY"`},
		{"PEM with a bad body", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte("junk")}), "expected PEM or DER"},
		{"Ed25519", spki(t, edPub), "are not KMS asymmetric keys"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// GIVEN input that is no RSA or ECC public key WHEN parsed THEN one line says why
			_, err := kmskey.ParsePublicKey(tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error = %v, want one line containing %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "public key: ") {
				t.Fatalf("error %q does not name the input", err)
			}
		})
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func TestFetchReturnsTheKeyKMSResolved(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	der := spki(t, &rsaKey.PublicKey)
	// GIVEN a KMS that knows an alias
	api := getPublicKeyFunc(func(_ context.Context, in *kms.GetPublicKeyInput, _ ...func(*kms.Options)) (*kms.GetPublicKeyOutput, error) {
		if *in.KeyId != "alias/fle" {
			return nil, errors.New("NotFoundException")
		}
		return &kms.GetPublicKeyOutput{KeyId: aws.String("arn:aws:kms:eu-west-2:111122223333:key/1"), PublicKey: der, KeySpec: types.KeySpecRsa2048, KeyUsage: types.KeyUsageTypeEncryptDecrypt}, nil
	})
	// WHEN the key is fetched by alias
	got, err := kmskey.Fetch(context.Background(), api, "alias/fle")
	if err != nil {
		t.Fatal(err)
	}
	// THEN it carries the resolved ARN, spec, usage and a PEM that parses back to the key
	if got.KeyID != "arn:aws:kms:eu-west-2:111122223333:key/1" || got.KeySpec != "RSA_2048" || got.KeyUsage != "ENCRYPT_DECRYPT" {
		t.Errorf("got %+v", got)
	}
	k, err := kmskey.ParsePublicKey(got.PEM())
	if err != nil || !rsaKey.PublicKey.Equal(k) {
		t.Errorf("PEM does not parse back to the key: %v", err)
	}
	// WHEN KMS fails, returns garbage, or no key id is given THEN Fetch errors
	if _, err := kmskey.Fetch(context.Background(), api, "alias/other"); err == nil || !strings.Contains(err.Error(), "NotFoundException") {
		t.Errorf("unknown alias: %v", err)
	}
	garbage := getPublicKeyFunc(func(context.Context, *kms.GetPublicKeyInput, ...func(*kms.Options)) (*kms.GetPublicKeyOutput, error) {
		return &kms.GetPublicKeyOutput{PublicKey: []byte("junk")}, nil
	})
	if _, err := kmskey.Fetch(context.Background(), garbage, "k"); err == nil {
		t.Error("garbage key: no error")
	}
	if _, err := kmskey.Fetch(context.Background(), api, ""); err == nil {
		t.Error("empty key id: no error")
	}
}

func FuzzParsePublicKey(f *testing.F) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 1024)
	der := spki(f, &rsaKey.PublicKey)
	k1, _ := secp256k1SPKI(f)
	f.Add(der)
	f.Add(kmskey.EncodePEM(der))
	f.Add(k1)
	f.Add([]byte("-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		// GIVEN any bytes WHEN parsed THEN no panic, and a key or a one-line error
		k, err := kmskey.ParsePublicKey(in)
		if (k == nil) == (err == nil) {
			t.Fatalf("key %v, error %v", k, err)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Fatalf("multi-line error %q", err)
		}
	})
}
