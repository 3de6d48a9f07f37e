package main_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	securestacks "github.com/securestacks/securestacks/cmd/securestacks"
	"github.com/securestacks/securestacks/internal/kmskey"
	"github.com/securestacks/securestacks/internal/kmstest"
	"github.com/securestacks/securestacks/internal/testenv"
)

// cli runs the CLI in-process and returns its exit status, stdout and stderr.
func cli(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := securestacks.Run(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func writeFile(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// opensslDgstVerify runs the seed's offline check and returns openssl's output.
func opensslDgstVerify(t *testing.T, digest, pubPEM, sig, msg string, pss bool) (bool, string) {
	t.Helper()
	args := []string{"dgst", digest, "-verify", pubPEM, "-signature", sig}
	if pss {
		args = append(args, "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:auto")
	}
	out, err := exec.Command("openssl", append(args, msg)...).CombinedOutput()
	return err == nil && strings.TrimSpace(string(out)) == "Verified OK", string(out)
}

// localKMS starts local-kms and points the SDK environment at it, with a dead
// AWS_ENDPOINT_URL_KMS so that only --endpoint-url reaches it.
func localKMS(t *testing.T) string {
	t.Helper()
	endpoint := testenv.StartLocalKMS(t)
	kmstest.SetEnv(t, endpoint)
	t.Setenv("AWS_ENDPOINT_URL_KMS", "http://127.0.0.1:1")
	return endpoint
}

func TestKmsSignAndVerifyAgainstLocalKMSAndOpenSSL(t *testing.T) {
	endpoint := localKMS(t)
	c := kmstest.Client(endpoint)
	cases := []struct {
		name      string
		spec      types.KeySpec
		algorithm string
		digest    string
		pss       bool
	}{
		{"the seed's case: RSA_4096, PKCS#1 v1.5 SHA-512", types.KeySpecRsa4096, "RSASSA_PKCS1_V1_5_SHA_512", "-sha512", false},
		{"RSA_3072, PSS SHA-256", types.KeySpecRsa3072, "RSASSA_PSS_SHA_256", "-sha256", true},
		{"ECC_NIST_P256, ECDSA SHA-256", types.KeySpecEccNistP256, "ECDSA_SHA_256", "-sha256", false},
	}
	for _, tc := range cases {
		for _, size := range []int{64, 5000} {
			t.Run(fmt.Sprintf("%s, %d-byte message", tc.name, size), func(t *testing.T) {
				// GIVEN a local-kms key and a message (5000 bytes is over the RAW limit)
				keyID := kmstest.CreateKey(t, c, tc.spec, types.KeyUsageTypeSignVerify)
				dir := t.TempDir()
				msg := bytes.Repeat([]byte("Sample text. "), size/13+1)[:size]
				msgFile := writeFile(t, dir, "SampleText.txt", msg)
				sigFile, pubFile := filepath.Join(dir, "SampleText.sig"), filepath.Join(dir, "SamplePublicKey.pem")

				// WHEN the CLI signs it through KMS and fetches the public key
				if code, out, errOut := cli(t, "kms", "sign", "--endpoint-url", endpoint, "--key-id", keyID, "--algorithm", tc.algorithm,
					"--message", msgFile, "--out", sigFile); code != 0 || out != "" {
					t.Fatalf("kms sign: %d %q %q", code, out, errOut)
				}
				if code, _, errOut := cli(t, "kms", "public-key", "--endpoint-url", endpoint, "--key-id", keyID, "--out", pubFile); code != 0 {
					t.Fatalf("kms public-key: %d %q", code, errOut)
				}
				// THEN kms verify says Verified OK, with the key file and with the key fetched from KMS
				if code, out, errOut := cli(t, "kms", "verify", "--public-key", pubFile, "--signature", sigFile, "--message", msgFile, "--algorithm", tc.algorithm); code != 0 || out != "Verified OK\n" {
					t.Errorf("kms verify: %d %q %q", code, out, errOut)
				}
				sig, _ := os.ReadFile(sigFile)
				if code, out, errOut := cli(t, "kms", "verify", "--endpoint-url", endpoint, "--key-id", keyID, "--signature-base64", base64.StdEncoding.EncodeToString(sig),
					"--message", msgFile, "--algorithm", tc.algorithm); code != 0 || out != "Verified OK\n" {
					t.Errorf("kms verify --key-id: %d %q %q", code, out, errOut)
				}
				// AND the seed's openssl command says Verified OK
				if ok, out := opensslDgstVerify(t, tc.digest, pubFile, sigFile, msgFile, tc.pss); !ok {
					t.Errorf("openssl: %s", out)
				}

				// WHEN one byte of the message changes
				msg[len(msg)/2] ^= 0x20
				writeFile(t, dir, "SampleText.txt", msg)
				// THEN kms verify prints Verification Failure and exits 1, and openssl fails too
				if code, out, _ := cli(t, "kms", "verify", "--public-key", pubFile, "--signature", sigFile, "--message", msgFile, "--algorithm", tc.algorithm); code != 1 || out != "Verification Failure\n" {
					t.Errorf("tampered: kms verify %d %q", code, out)
				}
				if ok, out := opensslDgstVerify(t, tc.digest, pubFile, sigFile, msgFile, tc.pss); ok || !strings.Contains(out, "Verification failure") {
					t.Errorf("tampered: openssl %q", out)
				}
			})
		}
	}
}

func TestKmsSignPrintsBase64AndPublicKeyWritesDER(t *testing.T) {
	// GIVEN a local-kms key and a message
	endpoint := localKMS(t)
	c := kmstest.Client(endpoint)
	keyID := kmstest.CreateKey(t, c, types.KeySpecEccNistP384, types.KeyUsageTypeSignVerify)
	kmstest.CreateAlias(t, c, "alias/cli-test", keyID)
	dir := t.TempDir()
	msgFile := writeFile(t, dir, "m", []byte("m"))
	// WHEN signing by alias without --out THEN the signature is one base64 line
	code, out, errOut := cli(t, "kms", "sign", "--endpoint-url", endpoint, "--key-id", "alias/cli-test", "--algorithm", "ECDSA_SHA_384", "--message", msgFile)
	if _, err := base64.StdEncoding.DecodeString(strings.TrimSuffix(out, "\n")); code != 0 || err != nil || strings.Count(out, "\n") != 1 {
		t.Fatalf("%d %q %q", code, out, errOut)
	}
	// WHEN the public key is asked for as DER on stdout THEN it is KMS's DER
	code, der, _ := cli(t, "kms", "public-key", "--endpoint-url", endpoint, "--key-id", keyID, "--format", "der")
	if _, err := x509.ParsePKIXPublicKey([]byte(der)); code != 0 || err != nil {
		t.Fatalf("DER: %d %v", code, err)
	}
	// WHEN KMS refuses (unknown key) THEN exit 1 with one line naming the command
	code, _, errOut = cli(t, "kms", "sign", "--endpoint-url", endpoint, "--key-id", "alias/missing", "--algorithm", "ECDSA_SHA_384", "--message", msgFile)
	if code != 1 || !strings.HasPrefix(errOut, "securestacks kms sign: ") || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "NotFoundException") {
		t.Fatalf("%d %q", code, errOut)
	}
}

func TestKmsBadInputIsOneLineAndExit2(t *testing.T) {
	dir := t.TempDir()
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	ecPEM := writeFile(t, dir, "ec.pem", kmskey.EncodePEM(der))
	badPEM := writeFile(t, dir, "bad.pem", []byte("-----BEGIN PUBLIC KEY-----\nnot base64 at all\n-----END PUBLIC KEY-----\n"))
	msg := writeFile(t, dir, "msg", []byte("hello"))
	sig := writeFile(t, dir, "sig", []byte("sig"))
	unreadable := writeFile(t, dir, "unreadable.sig", []byte("sig"))
	if err := os.Chmod(unreadable, 0); err != nil {
		t.Fatal(err)
	}
	if os.Getuid() == 0 {
		// root reads any file: a directory stands in for an unreadable signature file
		unreadable = dir
	}
	verify := func(extra ...string) []string {
		return append([]string{"kms", "verify", "--message", msg, "--algorithm", "ECDSA_SHA_256"}, extra...)
	}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no key", verify("--signature", sig), "securestacks kms verify: expected exactly one of --public-key FILE and --key-id ID"},
		{"two keys", verify("--signature", sig, "--public-key", ecPEM, "--key-id", "k"), "expected exactly one of --public-key FILE and --key-id ID"},
		{"no signature", verify("--public-key", ecPEM), "expected exactly one of --signature FILE and --signature-base64 B64"},
		{"malformed PEM", verify("--public-key", badPEM, "--signature", sig), "securestacks kms verify: --public-key: malformed PEM"},
		{"missing key file", verify("--public-key", filepath.Join(dir, "none.pem"), "--signature", sig), "--public-key: open "},
		{"wrong key type for the algorithm", []string{"kms", "verify", "--public-key", ecPEM, "--signature", sig, "--message", msg, "--algorithm", "RSASSA_PSS_SHA_256"},
			"securestacks kms verify: --algorithm: RSASSA_PSS_SHA_256 needs an RSA key, got an ECC key"},
		{"wrong curve for the algorithm", []string{"kms", "verify", "--public-key", ecPEM, "--signature", sig, "--message", msg, "--algorithm", "ECDSA_SHA_512"},
			"KMS signs with this ECC key only as ECDSA_SHA_256, got ECDSA_SHA_512"},
		{"unreadable signature file", verify("--public-key", ecPEM, "--signature", unreadable), "securestacks kms verify: --signature: "},
		{"bad base64 signature", verify("--public-key", ecPEM, "--signature-base64", "%%%"), "--signature-base64: expected base64"},
		{"unknown algorithm", []string{"kms", "verify", "--public-key", ecPEM, "--signature", sig, "--message", msg, "--algorithm", "SHA256"}, "--algorithm: expected one of RSASSA_PSS_SHA_256,"},
		{"bad message type", verify("--public-key", ecPEM, "--signature", sig, "--message-type", "HASH"), `--message-type: expected RAW or DIGEST, got "HASH"`},
		{"digest of the wrong length", verify("--public-key", ecPEM, "--signature", sig, "--message-type", "DIGEST"), "--message: a SHA-256 digest for ECDSA_SHA_256 is 32 bytes, got 5"},
		{"unknown flag", verify("--pubkey", ecPEM), "flag provided but not defined: -pubkey"},
		{"stray argument", append(verify("--public-key", ecPEM, "--signature", sig), "extra"), `unexpected argument "extra"`},
		{"sign without key", []string{"kms", "sign", "--algorithm", "ECDSA_SHA_256", "--message", msg}, "securestacks kms sign: --key-id: expected"},
		{"sign without algorithm", []string{"kms", "sign", "--key-id", "k", "--message", msg}, "securestacks kms sign: --algorithm: expected one of"},
		{"sign a missing file", []string{"kms", "sign", "--key-id", "k", "--algorithm", "ECDSA_SHA_256", "--message", filepath.Join(dir, "none")}, "--message: open "},
		{"public-key format", []string{"kms", "public-key", "--key-id", "k", "--format", "XML"}, `--format: expected PEM or DER, got "XML"`},
		{"public-key without key", []string{"kms", "public-key"}, "securestacks kms public-key: --key-id: expected"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// GIVEN a command line with one mistake WHEN it runs
			code, out, errOut := cli(t, tc.args...)
			// THEN it exits 2 with one line on stderr that names the flag, and prints nothing else
			if code != 2 || out != "" || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, tc.want) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want 2 and %q", code, out, errOut, tc.want)
			}
		})
	}
}
