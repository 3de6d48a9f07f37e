package kmssig_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/securestacks/securestacks/internal/kmskey"
	"github.com/securestacks/securestacks/internal/kmssig"
	"github.com/securestacks/securestacks/internal/kmstest"
	"github.com/securestacks/securestacks/internal/testenv"
)

// opensslVerify runs the seed's offline check, `openssl dgst -<hash> -verify
// pub.pem -signature sig msg` (plus the PSS options for RSASSA-PSS), and
// reports whether openssl printed "Verified OK".
func opensslVerify(t *testing.T, dir string, a kmssig.Algorithm, pemKey, sig, msg []byte) bool {
	t.Helper()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	args := []string{"dgst", a.OpenSSLDigest(), "-verify", write("pub.pem", pemKey), "-signature", write("msg.sig", sig)}
	if strings.HasPrefix(string(a), "RSASSA_PSS_") {
		args = append(args, "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:auto")
	}
	args = append(args, write("msg.txt", msg))
	out, err := exec.Command("openssl", args...).CombinedOutput()
	ok := err == nil && strings.Contains(string(out), "Verified OK")
	if !ok && !strings.Contains(string(out), "Verification failure") && !strings.Contains(string(out), "Verification Failure") {
		t.Fatalf("openssl %s: neither Verified OK nor Verification failure: %v\n%s", strings.Join(args, " "), err, out)
	}
	return ok
}

// TestSignVerifyEveryKeySpecAndAlgorithmAgainstLocalKMS is the full matrix:
// every KMS signing key spec with every algorithm KMS pairs it with.
func TestSignVerifyEveryKeySpecAndAlgorithmAgainstLocalKMS(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Fatal("openssl is required (the Makefile installs it): ", err)
	}
	// GIVEN local-kms with one key of every signing key spec
	c := kmstest.Client(testenv.StartLocalKMS(t))
	rsa := []kmssig.Algorithm{
		kmssig.RsassaPssSha256, kmssig.RsassaPssSha384, kmssig.RsassaPssSha512,
		kmssig.RsassaPkcs1V15Sha256, kmssig.RsassaPkcs1V15Sha384, kmssig.RsassaPkcs1V15Sha512,
	}
	cases := []struct {
		spec types.KeySpec
		algs []kmssig.Algorithm
	}{
		{types.KeySpecRsa2048, rsa},
		{types.KeySpecRsa3072, rsa},
		{types.KeySpecRsa4096, rsa},
		{types.KeySpecEccNistP256, []kmssig.Algorithm{kmssig.EcdsaSha256}},
		{types.KeySpecEccNistP384, []kmssig.Algorithm{kmssig.EcdsaSha384}},
		{types.KeySpecEccNistP521, []kmssig.Algorithm{kmssig.EcdsaSha512}},
		{types.KeySpecEccSecgP256k1, []kmssig.Algorithm{kmssig.EcdsaSha256}},
	}
	short := []byte("Sample text to sign with KMS and verify offline.\n")
	long := bytes.Repeat([]byte("0123456789abcdef"), 300) // 4800 bytes: over the RAW limit
	for _, tc := range cases {
		t.Run(string(tc.spec), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			keyID := kmstest.CreateKey(t, c, tc.spec, types.KeyUsageTypeSignVerify)
			pub, err := kmskey.Fetch(ctx, c, keyID)
			if err != nil {
				t.Fatal(err)
			}
			key, err := kmskey.ParsePublicKey(pub.PEM())
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range tc.algs {
				for _, msg := range [][]byte{short, long} {
					// WHEN KMS signs the message (a long one is hashed locally and sent as DIGEST)
					sig, err := kmssig.Sign(ctx, c, keyID, a, kmssig.MessageRaw, msg)
					if err != nil {
						t.Fatalf("%s: %v", a, err)
					}
					wantType := kmssig.MessageRaw
					if len(msg) > kmssig.MaxRawMessage {
						wantType = kmssig.MessageDigest
					}
					if sig.MessageType != wantType {
						t.Errorf("%s, %d bytes: sent as %s, want %s", a, len(msg), sig.MessageType, wantType)
					}
					// THEN our offline verify and openssl both accept it
					if err := kmssig.Verify(key, a, kmssig.MessageRaw, msg, sig.Bytes); err != nil {
						t.Errorf("%s, %d bytes: Verify: %v", a, len(msg), err)
					}
					if !opensslVerify(t, t.TempDir(), a, pub.PEM(), sig.Bytes, msg) {
						t.Errorf("%s, %d bytes: openssl: Verification failure, want Verified OK", a, len(msg))
					}
					// AND both reject it once one byte of the message changes
					tampered := bytes.Clone(msg)
					tampered[len(tampered)/2] ^= 0x01
					if err := kmssig.Verify(key, a, kmssig.MessageRaw, tampered, sig.Bytes); !errors.Is(err, kmssig.ErrVerification) {
						t.Errorf("%s, tampered: Verify = %v, want ErrVerification", a, err)
					}
					if opensslVerify(t, t.TempDir(), a, pub.PEM(), sig.Bytes, tampered) {
						t.Errorf("%s, tampered: openssl: Verified OK, want Verification failure", a)
					}
				}
			}
		})
	}
}
