package fle_test

import (
	"testing"
)

// BenchmarkFLEEncrypt is the throughput of encrypting one field (a 20-byte
// value) with RSA-2048 OAEP SHA-256, reported as fields/s for
// scripts/bench-crypto.sh, which sets it next to `openssl speed rsa2048`.
func BenchmarkFLEEncrypt(b *testing.B) {
	e := encryptor(b, priv2048)
	value := []byte("alejandro@example.com")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.EncryptValue(value); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "fields/s")
}

// BenchmarkFLEEncryptJSON encrypts the seed's payload: two people, six fields
// each, through the JSON walk.
func BenchmarkFLEEncryptJSON(b *testing.B) {
	e := encryptor(b, priv2048)
	body := []byte(seedPayload)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := e.EncryptJSON(body, seedFields); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(12*b.N)/b.Elapsed().Seconds(), "fields/s")
}
