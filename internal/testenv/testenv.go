// Package testenv starts the emulators that securestacks' integration tests run
// against: local-kms for KMS and the AWS Lambda runtime interface emulator
// (RIE) for real bootstrap binaries. Both are pinned in tools/go.mod and built
// on first use into <module>/.bin, so `go test ./...` works on a fresh clone
// without `make`. Every process listens on a free loopback port and is killed
// when the test ends.
package testenv

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Tool import paths, as listed in tools/go.mod.
const (
	LocalKMS = "github.com/nsmithuk/local-kms"
	RIE      = "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie"
)

// LambdaBuildFlags are the production build flags of every securestacks Lambda
// (see constructs/gofunction), without -o and the package.
var LambdaBuildFlags = []string{"-trimpath", "-buildvcs=false", "-tags", "lambda.norpc", "-ldflags", "-s -w -buildid="}

// ModuleRoot returns the directory of the securestacks go.mod.
func ModuleRoot(t testing.TB) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("testenv: go env GOMOD: %v", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		t.Fatal("testenv: not inside the securestacks module")
	}
	return filepath.Dir(gomod)
}

// Tool returns the path of the pinned tool with import path pkg, building it
// from tools/go.mod into <module>/.bin when it is missing. A file lock keeps
// parallel test binaries from building the same tool twice.
func Tool(t testing.TB, pkg string) string {
	t.Helper()
	root := ModuleRoot(t)
	bin := filepath.Join(root, ".bin")
	path := filepath.Join(bin, filepath.Base(pkg))
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	lock, err := os.OpenFile(filepath.Join(bin, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatalf("testenv: lock: %v", err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) //nolint:errcheck // released on close anyway
	if _, err := os.Stat(path); err == nil {
		return path
	}
	cmd := exec.Command("go", "-C", filepath.Join(root, "tools"), "build", "-o", path, pkg)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("testenv: building %s: %v\n%s", pkg, err, out)
	}
	return path
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// StartLocalKMS starts local-kms with an empty database in a temporary
// directory and returns its endpoint URL (http://127.0.0.1:PORT). Its account
// is 111122223333 and its region eu-west-2, local-kms's own defaults.
func StartLocalKMS(t testing.TB) string {
	t.Helper()
	bin := Tool(t, LocalKMS)
	port := FreePort(t)
	dir := t.TempDir()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(),
		fmt.Sprintf("PORT=%d", port),
		"KMS_DATA_PATH="+filepath.Join(dir, "data"),
		"KMS_SEED_PATH="+filepath.Join(dir, "seed.yaml"),
		"KMS_ACCOUNT_ID=111122223333",
		"KMS_REGION=eu-west-2",
	)
	start(t, cmd, port)
	return fmt.Sprintf("http://127.0.0.1:%d", port)
}

// BuildBootstrap builds the Lambda main package pkg with the production flags
// for this machine's architecture (the RIE runs it natively) and returns the
// path of the bootstrap binary.
func BuildBootstrap(t testing.TB, pkg string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "bootstrap")
	args := append([]string{"build"}, LambdaBuildFlags...)
	args = append(args, "-o", out, pkg)
	cmd := exec.Command("go", args...)
	cmd.Dir = ModuleRoot(t)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("testenv: building %s: %v\n%s", pkg, err, b)
	}
	return out
}

// StartRIE runs bootstrap under the Lambda runtime interface emulator with the
// extra environment env and returns the invoke URL
// (http://127.0.0.1:PORT/2015-03-31/functions/function/invocations).
func StartRIE(t testing.TB, bootstrap string, env ...string) string {
	t.Helper()
	bin := Tool(t, RIE)
	port := FreePort(t)
	apiPort := FreePort(t)
	cmd := exec.Command(bin,
		"--runtime-interface-emulator-address", fmt.Sprintf("127.0.0.1:%d", port),
		"--runtime-api-address", fmt.Sprintf("127.0.0.1:%d", apiPort),
		bootstrap)
	cmd.Dir = filepath.Dir(bootstrap)
	cmd.Env = append(append(os.Environ(), "AWS_REGION=eu-west-2", "AWS_LAMBDA_FUNCTION_TIMEOUT=10"), env...)
	start(t, cmd, port)
	return fmt.Sprintf("http://127.0.0.1:%d/2015-03-31/functions/function/invocations", port)
}

// Invoke posts payload to an RIE invoke URL and returns the response body.
func Invoke(t testing.TB, url string, payload []byte) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(payload))
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("testenv: invoke: %v", err)
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	if _, err := body.ReadFrom(resp.Body); err != nil {
		t.Fatalf("testenv: invoke: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("testenv: invoke: HTTP %d: %s", resp.StatusCode, body.Bytes())
	}
	return body.Bytes()
}

// start runs cmd, stops it at cleanup and waits until it accepts TCP
// connections on 127.0.0.1:port (at most 20 s).
func start(t testing.TB, cmd *exec.Cmd, port int) {
	t.Helper()
	logs := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("testenv: starting %s: %v", cmd.Path, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("%s output:\n%s", filepath.Base(cmd.Path), logs.String())
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("testenv: %s did not listen on 127.0.0.1:%d within 20s:\n%s", filepath.Base(cmd.Path), port, logs.String())
}

// lockedBuffer collects a child's output while the test may read it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
