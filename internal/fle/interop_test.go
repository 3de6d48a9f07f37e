package fle_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/securestacks/securestacks/internal/fle"
	"github.com/securestacks/securestacks/internal/testenv"
)

func writePEMs(t *testing.T, dir string) (pubPath, privPath string) {
	t.Helper()
	pubDER, err := x509.MarshalPKIXPublicKey(&priv2048.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	privDER, err := x509.MarshalPKCS8PrivateKey(priv2048)
	if err != nil {
		t.Fatal(err)
	}
	pubPath, privPath = filepath.Join(dir, "pub.pem"), filepath.Join(dir, "priv.pem")
	if err := os.WriteFile(pubPath, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(privPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return pubPath, privPath
}

func TestOpenSSLOAEPCiphertextsDecryptAndOursDecryptInOpenSSL(t *testing.T) {
	dir := t.TempDir()
	pub, priv := writePEMs(t, dir)
	plain := "Alejandro Rosalez, 123-45-6789"
	if err := os.WriteFile(filepath.Join(dir, "plain"), []byte(plain), 0o600); err != nil {
		t.Fatal(err)
	}
	oaep := []string{"-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:sha256"}

	// GIVEN a field encrypted by openssl with OAEP SHA-256 and put in our markers
	args := append([]string{"pkeyutl", "-encrypt", "-pubin", "-inkey", pub, "-in", filepath.Join(dir, "plain")}, oaep...)
	ct, err := exec.Command("openssl", args...).Output()
	if err != nil {
		t.Fatalf("openssl %s: %v", strings.Join(args, " "), err)
	}
	text := `{"name": "` + fle.Prefix + base64.StdEncoding.EncodeToString(ct) + fle.Suffix + `"}`
	// WHEN we decrypt it
	out, err := fle.Decrypt(context.Background(), []byte(text), localDecrypt(priv2048), nil)
	// THEN the plaintext is openssl's input
	if err != nil || string(out) != `{"name": "`+plain+`"}` {
		t.Fatalf("%s, %v", out, err)
	}

	// GIVEN a field we encrypted
	marker, err := encryptor(t, priv2048).EncryptValue([]byte(plain))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.StdEncoding.DecodeString(strings.TrimSuffix(strings.TrimPrefix(marker, fle.Prefix), fle.Suffix))
	if err := os.WriteFile(filepath.Join(dir, "ct"), raw, 0o600); err != nil {
		t.Fatal(err)
	}
	// WHEN openssl decrypts it with the private key
	args = append([]string{"pkeyutl", "-decrypt", "-inkey", priv, "-in", filepath.Join(dir, "ct")}, oaep...)
	got, err := exec.Command("openssl", args...).Output()
	// THEN it is our plaintext: the ciphertext is standard RSAES-OAEP SHA-256
	if err != nil || string(got) != plain {
		t.Fatalf("openssl decrypt: %q, %v", got, err)
	}
}

// seedPython runs testdata/seed_protect.py, the seed's own code.
func seedPython(t *testing.T) *exec.Cmd {
	t.Helper()
	script, err := filepath.Abs(filepath.Join("testdata", "seed_protect.py"))
	if err != nil {
		t.Fatal(err)
	}
	return testenv.SeedPython(t, script)
}

func runSeed(t *testing.T, mode, key string, in []byte) []byte {
	t.Helper()
	cmd := seedPython(t)
	cmd.Args = append(cmd.Args, mode, key)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("seed %s: %v\n%s%s", mode, err, out, stderr.Bytes())
	}
	return out
}

func TestSeedPythonProtectedDataRoundTripsThroughOurs(t *testing.T) {
	dir := t.TempDir()
	pub, priv := writePEMs(t, dir)

	// GIVEN the seed's payload protected by the seed's own Python edge function
	protected := runSeed(t, "protect", pub, []byte(seedPayload))
	if n := len(fle.FindMarkers(protected)); n != 12 {
		t.Fatalf("seed produced %d markers, want 12:\n%s", n, protected)
	}
	// WHEN our Decrypt processes it
	out, err := fle.Decrypt(context.Background(), protected, localDecrypt(priv2048), nil)
	if err != nil {
		t.Fatal(err)
	}
	// THEN the people come back as the seed took them in
	if !jsonEqual(t, out, []byte(seedPayload)) {
		t.Fatalf("differs:\n%s", out)
	}

	// GIVEN the same payload protected by our EncryptJSON
	ours, err := encryptor(t, priv2048).EncryptJSON([]byte(seedPayload), seedFields)
	if err != nil {
		t.Fatal(err)
	}
	// WHEN the seed's Python decryption function processes it
	back := runSeed(t, "unprotect", priv, ours)
	// THEN it restores the original bytes exactly
	if string(back) != seedPayload {
		t.Fatalf("seed decrypt differs:\n%s", back)
	}
}
