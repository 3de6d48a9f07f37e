package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/securestacks/securestacks/lambda-src/internal/logging"
)

// PutObjectAPI stores one protected body.
type PutObjectAPI interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

var _ PutObjectAPI = (*s3.Client)(nil)

// Handler is the field-encryption origin behind the distribution: a Lambda
// function URL (AuthType AWS_IAM, signed by CloudFront origin access control)
// that stores each body the edge encrypter protected as one S3 object,
// encrypted under KMSKeyID. It never logs a body.
type Handler struct {
	S3 PutObjectAPI
	// Bucket and KMSKeyID are where bodies go and the key that encrypts them.
	Bucket, KMSKeyID string
	// Prefix starts every object key. Default "records/".
	Prefix string
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Timeout bounds the PutObject call. Default 10s.
	Timeout time.Duration
	// Logger receives one line per request. Default slog.Default().
	Logger *slog.Logger
}

// accepted are the media types the edge encrypter protects.
var accepted = map[string]bool{"application/json": true, "application/x-www-form-urlencoded": true}

// Handle stores a POST or PUT body and answers 201 with its object key.
func (h *Handler) Handle(ctx context.Context, req events.LambdaFunctionURLRequest) (events.LambdaFunctionURLResponse, error) {
	status, answer, key := h.handle(ctx, req)
	logger := h.Logger
	if logger == nil {
		logger = slog.Default()
	}
	logging.WithRequest(ctx, logger).LogAttrs(ctx, slog.LevelInfo, "field-encryption origin",
		slog.String("method", req.RequestContext.HTTP.Method), slog.Int("status", status),
		slog.Int("body_bytes", len(req.Body)), slog.String("object", key), slog.String("result", answer))
	body, _ := json.Marshal(map[string]string{"result": answer, "id": key})
	return events.LambdaFunctionURLResponse{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store"},
		Body:       string(body),
	}, nil
}

func (h *Handler) handle(ctx context.Context, req events.LambdaFunctionURLRequest) (status int, answer, key string) {
	method := req.RequestContext.HTTP.Method
	if method != http.MethodPost && method != http.MethodPut {
		return http.StatusMethodNotAllowed, "method: expected POST or PUT, got " + method, ""
	}
	media, _, err := mime.ParseMediaType(header(req.Headers, "content-type"))
	if err != nil || !accepted[media] {
		return http.StatusUnsupportedMediaType, "content-type: expected application/json or application/x-www-form-urlencoded", ""
	}
	body := []byte(req.Body)
	if req.IsBase64Encoded {
		if body, err = base64.StdEncoding.DecodeString(req.Body); err != nil {
			return http.StatusBadRequest, "body: expected base64 (isBase64Encoded)", ""
		}
	}
	if len(body) == 0 {
		return http.StatusBadRequest, "body: expected a body, got none", ""
	}
	if h.Bucket == "" || h.KMSKeyID == "" {
		return http.StatusInternalServerError, "configuration: BUCKET and KMS_KEY_ID: expected both", ""
	}
	now := time.Now
	if h.Now != nil {
		now = h.Now
	}
	prefix := h.Prefix
	if prefix == "" {
		prefix = "records/"
	}
	id := req.RequestContext.RequestID
	if id == "" {
		return http.StatusBadRequest, "request: expected a Lambda function URL request id", ""
	}
	key = prefix + now().UTC().Format("2006/01/02/") + id
	timeout := h.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	_, err = h.S3.PutObject(ctx, &s3.PutObjectInput{
		Bucket:               aws.String(h.Bucket),
		Key:                  aws.String(key),
		Body:                 strings.NewReader(string(body)),
		ContentType:          aws.String(media),
		ServerSideEncryption: s3types.ServerSideEncryptionAwsKms,
		SSEKMSKeyId:          aws.String(h.KMSKeyID),
		BucketKeyEnabled:     aws.Bool(true),
	})
	if err != nil {
		// The SDK's error names the bucket and key, never the body.
		return http.StatusBadGateway, fmt.Sprintf("store: PutObject: %v", err), ""
	}
	return http.StatusCreated, "stored", key
}

// header reads a header case-insensitively (function URLs lower-case them).
func header(h map[string]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}
