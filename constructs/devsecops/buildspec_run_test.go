package devsecops_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/securestacks/securestacks/constructs/devsecops"
)

// These tests run the generated shell under bash, with fake `aws` and `docker` programs first
// on PATH, so that what is checked is what CodeBuild would do, not the text of the script.

// fakeBin writes executable shell scripts named by the keys of programs into a new directory
// and returns it.
func fakeBin(t *testing.T, programs map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range programs {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/usr/bin/env bash\n"+body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// runBash runs script with bin first on PATH in a scratch directory and returns its exit code
// and combined output.
func runBash(t *testing.T, bin, script string) (int, string) {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not installed")
	}
	cmd := exec.Command(bash, "-c", "set -euo pipefail\n"+script)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, string(out)
	case errors.As(err, &exit):
		return exit.ExitCode(), string(out)
	}
	t.Fatalf("bash: %v", err)
	return 0, ""
}

// TestECRScanWaiterHandlesEveryStatus checks wait_for_ecr_scan against every ImageScanStatus
// value of the ECR API Reference
// (https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_ImageScanStatus.html:
// IN_PROGRESS | COMPLETE | FAILED | UNSUPPORTED_IMAGE | ACTIVE | PENDING |
// SCAN_ELIGIBILITY_EXPIRED | FINDINGS_UNAVAILABLE | LIMIT_EXCEEDED | IMAGE_ARCHIVED), plus the
// ScanNotFoundException DescribeImageScanFindings returns before a scan starts.
// `aws ecr wait image-scan-complete` knew only COMPLETE and FAILED.
func TestECRScanWaiterHandlesEveryStatus(t *testing.T) {
	tests := []struct {
		name     string
		statuses []string // what successive polls return; "!NotFound" is ScanNotFoundException
		want     int      // 0 findings ready, 2 not scannable by ECR, 1 fail the build
	}{
		{"basic scan completes", []string{"IN_PROGRESS", "IN_PROGRESS", "COMPLETE"}, 0},
		{"scan not started yet, then complete", []string{"!NotFound", "COMPLETE"}, 0},
		{"enhanced scanning: continuous", []string{"PENDING", "ACTIVE"}, 0},
		{"scratch or distroless image", []string{"UNSUPPORTED_IMAGE"}, 2},
		{"scan failed", []string{"IN_PROGRESS", "FAILED"}, 1},
		{"findings unavailable", []string{"FINDINGS_UNAVAILABLE"}, 1},
		{"scan eligibility expired", []string{"SCAN_ELIGIBILITY_EXPIRED"}, 1},
		{"scan limit exceeded", []string{"LIMIT_EXCEEDED"}, 1},
		{"image archived", []string{"IMAGE_ARCHIVED"}, 1},
		{"a status ECR adds later", []string{"SOMETHING_NEW"}, 1},
		{"never finishes within the bound", []string{"IN_PROGRESS", "IN_PROGRESS", "IN_PROGRESS", "IN_PROGRESS"}, 1},
		{"access denied", []string{"!AccessDenied"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN an AWS CLI whose successive scan-status reads return tt.statuses
			bin := fakeBin(t, map[string]string{
				"aws": `n=$(cat "$STATE" 2>/dev/null || echo 0); echo $((n+1)) > "$STATE"
IFS=, read -ra s <<< "$STATUSES"; st="${s[$n]:-${s[-1]}}"
case "$st" in
  '!NotFound') echo "An error occurred (ScanNotFoundException) when calling the DescribeImageScanFindings operation" >&2; exit 254 ;;
  '!AccessDenied') echo "An error occurred (AccessDeniedException)" >&2; exit 254 ;;
esac
printf '%s\t%s\n' "$st" "description of $st"
`,
			})
			script := "export STATE=$PWD/state STATUSES=" + strings.Join(tt.statuses, ",") +
				" ECR_SCAN_ATTEMPTS=3 ECR_SCAN_INTERVAL=0 ECR_REPOSITORY_NAME=app tag=abc\n" +
				devsecops.ECRScanWaiter + "rc=0; wait_for_ecr_scan || rc=$?; exit $rc\n"
			// WHEN the waiter runs
			got, out := runBash(t, bin, script)
			// THEN it maps the terminal status to its meaning, within the bound
			if got != tt.want {
				t.Errorf("exit %d, want %d; output:\n%s", got, tt.want, out)
			}
		})
	}

	// AND the image script uses it, and no longer the AWS CLI waiter
	for _, tool := range []devsecops.ImageScanTool{devsecops.ImageGrype, devsecops.ImageTrivy} {
		s := devsecops.ImageScript(tool)
		if strings.Contains(s, "aws ecr wait") || !strings.Contains(s, "wait_for_ecr_scan || ecr_scan=$?") {
			t.Errorf("%s image script does not wait with wait_for_ecr_scan", tool)
		}
	}
}

// TestScannerFailuresFailTheBuild runs the SAST and DAST scripts with a scanner that fails
// (Semgrep and Opengrep exit 7, "invalid configuration":
// https://semgrep.dev/docs/cli-reference#exit-codes; ZAP's Automation Framework exits 1 when
// the plan reported errors, 2 when it reported only warnings:
// https://www.zaproxy.org/docs/desktop/addons/automation-framework/#exit-codes) after writing
// a report, and an ingest step that accepts any report: the build must still fail, where
// `|| true` let it pass.
func TestScannerFailuresFailTheBuild(t *testing.T) {
	// git-secrets: the download is stubbed (fetch, tar, install), git is the fake below, and
	// the SARIF conversion needs jq.
	gitSecrets := "fetch() { :; }\nmkdir -p .git\n" + devsecops.SecretsScript(devsecops.SecretsGitSecrets)
	ingestOK := "export SEMGREP_CONFIG=p/default DAST_TARGET_URL=https://staging.example.com\ningest() { echo \"ingested $1 $2\"; }\n"
	tests := []struct {
		name, script, docker string
		want                 bool // true: the build passes
		noReport             bool // the scanner wrote nothing to ingest
	}{
		{"semgrep rules did not load", devsecops.SastScript(devsecops.SastSemgrep),
			`[ "$1" = pull ] && exit 0; echo '{"results":[],"errors":[{"level":"error"}]}' > semgrep.json; exit 7`, false, false},
		{"semgrep completed with findings", devsecops.SastScript(devsecops.SastSemgrep),
			`[ "$1" = pull ] && exit 0; echo '{"results":[{}],"errors":[]}' > semgrep.json; exit 0`, true, false},
		{"git-secrets could not scan", gitSecrets,
			`[ "$2" = --scan ] && { echo "fatal: not a git repository" >&2; exit 1; }; exit 0`, false, true},
		{"git-secrets found a credential (the threshold decides)", gitSecrets,
			`[ "$2" = --scan ] && { echo "config.py:3:aws_secret_access_key = REDACTED" >&2; exit 1; }; exit 0`, true, false},
		{"git-secrets clean", gitSecrets, `exit 0`, true, false},
		{"phpstan crashed", "fetch() { :; }\n" + devsecops.SastScript(devsecops.SastPHPStan),
			`echo '{"totals":{"errors":0,"file_errors":0},"files":[],"errors":[]}'; exit 255`, false, false},
		{"phpstan reported errors (the threshold decides)", "fetch() { :; }\n" + devsecops.SastScript(devsecops.SastPHPStan),
			`echo '{"totals":{"errors":0,"file_errors":1},"files":{},"errors":[]}'; exit 1`, true, false},
		{"opengrep rules did not load", "fetch() { :; }\nchmod() { :; }\n" + devsecops.SastScript(devsecops.SastOpengrep),
			`echo '{"results":[],"errors":[{"level":"error"}]}' > opengrep.json; exit 7`, false, false},
		{"opengrep completed with findings", "fetch() { :; }\nchmod() { :; }\n" + devsecops.SastScript(devsecops.SastOpengrep),
			`echo '{"results":[{}],"errors":[]}' > opengrep.json; exit 0`, true, false},
		{"zap plan reported errors", "fetch() { :; }\n" + devsecops.DastScript(devsecops.DastBaseline),
			`grep -q 'https://staging.example.com' "$4" || exit 9; echo '{}' > zap/zap.json; exit 1`, false, false},
		{"zap plan reported warnings only (the threshold decides)", "fetch() { :; }\n" + devsecops.DastScript(devsecops.DastBaseline),
			`grep -q 'https://staging.example.com' "$4" || exit 9; echo '{}' > zap/zap.json; exit 2`, true, false},
		{"zap could not start", "fetch() { :; }\n" + devsecops.DastScript(devsecops.DastFull),
			`echo "Error: Java 17 or later is required" >&2; exit 1`, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN a scanner (docker, or git for git-secrets) that exits as the case says, after
			// writing its report
			if strings.Contains(tt.script, "git secrets") {
				if _, err := exec.LookPath("jq"); err != nil {
					t.Skip("jq not installed")
				}
			}
			bin := fakeBin(t, map[string]string{"docker": tt.docker, "git": tt.docker, "php": tt.docker, "opengrep": tt.docker, "zap.sh": tt.docker, "tar": "exit 0", "install": "exit 0"})
			// WHEN the scan script runs
			got, out := runBash(t, bin, ingestOK+tt.script)
			// THEN a scanner that did not complete fails the build, after its report (if any) is
			// ingested
			if (got == 0) != tt.want {
				t.Errorf("exit %d, want pass=%v; output:\n%s", got, tt.want, out)
			}
			if !tt.noReport && !strings.Contains(out, "ingested") {
				t.Errorf("the report was not ingested; output:\n%s", out)
			}
		})
	}
}
