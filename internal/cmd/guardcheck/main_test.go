package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// guard returns the cfn-guard binary and Control Tower rules that package.json pins.
func guard(t *testing.T) (bin, rules string) {
	t.Helper()
	pkg := filepath.Join("..", "..", "..", "node_modules", "@cdklabs", "cdk-validator-cfnguard")
	bin = filepath.Join(pkg, "bin", "ubuntu", "x86_64", "cfn-guard")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("cfn-guard not installed (%v): run make synth or npm ci first", err)
	}
	return bin, filepath.Join(pkg, "rules", "control-tower", "cfn-guard")
}

func TestGuardFailsOnFindingsOutsideTheAllowlist(t *testing.T) {
	bin, rules := guard(t)
	allow := filepath.Join(t.TempDir(), "allow.json")
	cases := []struct {
		name      string
		allowlist string
		wantCode  int
		wantOut   []string
	}{
		{
			name:      "empty allowlist: every Control Tower failure of the open bucket and queue fails",
			allowlist: `[]`,
			wantCode:  1,
			wantOut:   []string{"9 failures, 0 allowlisted, 9 not allowed", "s3_bucket_level_public_access_prohibited_check B: CT.S3.PR.1", "sqs_queue_encrypted_check Q: CT.SQS.PR.2"},
		},
		{
			name: "allowlisted failures pass, the rest still fail",
			allowlist: `[{"rule":"sqs_dlq_check","logicalId":"Q","reason":"the queue is itself the dead-letter queue"},
			             {"rule":"sqs_queue_encrypted_check","logicalId":"Q","reason":"test fixture: encryption is out of scope here"}]`,
			wantCode: 1,
			wantOut:  []string{"9 failures, 2 allowlisted, 7 not allowed"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// GIVEN a template with an open bucket and queue, and an allowlist
			if err := os.WriteFile(allow, []byte(tc.allowlist), 0o644); err != nil {
				t.Fatal(err)
			}
			var out, errOut strings.Builder
			// WHEN guardcheck runs the real cfn-guard over it
			code := run([]string{"-guard", bin, "-rules", rules, "-allowlist", allow, "testdata/open.template.json"}, &out, &errOut)
			// THEN the exit code and report name each unallowed rule and logical id
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d; stdout %s stderr %s", code, tc.wantCode, out.String(), errOut.String())
			}
			for _, w := range tc.wantOut {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
}

func TestAllowlistEntriesNeedAReason(t *testing.T) {
	// GIVEN an allowlist entry without a reason
	allow := filepath.Join(t.TempDir(), "allow.json")
	if err := os.WriteFile(allow, []byte(`[{"rule":"sqs_dlq_check","logicalId":"Q","reason":""}]`), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut strings.Builder
	// WHEN guardcheck loads it
	code := run([]string{"-guard", "x", "-rules", "x", "-allowlist", allow, "t.json"}, &out, &errOut)
	// THEN it refuses with one line and exit 2
	if code != 2 || !strings.Contains(errOut.String(), "entry 0: expected rule, logicalId and a reason") || strings.Count(errOut.String(), "\n") != 1 {
		t.Fatalf("exit %d, stderr %q", code, errOut.String())
	}
}
