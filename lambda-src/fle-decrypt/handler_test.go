package main_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

	"github.com/securestacks/securestacks/internal/fle"
	main "github.com/securestacks/securestacks/lambda-src/fle-decrypt"
	"github.com/securestacks/securestacks/lambda-src/internal/awsretry"
)

// decryptFunc is a fake KMS Decrypt.
type decryptFunc func(context.Context, *kms.DecryptInput, ...func(*kms.Options)) (*kms.DecryptOutput, error)

func (f decryptFunc) Decrypt(ctx context.Context, in *kms.DecryptInput, o ...func(*kms.Options)) (*kms.DecryptOutput, error) {
	return f(ctx, in, o...)
}

const keyArn = "arn:aws:kms:eu-west-2:111122223333:key/fle"

var priv = func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}()

// fakeKMS decrypts with priv as KMS would, after failing with errs in turn.
type fakeKMS struct {
	mu    sync.Mutex
	errs  []error
	calls int
}

func (f *fakeKMS) api() main.DecryptAPI {
	return decryptFunc(func(_ context.Context, in *kms.DecryptInput, _ ...func(*kms.Options)) (*kms.DecryptOutput, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.calls++
		if *in.KeyId != keyArn || in.EncryptionAlgorithm != types.EncryptionAlgorithmSpecRsaesOaepSha256 {
			return nil, errors.New("want the configured key and RSAES_OAEP_SHA_256")
		}
		if len(f.errs) > 0 {
			err := f.errs[0]
			f.errs = f.errs[1:]
			if err != nil {
				return nil, err
			}
		}
		p, err := rsa.DecryptOAEP(sha256.New(), nil, priv, in.CiphertextBlob, nil)
		if err != nil {
			return nil, &smithy.GenericAPIError{Code: "InvalidCiphertextException", Message: ""}
		}
		return &kms.DecryptOutput{Plaintext: p, KeyId: &[]string{keyArn}[0]}, nil
	})
}

func encrypt(t *testing.T, plain string) string {
	t.Helper()
	e, err := fle.NewEncryptor(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	m, err := e.EncryptValue([]byte(plain))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func handler(f *fakeKMS, logs *bytes.Buffer) *main.Handler {
	return &main.Handler{KMS: f.api(), KeyID: keyArn, Logger: slog.New(slog.NewJSONHandler(logs, nil)),
		Retry: awsretry.Policy{Sleep: func(context.Context, time.Duration) error { return nil }}}
}

func TestHandleDecryptsEveryMarkerInPlace(t *testing.T) {
	secret := `O"Brien \ 123-45-6789`
	body := `[{"lname": "` + encrypt(t, secret) + `", "city": "Seattle", "ssn": "` + encrypt(t, "987-65-4321") + `"}]`
	cases := []struct {
		format, want string
	}{
		{"", `[{"lname": "O"Brien \ 123-45-6789", "city": "Seattle", "ssn": "987-65-4321"}]`},
		{"text", `[{"lname": "O"Brien \ 123-45-6789", "city": "Seattle", "ssn": "987-65-4321"}]`},
		{"json", `[{"lname": "O\"Brien \\ 123-45-6789", "city": "Seattle", "ssn": "987-65-4321"}]`},
	}
	for _, tc := range cases {
		t.Run("format "+tc.format, func(t *testing.T) {
			// GIVEN a body with two encrypted fields
			var logs bytes.Buffer
			f := &fakeKMS{}
			// WHEN the Lambda handles it
			resp, err := handler(f, &logs).Handle(context.Background(), main.Request{Body: body, Format: tc.format})
			// THEN both plaintexts are in place, with KMS called once per field
			if err != nil || resp.Body != tc.want || resp.Fields != 2 || f.calls != 2 {
				t.Fatalf("%+v, %v, %d calls", resp, err, f.calls)
			}
			// AND the log line carries counts, never the plaintext
			if strings.Contains(logs.String(), "Brien") || strings.Contains(logs.String(), "987-65") || !strings.Contains(logs.String(), `"fields":2`) {
				t.Errorf("log: %s", logs.String())
			}
		})
	}
}

func TestHandleRetriesThrottlingWithinBounds(t *testing.T) {
	throttled := &smithy.GenericAPIError{Code: "ThrottlingException", Message: "slow down"}
	body := "ssn=" + encrypt(t, "123")
	// GIVEN KMS throttles twice WHEN handling THEN the third attempt decrypts
	f := &fakeKMS{errs: []error{throttled, throttled}}
	if resp, err := handler(f, &bytes.Buffer{}).Handle(context.Background(), main.Request{Body: body}); err != nil || resp.Body != "ssn=123" {
		t.Fatalf("%+v, %v", resp, err)
	}
	// GIVEN KMS keeps throttling WHEN handling THEN it gives up after 3 attempts with KMS's error
	f = &fakeKMS{errs: []error{throttled, throttled, throttled, throttled}}
	_, err := handler(f, &bytes.Buffer{}).Handle(context.Background(), main.Request{Body: body})
	if err == nil || !strings.Contains(err.Error(), "gave up after 3 attempts") || f.calls != 3 {
		t.Fatalf("%v after %d calls", err, f.calls)
	}
}

func TestHandleFailsWholeWhenAnyFieldFails(t *testing.T) {
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	oe, _ := fle.NewEncryptor(&other.PublicKey)
	wrongKey, _ := oe.EncryptValue([]byte("x"))
	good := encrypt(t, "secret-value")
	cases := []struct {
		name string
		body string
		errs []error
		want string
	}{
		{"bad base64", good + " #01#%%%#10#", nil, "fle: marker 2 at byte 353: expected base64"},
		{"wrong key", good + " " + wrongKey, nil, "fle: marker 2 at byte 353: decrypt: kms Decrypt: api error InvalidCiphertextException"},
		{"KMS error", good + " " + good, []error{nil, &smithy.GenericAPIError{Code: "KMSInvalidStateException", Message: "disabled"}},
			"decrypt: kms Decrypt: api error KMSInvalidStateException: disabled"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// GIVEN a body where one field cannot be decrypted
			var logs bytes.Buffer
			f := &fakeKMS{errs: tc.errs}
			h := handler(f, &logs)
			h.Concurrency = 1
			// WHEN the Lambda handles it
			resp, err := h.Handle(context.Background(), main.Request{Body: tc.body})
			// THEN it returns an error naming the marker and no body, not even the fields that worked
			if err == nil || !strings.Contains(err.Error(), tc.want) || resp.Body != "" {
				t.Fatalf("%+v, %v; want %q", resp, err, tc.want)
			}
			if strings.Contains(err.Error(), "secret-value") || strings.Contains(logs.String(), "secret-value") {
				t.Error("plaintext leaked into the error or the log")
			}
		})
	}
}

func TestHandleRejectsBadRequestsAndConfiguration(t *testing.T) {
	// GIVEN an unknown format WHEN handling THEN the error names the field and the choices
	_, err := handler(&fakeKMS{}, &bytes.Buffer{}).Handle(context.Background(), main.Request{Body: "x", Format: "xml"})
	if err == nil || err.Error() != `request: format: expected text, json or form, got "xml"` {
		t.Errorf("format: %v", err)
	}
	// GIVEN no key configured WHEN handling THEN KMS is not called
	f := &fakeKMS{}
	h := handler(f, &bytes.Buffer{})
	h.KeyID = ""
	if _, err := h.Handle(context.Background(), main.Request{Body: encrypt(t, "x")}); err == nil || !strings.Contains(err.Error(), "KEY_ID") || f.calls != 0 {
		t.Errorf("no key: %v, %d calls", err, f.calls)
	}
	// GIVEN a body without markers WHEN handling THEN it comes back as is
	resp, err := handler(&fakeKMS{}, &bytes.Buffer{}).Handle(context.Background(), main.Request{Body: "plain # text"})
	if err != nil || resp.Body != "plain # text" || resp.Fields != 0 {
		t.Errorf("%+v, %v", resp, err)
	}
}
