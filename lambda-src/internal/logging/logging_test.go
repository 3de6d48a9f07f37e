package logging_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/securestacks/securestacks/lambda-src/internal/logging"
)

// lines decodes every line of buf as one JSON object, failing the test on any other line.
func lines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimRight(buf.String(), "\n"), "\n") {
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

func TestNewWritesOneJSONObjectPerLine(t *testing.T) {
	// GIVEN a logger on a buffer with no level configured
	t.Setenv("LOG_LEVEL", "")
	t.Setenv("AWS_LAMBDA_LOG_LEVEL", "")
	var buf bytes.Buffer
	l := logging.New(&buf)

	// WHEN it logs two records, one with a value holding a newline
	l.Info("first", "n", 1)
	l.Error("second", "detail", "a\nb")

	// THEN each record is one parseable JSON line with slog's standard keys
	got := lines(t, &buf)
	if len(got) != 2 {
		t.Fatalf("got %d lines, want 2: %q", len(got), buf.String())
	}
	for i, want := range []struct{ level, msg string }{{"INFO", "first"}, {"ERROR", "second"}} {
		if got[i]["level"] != want.level || got[i]["msg"] != want.msg || got[i]["time"] == nil {
			t.Errorf("line %d = %v, want level %s msg %s and a time", i, got[i], want.level, want.msg)
		}
	}
	if got[1]["detail"] != "a\nb" {
		t.Errorf("detail = %q, want the newline preserved inside the JSON string", got[1]["detail"])
	}
}

func TestNewLevelFromEnvironment(t *testing.T) {
	tests := []struct {
		name        string
		logLevel    string
		lambdaLevel string
		wantLevels  []string // levels that reach the output, in order, from DEBUG-4, DEBUG, INFO, WARN, ERROR
		wantWarning bool     // an "invalid log level" line comes first
	}{
		{name: "unset defaults to INFO", wantLevels: []string{"INFO", "WARN", "ERROR"}},
		{name: "LOG_LEVEL debug, any case", logLevel: "debug", wantLevels: []string{"DEBUG", "INFO", "WARN", "ERROR"}},
		{name: "LOG_LEVEL ERROR", logLevel: "ERROR", wantLevels: []string{"ERROR"}},
		{name: "LOG_LEVEL with offset", logLevel: "INFO+4", wantLevels: []string{"WARN", "ERROR"}},
		{name: "invalid LOG_LEVEL falls back to INFO and warns", logLevel: "verbose", wantLevels: []string{"INFO", "WARN", "ERROR"}, wantWarning: true},
		{name: "Lambda log level WARN", lambdaLevel: "WARN", wantLevels: []string{"WARN", "ERROR"}},
		{name: "Lambda log level TRACE", lambdaLevel: "TRACE", wantLevels: []string{"DEBUG-4", "DEBUG", "INFO", "WARN", "ERROR"}},
		{name: "Lambda log level FATAL", lambdaLevel: "FATAL", wantLevels: nil},
		{name: "LOG_LEVEL wins over Lambda log level", logLevel: "DEBUG", lambdaLevel: "ERROR", wantLevels: []string{"DEBUG", "INFO", "WARN", "ERROR"}},
		{name: "invalid Lambda log level warns", lambdaLevel: "LOUD", wantLevels: []string{"INFO", "WARN", "ERROR"}, wantWarning: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN the environment of the case
			t.Setenv("LOG_LEVEL", tt.logLevel)
			t.Setenv("AWS_LAMBDA_LOG_LEVEL", tt.lambdaLevel)
			var buf bytes.Buffer

			// WHEN a logger logs one record at each level
			l := logging.New(&buf)
			ctx := context.Background()
			for _, lv := range []int{-8, -4, 0, 4, 8} {
				l.Log(ctx, slog.Level(lv), "probe")
			}

			// THEN exactly the records at or above the configured level are written
			got := lines(t, &buf)
			if tt.wantWarning {
				if len(got) == 0 || got[0]["msg"] != "invalid log level; using INFO" || got[0]["value"] == nil {
					t.Fatalf("first line = %v, want the invalid-level warning naming the value", got)
				}
				got = got[1:]
			}
			var levels []string
			for _, m := range got {
				levels = append(levels, m["level"].(string))
			}
			if strings.Join(levels, ",") != strings.Join(tt.wantLevels, ",") {
				t.Errorf("levels written = %v, want %v", levels, tt.wantLevels)
			}
		})
	}
}

func TestWithRequest(t *testing.T) {
	tests := []struct {
		name          string
		ctx           context.Context
		function      string
		wantRequestID any // nil: attribute absent
		wantFunction  any
	}{
		{
			name:          "Lambda context and function name",
			ctx:           lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-123"}),
			function:      "asff-ingest",
			wantRequestID: "req-123",
			wantFunction:  "asff-ingest",
		},
		{
			name: "no Lambda context, as in the CLI",
			ctx:  context.Background(),
		},
		{
			name:          "Lambda context without a function name",
			ctx:           lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-9"}),
			wantRequestID: "req-9",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN a base logger and the function name Lambda would export
			t.Setenv("LOG_LEVEL", "")
			old := lambdacontext.FunctionName
			lambdacontext.FunctionName = tt.function
			t.Cleanup(func() { lambdacontext.FunctionName = old })
			var buf bytes.Buffer
			base := logging.New(&buf)

			// WHEN a request-scoped logger logs
			logging.WithRequest(tt.ctx, base).Info("handled")

			// THEN the line carries exactly the attributes that are known
			got := lines(t, &buf)
			if len(got) != 1 {
				t.Fatalf("got %d lines, want 1", len(got))
			}
			if got[0]["request_id"] != tt.wantRequestID {
				t.Errorf("request_id = %v, want %v", got[0]["request_id"], tt.wantRequestID)
			}
			if got[0]["function"] != tt.wantFunction {
				t.Errorf("function = %v, want %v", got[0]["function"], tt.wantFunction)
			}
		})
	}
}
