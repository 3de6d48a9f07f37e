package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/securestacks/securestacks/internal/fle"
	"github.com/securestacks/securestacks/lambda-src/internal/awsretry"
	"github.com/securestacks/securestacks/lambda-src/internal/logging"
)

// DecryptAPI is the part of the KMS client the handler needs: the one that
// fle.KMSDecryptFunc calls.
type DecryptAPI = fle.DecryptAPI

var _ DecryptAPI = (*kms.Client)(nil)

// Request is the invocation payload: the seed's {"body": "..."} plus an
// optional format.
type Request struct {
	// Body is any text holding #01#...#10# markers.
	Body string `json:"body"`
	// Format is "text" (default: each plaintext replaces its marker as is,
	// as in the seed) or "json" (each plaintext is escaped as the inside of a
	// JSON string, so a JSON body stays valid JSON).
	Format string `json:"format,omitempty"`
	// Authorization proves the caller may have this body decrypted (see
	// fle.Authorization). Required when the handler has an Authorizer.
	Authorization *fle.Authorization `json:"authorization,omitempty"`
}

// VerifyMacAPI is the KMS call that checks an Authorization.
type VerifyMacAPI interface {
	VerifyMac(ctx context.Context, in *kms.VerifyMacInput, optFns ...func(*kms.Options)) (*kms.VerifyMacOutput, error)
}

var _ VerifyMacAPI = (*kms.Client)(nil)

// Authorizer admits only requests whose Authorization KMS verifies under
// InvokeKeyID: a principal that may invoke the function but not call
// kms:GenerateMac on that key gets nothing decrypted.
type Authorizer struct {
	KMS VerifyMacAPI
	// InvokeKeyID is the HMAC_256 key.
	InvokeKeyID string
	// Audience is this function's name (AWS_LAMBDA_FUNCTION_NAME).
	Audience string
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// ErrNotAuthorized marks a refused request.
var ErrNotAuthorized = errors.New("not authorized")

// Authorize returns nil when req carries a valid authorization for itself.
func (a *Authorizer) Authorize(ctx context.Context, req Request) error {
	if req.Authorization == nil || len(req.Authorization.Message) == 0 || len(req.Authorization.Mac) == 0 {
		return fmt.Errorf("%w: the request has no authorization (kms:GenerateMac of fle.AuthorizationMessage under the invoke key)", ErrNotAuthorized)
	}
	out, err := a.KMS.VerifyMac(ctx, &kms.VerifyMacInput{
		KeyId:        aws.String(a.InvokeKeyID),
		Message:      req.Authorization.Message,
		Mac:          req.Authorization.Mac,
		MacAlgorithm: kmstypes.MacAlgorithmSpec(fle.MacAlgorithm),
	})
	var invalid *kmstypes.KMSInvalidMacException
	switch {
	case errors.As(err, &invalid):
		return fmt.Errorf("%w: the MAC does not verify under the invoke key", ErrNotAuthorized)
	case err != nil:
		return fmt.Errorf("authorization: VerifyMac: %w", err)
	case !out.MacValid:
		return fmt.Errorf("%w: the MAC does not verify under the invoke key", ErrNotAuthorized)
	}
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	format := req.Format
	if format == "" {
		format = "text"
	}
	if err := fle.CheckAuthorizationMessage(req.Authorization.Message, a.Audience, now(), format, req.Body); err != nil {
		return fmt.Errorf("%w: %w", ErrNotAuthorized, err)
	}
	return nil
}

// Response is the decrypted body and how many fields were decrypted.
type Response struct {
	Body   string `json:"body"`
	Fields int    `json:"fields"`
}

// Handler decrypts field-level-encrypted bodies through KMS.
type Handler struct {
	KMS DecryptAPI
	// KeyID is the KMS key every marker must decrypt under. KMS needs it for
	// RSA ciphertexts, and naming it keeps a caller from choosing the key.
	KeyID string
	// MarkerKeys are the KMS keys of other marker prefixes: key id ("02",
	// see fle.CheckKeyID) to key ARN, so "#02#...#10#" decrypts under
	// MarkerKeys["02"] only. Default none: only "#01#" markers, under KeyID.
	MarkerKeys map[string]string
	// Retry bounds each KMS Decrypt. Zero value: 3 attempts of at most
	// DefaultAttemptTimeout each.
	Retry awsretry.Policy
	// Concurrency bounds the Decrypt calls in flight. Default fle.DefaultConcurrency.
	Concurrency int
	// Timeout bounds the whole invocation when the context has no deadline
	// (local runs); in Lambda the function timeout bounds it. Default 25s.
	Timeout time.Duration
	// Logger receives one line per invocation, never body or plaintext.
	// Default slog.Default().
	Logger *slog.Logger
	// Authorizer admits requests before anything is decrypted. main always
	// sets it (INVOKE_KEY_ID is required); nil admits every request.
	Authorizer *Authorizer
}

// Defaults of Handler.
const (
	DefaultAttemptTimeout = 5 * time.Second
	DefaultMaxAttempts    = 3
	DefaultTimeout        = 25 * time.Second
)

// Handle decrypts every marker of req.Body. If any marker fails, it returns an
// error naming the marker's ordinal and byte offset and no body at all.
func (h *Handler) Handle(ctx context.Context, req Request) (Response, error) {
	start := time.Now()
	if _, ok := ctx.Deadline(); !ok {
		timeout := h.Timeout
		if timeout <= 0 {
			timeout = DefaultTimeout
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	resp, err := h.handle(ctx, req)
	attrs := []slog.Attr{
		slog.Int("body_bytes", len(req.Body)),
		slog.Int("fields", resp.Fields),
		slog.String("format", req.Format),
		slog.Int64("duration_ms", time.Since(start).Milliseconds()),
	}
	level := slog.LevelInfo
	if err != nil {
		// fle errors name markers by position only, and KMS errors carry no plaintext.
		level = slog.LevelError
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	h.logger(ctx).LogAttrs(ctx, level, "field-level decryption", attrs...)
	return resp, err
}

func (h *Handler) handle(ctx context.Context, req Request) (Response, error) {
	if h.KeyID == "" {
		return Response{}, errors.New("configuration: KEY_ID: expected the KMS key id or ARN, got none")
	}
	if h.Authorizer != nil {
		if err := h.Authorizer.Authorize(ctx, req); err != nil {
			return Response{}, err
		}
	}
	format := req.Format
	if format == "" {
		format = "text"
	}
	sub, err := fle.ParseSubstitution(format)
	if err != nil {
		return Response{}, fmt.Errorf("request: %w", err)
	}
	markers := len(fle.FindMarkers([]byte(req.Body)))
	decrypt := fle.KMSDecryptFunc(h.KMS, h.KeyID, h.retry)
	opts := &fle.DecryptOptions{Substitution: sub, Concurrency: h.Concurrency}
	if len(h.MarkerKeys) > 0 {
		opts.Keys = fle.MarkerDecryptFuncs(h.KMS, h.MarkerKeys, h.retry)
		ids := []string{fle.DefaultKeyID}
		for id := range h.MarkerKeys {
			ids = append(ids, id)
		}
		found, err := fle.FindKeyMarkers([]byte(req.Body), ids)
		if err != nil {
			return Response{}, fmt.Errorf("configuration: MARKER_KEYS: %w", err)
		}
		markers = len(found)
	}
	out, err := fle.Decrypt(ctx, []byte(req.Body), decrypt, opts)
	if err != nil {
		return Response{}, err
	}
	return Response{Body: string(out), Fields: markers}, nil
}

// retry is the fle.RetryFunc of every KMS Decrypt: awsretry under Retry, with
// the handler's defaults.
func (h *Handler) retry(ctx context.Context, op func(ctx context.Context) error) error {
	pol := h.Retry
	if pol.MaxAttempts == 0 {
		pol.MaxAttempts = DefaultMaxAttempts
	}
	if pol.AttemptTimeout == 0 {
		pol.AttemptTimeout = DefaultAttemptTimeout
	}
	return awsretry.Do(ctx, pol, op)
}

func (h *Handler) logger(ctx context.Context) *slog.Logger {
	l := h.Logger
	if l == nil {
		l = slog.Default()
	}
	return logging.WithRequest(ctx, l)
}
