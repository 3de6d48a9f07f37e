package testenv

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Node returns the pinned Node.js of node_modules/.bin (npm `node`, installed
// by `make deps`).
func Node(t testing.TB) string {
	t.Helper()
	node := filepath.Join(ModuleRoot(t), "node_modules", ".bin", "node")
	if _, err := os.Stat(node); err != nil {
		t.Fatalf("testenv: the pinned Node is missing (%v): run make deps", err)
	}
	return node
}

// EdgeOutput is what the edge encrypter's test driver
// (constructs/fieldencryption/edge/testdata/invoke.js) wrote.
type EdgeOutput struct {
	// Results are the handler's answers, one per event: a request to forward
	// or a generated response.
	Results []json.RawMessage `json:"results"`
	// Logs are the handler's log lines, parsed.
	Logs []map[string]any `json:"logs"`
	// ConfigError is the handler's refusal of the configuration.
	ConfigError string `json:"configError"`
	// NS are per-request times in nanoseconds, one list per event (bench).
	NS [][]float64 `json:"ns"`
}

// RunEdge runs the Lambda@Edge field encrypter under the pinned Node with
// config (the construct's config.json) on events, in one process. bench > 0
// runs each event bench times and reports times only.
func RunEdge(t testing.TB, config any, events []any, bench int) EdgeOutput {
	t.Helper()
	in, err := json.Marshal(map[string]any{"config": config, "events": events, "bench": bench})
	if err != nil {
		t.Fatal(err)
	}
	driver := filepath.Join(ModuleRoot(t), "constructs", "fieldencryption", "edge", "testdata", "invoke.js")
	cmd := exec.Command(Node(t), driver)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("testenv: node %s: %v\n%s", driver, err, stderr.Bytes())
	}
	var o EdgeOutput
	if err := json.Unmarshal(out, &o); err != nil {
		t.Fatalf("testenv: edge driver output: %v\n%s", err, out)
	}
	return o
}

// OriginRequest is a CloudFront origin-request event with Include Body, as
// AWS documents it (Lambda@Edge event structure: Records[0].cf.config and
// .request, the body with inputTruncated, action "read-only", encoding
// "base64", data):
// https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-event-structure.html#lambda-event-structure-request
func OriginRequest(method, contentType string, body []byte, truncated bool) map[string]any {
	headers := map[string]any{
		"host":       []any{map[string]any{"key": "Host", "value": "origin.example.com"}},
		"user-agent": []any{map[string]any{"key": "User-Agent", "value": "Amazon CloudFront"}},
	}
	if contentType != "" {
		headers["content-type"] = []any{map[string]any{"key": "Content-Type", "value": contentType}}
	}
	return map[string]any{"Records": []any{map[string]any{"cf": map[string]any{
		"config": map[string]any{
			"distributionDomainName": "d111111abcdef8.cloudfront.net",
			"distributionId":         "EDFDVBD6EXAMPLE",
			"eventType":              "origin-request",
			"requestId":              "4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ==",
		},
		"request": map[string]any{
			"clientIp":    "203.0.113.178",
			"headers":     headers,
			"method":      method,
			"querystring": "",
			"uri":         "/records",
			"origin": map[string]any{"custom": map[string]any{
				"customHeaders": map[string]any{}, "domainName": "origin.example.com", "keepaliveTimeout": 5,
				"path": "", "port": 443, "protocol": "https", "readTimeout": 30, "sslProtocols": []any{"TLSv1.2"},
			}},
			"body": map[string]any{
				"inputTruncated": truncated,
				"action":         "read-only",
				"encoding":       "base64",
				"data":           base64.StdEncoding.EncodeToString(body),
			},
		},
	}}}}
}

// SeedPython returns a python3 command that runs script with the seed's
// imports working: the seed imports PyCryptodome as Crypto, and Debian ships
// it as Cryptodome (python3-pycryptodome), which a symlink presents under the
// seed's name.
func SeedPython(t testing.TB, script string, args ...string) *exec.Cmd {
	t.Helper()
	for _, py := range []string{"/usr/bin/python3", "python3"} {
		if exec.Command(py, "-c", "import Crypto.Cipher.PKCS1_OAEP").Run() == nil {
			return exec.Command(py, append([]string{script}, args...)...)
		}
		out, err := exec.Command(py, "-c", "import Cryptodome, os; print(os.path.dirname(Cryptodome.__file__))").Output()
		if err != nil {
			continue
		}
		shim := t.TempDir()
		if err := os.Symlink(strings.TrimSpace(string(out)), filepath.Join(shim, "Crypto")); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(py, append([]string{script}, args...)...)
		cmd.Env = append(os.Environ(), "PYTHONPATH="+shim)
		return cmd
	}
	t.Fatal("testenv: the seed's Python needs PyCryptodome: apt-get install python3-pycryptodome (make deps installs it)")
	return nil
}
