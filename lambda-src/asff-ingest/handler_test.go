package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	shtypes "github.com/aws/aws-sdk-go-v2/service/securityhub/types"
	"github.com/aws/smithy-go"

	"github.com/securestacks/securestacks/internal/asff"
	ingest "github.com/securestacks/securestacks/lambda-src/asff-ingest"
	"github.com/securestacks/securestacks/lambda-src/internal/awsretry"
)

// Fakes are function types over the narrow interfaces.
type (
	putFunc    func(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	getFunc    func(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	importFunc func(ctx context.Context, in *securityhub.BatchImportFindingsInput, optFns ...func(*securityhub.Options)) (*securityhub.BatchImportFindingsOutput, error)
)

func (f putFunc) PutObject(ctx context.Context, in *s3.PutObjectInput, o ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	return f(ctx, in, o...)
}
func (f getFunc) GetObject(ctx context.Context, in *s3.GetObjectInput, o ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	return f(ctx, in, o...)
}
func (f importFunc) BatchImportFindings(ctx context.Context, in *securityhub.BatchImportFindingsInput, o ...func(*securityhub.Options)) (*securityhub.BatchImportFindingsOutput, error) {
	return f(ctx, in, o...)
}

// world is an in-memory bucket and Security Hub, recording every operation in order.
type world struct {
	objects  map[string][]byte
	sse      map[string]string
	ops      []string
	imported map[string]shtypes.AwsSecurityFinding
	calls    int
	reject   map[string]bool // finding ids Security Hub rejects
	putErr   error
	throttle int // the first throttle import calls fail with ThrottlingException
	waits    int
}

func newWorld() *world {
	return &world{objects: map[string][]byte{}, sse: map[string]string{}, imported: map[string]shtypes.AwsSecurityFinding{}, reject: map[string]bool{}}
}

func (w *world) handler() *ingest.Handler {
	return &ingest.Handler{
		Put: putFunc(func(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
			if w.putErr != nil {
				return nil, w.putErr
			}
			b, _ := io.ReadAll(in.Body)
			w.objects[*in.Key] = b
			w.sse[*in.Key] = string(in.ServerSideEncryption) + " " + aws.ToString(in.SSEKMSKeyId)
			w.ops = append(w.ops, "put "+*in.Key)
			return &s3.PutObjectOutput{}, nil
		}),
		Get: getFunc(func(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
			w.ops = append(w.ops, "get "+*in.Key)
			b, ok := w.objects[*in.Key]
			if !ok {
				return nil, &s3types.NoSuchKey{Message: aws.String("The specified key does not exist.")}
			}
			return &s3.GetObjectOutput{Body: io.NopCloser(bytes.NewReader(b))}, nil
		}),
		Retry: awsretry.Policy{Sleep: func(ctx context.Context, _ time.Duration) error {
			w.waits++
			return ctx.Err()
		}},
		Importer: asff.Importer{
			API: importFunc(func(_ context.Context, in *securityhub.BatchImportFindingsInput, _ ...func(*securityhub.Options)) (*securityhub.BatchImportFindingsOutput, error) {
				w.calls++
				w.ops = append(w.ops, "import")
				if w.throttle > 0 {
					w.throttle--
					return nil, &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}
				}
				out := &securityhub.BatchImportFindingsOutput{}
				for _, f := range in.Findings {
					if w.reject[*f.Id] {
						out.FailedFindings = append(out.FailedFindings, shtypes.ImportFindingsError{Id: f.Id, ErrorCode: aws.String("InvalidInput"), ErrorMessage: aws.String("rejected by the test")})
						continue
					}
					w.imported[*f.Id] = f
				}
				out.FailedCount = aws.Int32(int32(len(out.FailedFindings)))
				return out, nil
			}),
		},
		Bucket:    "reports-bucket",
		KMSKeyID:  "arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
		Partition: "aws-us-gov", Region: "us-gov-west-1", AccountID: "123456789012", URLSuffix: "amazonaws.com",
		Now:    func() time.Time { return time.Date(2025, 6, 3, 9, 30, 0, 0, time.UTC) },
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
	}
}

func event(t testing.TB, name string) json.RawMessage {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func report(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "internal", "reports", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// envelope builds an event around an arbitrary report value.
func envelope(t testing.TB, reportType string, rep json.RawMessage) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"messageType": "CodeScanReport", "reportType": reportType, "createdAt": "2025-06-03T09:05:11Z",
		"source_repository": "sample-app", "source_branch": "main", "build_id": "sample-app-sca:42", "source_commitid": "9f1c2ab", "report": rep,
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestHandle(t *testing.T) {
	tests := []struct {
		name, event string
		setup       func(w *world)
		key         string
		tool        string
		findings    int
		counts      map[asff.Label]int
		sourceKey   string
	}{
		{
			name: "inline Trivy report", event: "trivy.json",
			key:  "reports/trivy/sample-app-sca:7c1d0e8a-1b2c-4d5e-8f90-a1b2c3d4e5f6-2025-06-03T09:05:11Z.json",
			tool: "trivy", findings: 6,
			counts: map[asff.Label]int{asff.Critical: 1, asff.High: 3, asff.Medium: 1, asff.Low: 0, asff.Informational: 1},
		},
		{
			name: "the seed's reportType name", event: "zap-seed-name.json",
			key:  "reports/owasp-zap/sample-app-dast:0a1b2c3d-4e5f-4a6b-9c8d-7e6f5a4b3c2d-2025-06-03T09:05:11Z.json",
			tool: "zap", findings: 4,
			counts: map[asff.Label]int{asff.Critical: 0, asff.High: 1, asff.Medium: 1, asff.Low: 1, asff.Informational: 1},
		},
		{
			name: "report sent as a JSON string", event: "semgrep-string-report.json",
			key:  "reports/semgrep/sample-app-sast:11111111-2222-4333-8444-555555555555-2025-06-03T09:05:11Z.json",
			tool: "semgrep", findings: 2,
			counts: map[asff.Label]int{asff.Critical: 0, asff.High: 1, asff.Medium: 1, asff.Low: 0, asff.Informational: 0},
		},
		{
			name: "report too large for the payload, sent by reference", event: "grype-by-reference.json",
			setup: func(w *world) { w.objects["scans/sca/sample-app-sca:99999999/grype.json"] = report(t, "grype.json") },
			key:   "reports/grype/sample-app-sca:99999999-2222-4333-8444-555555555555-2025-06-03T09:05:11Z.json",
			tool:  "grype", findings: 2,
			counts:    map[asff.Label]int{asff.Critical: 0, asff.High: 1, asff.Medium: 0, asff.Low: 0, asff.Informational: 1},
			sourceKey: "scans/sca/sample-app-sca:99999999/grype.json",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN a scan build's envelope
			w := newWorld()
			if tt.setup != nil {
				tt.setup(w)
			}
			raw := event(t, tt.event)

			// WHEN the Lambda handles it
			res, err := w.handler().Handle(context.Background(), raw)

			// THEN the raw envelope is stored (KMS) before anything else, the findings are
			// imported in one batch, and the counts per severity come back
			if err != nil {
				t.Fatal(err)
			}
			if res.ReportKey != tt.key || res.Tool != tt.tool || res.Findings != tt.findings || res.Imported != tt.findings {
				t.Errorf("result = %+v", res)
			}
			if !equalCounts(res.Counts, tt.counts) {
				t.Errorf("counts = %v, want %v", res.Counts, tt.counts)
			}
			if w.ops[0] != "put "+tt.key || !bytes.Equal(w.objects[tt.key], raw) {
				t.Errorf("first operation %q; stored raw identical: %v", w.ops[0], bytes.Equal(w.objects[tt.key], raw))
			}
			if got := w.sse[tt.key]; got != "aws:kms arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab" {
				t.Errorf("SSE = %q", got)
			}
			if w.calls != 1 || len(w.imported) != tt.findings {
				t.Errorf("%d calls, %d imported", w.calls, len(w.imported))
			}
			src := tt.sourceKey
			if src == "" {
				src = tt.key
			}
			for _, f := range w.imported {
				if !strings.HasPrefix(aws.ToString(f.SourceUrl), "https://reports-bucket.s3.us-gov-west-1.amazonaws.com/"+src[:10]) {
					t.Errorf("SourceUrl = %q", aws.ToString(f.SourceUrl))
				}
				if !strings.HasPrefix(aws.ToString(f.ProductArn), "arn:aws-us-gov:securityhub:us-gov-west-1:123456789012:product/") {
					t.Errorf("ProductArn = %q", aws.ToString(f.ProductArn))
				}
			}
			if !hasPrefixKey(w.objects, "state/"+tt.tool+"/") {
				t.Errorf("no state saved: %v", w.ops)
			}
		})
	}
}

func TestRescanUpdatesAndArchives(t *testing.T) {
	// GIVEN a first Trivy scan of sample-app/main imported into Security Hub
	w := newWorld()
	h := w.handler()
	first, err := h.Handle(context.Background(), envelope(t, "trivy", report(t, "trivy-fs.json")))
	if err != nil {
		t.Fatal(err)
	}
	firstIDs := keysOf(w.imported)

	// WHEN the next scan no longer reports the lodash vulnerabilities (fixed)
	var rep map[string]any
	_ = json.Unmarshal(report(t, "trivy-fs.json"), &rep)
	rep["Results"] = rep["Results"].([]any)[1:]
	next, _ := json.Marshal(rep)
	h.Now = func() time.Time { return time.Date(2025, 6, 4, 9, 0, 0, 0, time.UTC) }
	second, err := h.Handle(context.Background(), envelope(t, "trivy", next))

	// THEN the same ids are updated (no duplicates) and the two fixed ones are ARCHIVED
	if err != nil {
		t.Fatal(err)
	}
	if first.Findings != 6 || second.Findings != 4 || second.Archived != 2 || second.Imported != 6 {
		t.Errorf("first %+v second %+v", first, second)
	}
	if got := keysOf(w.imported); !equalStrings(got, firstIDs) {
		t.Errorf("ids after re-scan %v, want the first scan's %v", got, firstIDs)
	}
	archived := 0
	for _, f := range w.imported {
		if f.RecordState == shtypes.RecordStateArchived {
			archived++
			if !strings.Contains(aws.ToString(f.Title), "lodash") || aws.ToString(f.UpdatedAt) != "2025-06-04T09:00:00.000Z" {
				t.Errorf("archived %q updated %s", aws.ToString(f.Title), aws.ToString(f.UpdatedAt))
			}
		} else if aws.ToString(f.CreatedAt) != "2025-06-03T09:05:11.000Z" {
			t.Errorf("re-reported finding lost its first-seen time: %s", aws.ToString(f.CreatedAt))
		}
	}
	if archived != 2 {
		t.Errorf("%d archived", archived)
	}

	// AND a third, identical scan archives nothing more
	third, err := h.Handle(context.Background(), envelope(t, "trivy", next))
	if err != nil || third.Archived != 0 || third.Imported != 4 {
		t.Errorf("third %+v, %v", third, err)
	}
}

func TestScansOfOneToolInTwoStagesKeepSeparateStates(t *testing.T) {
	// withStage adds the stage the pipeline's buildspec sends.
	withStage := func(raw json.RawMessage, stage string) json.RawMessage {
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		m["stage"] = stage
		b, _ := json.Marshal(m)
		return b
	}
	// GIVEN Grype's scan of the source tree, ingested by the Analysis stage
	w := newWorld()
	h := w.handler()
	sca, err := h.Handle(context.Background(), withStage(envelope(t, "grype", report(t, "grype.json")), "Analysis"))
	if err != nil || sca.Findings == 0 {
		t.Fatalf("sca %+v, %v", sca, err)
	}

	// WHEN the Image stage ingests Grype's scan of the image, for the same repository and branch
	image, err := h.Handle(context.Background(), withStage(envelope(t, "grype", report(t, "grype-image.json")), "Image"))

	// THEN the image scan archives none of the source tree's findings, and the next source
	// tree scan archives none of the image's
	if err != nil || image.Archived != 0 {
		t.Errorf("image %+v, %v", image, err)
	}
	again, err := h.Handle(context.Background(), withStage(envelope(t, "grype", report(t, "grype.json")), "Analysis"))
	if err != nil || again.Archived != 0 {
		t.Errorf("second sca %+v, %v", again, err)
	}
	for id, f := range w.imported {
		if f.RecordState == shtypes.RecordStateArchived {
			t.Errorf("%s archived", id)
		}
	}
}

func TestRejectedFindingsAreReportedAndStateKept(t *testing.T) {
	// GIVEN Security Hub rejects one finding of the report
	w := newWorld()
	h := w.handler()
	probe := newWorld()
	if _, err := probe.handler().Handle(context.Background(), envelope(t, "gitleaks", report(t, "gitleaks.json"))); err != nil {
		t.Fatal(err)
	}
	bad := keysOf(probe.imported)[0]
	w.reject[bad] = true

	// WHEN the report is ingested
	res, err := h.Handle(context.Background(), envelope(t, "gitleaks", report(t, "gitleaks.json")))

	// THEN the error names the rejected id, the other finding is imported, the counts still
	// come back and the state is saved
	if err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "InvalidInput") {
		t.Fatalf("err = %v", err)
	}
	var ie *asff.ImportError
	if !errors.As(err, &ie) || len(ie.Failed) != 1 {
		t.Errorf("err is not an *asff.ImportError with one failure: %v", err)
	}
	if res.Imported != 1 || res.Counts[asff.High] != 2 {
		t.Errorf("result = %+v", res)
	}
	if !hasPrefixKey(w.objects, "state/gitleaks/") || !hasPrefixKey(w.objects, "reports/gitleaks/") {
		t.Errorf("objects = %v", keysOfBytes(w.objects))
	}
}

func TestBadInputIsStoredAndExplained(t *testing.T) {
	trivy := report(t, "trivy-fs.json")
	str := func(s string) json.RawMessage { b, _ := json.Marshal(s); return b }
	tests := []struct {
		name    string
		raw     json.RawMessage
		keyPart string
		wantErr string
	}{
		{"truncated report", envelope(t, "trivy", str(string(trivy[:700]))), "reports/trivy/",
			"trivy: byte 700: truncated JSON"},
		{"another tool's report", envelope(t, "zap", trivy), "reports/zap/",
			"zap: field site: missing: expected a ZAP traditional JSON report"},
		{"empty report", envelope(t, "semgrep", str("")), "reports/semgrep/",
			"semgrep: byte 0: empty report (0 bytes)"},
		{"wrong-type field", envelope(t, "grype", json.RawMessage(`{"matches":[{"vulnerability":{"id":"CVE-1","severity":7}}],"descriptor":{}}`)), "reports/grype/",
			"grype: byte 55: field matches.0.vulnerability.severity: expected a string, got number"},
		{"no report at all", envelope(t, "trivy", nil), "reports/trivy/",
			"envelope report: missing: expected the report inline or report_s3_key"},
		{"unknown tool", envelope(t, "nessus", trivy), "reports/nessus/",
			`envelope reportType: unknown tool "nessus": expected one of anchore, dependency-check`},
		{"wrong message type", json.RawMessage(`{"messageType":"Hello","reportType":"trivy","build_id":"b","createdAt":"c","report":{}}`), "reports/trivy/b-c.json",
			`envelope messageType: expected "CodeScanReport", got "Hello"`},
		{"envelope field of the wrong type", json.RawMessage(`{"messageType":"CodeScanReport","reportType":"trivy","build_id":42}`), "reports/_invalid/",
			"envelope (stored at reports/_invalid/"},
		{"envelope not an object", json.RawMessage(`[1,2,3]`), "reports/_invalid/",
			"expected a JSON object, got array"},
		{"report_s3_key outside scans/", json.RawMessage(`{"messageType":"CodeScanReport","reportType":"trivy","build_id":"b","createdAt":"c","report_s3_key":"state/trivy/x.json"}`), "reports/trivy/b-c.json",
			`envelope report_s3_key: expected a key under scans/ in the report bucket, got "state/trivy/x.json"`},
		{"report_s3_key that does not exist", json.RawMessage(`{"messageType":"CodeScanReport","reportType":"trivy","build_id":"b","createdAt":"c","report_s3_key":"scans/x.json"}`), "reports/trivy/b-c.json",
			"envelope report_s3_key: reading s3://reports-bucket/scans/x.json"},
		{"path climbing in build_id", json.RawMessage(`{"messageType":"CodeScanReport","reportType":"../../etc","build_id":"../../x","createdAt":"c","report":{}}`), "reports/______etc/______x-c.json",
			"unknown tool"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN an envelope whose report cannot be ingested
			w := newWorld()
			// WHEN it is handled
			res, err := w.handler().Handle(context.Background(), tt.raw)
			// THEN the error says what is wrong, in one line, and the raw envelope is stored
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("multi-line error %q", err)
			}
			if !strings.HasPrefix(res.ReportKey, tt.keyPart) || !bytes.Equal(w.objects[res.ReportKey], tt.raw) {
				t.Errorf("raw not stored under %s: key %q, objects %v", tt.keyPart, res.ReportKey, keysOfBytes(w.objects))
			}
			if !strings.Contains(err.Error(), res.ReportKey) {
				t.Errorf("error does not say where the report is: %v", err)
			}
			if w.calls != 0 {
				t.Errorf("Security Hub was called %d times", w.calls)
			}
		})
	}
}

func TestStoreFailureStopsEverything(t *testing.T) {
	// GIVEN S3 refuses the put
	w := newWorld()
	w.putErr = &smithy.GenericAPIError{Code: "AccessDenied", Message: "Access Denied"}
	// WHEN a report arrives
	_, err := w.handler().Handle(context.Background(), event(t, "trivy.json"))
	// THEN nothing is imported (a report is never processed without being stored) and the
	// error says so
	if err == nil || !strings.Contains(err.Error(), "storing the raw report at s3://reports-bucket/reports/trivy/") || w.calls != 0 {
		t.Errorf("err = %v, calls %d", err, w.calls)
	}
}

func equalCounts(a, b map[asff.Label]int) bool {
	if len(a) != 5 {
		return false
	}
	for _, l := range asff.Labels {
		if a[l] != b[l] {
			return false
		}
	}
	return true
}

func keysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func keysOfBytes(m map[string][]byte) []string { return keysOf(m) }

func hasPrefixKey(m map[string][]byte, prefix string) bool {
	for k := range m {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestThrottledImportIsRetried(t *testing.T) {
	// GIVEN Security Hub throttles the first two calls
	w := newWorld()
	w.throttle = 2
	// WHEN a report is ingested
	res, err := w.handler().Handle(context.Background(), event(t, "trivy.json"))
	// THEN the call is retried after backoffs and every finding is imported
	if err != nil || res.Imported != 6 || w.calls != 3 || w.waits != 2 {
		t.Errorf("err %v imported %d calls %d waits %d", err, res.Imported, w.calls, w.waits)
	}
}

func TestHungS3CallIsRetried(t *testing.T) {
	// GIVEN S3 hangs on the first put until the attempt's deadline
	w := newWorld()
	h := w.handler()
	h.S3Timeout = 20 * time.Millisecond
	store, hung := h.Put, 0
	h.Put = putFunc(func(ctx context.Context, in *s3.PutObjectInput, o ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
		if hung == 0 {
			hung++
			<-ctx.Done()
			return nil, ctx.Err()
		}
		return store.PutObject(ctx, in, o...)
	})
	// WHEN a report arrives
	res, err := h.Handle(context.Background(), event(t, "trivy.json"))
	// THEN the put is tried again after a backoff, and the report is stored and imported
	if err != nil || res.Imported != 6 || w.waits != 1 || !hasPrefixKey(w.objects, "reports/trivy/") {
		t.Errorf("err %v imported %d waits %d objects %v", err, res.Imported, w.waits, keysOfBytes(w.objects))
	}
}
