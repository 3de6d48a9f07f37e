package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/securestacks/securestacks/internal/asff"
	"github.com/securestacks/securestacks/internal/reports"
	"github.com/securestacks/securestacks/lambda-src/internal/awsretry"
	"github.com/securestacks/securestacks/lambda-src/internal/logging"
	"github.com/securestacks/securestacks/lambda-src/internal/reportstore"
)

// Event is what a CloudWatch Logs subscription filter sends a Lambda function: the log data,
// gzip-compressed and base64-encoded
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/SubscriptionFilters.html#LambdaFunctionExample).
type Event struct {
	AWSLogs struct {
		Data string `json:"data"`
	} `json:"awslogs"`
}

// LogData is the decoded payload. MessageType is DATA_MESSAGE, or CONTROL_MESSAGE when
// CloudWatch Logs checks that the destination is reachable.
type LogData struct {
	MessageType         string     `json:"messageType"`
	Owner               string     `json:"owner"`
	LogGroup            string     `json:"logGroup"`
	LogStream           string     `json:"logStream"`
	SubscriptionFilters []string   `json:"subscriptionFilters"`
	LogEvents           []LogEvent `json:"logEvents"`
}

// LogEvent is one log line: here one Falco event in JSON.
type LogEvent struct {
	ID        string `json:"id"`
	Timestamp int64  `json:"timestamp"`
	Message   string `json:"message"`
}

// Result says what one delivery did.
type Result struct {
	// RawKey is the S3 key of the stored, decompressed payload.
	RawKey string `json:"rawKey"`
	// Events is the number of log events, Findings the distinct findings they made, Imported
	// how many Security Hub accepted.
	Events, Findings, Imported int
}

// Handler turns Falco events delivered by a subscription filter into Security Hub findings.
// Every field without a default is required.
type Handler struct {
	Put reportstore.PutObjectAPI
	// Importer sends findings to Security Hub, at most 100 per call; its API is required. When
	// its Retry is nil, each call is retried under Retry.
	Importer asff.Importer
	// Retry bounds the retries of every call on throttling and transient errors.
	Retry awsretry.Policy
	// Bucket and KMSKeyID: where the raw events are stored (under RuntimePrefix), SSE-KMS.
	Bucket, KMSKeyID string
	// Partition, Region, AccountID and URLSuffix describe where the function runs, which is
	// where the findings go.
	Partition, Region, AccountID, URLSuffix string
	// S3Timeout bounds each attempt of an S3 call. Default 30s.
	S3Timeout time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Logger gets one line per stage, never event contents. Default slog.Default().
	Logger *slog.Logger
}

const (
	// RuntimePrefix is the key prefix of stored raw events in the report bucket.
	RuntimePrefix = "runtime/"
	// maxPayloadBytes bounds the decompressed payload (CloudWatch Logs sends at most 1 MB
	// compressed), so that a hostile payload cannot exhaust memory.
	maxPayloadBytes = 64 << 20
	// Branch is the "branch" of every runtime finding: with the log group as the
	// "repository", it scopes finding ids apart from scan findings.
	Branch = "runtime"
)

// Handle stores the decompressed payload first, then parses every log event as one Falco
// event, builds ASFF findings with deterministic ids (the same rule in the same workload
// updates one finding) and imports them in batches of 100. A malformed event fails the whole
// delivery before anything is imported, naming the log event and its line; Lambda retries the
// asynchronous invocation, and the raw payload stays in S3 either way.
func (h *Handler) Handle(ctx context.Context, ev Event) (Result, error) {
	log := logging.WithRequest(ctx, h.logger())
	now := h.now()

	payload, decodeErr := decodePayload(ev.AWSLogs.Data)
	var data LogData
	if decodeErr == nil {
		decodeErr = json.Unmarshal(payload, &data)
	}
	key := rawKey(data, payload, ev.AWSLogs.Data, decodeErr != nil, now)
	stored := payload
	if decodeErr != nil {
		stored, _ = json.Marshal(ev)
	}
	if err := reportstore.Put(ctx, h.Put, h.s3Retry(), h.Bucket, h.KMSKeyID, key, stored); err != nil {
		return Result{}, fmt.Errorf("storing the raw events at s3://%s/%s: %w", h.Bucket, key, err)
	}
	res := Result{RawKey: key, Events: len(data.LogEvents)}
	log = log.With("raw_key", key, "log_group", data.LogGroup, "log_stream", data.LogStream)
	log.Info("raw events stored", "bytes", len(stored), "events", len(data.LogEvents))
	if decodeErr != nil {
		return res, fmt.Errorf("awslogs.data (stored at %s): %w", key, decodeErr)
	}
	switch data.MessageType {
	case "CONTROL_MESSAGE":
		return res, nil
	case "DATA_MESSAGE":
	default:
		return res, fmt.Errorf("messageType: expected DATA_MESSAGE or CONTROL_MESSAGE, got %q (stored at %s)", data.MessageType, key)
	}
	if len(data.LogEvents) == 0 {
		return res, nil
	}

	// One event per line, so that a parser error's line is the event's position.
	var lines bytes.Buffer
	for _, e := range data.LogEvents {
		lines.WriteString(strings.ReplaceAll(strings.TrimSpace(e.Message), "\n", " "))
		lines.WriteByte('\n')
	}
	scan := asff.Scan{
		Partition: h.Partition, Region: h.Region, AccountID: h.AccountID,
		Repository: data.LogGroup, Branch: Branch,
		SourceURL: reportstore.ObjectURL(h.Bucket, h.Region, h.URLSuffix, key), Now: now,
	}
	_, findings, err := asff.Convert(reports.Falco, lines.Bytes(), scan)
	if err != nil {
		var perr *reports.Error
		if errors.As(err, &perr) && perr.Line > 0 && perr.Line <= len(data.LogEvents) {
			return res, fmt.Errorf("log event %s of %s/%s: %w (nothing imported; raw events stored at %s)", data.LogEvents[perr.Line-1].ID, data.LogGroup, data.LogStream, err, key)
		}
		return res, fmt.Errorf("%w (nothing imported; raw events stored at %s)", err, key)
	}
	res.Findings = len(findings)
	importer := h.Importer
	if importer.Retry == nil {
		importer.Retry = func(ctx context.Context, op func(context.Context) error) error { return awsretry.Do(ctx, h.Retry, op) }
	}
	imp, importErr := importer.Import(ctx, findings)
	res.Imported = imp.Imported
	log.Info("findings imported", "findings", len(findings), "batches", imp.Batches, "imported", imp.Imported, "failed", len(imp.Failed), "counts", asff.Counts(findings))
	for _, f := range imp.Failed {
		log.Error("finding not imported", "finding_id", f.ID, "code", f.Code, "message", f.Message)
	}
	if importErr != nil {
		return res, fmt.Errorf("falco events %s: %w", key, importErr)
	}
	return res, nil
}

// decodePayload undoes base64 and gzip, bounded by maxPayloadBytes.
func decodePayload(data string) ([]byte, error) {
	if data == "" {
		return nil, errors.New("missing: expected the base64-encoded, gzip-compressed log data of a CloudWatch Logs subscription")
	}
	compressed, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return nil, fmt.Errorf("expected base64: %w", err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(compressed))
	if err != nil {
		return nil, fmt.Errorf("expected gzip data: %w", err)
	}
	b, err := io.ReadAll(io.LimitReader(zr, maxPayloadBytes+1))
	if err != nil {
		return nil, fmt.Errorf("expected gzip data: %w", err)
	}
	if len(b) > maxPayloadBytes {
		return nil, fmt.Errorf("decompressed payload is larger than %d bytes", maxPayloadBytes)
	}
	return b, nil
}

// rawKey is runtime/<log group>/<UTC date>/<log stream>-<first event id>.json; a payload
// that could not be decoded goes under runtime/_invalid/ by its digest.
func rawKey(data LogData, payload []byte, encoded string, invalid bool, now time.Time) string {
	if invalid {
		sum := sha256.Sum256([]byte(encoded))
		return RuntimePrefix + "_invalid/" + now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(sum[:8]) + ".json"
	}
	first := ""
	if len(data.LogEvents) > 0 {
		first = data.LogEvents[0].ID
	} else {
		sum := sha256.Sum256(payload)
		first = hex.EncodeToString(sum[:8])
	}
	return RuntimePrefix + reportstore.Safe(strings.TrimPrefix(data.LogGroup, "/"), "_unknown") + "/" + now.UTC().Format("2006-01-02") + "/" +
		reportstore.Safe(data.LogStream, "no-stream") + "-" + reportstore.Safe(first, "no-id") + ".json"
}

func (h *Handler) logger() *slog.Logger {
	if h.Logger == nil {
		return slog.Default()
	}
	return h.Logger
}

func (h *Handler) now() time.Time {
	if h.Now == nil {
		return time.Now()
	}
	return h.Now()
}

func (h *Handler) s3Retry() awsretry.Policy { return reportstore.AttemptPolicy(h.Retry, h.S3Timeout) }
