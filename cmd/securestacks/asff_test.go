package main_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/securestacks/securestacks/internal/asff"
)

func reportPath(name string) string {
	return filepath.Join("..", "..", "internal", "reports", "testdata", name)
}

var scanArgs = []string{"--account", "123456789012", "--region", "us-gov-west-1", "--repository", "sample-app", "--branch", "main", "--commit", "9f1c2ab", "--build-id", "b-1"}

func TestAsffConvertEveryTool(t *testing.T) {
	tests := []struct {
		tool, file string
		count      int
	}{
		{"zap", "zap.json", 4}, {"dependency-check", "dependency-check.json", 3}, {"trivy", "trivy-fs.json", 6},
		{"grype", "grype.json", 2}, {"gitleaks", "gitleaks.json", 2}, {"semgrep", "semgrep.json", 2},
		{"sonarqube", "sonarqube.json", 3}, {"phpstan", "phpstan.json", 4}, {"snyk", "snyk-oss.json", 2},
		{"snyk", "snyk-container.json", 2}, {"anchore", "anchore.json", 3}, {"ecr", "ecr-basic.json", 3},
		{"ecr", "ecr-enhanced.json", 2}, {"sarif", "sarif-codeql.json", 2}, {"sarif", "sarif-zap.json", 1},
		{"falco", "falco.jsonl", 4},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			// GIVEN a real report of the tool
			// WHEN asff convert runs on it
			code, stdout, stderr := cli(t, append([]string{"asff", "convert", "--tool", tt.tool, "--report", reportPath(tt.file)}, scanArgs...)...)

			// THEN it prints a JSON array of GovCloud ASFF findings, the same the Lambda builds
			if code != 0 || stderr != "" {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var got []asff.Finding
			if err := json.Unmarshal([]byte(stdout), &got); err != nil {
				t.Fatalf("stdout is not a JSON array of findings: %v", err)
			}
			if len(got) != tt.count {
				t.Errorf("%d findings, want %d", len(got), tt.count)
			}
			data, _ := os.ReadFile(reportPath(tt.file))
			_, want, err := asff.Convert(tt.tool, data, asff.Scan{AccountID: "123456789012", Region: "us-gov-west-1", Repository: "sample-app", Branch: "main"})
			if err != nil {
				t.Fatal(err)
			}
			for i := range got {
				if got[i].ID != want[i].ID || !strings.HasPrefix(got[i].ProductArn, "arn:aws-us-gov:securityhub:us-gov-west-1:123456789012:product/123456789012/default") {
					t.Errorf("finding %d: id %s (library %s), ProductArn %s", i, got[i].ID, want[i].ID, got[i].ProductArn)
				}
			}
		})
	}
}

func TestAsffConvertCleanReportPrintsEmptyArray(t *testing.T) {
	for _, tc := range []struct{ tool, file string }{{"trivy", "trivy-clean.json"}, {"phpstan", "phpstan-clean.json"}, {"gitleaks", "gitleaks-clean.json"}, {"zap", "zap-empty.json"}} {
		// GIVEN a well-formed report with no findings
		// WHEN it is converted
		code, stdout, stderr := cli(t, append([]string{"asff", "convert", "--tool", tc.tool, "--report", reportPath(tc.file)}, scanArgs...)...)
		// THEN the output is exactly []
		if code != 0 || stdout != "[]\n" || stderr != "" {
			t.Errorf("%s: exit %d stdout %q stderr %q", tc.file, code, stdout, stderr)
		}
	}
}

func TestAsffConvertErrors(t *testing.T) {
	dir := t.TempDir()
	truncated := writeFile(t, dir, "truncated.json", func() []byte { b, _ := os.ReadFile(reportPath("trivy-fs.json")); return b[:512] }())
	empty := writeFile(t, dir, "empty.json", nil)
	falco, _ := os.ReadFile(reportPath("falco.jsonl"))
	badLine := writeFile(t, dir, "falco-bad.jsonl", append(append(falco[:len(falco):len(falco)], []byte(`{"rule":"x","priority":"Notice"`+"\n")...), falco...))
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"truncated report", []string{"--tool", "trivy", "--report", truncated}, 1,
			"securestacks asff convert: trivy: byte 512: truncated JSON (the report ends after 512 bytes): expected a Trivy JSON report (an object with SchemaVersion 2)\n"},
		{"another tool's report", []string{"--tool", "grype", "--report", reportPath("trivy-fs.json")}, 1,
			"securestacks asff convert: grype: field matches: missing: expected a Grype JSON report (an object with matches and descriptor)\n"},
		{"malformed Falco line", []string{"--tool", "falco", "--report", badLine}, 1,
			"securestacks asff convert: falco: line 7: byte 31: truncated JSON"},
		{"empty file", []string{"--tool", "zap", "--report", empty}, 1,
			"securestacks asff convert: zap: byte 0: empty report (0 bytes): expected a ZAP traditional JSON report (an object with @version and site)\n"},
		{"unreadable file", []string{"--tool", "semgrep", "--report", filepath.Join(dir, "missing.json")}, 1,
			"securestacks asff convert: semgrep: reading the report: open " + filepath.Join(dir, "missing.json") + ": no such file or directory\n"},
		{"no tool", []string{"--report", empty}, 2, "securestacks asff convert: --tool: expected one of anchore, dependency-check, ecr, falco, gitleaks, grype, opengrep, phpstan, sarif, semgrep, snyk, sonarqube, trivy, zap\n"},
		{"unknown tool", []string{"--tool", "nessus", "--report", empty}, 2, `securestacks asff convert: --tool: unknown tool "nessus": expected one of anchore,`},
		{"no report", []string{"--tool", "trivy"}, 2, "securestacks asff convert: --report: expected the report file, or - for standard input\n"},
		{"bad created-at", []string{"--tool", "trivy", "--report", empty, "--created-at", "yesterday"}, 2, `securestacks asff convert: --created-at: expected an RFC 3339 time`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN a report or flags that cannot be converted
			// WHEN asff convert runs
			code, stdout, stderr := cli(t, append(append([]string{"asff", "convert"}, tt.args...), scanArgs...)...)
			// THEN it exits non-zero with one line that names the tool and the offset or field
			if code != tt.code || stdout != "" || !strings.HasPrefix(stderr, tt.stderr) || strings.Count(stderr, "\n") != 1 {
				t.Errorf("exit %d stdout %q\nstderr %q\nwant   %q", code, stdout, stderr, tt.stderr)
			}
		})
	}
	// AND scan metadata is checked before the report is read
	code, _, stderr := cli(t, "asff", "convert", "--tool", "trivy", "--report", empty, "--account", "12", "--region", "eu-west-1")
	if code != 2 || stderr != "securestacks asff convert: --account: expected a 12-digit AWS account id, got \"12\"\n" {
		t.Errorf("exit %d stderr %q", code, stderr)
	}
}

// fakeSecurityHub answers BatchImportFindings (POST /findings/import), records every call and
// rejects the ids in reject.
type fakeSecurityHub struct {
	mu     sync.Mutex
	calls  []int
	states map[string]string // id → RecordState of the last import
	reject map[string]bool
}

func (f *fakeSecurityHub) start(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/findings/import" {
			http.Error(w, "unexpected "+r.Method+" "+r.URL.Path, http.StatusNotFound)
			return
		}
		body, _ := io.ReadAll(r.Body)
		var in struct{ Findings []map[string]any }
		if err := json.Unmarshal(body, &in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		f.calls = append(f.calls, len(in.Findings))
		var failed []map[string]string
		for _, x := range in.Findings {
			id, _ := x["Id"].(string)
			for _, k := range []string{"SchemaVersion", "Id", "ProductArn", "GeneratorId", "AwsAccountId", "Types", "CreatedAt", "UpdatedAt", "Severity", "Title", "Description", "Resources"} {
				if _, ok := x[k]; !ok {
					failed = append(failed, map[string]string{"Id": id, "ErrorCode": "InvalidInput", "ErrorMessage": "missing " + k})
				}
			}
			if f.reject[id] {
				failed = append(failed, map[string]string{"Id": id, "ErrorCode": "InvalidInput", "ErrorMessage": "rejected by the test"})
				continue
			}
			f.states[id], _ = x["RecordState"].(string)
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"FailedCount": len(failed), "SuccessCount": len(in.Findings) - len(failed), "FailedFindings": failed})
	}))
	t.Cleanup(srv.Close)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "fake-secret-for-the-fake-endpoint")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	return srv.URL
}

// bigTrivyReport writes a Trivy report with n vulnerabilities.
func bigTrivyReport(t *testing.T, dir string, n int) string {
	t.Helper()
	var vulns []map[string]any
	for i := range n {
		vulns = append(vulns, map[string]any{"VulnerabilityID": fmt.Sprintf("CVE-2025-%05d", i), "PkgName": "pkg", "InstalledVersion": "1.0.0", "Severity": "HIGH", "Description": "d"})
	}
	b, _ := json.Marshal(map[string]any{"SchemaVersion": 2, "ArtifactName": ".", "ArtifactType": "filesystem", "Results": []any{map[string]any{"Target": "go.mod", "Class": "lang-pkgs", "Type": "gomod", "Vulnerabilities": vulns}}})
	return writeFile(t, dir, fmt.Sprintf("trivy-%d.json", n), b)
}

func TestAsffImport(t *testing.T) {
	// GIVEN a fake Security Hub and a Trivy report of 250 findings
	hub := &fakeSecurityHub{states: map[string]string{}, reject: map[string]bool{}}
	url := hub.start(t)
	dir := t.TempDir()
	state := filepath.Join(dir, "state.json")
	args := func(report string) []string {
		return append([]string{"asff", "import", "--tool", "trivy", "--report", report, "--endpoint-url", url, "--state", state}, scanArgs...)
	}

	// WHEN asff import runs
	code, stdout, stderr := cli(t, args(bigTrivyReport(t, dir, 250))...)

	// THEN the findings go in three calls of at most 100, and the summary counts them
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if fmt.Sprint(hub.calls) != "[100 100 50]" {
		t.Errorf("calls %v", hub.calls)
	}
	var sum struct {
		Findings, Imported, Archived, Batches int
		Counts                                map[string]int
	}
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil || sum.Findings != 250 || sum.Imported != 250 || sum.Batches != 3 || sum.Counts["HIGH"] != 250 {
		t.Errorf("summary %s (%v)", stdout, err)
	}

	// WHEN the next scan reports only 200 of them
	hub.calls = nil
	code, stdout, stderr = cli(t, args(bigTrivyReport(t, dir, 200))...)

	// THEN the same ids are updated and the 50 others are ARCHIVED
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	archived := 0
	for _, s := range hub.states {
		if s == "ARCHIVED" {
			archived++
		}
	}
	if len(hub.states) != 250 || archived != 50 || !strings.Contains(stdout, `"archived": 50`) {
		t.Errorf("%d ids, %d archived; %s", len(hub.states), archived, stdout)
	}

	// WHEN Security Hub rejects a finding the next scan still reports
	for id, s := range hub.states {
		if s == "ACTIVE" {
			hub.reject[id] = true
			break
		}
	}
	code, _, stderr = cli(t, args(bigTrivyReport(t, dir, 200))...)

	// THEN the command fails with one line naming the rejected id
	var rejected string
	for id := range hub.reject {
		rejected = id
	}
	if code != 1 || !strings.Contains(stderr, rejected) || !strings.Contains(stderr, "InvalidInput: rejected by the test") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("exit %d stderr %q", code, stderr)
	}
}
