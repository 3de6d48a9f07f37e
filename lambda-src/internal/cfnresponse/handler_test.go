package cfnresponse_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/securestacks/securestacks/lambda-src/internal/cfnresponse"
)

// method is the fake for one Resource operation.
type method func(ctx context.Context, e cfnresponse.Event) (cfnresponse.Response, error)

// fakeResource records the calls it gets and answers with its methods; a nil method answers
// an empty Response.
type fakeResource struct {
	create, update, delete method
	calls                  []call
}

type call struct {
	op       string
	event    cfnresponse.Event
	deadline time.Time
	hasDL    bool
}

func (f *fakeResource) do(op string, m method, ctx context.Context, e cfnresponse.Event) (cfnresponse.Response, error) {
	dl, ok := ctx.Deadline()
	f.calls = append(f.calls, call{op: op, event: e, deadline: dl, hasDL: ok})
	if m == nil {
		return cfnresponse.Response{}, nil
	}
	return m(ctx, e)
}

func (f *fakeResource) Create(ctx context.Context, e cfnresponse.Event) (cfnresponse.Response, error) {
	return f.do("Create", f.create, ctx, e)
}

func (f *fakeResource) Update(ctx context.Context, e cfnresponse.Event) (cfnresponse.Response, error) {
	return f.do("Update", f.update, ctx, e)
}

func (f *fakeResource) Delete(ctx context.Context, e cfnresponse.Event) (cfnresponse.Response, error) {
	return f.do("Delete", f.delete, ctx, e)
}

func returns(resp cfnresponse.Response, err error) method {
	return func(context.Context, cfnresponse.Event) (cfnresponse.Response, error) { return resp, err }
}

// loadEvent reads testdata/<name>.json, an event as the provider framework sends it.
func loadEvent(t *testing.T, name string) cfnresponse.Event {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var e cfnresponse.Event
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("testdata/%s.json: %v", name, err)
	}
	return e
}

// newHandler returns the handler over r with its log captured in the returned buffer.
func newHandler(r cfnresponse.Resource, opts cfnresponse.Options) (func(context.Context, cfnresponse.Event) (cfnresponse.Response, error), *bytes.Buffer) {
	var buf bytes.Buffer
	opts.Logger = slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return cfnresponse.Handler(r, &opts), &buf
}

// logLines decodes the captured log, one JSON object per line.
func logLines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %v: %q", err, line)
		}
		out = append(out, m)
	}
	return out
}

func TestEventDecodesFrameworkJSON(t *testing.T) {
	// GIVEN the Update event as the provider framework sends it
	// WHEN it is decoded
	e := loadEvent(t, "update")

	// THEN every CloudFormation field lands in its Go field
	if e.RequestType != cfnresponse.Update || e.RequestId == "" || e.StackId == "" || e.ResourceType != "Custom::PublicKey" ||
		e.LogicalResourceId != "SigningKeyPublicKey1A2B3C4D" || e.PhysicalResourceId != "SigningKeyPublicKey1A2B3C4D-0123456789abcdef" ||
		e.ServiceToken == "" || e.ResponseURL == "" || e.ResourceProperties["Rotate"] != "false" || e.OldResourceProperties["Rotate"] != "true" {
		t.Errorf("decoded event = %+v", e)
	}
}

func TestHandlerDispatch(t *testing.T) {
	tests := []struct {
		name        string
		event       func(t *testing.T) cfnresponse.Event
		wantOp      string // "" when no method may be called
		wantErrPart []string
	}{
		{name: "Create", event: func(t *testing.T) cfnresponse.Event { return loadEvent(t, "create") }, wantOp: "Create"},
		{name: "Update", event: func(t *testing.T) cfnresponse.Event { return loadEvent(t, "update") }, wantOp: "Update"},
		{name: "Delete", event: func(t *testing.T) cfnresponse.Event { return loadEvent(t, "delete") }, wantOp: "Delete"},
		{
			name: "unknown RequestType",
			event: func(t *testing.T) cfnresponse.Event {
				e := loadEvent(t, "update")
				e.RequestType = "Replace"
				return e
			},
			wantErrPart: []string{`RequestType "Replace"`, `expected "Create", "Update" or "Delete"`},
		},
		{
			name: "empty RequestType",
			event: func(t *testing.T) cfnresponse.Event {
				e := loadEvent(t, "create")
				e.RequestType = ""
				return e
			},
			wantErrPart: []string{`RequestType ""`, `expected "Create", "Update" or "Delete"`},
		},
		{
			name: "Update without PhysicalResourceId",
			event: func(t *testing.T) cfnresponse.Event {
				e := loadEvent(t, "update")
				e.PhysicalResourceId = ""
				return e
			},
			wantErrPart: []string{"PhysicalResourceId is required on Update"},
		},
		{
			name: "Delete without PhysicalResourceId",
			event: func(t *testing.T) cfnresponse.Event {
				e := loadEvent(t, "delete")
				e.PhysicalResourceId = ""
				return e
			},
			wantErrPart: []string{"PhysicalResourceId is required on Delete"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN a resource that records its calls
			r := &fakeResource{}
			h, _ := newHandler(r, cfnresponse.Options{})
			e := tt.event(t)

			// WHEN the handler gets the event
			_, err := h(context.Background(), e)

			// THEN exactly the matching method ran, with the event as sent, or the error names the problem
			if tt.wantOp == "" {
				if err == nil {
					t.Fatal("want an error, got nil")
				}
				for _, part := range tt.wantErrPart {
					if !strings.Contains(err.Error(), part) {
						t.Errorf("error %q does not contain %q", err, part)
					}
				}
				if len(r.calls) != 0 {
					t.Errorf("resource was called: %v", r.calls[0].op)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if len(r.calls) != 1 || r.calls[0].op != tt.wantOp {
				t.Fatalf("calls = %+v, want one %s", r.calls, tt.wantOp)
			}
			if got := r.calls[0].event; got.PhysicalResourceId != e.PhysicalResourceId || got.RequestId != e.RequestId ||
				got.ResourceProperties["KeyId"] != e.ResourceProperties["KeyId"] {
				t.Errorf("resource saw event %+v, want %+v", got, e)
			}
		})
	}
}

func TestHandlerPhysicalResourceId(t *testing.T) {
	create := func(t *testing.T) cfnresponse.Event { return loadEvent(t, "create") }
	update := func(t *testing.T) cfnresponse.Event { return loadEvent(t, "update") }
	del := func(t *testing.T) cfnresponse.Event { return loadEvent(t, "delete") }
	stable := func(t *testing.T) string {
		e := loadEvent(t, "create")
		return cfnresponse.DefaultPhysicalResourceId(e.StackId, e.LogicalResourceId)
	}
	const current = "SigningKeyPublicKey1A2B3C4D-0123456789abcdef"
	tests := []struct {
		name     string
		event    func(t *testing.T) cfnresponse.Event
		resource *fakeResource
		want     func(t *testing.T) string
		wantLog  map[string]any // extra attributes the log line must carry
	}{
		{
			name: "Create without an ID gets the stable default", event: create,
			resource: &fakeResource{}, want: stable,
		},
		{
			name: "Create keeps the ID it returns", event: create,
			resource: &fakeResource{create: returns(cfnresponse.Response{PhysicalResourceId: "alias/my-key"}, nil)},
			want:     func(*testing.T) string { return "alias/my-key" },
		},
		{
			name: "Update without an ID keeps the current one", event: update,
			resource: &fakeResource{}, want: func(*testing.T) string { return current },
		},
		{
			name: "Update returning a new ID replaces the resource", event: update,
			resource: &fakeResource{update: returns(cfnresponse.Response{PhysicalResourceId: "replacement-id"}, nil)},
			want:     func(*testing.T) string { return "replacement-id" },
			wantLog:  map[string]any{"replaced_physical_resource_id": current, "level": "INFO"},
		},
		{
			name: "Delete without an ID keeps the event's", event: del,
			resource: &fakeResource{}, want: func(*testing.T) string { return current },
		},
		{
			name: "Delete cannot change the ID", event: del,
			resource: &fakeResource{delete: returns(cfnresponse.Response{PhysicalResourceId: "something-else"}, nil)},
			want:     func(*testing.T) string { return current },
			wantLog:  map[string]any{"ignored_physical_resource_id": "something-else", "level": "WARN"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN the resource of the case
			h, logs := newHandler(tt.resource, cfnresponse.Options{})

			// WHEN it handles the event
			resp, err := h(context.Background(), tt.event(t))

			// THEN the response carries the expected physical ID, and the log says why when it differs
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if want := tt.want(t); resp.PhysicalResourceId != want {
				t.Errorf("PhysicalResourceId = %q, want %q", resp.PhysicalResourceId, want)
			}
			line := logLines(t, logs)[0]
			if line["physical_resource_id"] != resp.PhysicalResourceId {
				t.Errorf("logged physical_resource_id = %v, want %q", line["physical_resource_id"], resp.PhysicalResourceId)
			}
			for k, v := range tt.wantLog {
				if line[k] != v {
					t.Errorf("log %s = %v, want %v", k, line[k], v)
				}
			}
		})
	}
}

func TestCreateIdIsStableAcrossRetriesAndNeverTheRequestId(t *testing.T) {
	// GIVEN a resource that leaves the ID to the handler, and the same Create sent twice
	h, _ := newHandler(&fakeResource{}, cfnresponse.Options{})
	first := loadEvent(t, "create")
	retry := first
	retry.RequestId = "a-different-request-id-for-the-retry"

	// WHEN both are handled
	r1, err1 := h(context.Background(), first)
	r2, err2 := h(context.Background(), retry)

	// THEN both name the same resource, derived from the logical ID, not from a request ID
	if err1 != nil || err2 != nil {
		t.Fatalf("errors: %v, %v", err1, err2)
	}
	if r1.PhysicalResourceId != r2.PhysicalResourceId {
		t.Errorf("IDs differ across retries: %q vs %q", r1.PhysicalResourceId, r2.PhysicalResourceId)
	}
	if !regexp.MustCompile(`^SigningKeyPublicKey1A2B3C4D-[0-9a-f]{16}$`).MatchString(r1.PhysicalResourceId) {
		t.Errorf("ID %q is not <LogicalResourceId>-<16 hex>", r1.PhysicalResourceId)
	}
	if strings.Contains(r1.PhysicalResourceId, first.RequestId) {
		t.Errorf("ID %q contains the RequestId", r1.PhysicalResourceId)
	}
}

func TestCreateWithoutLogicalIdFails(t *testing.T) {
	// GIVEN a Create event without a LogicalResourceId, from which no stable ID can be derived
	h, _ := newHandler(&fakeResource{}, cfnresponse.Options{})
	e := loadEvent(t, "create")
	e.LogicalResourceId = ""

	// WHEN the resource returns no ID
	_, err := h(context.Background(), e)

	// THEN the handler fails naming the missing field instead of inventing an ID
	if err == nil || !strings.Contains(err.Error(), "LogicalResourceId") {
		t.Fatalf("error = %v, want one naming LogicalResourceId", err)
	}
}

func TestDefaultPhysicalResourceId(t *testing.T) {
	tests := []struct {
		name, stackId, logicalId string
	}{
		{"sandbox stack", "arn:aws:cloudformation:eu-west-1:111122223333:stack/Sandbox-Kms/5b6c2a30-8f1e-11ee-b9d1-0242ac120002", "PublicKey"},
		{"same name, recreated stack", "arn:aws:cloudformation:eu-west-1:111122223333:stack/Sandbox-Kms/77777777-8f1e-11ee-b9d1-0242ac120002", "PublicKey"},
	}
	seen := map[string]string{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN a stack ID and a logical ID
			sum := sha256.Sum256([]byte(tt.stackId + "/" + tt.logicalId))
			want := tt.logicalId + "-" + hex.EncodeToString(sum[:])[:16]

			// WHEN the default ID is derived
			got := cfnresponse.DefaultPhysicalResourceId(tt.stackId, tt.logicalId)

			// THEN it is the documented digest, and no other stack gets the same one
			if got != want {
				t.Errorf("got %q, want %q", got, want)
			}
			if other, dup := seen[got]; dup {
				t.Errorf("%q also derived for %s", got, other)
			}
			seen[got] = tt.name
		})
	}
}

func TestUpdateReplacementThenDeleteOfOldId(t *testing.T) {
	// GIVEN a resource whose Update replaces it under a new ID
	r := &fakeResource{update: returns(cfnresponse.Response{PhysicalResourceId: "new-physical-id"}, nil)}
	h, _ := newHandler(r, cfnresponse.Options{})
	upd := loadEvent(t, "update")
	oldId := upd.PhysicalResourceId

	// WHEN the Update runs, then CloudFormation's clean-up Delete for the old ID arrives
	resp, err := h(context.Background(), upd)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	cleanup := loadEvent(t, "delete")
	cleanup.PhysicalResourceId = oldId
	cleanup.ResourceProperties = upd.OldResourceProperties
	delResp, err := h(context.Background(), cleanup)

	// THEN Update answered the new ID, and Delete received the old ID and old properties unchanged
	if err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if resp.PhysicalResourceId != "new-physical-id" {
		t.Errorf("Update answered %q, want the new ID", resp.PhysicalResourceId)
	}
	if len(r.calls) != 2 || r.calls[1].op != "Delete" {
		t.Fatalf("calls = %+v, want Update then Delete", r.calls)
	}
	got := r.calls[1].event
	if got.PhysicalResourceId != oldId || got.ResourceProperties["KeyId"] != upd.OldResourceProperties["KeyId"] {
		t.Errorf("Delete saw id %q props %v, want id %q and the old properties", got.PhysicalResourceId, got.ResourceProperties["KeyId"], oldId)
	}
	if delResp.PhysicalResourceId != oldId {
		t.Errorf("Delete answered %q, want the old ID %q", delResp.PhysicalResourceId, oldId)
	}
}

var errSentinel = errors.New("kms: AccessDeniedException")

func TestHandlerErrors(t *testing.T) {
	long := strings.Repeat("x", 5000)
	tests := []struct {
		name      string
		method    method
		want      string // exact error message, "" to skip
		wantIs    error
		wantPanic bool
		check     func(t *testing.T, msg string)
	}{
		{
			name:   "multi-line error becomes one line",
			method: returns(cfnresponse.Response{}, errors.Join(errors.New("  creating key:\n\tfirst problem\r\n"), errSentinel)),
			want:   "creating key: first problem kms: AccessDeniedException",
			wantIs: errSentinel,
		},
		{
			name:   "single-line error passes unchanged",
			method: returns(cfnresponse.Response{}, errSentinel),
			want:   "kms: AccessDeniedException",
			wantIs: errSentinel,
		},
		{
			name:   "long error is bounded",
			method: returns(cfnresponse.Response{}, errors.Join(errors.New(long), errSentinel)),
			wantIs: errSentinel,
			check: func(t *testing.T, msg string) {
				if len(msg) != cfnresponse.MaxReasonBytes || !strings.HasSuffix(msg, "...") {
					t.Errorf("len = %d, suffix %q; want %d bytes ending in ...", len(msg), msg[len(msg)-3:], cfnresponse.MaxReasonBytes)
				}
			},
		},
		{
			name:   "truncation keeps UTF-8 valid",
			method: returns(cfnresponse.Response{}, errors.New(strings.Repeat("é", 2000)) /* 2-byte runes: the byte limit falls mid-rune */),
			check: func(t *testing.T, msg string) {
				if !utf8.ValidString(msg) || len(msg) > cfnresponse.MaxReasonBytes {
					t.Errorf("len %d, valid UTF-8 %v", len(msg), utf8.ValidString(msg))
				}
			},
		},
		{
			name:   "empty error message still gives a reason",
			method: returns(cfnresponse.Response{}, errors.New("")),
			check: func(t *testing.T, msg string) {
				if !strings.Contains(msg, "empty error message") {
					t.Errorf("reason %q does not say the message was empty", msg)
				}
			},
		},
		{
			name:      "panic with a value",
			method:    func(context.Context, cfnresponse.Event) (cfnresponse.Response, error) { panic("boom\nsecond line") },
			want:      "Create panicked: boom second line",
			wantPanic: true,
		},
		{
			name: "panic with an error keeps it for errors.Is",
			method: func(context.Context, cfnresponse.Event) (cfnresponse.Response, error) {
				panic(errSentinel)
			},
			want:      "Create panicked: kms: AccessDeniedException",
			wantIs:    errSentinel,
			wantPanic: true,
		},
		{
			name:   "response over CloudFormation's 4096 bytes",
			method: returns(cfnresponse.Response{Data: map[string]any{"Pem": strings.Repeat("A", 4000)}}, nil),
			check: func(t *testing.T, msg string) {
				if !strings.Contains(msg, "at most 4096") {
					t.Errorf("reason %q does not name the limit", msg)
				}
			},
		},
		{
			name:   "Data that JSON cannot encode",
			method: returns(cfnresponse.Response{Data: map[string]any{"Ch": make(chan int)}}, nil),
			check: func(t *testing.T, msg string) {
				if !strings.Contains(msg, "Data must be JSON-encodable") {
					t.Errorf("reason %q does not blame Data", msg)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN a Create that fails this way
			h, logs := newHandler(&fakeResource{create: tt.method}, cfnresponse.Options{})

			// WHEN the handler runs it
			resp, err := h(context.Background(), loadEvent(t, "create"))

			// THEN the error is one line, bounded, still matches the cause, and the response is empty
			if err == nil {
				t.Fatal("want an error, got nil")
			}
			msg := err.Error()
			if strings.ContainsAny(msg, "\r\n\t") || strings.TrimSpace(msg) != msg || len(msg) > cfnresponse.MaxReasonBytes {
				t.Errorf("error is not one trimmed bounded line: %q", msg)
			}
			if tt.want != "" && msg != tt.want {
				t.Errorf("error = %q, want %q", msg, tt.want)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("errors.Is(err, %v) = false", tt.wantIs)
			}
			if tt.check != nil {
				tt.check(t, msg)
			}
			if resp.PhysicalResourceId != "" || resp.Data != nil {
				t.Errorf("response = %+v, want empty on error", resp)
			}
			if strings.Contains(msg, "goroutine") {
				t.Errorf("reason carries a stack trace: %q", msg)
			}
			lines := logLines(t, logs)
			if len(lines) != 1 {
				t.Fatalf("got %d log lines, want 1", len(lines))
			}
			line := lines[0]
			if line["level"] != "ERROR" || line["outcome"] != "FAILED" || line["error"] != msg {
				t.Errorf("log line = %v, want level ERROR, outcome FAILED, error = the reason", line)
			}
			stack, _ := line["stack"].(string)
			if tt.wantPanic != strings.Contains(stack, "goroutine") || tt.wantPanic != (line["panic"] == true) {
				t.Errorf("panic %v: log panic=%v, stack present %v", tt.wantPanic, line["panic"], stack != "")
			}
		})
	}
}

func TestHandlerContextDeadline(t *testing.T) {
	lambdaDeadline := time.Now().Add(10 * time.Minute)
	tests := []struct {
		name    string
		ctx     func() (context.Context, context.CancelFunc)
		opts    cfnresponse.Options
		exact   time.Time     // when set, the resource's deadline must equal it
		fromNow time.Duration // otherwise, the deadline must be this long after the call
	}{
		{
			name: "Lambda deadline minus the default 5s margin",
			ctx: func() (context.Context, context.CancelFunc) {
				return context.WithDeadline(context.Background(), lambdaDeadline)
			},
			exact: lambdaDeadline.Add(-5 * time.Second),
		},
		{
			name: "custom margin",
			ctx: func() (context.Context, context.CancelFunc) {
				return context.WithDeadline(context.Background(), lambdaDeadline)
			},
			opts:  cfnresponse.Options{Margin: 90 * time.Second},
			exact: lambdaDeadline.Add(-90 * time.Second),
		},
		{
			name: "negative margin means none",
			ctx: func() (context.Context, context.CancelFunc) {
				return context.WithDeadline(context.Background(), lambdaDeadline)
			},
			opts:  cfnresponse.Options{Margin: -1},
			exact: lambdaDeadline,
		},
		{
			name:    "no deadline: default 60s",
			ctx:     func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) },
			fromNow: 60 * time.Second,
		},
		{
			name:    "no deadline: DefaultTimeout",
			ctx:     func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) },
			opts:    cfnresponse.Options{DefaultTimeout: 7 * time.Second},
			fromNow: 7 * time.Second,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN an invocation context and options
			r := &fakeResource{}
			h, _ := newHandler(r, tt.opts)
			ctx, cancel := tt.ctx()
			defer cancel()

			// WHEN the handler runs a Create
			before := time.Now()
			if _, err := h(ctx, loadEvent(t, "create")); err != nil {
				t.Fatal(err)
			}
			after := time.Now()

			// THEN the resource's context has the computed deadline
			c := r.calls[0]
			if !c.hasDL {
				t.Fatal("resource context has no deadline")
			}
			if !tt.exact.IsZero() {
				if !c.deadline.Equal(tt.exact) {
					t.Errorf("deadline = %v, want %v", c.deadline, tt.exact)
				}
				return
			}
			if c.deadline.Before(before.Add(tt.fromNow)) || c.deadline.After(after.Add(tt.fromNow)) {
				t.Errorf("deadline = %v, want %v after the call (between %v and %v)", c.deadline, tt.fromNow, before.Add(tt.fromNow), after.Add(tt.fromNow))
			}
		})
	}
}

func TestHandlerLogsOneLineWithoutSecrets(t *testing.T) {
	secrets := []string{"hunter2-property-secret", "hunter1-old-property-secret", "presigned-response-url-secret-signature", "data-secret-value"}
	tests := []struct {
		name        string
		event       string
		resource    *fakeResource
		wantOutcome string
		wantLevel   string
	}{
		{
			name: "successful Create with NoEcho data", event: "create",
			resource:    &fakeResource{create: returns(cfnresponse.Response{Data: map[string]any{"Secret": "data-secret-value"}, NoEcho: true}, nil)},
			wantOutcome: "SUCCESS", wantLevel: "INFO",
		},
		{
			name: "failed Update", event: "update",
			resource:    &fakeResource{update: returns(cfnresponse.Response{}, errSentinel)},
			wantOutcome: "FAILED", wantLevel: "ERROR",
		},
		{
			name: "panicking Delete", event: "delete",
			resource: &fakeResource{delete: func(context.Context, cfnresponse.Event) (cfnresponse.Response, error) {
				panic("nil map")
			}},
			wantOutcome: "FAILED", wantLevel: "ERROR",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN an event whose properties, old properties and response URL hold secrets, in a Lambda context
			h, logs := newHandler(tt.resource, cfnresponse.Options{})
			e := loadEvent(t, tt.event)
			ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "lambda-req-1"})

			// WHEN the handler runs it
			_, _ = h(ctx, e)

			// THEN exactly one JSON line describes the event, and no secret appears anywhere in the log
			lines := logLines(t, logs)
			if len(lines) != 1 {
				t.Fatalf("got %d log lines, want 1: %s", len(lines), logs)
			}
			line := lines[0]
			want := map[string]any{
				"request_type":        string(e.RequestType),
				"logical_resource_id": e.LogicalResourceId,
				"resource_type":       e.ResourceType,
				"cfn_request_id":      e.RequestId,
				"request_id":          "lambda-req-1",
				"outcome":             tt.wantOutcome,
				"level":               tt.wantLevel,
			}
			for k, v := range want {
				if line[k] != v {
					t.Errorf("log %s = %v, want %v", k, line[k], v)
				}
			}
			if _, ok := line["duration_ms"].(float64); !ok {
				t.Errorf("log duration_ms = %v, want a number", line["duration_ms"])
			}
			if line["physical_resource_id"] == "" || line["physical_resource_id"] == nil {
				t.Errorf("log physical_resource_id is empty")
			}
			for _, s := range secrets {
				if strings.Contains(logs.String(), s) {
					t.Errorf("log contains secret %q: %s", s, logs)
				}
			}
		})
	}
}

func TestHandlerWorksWithLambdaRuntime(t *testing.T) {
	tests := []struct {
		name     string
		event    string
		resource *fakeResource
		wantJSON string
		wantErr  string
	}{
		{
			name: "Create answers the framework's JSON", event: "create",
			resource: &fakeResource{create: returns(cfnresponse.Response{PhysicalResourceId: "pid", Data: map[string]any{"Arn": "arn:x"}}, nil)},
			wantJSON: `{"PhysicalResourceId":"pid","Data":{"Arn":"arn:x"}}`,
		},
		{
			name: "failure reaches the runtime as one line", event: "update",
			resource: &fakeResource{update: returns(cfnresponse.Response{}, errors.New("line one\nline two"))},
			wantErr:  "line one line two",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN the handler wrapped the way lambda.Start wraps it
			h, _ := newHandler(tt.resource, cfnresponse.Options{})
			payload, err := os.ReadFile(filepath.Join("testdata", tt.event+".json"))
			if err != nil {
				t.Fatal(err)
			}

			// WHEN the runtime invokes it with the raw event
			out, err := lambda.NewHandler(h).Invoke(context.Background(), payload)

			// THEN the JSON answer or the error message is what the provider framework reads
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != tt.wantJSON {
				t.Errorf("payload = %s, want %s", out, tt.wantJSON)
			}
		})
	}
}

func TestHandlerNilResourcePanics(t *testing.T) {
	// GIVEN no resource
	// WHEN Handler is wired
	defer func() {
		// THEN it panics at wiring time with a message naming the package
		if v := recover(); v == nil || !strings.HasPrefix(v.(string), "cfnresponse:") {
			t.Errorf("recovered %v, want a cfnresponse panic", v)
		}
	}()
	cfnresponse.Handler(nil, nil)
}
