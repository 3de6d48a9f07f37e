package fle_test

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

	"github.com/securestacks/securestacks/internal/fle"
)

// kmsDecrypt is a fake KMS Decrypt.
type kmsDecrypt func(context.Context, *kms.DecryptInput, ...func(*kms.Options)) (*kms.DecryptOutput, error)

func (f kmsDecrypt) Decrypt(ctx context.Context, in *kms.DecryptInput, o ...func(*kms.Options)) (*kms.DecryptOutput, error) {
	return f(ctx, in, o...)
}

const fleKeyArn = "arn:aws:kms:eu-west-2:111122223333:key/fle"

// fakeKMS decrypts with priv2048 as KMS would, after failing with errs in turn,
// and records every request.
type fakeKMS struct {
	mu   sync.Mutex
	errs []error
	ins  []*kms.DecryptInput
}

func (f *fakeKMS) api() fle.DecryptAPI {
	return kmsDecrypt(func(_ context.Context, in *kms.DecryptInput, _ ...func(*kms.Options)) (*kms.DecryptOutput, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.ins = append(f.ins, in)
		if len(f.errs) > 0 {
			err := f.errs[0]
			f.errs = f.errs[1:]
			if err != nil {
				return nil, err
			}
		}
		p, err := rsa.DecryptOAEP(sha256.New(), nil, priv2048, in.CiphertextBlob, nil)
		if err != nil {
			return nil, &smithy.GenericAPIError{Code: "InvalidCiphertextException"}
		}
		return &kms.DecryptOutput{Plaintext: p, KeyId: &[]string{fleKeyArn}[0]}, nil
	})
}

// retryTwice is a RetryFunc that makes at most two attempts and counts them.
func retryTwice(attempts *int) fle.RetryFunc {
	return func(ctx context.Context, op func(ctx context.Context) error) error {
		var err error
		for range 2 {
			*attempts++
			if err = op(ctx); err == nil {
				return nil
			}
		}
		return err
	}
}

func TestKMSDecryptFuncAsksKMSForTheNamedKeyAndOAEP(t *testing.T) {
	// GIVEN a value encrypted with the key's public half
	ct, err := encryptor(t, priv2048).EncryptValue([]byte("123-45-6789"))
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeKMS{}
	// WHEN a text holding its marker is decrypted through KMSDecryptFunc
	out, err := fle.Decrypt(context.Background(), []byte("ssn="+ct), fle.KMSDecryptFunc(f.api(), fleKeyArn, nil), nil)
	// THEN the plaintext is in place, after one KMS call that names the key and
	// RSAES_OAEP_SHA_256
	if err != nil || string(out) != "ssn=123-45-6789" || len(f.ins) != 1 {
		t.Fatalf("%q, %v, %d calls", out, err, len(f.ins))
	}
	in := f.ins[0]
	if in.KeyId == nil || *in.KeyId != fleKeyArn || in.EncryptionAlgorithm != types.EncryptionAlgorithmSpecRsaesOaepSha256 || len(in.CiphertextBlob) != 256 {
		t.Fatalf("request: key %v, algorithm %q, %d ciphertext bytes", in.KeyId, in.EncryptionAlgorithm, len(in.CiphertextBlob))
	}
}

func TestKMSDecryptFuncRetriesOnlyThroughItsHook(t *testing.T) {
	throttled := &smithy.GenericAPIError{Code: "ThrottlingException", Message: "slow down"}
	cases := []struct {
		name         string
		errs         []error
		wrongKey     bool
		hook         bool
		wantErr      string // "" for success
		wantCalls    int
		wantAttempts int
	}{
		{"no hook: one call, KMS's error", []error{throttled}, false, false, "kms Decrypt: api error ThrottlingException: slow down", 1, 0},
		{"hook: a second attempt succeeds", []error{throttled}, false, true, "", 2, 2},
		{"hook: exhausted, KMS's last error", []error{throttled, throttled, throttled}, false, true, "kms Decrypt: api error ThrottlingException: slow down", 2, 2},
		{"no hook: another key's ciphertext is KMS's error", nil, true, false, "kms Decrypt: api error InvalidCiphertextException", 1, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// GIVEN KMS that fails with errs before answering, and maybe a retry hook
			key := priv2048
			if tc.wrongKey {
				key = mustKey(2048)
			}
			blob := ciphertext(t, key, "secret-value")
			f := &fakeKMS{errs: tc.errs}
			attempts := 0
			var hook fle.RetryFunc
			if tc.hook {
				hook = retryTwice(&attempts)
			}
			// WHEN one ciphertext is decrypted
			plain, err := fle.KMSDecryptFunc(f.api(), fleKeyArn, hook)(context.Background(), blob)
			// THEN KMS is called as often as the hook allows, and no more
			if len(f.ins) != tc.wantCalls || attempts != tc.wantAttempts {
				t.Fatalf("%d KMS calls, %d attempts; want %d, %d", len(f.ins), attempts, tc.wantCalls, tc.wantAttempts)
			}
			if tc.wantErr == "" {
				if err != nil || string(plain) != "secret-value" {
					t.Fatalf("%q, %v", plain, err)
				}
				return
			}
			// AND a failure is KMS's own error, typed, with no plaintext
			var api smithy.APIError
			if err == nil || plain != nil || !strings.HasPrefix(err.Error(), tc.wantErr) || !errors.As(err, &api) {
				t.Fatalf("%q, %v; want %q", plain, err, tc.wantErr)
			}
			if strings.Contains(err.Error(), "secret-value") {
				t.Errorf("error leaks plaintext: %v", err)
			}
		})
	}
}

func TestKMSDecryptFuncWithoutAKeyNeverCallsKMS(t *testing.T) {
	// GIVEN no key id
	f := &fakeKMS{}
	ct, _ := encryptor(t, priv2048).EncryptValue([]byte("x"))
	// WHEN a marker is decrypted
	out, err := fle.Decrypt(context.Background(), []byte(ct), fle.KMSDecryptFunc(f.api(), "", nil), nil)
	// THEN the error names the marker and the missing key, and KMS is not asked
	var me *fle.MarkerError
	if out != nil || !errors.As(err, &me) || me.Ordinal != 1 || !strings.Contains(err.Error(), "kms Decrypt: key id: expected the KMS key id, key ARN or alias, got none") || len(f.ins) != 0 {
		t.Fatalf("%q, %v, %d calls", out, err, len(f.ins))
	}
}

// ciphertext is the raw RSA-OAEP ciphertext of plain under key's public half,
// as a marker carries it.
func ciphertext(t *testing.T, key *rsa.PrivateKey, plain string) []byte {
	t.Helper()
	m, err := encryptor(t, key).EncryptValue([]byte(plain))
	if err != nil {
		t.Fatal(err)
	}
	ct, err := base64.StdEncoding.DecodeString(strings.TrimSuffix(strings.TrimPrefix(m, fle.Prefix), fle.Suffix))
	if err != nil {
		t.Fatal(err)
	}
	return ct
}
