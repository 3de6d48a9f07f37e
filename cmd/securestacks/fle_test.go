package main_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/securestacks/securestacks/internal/fle"
	"github.com/securestacks/securestacks/internal/kmskey"
	"github.com/securestacks/securestacks/internal/kmstest"
)

const people = `[{"fname": "Alejandro", "lname": "Rosalez", "email": "alejandro@example.com", "ssn": "123-45-6789", "dob": "1980-01-01", "phone": "+1-555-0100", "city": "Seattle"},
 {"fname": "Mary", "lname": "Major", "email": "mary@example.com", "ssn": "987-65-4321", "dob": "1985-05-05", "phone": "+1-555-0199", "city": "Austin"}]`

func TestFleEncryptThenDecryptThroughLocalKMS(t *testing.T) {
	// GIVEN a local-kms RSA_2048 ENCRYPT_DECRYPT key and the seed's payload
	endpoint := localKMS(t)
	keyID := kmstest.CreateKey(t, kmstest.Client(endpoint), types.KeySpecRsa2048, types.KeyUsageTypeEncryptDecrypt)
	dir := t.TempDir()
	in := writeFile(t, dir, "people.json", []byte(people))
	pub := filepath.Join(dir, "fle.pem")
	if code, _, errOut := cli(t, "kms", "public-key", "--endpoint-url", endpoint, "--key-id", keyID, "--out", pub); code != 0 {
		t.Fatal(errOut)
	}
	for _, source := range [][]string{{"--public-key", pub}, {"--endpoint-url", endpoint, "--key-id", keyID}} {
		t.Run(source[0], func(t *testing.T) {
			// WHEN the CLI encrypts the six sensitive fields, with the published key or one fetched from KMS
			enc := filepath.Join(t.TempDir(), "people.enc.json")
			args := append([]string{"fle", "encrypt", "--fields", "fname, lname,email,ssn,dob,phone", "--in", in, "--out", enc}, source...)
			if code, out, errOut := cli(t, args...); code != 0 || out != "" {
				t.Fatalf("fle encrypt: %d %q %q", code, out, errOut)
			}
			protected, _ := os.ReadFile(enc)
			// THEN 12 values are markers and no sensitive plaintext is left
			if n := len(fle.FindMarkers(protected)); n != 12 || strings.Contains(string(protected), "Rosalez") || !strings.Contains(string(protected), `"city": "Seattle"`) {
				t.Fatalf("%d markers:\n%s", n, protected)
			}
			// WHEN the CLI decrypts through KMS
			code, out, errOut := cli(t, "fle", "decrypt", "--endpoint-url", endpoint, "--key-id", keyID, "--in", enc)
			// THEN the payload comes back byte for byte
			if code != 0 || out != people {
				t.Fatalf("fle decrypt: %d %q\n%s", code, errOut, out)
			}
		})
	}

	// GIVEN a protected document with one corrupted marker
	enc := filepath.Join(dir, "enc.json")
	if code, _, errOut := cli(t, "fle", "encrypt", "--public-key", pub, "--fields", "ssn", "--in", in, "--out", enc); code != 0 {
		t.Fatal(errOut)
	}
	protected, _ := os.ReadFile(enc)
	bad := writeFile(t, dir, "bad.json", []byte(strings.Replace(string(protected), "#10#", "@#10#", 1)))
	// WHEN it is decrypted THEN nothing is printed and the error names the marker
	code, out, errOut := cli(t, "fle", "decrypt", "--endpoint-url", endpoint, "--key-id", keyID, "--in", bad, "--format", "json")
	if code != 1 || out != "" || !strings.HasPrefix(errOut, "securestacks fle decrypt: fle: marker 1 at byte ") || strings.Count(errOut, "\n") != 1 {
		t.Fatalf("%d %q %q", code, out, errOut)
	}

	// GIVEN a value over the RSA-2048 OAEP limit WHEN encrypting THEN exit 1 naming the field, nothing written
	long := writeFile(t, dir, "long.json", []byte(`{"notes": "`+strings.Repeat("x", 191)+`"}`))
	code, out, errOut = cli(t, "fle", "encrypt", "--public-key", pub, "--fields", "notes", "--in", long)
	if code != 1 || out != "" || !strings.Contains(errOut, "fle: field $.notes: value too long for RSA-OAEP: 191 bytes, RSA-2048 with OAEP SHA-256 holds at most 190") {
		t.Fatalf("%d %q %q", code, out, errOut)
	}

	// GIVEN a field under a second key, its marker naming key id 02
	key2 := kmstest.CreateKey(t, kmstest.Client(endpoint), types.KeySpecRsa2048, types.KeyUsageTypeEncryptDecrypt)
	pub2 := filepath.Join(dir, "fle2.pem")
	if code, _, errOut := cli(t, "kms", "public-key", "--endpoint-url", endpoint, "--key-id", key2, "--out", pub2); code != 0 {
		t.Fatal(errOut)
	}
	card := writeFile(t, dir, "card.json", []byte(`{"card": "4111111111111111"}`))
	cenc := filepath.Join(dir, "card.enc.json")
	if code, _, errOut := cli(t, "fle", "encrypt", "--public-key", pub2, "--fields", "card", "--in", card, "--out", cenc); code != 0 {
		t.Fatal(errOut)
	}
	c, _ := os.ReadFile(cenc)
	cenc = writeFile(t, dir, "card.02.json", []byte(strings.Replace(string(c), fle.Prefix, fle.KeyPrefix("02"), 1)))
	// WHEN it is decrypted with --marker-keys 02=<key> THEN KMS decrypts it under that key
	code, out, errOut = cli(t, "fle", "decrypt", "--endpoint-url", endpoint, "--key-id", keyID, "--marker-keys", "02="+key2, "--in", cenc)
	if code != 0 || out != `{"card": "4111111111111111"}` {
		t.Fatalf("%d %q %q", code, out, errOut)
	}

	// AND --format json keeps a JSON body valid when a value holds quotes
	quoted := writeFile(t, dir, "q.json", []byte(`{"name": "O\"Brien"}`))
	qenc := filepath.Join(dir, "q.enc.json")
	if code, _, errOut := cli(t, "fle", "encrypt", "--public-key", pub, "--fields", "name", "--in", quoted, "--out", qenc); code != 0 {
		t.Fatal(errOut)
	}
	code, out, errOut = cli(t, "fle", "decrypt", "--endpoint-url", endpoint, "--key-id", keyID, "--in", qenc, "--format", "json")
	var got, want any
	_ = json.Unmarshal([]byte(`{"name": "O\"Brien"}`), &want)
	if err := json.Unmarshal([]byte(out), &got); code != 0 || err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("%d %q %q", code, out, errOut)
	}
}

func TestFleBadInputIsOneLineAndExit2(t *testing.T) {
	dir := t.TempDir()
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	ecPEM := writeFile(t, dir, "ec.pem", kmskey.EncodePEM(der))
	badPEM := writeFile(t, dir, "bad.pem", []byte("-----BEGIN PUBLIC KEY-----\n"))
	in := writeFile(t, dir, "in.json", []byte(`{"a": "b"}`))
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaDER, _ := x509.MarshalPKIXPublicKey(&rk.PublicKey)
	rsaPEM := writeFile(t, dir, "rsa.pem", kmskey.EncodePEM(rsaDER))
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	smallDER, _ := x509.MarshalPKIXPublicKey(&small.PublicKey)
	smallPEM := writeFile(t, dir, "small.pem", kmskey.EncodePEM(smallDER))
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no key", []string{"fle", "encrypt", "--fields", "a", "--in", in}, "securestacks fle encrypt: expected exactly one of --public-key FILE and --key-id ID"},
		{"no fields", []string{"fle", "encrypt", "--public-key", ecPEM, "--in", in}, "--fields: expected comma-separated field names"},
		{"ECC key", []string{"fle", "encrypt", "--public-key", ecPEM, "--fields", "a", "--in", in}, "--public-key: field-level encryption needs an RSA key (ENCRYPT_DECRYPT), got an ECC key"},
		{"malformed PEM", []string{"fle", "encrypt", "--public-key", badPEM, "--fields", "a", "--in", in}, "--public-key: malformed PEM"},
		{"RSA-1024 key", []string{"fle", "encrypt", "--public-key", smallPEM, "--fields", "a", "--in", in}, "--public-key: expected an RSA key of at least 2048 bits, got 1024"},
		{"missing input", []string{"fle", "encrypt", "--public-key", rsaPEM, "--fields", "a", "--in", filepath.Join(dir, "none")}, "--in: open "},
		{"decrypt without key", []string{"fle", "decrypt", "--in", in}, "securestacks fle decrypt: --key-id: expected"},
		{"decrypt format", []string{"fle", "decrypt", "--key-id", "k", "--format", "xml", "--in", in}, `--format: expected text, json or form, got "xml"`},
		{"decrypt marker keys", []string{"fle", "decrypt", "--key-id", "k", "--marker-keys", "10=k2", "--in", in}, `--marker-keys: key id: expected two digits other than 00 and 10, got "10"`},
		{"decrypt concurrency", []string{"fle", "decrypt", "--key-id", "k", "--concurrency", "0", "--in", in}, "--concurrency: expected 1 to 64, got 0"},
		{"unknown subcommand", []string{"fle", "rotate"}, `unknown subcommand "rotate"; expected one of: encrypt, decrypt`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// GIVEN a command line with one mistake WHEN it runs THEN exit 2 with one line naming it
			code, out, errOut := cli(t, tc.args...)
			if code != 2 || out != "" || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, tc.want) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want 2 and %q", code, out, errOut, tc.want)
			}
		})
	}
}
