package gofunction_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/gofunction"
)

// testModule is a std-only module: hello and world import the shared
// internal/greeting, solo and echo do not, alt/hello collides with hello on
// the binary name.
const testModule = "testdata/mod"

// TestMain owns the one jsii runtime (node process) of this binary; tests
// create cheap App objects on it, one per test, because an App cannot be
// synthesized again after its tree changed.
func TestMain(m *testing.M) {
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}

// newUnitStack returns a stack that CDK does not bundle, as unit tests do.
func newUnitStack() awscdk.Stack {
	app := awscdk.NewApp(&awscdk.AppProps{
		Context: &map[string]any{"aws:cdk:bundling-stacks": []string{}},
	})
	return awscdk.NewStack(app, jsii.String("Test"), nil)
}

// newBundlingStack returns a stack that CDK bundles into outdir.
func newBundlingStack(outdir string) awscdk.Stack {
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(outdir)})
	return awscdk.NewStack(app, jsii.String("Test"), nil)
}

// copyModule copies the test module to a fresh directory, so a test can
// edit it and so hashes can be compared across checkout directories.
func copyModule(t *testing.T) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "mod")
	if err := os.CopyFS(dst, os.DirFS(testModule)); err != nil {
		t.Fatal(err)
	}
	return dst
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// panicMessage runs f and returns what it panicked with ("" if nothing).
func panicMessage(f func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
		}
	}()
	f()
	return ""
}

// s3Key is the S3 key, "<asset hash>.zip", of the only function in stack.
func s3Key(t *testing.T, template assertions.Template) string {
	t.Helper()
	fns := *template.FindResources(jsii.String("AWS::Lambda::Function"), nil)
	if len(fns) != 1 {
		t.Fatalf("want 1 function, got %d", len(fns))
	}
	for _, fn := range fns {
		code := (*fn)["Properties"].(map[string]any)["Code"].(map[string]any)
		return code["S3Key"].(string)
	}
	return ""
}

// traceLines captures the SECURESTACKS_GOFUNCTION_TRACE output.
type traceLines struct{ strings.Builder }

func captureTrace(t *testing.T) *traceLines {
	t.Helper()
	t.Setenv(gofunction.TraceEnv, "1")
	tr := &traceLines{}
	t.Cleanup(gofunction.SetTraceOutput(tr))
	return tr
}

// builds returns and forgets the "go build" lines traced so far.
func (tr *traceLines) builds() []string { return tr.take("gofunction: go build ") }

// lists returns and forgets the "go list" lines traced so far.
func (tr *traceLines) lists() []string { return tr.take("gofunction: go list ") }

// take returns the traced lines with prefix and forgets every line traced so far.
func (tr *traceLines) take(prefix string) []string {
	var out []string
	for line := range strings.Lines(tr.String()) {
		if strings.HasPrefix(line, prefix) {
			out = append(out, strings.TrimSpace(line))
		}
	}
	tr.Reset()
	return out
}
