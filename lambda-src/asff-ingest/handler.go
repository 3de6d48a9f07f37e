package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/securestacks/securestacks/internal/asff"
	"github.com/securestacks/securestacks/internal/reports"
	"github.com/securestacks/securestacks/lambda-src/internal/awsretry"
	"github.com/securestacks/securestacks/lambda-src/internal/logging"
	"github.com/securestacks/securestacks/lambda-src/internal/oneline"
	"github.com/securestacks/securestacks/lambda-src/internal/reportstore"
)

// PutObjectAPI stores the raw envelope and the scan state.
type PutObjectAPI = reportstore.PutObjectAPI

// GetObjectAPI reads reports sent by reference and the scan state.
type GetObjectAPI interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

var _ GetObjectAPI = (*s3.Client)(nil)

// MessageType is the only envelope messageType accepted.
const MessageType = "CodeScanReport"

// Envelope is what a scan build sends: the seed's format, plus report_s3_key for reports too
// large for a Lambda payload (6 MB), which the build uploads under scans/ first, and stage.
type Envelope struct {
	MessageType      string          `json:"messageType"`
	ReportType       string          `json:"reportType"`
	CreatedAt        string          `json:"createdAt"`
	SourceRepository string          `json:"source_repository"`
	SourceBranch     string          `json:"source_branch"`
	BuildID          string          `json:"build_id"`
	SourceCommitID   string          `json:"source_commitid"`
	Report           json.RawMessage `json:"report"`
	ReportS3Key      string          `json:"report_s3_key,omitempty"`
	// Stage is the pipeline stage that ran the scan. Optional. Scans of one tool in different
	// stages (Grype on the source tree, then on the image) keep separate states, so that one
	// never archives the other's findings.
	Stage string `json:"stage,omitempty"`
}

// Result is what the build reads to apply its severity threshold.
type Result struct {
	// ReportKey is the S3 key of the stored raw envelope.
	ReportKey string `json:"reportKey"`
	// Tool is the tool id the report was parsed as.
	Tool string `json:"tool"`
	// Findings is the number of distinct findings in the report.
	Findings int `json:"findings"`
	// Imported is the number of findings (active and archived) Security Hub accepted.
	Imported int `json:"imported"`
	// Archived is the number of earlier findings this scan closed.
	Archived int `json:"archived"`
	// Counts has every severity label, with the number of findings of the report at it.
	Counts map[asff.Label]int `json:"counts"`
}

// Handler ingests scan reports. Every field without a default is required.
type Handler struct {
	Put PutObjectAPI
	Get GetObjectAPI
	// Importer sends findings to Security Hub; its API is required. When its Retry is nil, each
	// BatchImportFindings call is retried under Retry below.
	Importer asff.Importer
	// Retry bounds the retries of every S3 and Security Hub call on throttling (Security Hub
	// accepts 10 BatchImportFindings calls per second, bursts of 30) and transient errors.
	// Default: the zero Policy, awsretry's defaults.
	Retry awsretry.Policy
	// Bucket holds raw reports (reports/), reports sent by reference (scans/) and scan state
	// (state/).
	Bucket string
	// KMSKeyID encrypts every object this handler writes (SSE-KMS); the bucket policy denies
	// puts without it.
	KMSKeyID string
	// Partition, Region, AccountID and URLSuffix describe where the function runs, which is
	// where the findings go.
	Partition, Region, AccountID, URLSuffix string
	// MaxReportBytes bounds a report read from S3. Default 256 MiB.
	MaxReportBytes int64
	// S3Timeout bounds each attempt of an S3 call; an attempt that runs out of it is retried
	// under Retry. Default 30s.
	S3Timeout time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Logger gets one line per stage; never report contents. Default slog.Default().
	Logger *slog.Logger
}

const (
	defaultMaxReportBytes = 256 << 20
	// ReportsPrefix, ScansPrefix and StatePrefix are the key prefixes of the bucket.
	ReportsPrefix = "reports/"
	ScansPrefix   = "scans/"
	StatePrefix   = "state/"
)

// Handle stores the raw envelope first, so that no report is ever lost, then parses it,
// builds ASFF findings, archives what the previous scan of the same scope reported and this
// one does not, imports everything in batches of 100 and saves the new state. Any failure
// after the envelope is stored is returned as an error that names the field, the tool and
// offset, or the ids Security Hub rejected; the build that invoked the function fails.
func (h *Handler) Handle(ctx context.Context, raw json.RawMessage) (Result, error) {
	log := logging.WithRequest(ctx, h.logger())
	now := h.now()

	var env Envelope
	decodeErr := json.Unmarshal(raw, &env)
	key := envelopeKey(env, raw, decodeErr != nil, now)
	if err := h.put(ctx, key, raw); err != nil {
		return Result{}, fmt.Errorf("storing the raw report at s3://%s/%s: %w", h.Bucket, key, err)
	}
	log = log.With("report_key", key)
	log.Info("raw report stored", "bytes", len(raw))
	res := Result{ReportKey: key}

	if decodeErr != nil {
		return res, fmt.Errorf("envelope (stored at %s): %s", key, describeJSONError(decodeErr))
	}
	if env.MessageType != MessageType {
		return res, fmt.Errorf("envelope messageType: expected %q, got %q (stored at %s)", MessageType, env.MessageType, key)
	}
	tool, ok := reports.Lookup(env.ReportType)
	if !ok {
		return res, fmt.Errorf("envelope reportType: unknown tool %q: expected one of %s (stored at %s)", env.ReportType, strings.Join(reports.Tools(), ", "), key)
	}
	res.Tool = tool
	report, sourceKey, err := h.report(ctx, env, key)
	if err != nil {
		return res, err
	}

	scan := asff.Scan{
		Partition: h.Partition, Region: h.Region, AccountID: h.AccountID,
		Repository: env.SourceRepository, Branch: env.SourceBranch, Commit: env.SourceCommitID, BuildID: env.BuildID,
		SourceURL: reportstore.ObjectURL(h.Bucket, h.Region, h.URLSuffix, sourceKey), ScannedAt: parseTime(env.CreatedAt), Now: now,
	}
	rep, findings, err := asff.Convert(tool, report, scan)
	if err != nil {
		return res, fmt.Errorf("%w (raw report stored at %s)", err, key)
	}
	res.Findings, res.Counts = len(findings), asff.Counts(findings)
	log = log.With("tool", tool, "repository", env.SourceRepository, "branch", env.SourceBranch, "build_id", env.BuildID)
	log.Info("report parsed", "findings", len(findings), "counts", res.Counts)

	scope := asff.ScopeKey(tool, rep.Scanners, env.SourceRepository, env.SourceBranch)
	if stage := strings.TrimSpace(env.Stage); stage != "" {
		scope += "|" + stage
	}
	stateKey := StatePrefix + tool + "/" + asff.ScopeHash(scope) + ".json"
	prev := h.loadState(ctx, log, stateKey, scope)
	updated, archived, err := asff.Reconcile(prev, findings, scan)
	if err != nil {
		return res, err
	}
	all := append(append(make([]asff.Finding, 0, len(updated)+len(archived)), updated...), archived...)
	importer := h.Importer
	if importer.Retry == nil {
		importer.Retry = func(ctx context.Context, op func(context.Context) error) error { return awsretry.Do(ctx, h.Retry, op) }
	}
	imp, importErr := importer.Import(ctx, all)
	res.Imported = imp.Imported
	var notArchived []asff.Finding
	res.Archived, notArchived = imp.SplitArchived(archived)
	// The state is saved even when some imports failed: the open findings are what this scan
	// reported, and an archive that failed is kept to be retried by the next scan.
	if err := h.saveState(ctx, stateKey, asff.NewState(scope, updated, notArchived)); err != nil {
		log.Error("saving scan state", "state_key", stateKey, "error", err.Error())
		importErr = oneline.Join(importErr, fmt.Errorf("saving scan state %s: %w", stateKey, err))
	}
	log.Info("findings imported", "batches", imp.Batches, "imported", imp.Imported, "archived", res.Archived, "failed", len(imp.Failed))
	for _, f := range imp.Failed {
		log.Error("finding not imported", "finding_id", f.ID, "code", f.Code, "message", f.Message)
	}
	if importErr != nil {
		return res, fmt.Errorf("%s report %s: %w", tool, key, importErr)
	}
	return res, nil
}

// report returns the report bytes: the envelope's inline report (a JSON value, or a string
// holding the report as sent by `jq --rawfile`), else the object at report_s3_key. sourceKey is
// the object that holds the report, for SourceUrl.
func (h *Handler) report(ctx context.Context, env Envelope, envelopeKey string) (report []byte, sourceKey string, err error) {
	inline := bytes.TrimSpace(env.Report)
	if len(inline) > 0 && !bytes.Equal(inline, []byte("null")) {
		if inline[0] == '"' {
			var s string
			if err := json.Unmarshal(inline, &s); err != nil {
				return nil, "", fmt.Errorf("envelope report: %s (stored at %s)", describeJSONError(err), envelopeKey)
			}
			return []byte(s), envelopeKey, nil
		}
		return inline, envelopeKey, nil
	}
	if env.ReportS3Key == "" {
		return nil, "", fmt.Errorf("envelope report: missing: expected the report inline or report_s3_key (stored at %s)", envelopeKey)
	}
	if !strings.HasPrefix(env.ReportS3Key, ScansPrefix) || strings.Contains(env.ReportS3Key, "..") {
		return nil, "", fmt.Errorf("envelope report_s3_key: expected a key under %s in the report bucket, got %q (stored at %s)", ScansPrefix, env.ReportS3Key, envelopeKey)
	}
	b, err := h.get(ctx, env.ReportS3Key, h.maxReportBytes())
	if err != nil {
		return nil, "", fmt.Errorf("envelope report_s3_key: reading s3://%s/%s: %w (stored at %s)", h.Bucket, env.ReportS3Key, err, envelopeKey)
	}
	return b, env.ReportS3Key, nil
}

func (h *Handler) loadState(ctx context.Context, log *slog.Logger, key, scope string) asff.State {
	b, err := h.get(ctx, key, h.maxReportBytes())
	var missing *s3types.NoSuchKey
	switch {
	case errors.As(err, &missing):
		return asff.State{Scope: scope}
	case err != nil:
		// Without the state nothing is archived this time; ingestion itself goes on.
		log.Warn("scan state unreadable; nothing will be archived this time", "state_key", key, "error", err.Error())
		return asff.State{Scope: scope}
	}
	var s asff.State
	if err := json.Unmarshal(b, &s); err != nil || s.Scope != scope {
		log.Warn("scan state invalid; nothing will be archived this time", "state_key", key)
		return asff.State{Scope: scope}
	}
	return s
}

func (h *Handler) saveState(ctx context.Context, key string, s asff.State) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return h.put(ctx, key, b)
}

func (h *Handler) put(ctx context.Context, key string, body []byte) error {
	return reportstore.Put(ctx, h.Put, h.s3Retry(), h.Bucket, h.KMSKeyID, key, body)
}

func (h *Handler) get(ctx context.Context, key string, limit int64) ([]byte, error) {
	var out []byte
	err := awsretry.Do(ctx, h.s3Retry(), func(ctx context.Context) error {
		obj, err := h.Get.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(h.Bucket), Key: aws.String(key)})
		if err != nil {
			return err
		}
		defer obj.Body.Close()
		b, err := io.ReadAll(io.LimitReader(obj.Body, limit+1))
		if err != nil {
			return err
		}
		if int64(len(b)) > limit {
			return fmt.Errorf("object is larger than %d bytes", limit)
		}
		out = b
		return nil
	})
	return out, err
}

// envelopeKey is reports/<reportType>/<build_id>-<createdAt>.json, each part reduced to
// characters safe in a key. An envelope that is not even an object is kept under
// reports/_invalid/ by its digest, so nothing sent is lost.
func envelopeKey(env Envelope, raw []byte, invalid bool, now time.Time) string {
	if invalid {
		sum := sha256.Sum256(raw)
		return ReportsPrefix + "_invalid/" + now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(sum[:8]) + ".json"
	}
	typ := reportstore.Safe(strings.ToLower(env.ReportType), "_unknown")
	build := reportstore.Safe(env.BuildID, "no-build-id")
	created := reportstore.Safe(env.CreatedAt, now.UTC().Format("2006-01-02T15:04:05Z"))
	return ReportsPrefix + typ + "/" + build + "-" + created + ".json"
}

func parseTime(s string) time.Time {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02 15:04:05"} {
		if t, err := time.Parse(layout, strings.TrimSpace(s)); err == nil {
			return t
		}
	}
	return time.Time{}
}

func describeJSONError(err error) string {
	var typ *json.UnmarshalTypeError
	var syn *json.SyntaxError
	switch {
	case errors.As(err, &typ) && typ.Field != "":
		return fmt.Sprintf("field %s: expected a %s, got %s", typ.Field, typ.Type, typ.Value)
	case errors.As(err, &typ):
		return fmt.Sprintf("expected a JSON object, got %s", typ.Value)
	case errors.As(err, &syn):
		return fmt.Sprintf("byte %d: malformed JSON: %v", syn.Offset, syn)
	}
	return err.Error()
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

// s3Retry is Retry with every attempt bounded by S3Timeout.
func (h *Handler) s3Retry() awsretry.Policy { return reportstore.AttemptPolicy(h.Retry, h.S3Timeout) }

func (h *Handler) maxReportBytes() int64 {
	if h.MaxReportBytes <= 0 {
		return defaultMaxReportBytes
	}
	return h.MaxReportBytes
}
