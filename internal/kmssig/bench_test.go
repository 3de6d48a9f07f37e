package kmssig_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"testing"

	"github.com/securestacks/securestacks/internal/kmssig"
)

// BenchmarkVerifyRSA2048 is offline verification throughput for an RSA-2048
// key with RSASSA_PKCS1_V1_5_SHA_256 over a 64-byte message, reported as
// verifies/s for scripts/bench-crypto.sh, which sets it next to the verify/s
// of `openssl speed rsa2048` (the same public-key operation and padding).
func BenchmarkVerifyRSA2048(b *testing.B) {
	msg := make([]byte, 64)
	sig := signLocally(b, rsaKey, kmssig.RsassaPkcs1V15Sha256, msg, 0)
	b.ReportAllocs()
	for b.Loop() {
		if err := kmssig.Verify(&rsaKey.PublicKey, kmssig.RsassaPkcs1V15Sha256, kmssig.MessageRaw, msg, sig); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifies/s")
}

// BenchmarkVerifyECDSAP256 is the same for ECC_NIST_P256 with ECDSA_SHA_256.
func BenchmarkVerifyECDSAP256(b *testing.B) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	msg := make([]byte, 64)
	sig := signLocally(b, k, kmssig.EcdsaSha256, msg, 0)
	for b.Loop() {
		if err := kmssig.Verify(&k.PublicKey, kmssig.EcdsaSha256, kmssig.MessageRaw, msg, sig); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifies/s")
}
