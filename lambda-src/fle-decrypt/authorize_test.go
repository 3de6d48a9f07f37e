package main_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/securestacks/securestacks/internal/fle"
	main "github.com/securestacks/securestacks/lambda-src/fle-decrypt"
)

const invokeKey = "arn:aws:kms:eu-west-2:111122223333:key/invoke"

// verifyMacFunc is a fake KMS VerifyMac.
type verifyMacFunc func(context.Context, *kms.VerifyMacInput, ...func(*kms.Options)) (*kms.VerifyMacOutput, error)

func (f verifyMacFunc) VerifyMac(ctx context.Context, in *kms.VerifyMacInput, o ...func(*kms.Options)) (*kms.VerifyMacOutput, error) {
	return f(ctx, in, o...)
}

// hmacKMS is KMS GenerateMac/VerifyMac with one HMAC_256 key: secret.
var secret = []byte("the invoke key's secret, which only KMS holds")

func generateMac(message []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write(message)
	return m.Sum(nil)
}

func verifyMac() main.VerifyMacAPI {
	return verifyMacFunc(func(_ context.Context, in *kms.VerifyMacInput, _ ...func(*kms.Options)) (*kms.VerifyMacOutput, error) {
		if aws.ToString(in.KeyId) != invokeKey || in.MacAlgorithm != types.MacAlgorithmSpecHmacSha256 {
			return nil, errors.New("want the invoke key and HMAC_SHA_256")
		}
		if !hmac.Equal(generateMac(in.Message), in.Mac) {
			// What KMS answers for a MAC that does not verify.
			return nil, &types.KMSInvalidMacException{Message: aws.String("invalid MAC")}
		}
		return &kms.VerifyMacOutput{MacValid: true, KeyId: in.KeyId}, nil
	})
}

func TestOnlyAnAuthorizedRequestGetsAnythingDecrypted(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	body := "ssn=" + encrypt(t, "123")
	valid := func(body string) *fle.Authorization {
		m := fle.AuthorizationMessage("fle-decrypt-fn", now.Add(2*time.Minute), "text", body)
		return &fle.Authorization{Message: m, Mac: generateMac(m)}
	}
	cases := []struct {
		name string
		auth *fle.Authorization
		want string // "" means decrypted
	}{
		{"authorized", valid(body), ""},
		// Any principal with lambda:InvokeFunction can invoke (a Lambda resource policy cannot
		// deny an identity-policy grant in the same account:
		// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html),
		// so the function itself refuses a request that no kms:GenerateMac authorized
		{"no authorization", nil, "not authorized: the request has no authorization"},
		{"forged MAC", &fle.Authorization{Message: valid(body).Message, Mac: []byte("forged")}, "not authorized: the MAC does not verify"},
		{"authorization of another body", valid("ssn=" + encrypt(t, "999")), "not authorized: authorization: message is for another body or format"},
		{"expired", func() *fle.Authorization {
			m := fle.AuthorizationMessage("fle-decrypt-fn", now.Add(-time.Second), "text", body)
			return &fle.Authorization{Message: m, Mac: generateMac(m)}
		}(), "not authorized: authorization: expired"},
		{"valid for a day", func() *fle.Authorization {
			m := fle.AuthorizationMessage("fle-decrypt-fn", now.Add(24*time.Hour), "text", body)
			return &fle.Authorization{Message: m, Mac: generateMac(m)}
		}(), "more than 5m0s ahead"},
		{"for another function", func() *fle.Authorization {
			m := fle.AuthorizationMessage("other-fn", now.Add(time.Minute), "text", body)
			return &fle.Authorization{Message: m, Mac: generateMac(m)}
		}(), `message is for "other-fn", not this function "fle-decrypt-fn"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// GIVEN the decrypt function with its authorizer
			f := &fakeKMS{}
			h := handler(f, &bytes.Buffer{})
			h.Authorizer = &main.Authorizer{KMS: verifyMac(), InvokeKeyID: invokeKey, Audience: "fle-decrypt-fn", Now: func() time.Time { return now }}

			// WHEN it is invoked
			resp, err := h.Handle(context.Background(), main.Request{Body: body, Authorization: tc.auth})

			// THEN only the authorized request is decrypted; every other one is refused before
			// any KMS Decrypt
			if tc.want == "" {
				if err != nil || resp.Body != "ssn=123" {
					t.Fatalf("got %q, %v", resp.Body, err)
				}
				return
			}
			if err == nil || !errors.Is(err, main.ErrNotAuthorized) || !strings.Contains(err.Error(), tc.want) || f.calls != 0 || resp.Body != "" {
				t.Fatalf("got %q, %v after %d Decrypt calls, want %q", resp.Body, err, f.calls, tc.want)
			}
		})
	}
}
