package main_test

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/securestacks/securestacks/internal/fle"
	"github.com/securestacks/securestacks/internal/kmskey"
	"github.com/securestacks/securestacks/internal/kmstest"
	"github.com/securestacks/securestacks/internal/testenv"
	main "github.com/securestacks/securestacks/lambda-src/fle-decrypt"
)

const seedPayload = `[{"fname": "Alejandro", "lname": "Rosalez", "email": "alejandro@example.com", "ssn": "123-45-6789", "dob": "1980-01-01", "phone": "+1-555-0100", "city": "Seattle"}]`

var seedFields = []string{"fname", "lname", "email", "ssn", "dob", "phone"}

// localKMSKey starts local-kms and creates an RSA_2048 ENCRYPT_DECRYPT key, as
// the AsymmetricKeys stack's field-encryption key.
func localKMSKey(t *testing.T) (endpoint, keyID string, pub *kmskey.PublicKey) {
	t.Helper()
	endpoint = testenv.StartLocalKMS(t)
	c := kmstest.Client(endpoint)
	keyID = kmstest.CreateKey(t, c, types.KeySpecRsa2048, types.KeyUsageTypeEncryptDecrypt)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pub, err := kmskey.Fetch(ctx, c, keyID)
	if err != nil {
		t.Fatal(err)
	}
	return endpoint, keyID, pub
}

func encryptorFor(t *testing.T, pub *kmskey.PublicKey) *fle.Encryptor {
	t.Helper()
	k, err := kmskey.ParsePublicKey(pub.DER)
	if err != nil {
		t.Fatal(err)
	}
	rk, ok := k.(*rsa.PublicKey)
	if !ok {
		t.Fatalf("%T is no RSA key", k)
	}
	e, err := fle.NewEncryptor(rk)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestFLERoundTripThroughLocalKMS(t *testing.T) {
	// GIVEN the public key of a local-kms RSA_2048 key, fetched with GetPublicKey
	endpoint, keyID, pub := localKMSKey(t)
	protected, err := encryptorFor(t, pub).EncryptJSON([]byte(seedPayload), seedFields)
	if err != nil {
		t.Fatal(err)
	}
	h := &main.Handler{KMS: kmstest.Client(endpoint), KeyID: keyID, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	// WHEN the Lambda handler decrypts the protected payload through KMS
	resp, err := h.Handle(context.Background(), main.Request{Body: string(protected)})
	// THEN it is the original payload
	if err != nil || resp.Body != seedPayload || resp.Fields != 6 {
		t.Fatalf("%+v, %v", resp, err)
	}

	// GIVEN a field encrypted under another KMS key
	otherID := kmstest.CreateKey(t, kmstest.Client(endpoint), types.KeySpecRsa2048, types.KeyUsageTypeEncryptDecrypt)
	otherPub, err := kmskey.Fetch(context.Background(), kmstest.Client(endpoint), otherID)
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := encryptorFor(t, otherPub).EncryptValue([]byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	// WHEN it is decrypted with the configured key THEN KMS refuses and no body comes back
	resp, err = h.Handle(context.Background(), main.Request{Body: string(protected) + foreign})
	if err == nil || !strings.Contains(err.Error(), "fle: marker 7 at byte") || !strings.Contains(err.Error(), "InvalidCiphertextException") || resp.Body != "" {
		t.Fatalf("%+v, %v", resp, err)
	}
}

func TestOpenSSLEncryptedFieldDecryptsThroughLocalKMS(t *testing.T) {
	// GIVEN a field encrypted by openssl with the KMS public key, wrapped in our markers
	endpoint, keyID, pub := localKMSKey(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pub.pem"), pub.PEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("openssl", "pkeyutl", "-encrypt", "-pubin", "-inkey", filepath.Join(dir, "pub.pem"),
		"-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:sha256")
	cmd.Stdin = strings.NewReader("123-45-6789")
	ct, err := cmd.Output()
	if err != nil {
		t.Fatalf("openssl pkeyutl: %v", err)
	}
	body := `{"ssn": "` + fle.Prefix + base64.StdEncoding.EncodeToString(ct) + fle.Suffix + `"}`
	h := &main.Handler{KMS: kmstest.Client(endpoint), KeyID: keyID, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	// WHEN the Lambda handler decrypts it
	resp, err := h.Handle(context.Background(), main.Request{Body: body})
	// THEN KMS returns openssl's plaintext
	if err != nil || resp.Body != `{"ssn": "123-45-6789"}` {
		t.Fatalf("%+v, %v", resp, err)
	}
}

func TestBootstrapDecryptsUnderTheLambdaRuntime(t *testing.T) {
	// GIVEN the production bootstrap under the Lambda runtime emulator, pointed at local-kms
	endpoint, keyID, pub := localKMSKey(t)
	bootstrap := testenv.BuildBootstrap(t, "github.com/securestacks/securestacks/lambda-src/fle-decrypt")
	// AND an HMAC_256 invoke key whose GenerateMac authorizes each request
	c := kmstest.Client(endpoint)
	invokeKey := kmstest.CreateKey(t, c, types.KeySpecHmac256, types.KeyUsageTypeGenerateVerifyMac)
	env := append(kmstest.Env(endpoint), "KEY_ID="+keyID, "INVOKE_KEY_ID="+invokeKey, "AWS_LAMBDA_FUNCTION_NAME=fle-decrypt-rie")
	url := testenv.StartRIE(t, bootstrap, env...)
	protected, err := encryptorFor(t, pub).EncryptJSON([]byte(seedPayload), seedFields)
	if err != nil {
		t.Fatal(err)
	}
	authorize := func(format, body string) *fle.Authorization {
		m := fle.AuthorizationMessage("fle-decrypt-rie", time.Now().Add(2*time.Minute), format, body)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out, err := c.GenerateMac(ctx, &kms.GenerateMacInput{KeyId: &invokeKey, Message: m, MacAlgorithm: types.MacAlgorithmSpecHmacSha256})
		if err != nil {
			t.Fatal(err)
		}
		return &fle.Authorization{Message: m, Mac: out.Mac}
	}
	// WHEN it is invoked without an authorization THEN it decrypts nothing
	unauthorized, _ := json.Marshal(main.Request{Body: string(protected), Format: "json"})
	if out := testenv.Invoke(t, url, unauthorized); !bytes.Contains(out, []byte("not authorized")) || bytes.Contains(out, []byte("Alejandro")) {
		t.Fatalf("unauthorized request answered %s", out)
	}
	payload, _ := json.Marshal(main.Request{Body: string(protected), Format: "json", Authorization: authorize("json", string(protected))})
	// WHEN it is invoked with a protected body and its authorization
	out := testenv.Invoke(t, url, payload)
	// THEN it answers with the decrypted body
	var resp main.Response
	if err := json.Unmarshal(out, &resp); err != nil || resp.Body != seedPayload || resp.Fields != 6 {
		t.Fatalf("%s (%v)", out, err)
	}
	// WHEN a marker is corrupt THEN the invocation fails with a one-line error and no body
	bad, _ := json.Marshal(main.Request{Body: string(protected) + " #01#@@#10#", Authorization: authorize("text", string(protected)+" #01#@@#10#")})
	out = testenv.Invoke(t, url, bad)
	if !bytes.Contains(out, []byte(`"errorMessage":"fle: marker 7 at byte`)) || bytes.Contains(out, []byte("Alejandro")) {
		t.Fatalf("%s", out)
	}
}

func fetchPublicKey(t *testing.T, c *kms.Client, keyID string) *kmskey.PublicKey {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pub, err := kmskey.Fetch(ctx, c, keyID)
	if err != nil {
		t.Fatal(err)
	}
	return pub
}
