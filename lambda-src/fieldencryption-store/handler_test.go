package main_test

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	main "github.com/securestacks/securestacks/lambda-src/fieldencryption-store"
)

type putFunc func(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)

func (f putFunc) PutObject(ctx context.Context, in *s3.PutObjectInput, o ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	return f(ctx, in, o...)
}

func request(method, contentType, body string, b64 bool) events.LambdaFunctionURLRequest {
	r := events.LambdaFunctionURLRequest{Headers: map[string]string{"content-type": contentType}, Body: body, IsBase64Encoded: b64}
	r.RequestContext.HTTP.Method = method
	r.RequestContext.RequestID = "req-1"
	return r
}

func TestStoreKeepsTheProtectedBodyUnderTheKMSKey(t *testing.T) {
	var stored *s3.PutObjectInput
	var body string
	h := &main.Handler{
		S3: putFunc(func(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
			stored = in
			b, _ := io.ReadAll(in.Body)
			body = string(b)
			return &s3.PutObjectOutput{}, nil
		}),
		Bucket: "b", KMSKeyID: "arn:aws:kms:eu-west-1:123456789012:key/k",
		Now:    func() time.Time { return time.Date(2026, 12, 3, 23, 0, 0, 0, time.UTC) },
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
	}
	protected := `[{"ssn": "#01#abc=#10#"}]`
	// WHEN CloudFront forwards a protected body (base64, as function URLs pass it)
	resp, err := h.Handle(context.Background(), request("POST", "application/json; charset=utf-8", base64.StdEncoding.EncodeToString([]byte(protected)), true))
	// THEN it is stored as is, SSE-KMS under the key, and the answer names the object
	if err != nil || resp.StatusCode != http.StatusCreated || !strings.Contains(resp.Body, `"id":"records/2026/12/03/req-1"`) {
		t.Fatalf("%+v, %v", resp, err)
	}
	if body != protected || aws.ToString(stored.SSEKMSKeyId) != "arn:aws:kms:eu-west-1:123456789012:key/k" || stored.ServerSideEncryption != "aws:kms" || aws.ToString(stored.Key) != "records/2026/12/03/req-1" {
		t.Fatalf("%+v %q", stored, body)
	}
}

func TestStoreRefusesWhatTheEdgeWouldNotForward(t *testing.T) {
	h := &main.Handler{
		S3: putFunc(func(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
			return nil, errors.New("AccessDenied: bucket b")
		}),
		Bucket: "b", KMSKeyID: "k", Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
	}
	cases := []struct {
		name string
		req  events.LambdaFunctionURLRequest
		code int
		want string
	}{
		{"GET", request("GET", "application/json", "", false), 405, "method: expected POST or PUT, got GET"},
		{"text/plain", request("POST", "text/plain", "x", false), 415, "content-type: expected application/json or application/x-www-form-urlencoded"},
		{"empty", request("PUT", "application/json", "", false), 400, "body: expected a body, got none"},
		{"bad base64", request("POST", "application/json", "@@", true), 400, "body: expected base64 (isBase64Encoded)"},
		{"S3 fails", request("POST", "application/x-www-form-urlencoded", "a=b", false), 502, "store: PutObject: AccessDenied: bucket b"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, err := h.Handle(context.Background(), c.req)
			if err != nil || resp.StatusCode != c.code || !strings.Contains(resp.Body, c.want) {
				t.Fatalf("%+v, %v", resp, err)
			}
		})
	}
}
