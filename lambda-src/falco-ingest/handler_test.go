package main_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	shtypes "github.com/aws/aws-sdk-go-v2/service/securityhub/types"
	"github.com/aws/smithy-go"

	"github.com/securestacks/securestacks/internal/asff"
	falco "github.com/securestacks/securestacks/lambda-src/falco-ingest"
	"github.com/securestacks/securestacks/lambda-src/internal/awsretry"
)

type (
	putFunc    func(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	importFunc func(ctx context.Context, in *securityhub.BatchImportFindingsInput, optFns ...func(*securityhub.Options)) (*securityhub.BatchImportFindingsOutput, error)
)

func (f putFunc) PutObject(ctx context.Context, in *s3.PutObjectInput, o ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
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
	batches  []int
	imported map[string]shtypes.AwsSecurityFinding
	reject   map[string]bool
	putErr   error
	throttle int
	waits    int
}

func newWorld() *world {
	return &world{objects: map[string][]byte{}, sse: map[string]string{}, imported: map[string]shtypes.AwsSecurityFinding{}, reject: map[string]bool{}}
}

func (w *world) handler() *falco.Handler {
	return &falco.Handler{
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
		Retry: awsretry.Policy{Sleep: func(ctx context.Context, _ time.Duration) error {
			w.waits++
			return ctx.Err()
		}},
		Importer: asff.Importer{API: importFunc(func(_ context.Context, in *securityhub.BatchImportFindingsInput, _ ...func(*securityhub.Options)) (*securityhub.BatchImportFindingsOutput, error) {
			w.ops = append(w.ops, "import")
			if w.throttle > 0 {
				w.throttle--
				return nil, &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}
			}
			w.batches = append(w.batches, len(in.Findings))
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
		})},
		Bucket:    "reports-bucket",
		KMSKeyID:  "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
		Partition: "aws", Region: "eu-west-1", AccountID: "123456789012", URLSuffix: "amazonaws.com",
		Now:    func() time.Time { return time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC) },
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
	}
}

// falcoLines are the events of the shared Falco fixture, one per element.
func falcoLines(t testing.TB) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "internal", "reports", "testdata", "falco.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

// subscription builds the event CloudWatch Logs sends: the JSON log data, gzipped, base64.
func subscription(t testing.TB, messageType string, messages []string) (falco.Event, []byte) {
	t.Helper()
	data := falco.LogData{MessageType: messageType, Owner: "123456789012", LogGroup: "/eks/staging/falco",
		LogStream: "falco-x2k9p", SubscriptionFilters: []string{"falco-to-security-hub"}}
	for i, m := range messages {
		data.LogEvents = append(data.LogEvents, falco.LogEvent{ID: fmt.Sprintf("3797%04d", i), Timestamp: 1763630043512, Message: m})
	}
	raw, err := json.Marshal(data)
	if err != nil {
		t.Fatal(err)
	}
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(raw)
	zw.Close()
	var ev falco.Event
	ev.AWSLogs.Data = base64.StdEncoding.EncodeToString(z.Bytes())
	return ev, raw
}

const rawKey = "runtime/eks_staging_falco/2026-11-20/falco-x2k9p-37970000.json"

func TestHandle(t *testing.T) {
	lines := falcoLines(t)
	many := make([]string, 250)
	for i := range many {
		many[i] = strings.Replace(lines[0], `"rule":"Terminal shell in container"`, fmt.Sprintf(`"rule":"Custom rule %d"`, i), 1)
	}
	tests := []struct {
		name        string
		messageType string
		messages    []string
		setup       func(w *world)
		findings    int
		batches     []int
		waits       int
	}{
		{name: "Falco events", messageType: "DATA_MESSAGE", messages: lines, findings: 4, batches: []int{4}},
		{name: "the subscription's control message", messageType: "CONTROL_MESSAGE", messages: []string{"CWL CONTROL MESSAGE: Checking health of destination Lambda function."}, batches: nil},
		{name: "250 distinct events: batches of 100", messageType: "DATA_MESSAGE", messages: many, findings: 250, batches: []int{100, 100, 50}},
		{name: "throttled twice, then accepted", messageType: "DATA_MESSAGE", messages: lines, setup: func(w *world) { w.throttle = 2 }, findings: 4, batches: []int{4}, waits: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN a subscription delivery
			w := newWorld()
			if tt.setup != nil {
				tt.setup(w)
			}
			ev, raw := subscription(t, tt.messageType, tt.messages)
			// WHEN the Lambda handles it
			res, err := w.handler().Handle(context.Background(), ev)
			// THEN the decompressed events are stored (SSE-KMS) before anything else, and the
			// findings are imported at most 100 per call
			if err != nil {
				t.Fatal(err)
			}
			if w.ops[0] != "put "+rawKey || !bytes.Equal(w.objects[rawKey], raw) {
				t.Fatalf("first operation %q, stored %d bytes; want the raw payload at %s", w.ops[0], len(w.objects[rawKey]), rawKey)
			}
			if w.sse[rawKey] != "aws:kms arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab" {
				t.Errorf("stored with %q", w.sse[rawKey])
			}
			if res.Findings != tt.findings || res.Imported != tt.findings || len(w.imported) != tt.findings {
				t.Errorf("result %+v, %d imported; want %d findings", res, len(w.imported), tt.findings)
			}
			if fmt.Sprint(w.batches) != fmt.Sprint(tt.batches) || w.waits != tt.waits {
				t.Errorf("batches %v waits %d, want %v and %d", w.batches, w.waits, tt.batches, tt.waits)
			}
			for _, f := range w.imported {
				if !strings.HasPrefix(*f.Id, "securestacks/falco/") || *f.ProductArn != "arn:aws:securityhub:eu-west-1:123456789012:product/123456789012/default" ||
					*f.SourceUrl != "https://reports-bucket.s3.eu-west-1.amazonaws.com/"+rawKey {
					t.Errorf("finding %s product %s source %s", *f.Id, *f.ProductArn, *f.SourceUrl)
				}
			}
		})
	}
}

func TestRepeatedEventUpdatesItsFinding(t *testing.T) {
	// GIVEN the same Falco event delivered twice, a minute apart
	w := newWorld()
	ev, _ := subscription(t, "DATA_MESSAGE", falcoLines(t)[:1])
	h := w.handler()
	if _, err := h.Handle(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	h.Now = func() time.Time { return time.Date(2026, 11, 20, 9, 31, 0, 0, time.UTC) }
	if _, err := h.Handle(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	// THEN both imports carry one id: Security Hub updates the finding
	if len(w.imported) != 1 || fmt.Sprint(w.batches) != "[1 1]" {
		t.Fatalf("%d distinct findings in batches %v, want 1 in [1 1]", len(w.imported), w.batches)
	}
}

func TestFaults(t *testing.T) {
	lines := falcoLines(t)
	bad := append(append([]string{}, lines[:2]...), `{"rule":"Terminal shell in container","priority":"Notice"`, lines[3])
	tests := []struct {
		name    string
		event   func(t *testing.T) falco.Event
		setup   func(w *world, ids map[string]string)
		stored  string
		want    string
		imports int
	}{
		{
			name:   "a malformed event fails the delivery before any import",
			event:  func(t *testing.T) falco.Event { ev, _ := subscription(t, "DATA_MESSAGE", bad); return ev },
			stored: rawKey,
			want:   "log event 37970002 of /eks/staging/falco/falco-x2k9p: falco: line 3: byte ",
		},
		{
			name:   "not base64",
			event:  func(*testing.T) falco.Event { var ev falco.Event; ev.AWSLogs.Data = "%%%"; return ev },
			stored: "runtime/_invalid/20261120T093000Z-",
			want:   "awslogs.data (stored at runtime/_invalid/20261120T093000Z-",
		},
		{
			name: "not gzip",
			event: func(*testing.T) falco.Event {
				var ev falco.Event
				ev.AWSLogs.Data = base64.StdEncoding.EncodeToString([]byte(`{"messageType":"DATA_MESSAGE"}`))
				return ev
			},
			stored: "runtime/_invalid/",
			want:   "awslogs.data (stored at runtime/_invalid/",
		},
		{
			name:    "Security Hub rejects one finding",
			event:   func(t *testing.T) falco.Event { ev, _ := subscription(t, "DATA_MESSAGE", lines); return ev },
			setup:   func(w *world, ids map[string]string) { w.reject[ids["Read sensitive file untrusted"]] = true },
			stored:  rawKey,
			want:    "falco events " + rawKey + ": ",
			imports: 1,
		},
		{
			name:   "the raw events cannot be stored",
			event:  func(t *testing.T) falco.Event { ev, _ := subscription(t, "DATA_MESSAGE", lines); return ev },
			setup:  func(w *world, _ map[string]string) { w.putErr = errors.New("AccessDenied: no") },
			stored: "",
			want:   "storing the raw events at s3://reports-bucket/" + rawKey + ": ",
		},
	}
	ids := findingIDs(t, lines)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld()
			if tt.setup != nil {
				tt.setup(w, ids)
			}
			_, err := w.handler().Handle(context.Background(), tt.event(t))
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %v, want one line starting %q", err, tt.want)
			}
			imports := 0
			for _, op := range w.ops {
				if op == "import" {
					imports++
				}
			}
			if imports != tt.imports {
				t.Errorf("%d import calls, want %d (ops %v)", imports, tt.imports, w.ops)
			}
			if tt.stored != "" && (len(w.ops) == 0 || !strings.HasPrefix(w.ops[0], "put "+tt.stored)) {
				t.Errorf("ops %v: the raw payload was not stored first under %s", w.ops, tt.stored)
			}
			if tt.imports > 0 && (len(w.imported) != 3 || !strings.Contains(err.Error(), ids["Read sensitive file untrusted"])) {
				t.Errorf("%d imported; error %v should name the rejected id", len(w.imported), err)
			}
		})
	}
}

// findingIDs maps each rule of the events to its finding id, as the handler builds it.
func findingIDs(t *testing.T, lines []string) map[string]string {
	t.Helper()
	_, fs, err := asff.Convert("falco", []byte(strings.Join(lines, "\n")), asff.Scan{Region: "eu-west-1", AccountID: "123456789012", Repository: "/eks/staging/falco", Branch: falco.Branch})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range fs {
		out[f.Title] = f.ID
	}
	return out
}
