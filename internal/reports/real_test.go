package reports_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/securestacks/securestacks/internal/asff"
	"github.com/securestacks/securestacks/internal/reports"
)

// realReports are reports the tools really wrote, committed in public repositories (see
// testdata/real/README.md for where each comes from and how it was trimmed). count and labels
// were worked out by reading each file, not by running the parser: count is the number of ASFF
// findings after the merges the rules require (two copies of one package, one leak in two
// commits), labels how many of them get each Security Hub label.
var realReports = []struct {
	tool, file string
	count      int
	labels     map[asff.Label]int
}{
	// ZAP 2.8 wrote no @programName and no alertRef; 10050 has no cweid. riskcodes 1, 0, 2, 1.
	{"zap", "zap/2.8.0-baseline.json", 4, labels(0, 0, 1, 2, 1)},
	{"zap", "zap/2.16.1-baseline.json", 3, labels(0, 0, 1, 1, 1)},
	// ZAP 2.17 adds insights, created and systemic; insights are not alerts.
	{"zap", "zap/2.17.0-baseline-insights.json", 1, labels(0, 0, 0, 0, 1)},
	// The report add-on's traditional-json-plus: request/response bodies, tags as objects.
	{"zap", "zap/report-addon-traditional-json-plus.json", 1, labels(0, 1, 0, 0, 0)},

	// Dependency-Check 6.4.1 on go.mod: NVD (cvssv2 only, cvssv2+v3) and OSS Index.
	{"dependency-check", "dependency-check/6.4.1-golang.json", 4, labels(1, 1, 1, 1, 0)},
	// 12.0.2: RetireJS writes lower-case unscored severities and a sentence as the name; the
	// same bootstrap@3.1.1 in two files is one finding per vulnerability (7 entries, 5 findings).
	{"dependency-check", "dependency-check/12.0.2-retirejs-kev.json", 5, labels(0, 1, 3, 1, 0)},
	{"dependency-check", "dependency-check/12.1.0-clean.json", 0, nil},

	// Trivy: every vulnerability status is reported (unknown, not_affected, fixed, will_not_fix).
	{"trivy", "trivy/image-statuses.json", 4, labels(0, 0, 0, 4, 0)},
	// 2 vulnerabilities, 1 failed misconfiguration, 2 (masked) secrets.
	{"trivy", "trivy/fs-misconfig-secrets.json", 5, labels(2, 2, 1, 0, 0)},
	{"trivy", "trivy/fs-cvssv4.json", 3, labels(0, 0, 1, 2, 0)},
	// --scanners license: 3 OS package licenses, 2 loose-file licenses.
	{"trivy", "trivy/image-licenses.json", 5, labels(0, 2, 0, 3, 0)},
	// trivy k8s: Resources (0.45+) and the older Vulnerabilities/Misconfigurations split.
	{"trivy", "trivy/k8s-cluster.json", 4, labels(0, 0, 1, 3, 0)},
	{"trivy", "trivy/k8s-legacy.json", 4, labels(0, 0, 2, 2, 0)},

	// Grype 0.96: CVE-2024-26308 has no severity of its own; its related GHSA says High.
	{"grype", "grype/image-0.96.json", 7, labels(1, 4, 1, 1, 0)},
	{"grype", "grype/dir-0.24.json", 5, labels(2, 1, 2, 0, 0)},
	{"grype", "grype/image-0.28.json", 2, labels(0, 1, 0, 0, 1)},

	// gitleaks v8 (PascalCase) and v7 (rule, lineNumber, tags as a string).
	{"gitleaks", "gitleaks/v8.30-report-writer.json", 1, labels(0, 1, 0, 0, 0)},
	{"gitleaks", "gitleaks/v8.0.json", 4, labels(0, 4, 0, 0, 0)},
	{"gitleaks", "gitleaks/v7.5.0.json", 3, labels(0, 3, 0, 0, 0)},
	{"gitleaks", "gitleaks/legacy-no-line-number.json", 1, labels(0, 1, 0, 0, 0)},

	// Semgrep 1.156 with a PartialParsing error and no results: clean, not an error.
	{"semgrep", "semgrep/1.156.0-errors-only.json", 0, nil},
	{"semgrep", "semgrep/1.97.0.json", 1, labels(0, 1, 0, 0, 0)},
	{"semgrep", "semgrep/1.100.0-fingerprint.json", 2, labels(0, 1, 1, 0, 0)},
	{"semgrep", "semgrep/1.30.0.json", 3, labels(0, 0, 3, 0, 0)},
	// Opengrep forked Semgrep CE at 1.100.0 (https://github.com/opengrep/opengrep) and writes its
	// JSON format: the reports of that line are what the opengrep parser reads.
	{"opengrep", "semgrep/1.100.0-fingerprint.json", 2, labels(0, 1, 1, 0, 0)},
	{"opengrep", "semgrep/1.156.0-errors-only.json", 0, nil},

	// SonarCloud with impacts (one issue has three; the highest counts).
	{"sonarqube", "sonarqube/sonarcloud-impacts.json", 5, labels(0, 3, 1, 1, 0)},
	{"sonarqube", "sonarqube/server-legacy-severity.json", 3, labels(0, 0, 1, 2, 0)},
	// SonarSource's own example response: its only issue is resolved (WONTFIX, ACCEPTED).
	{"sonarqube", "sonarqube/search-example-resolved.json", 0, nil},

	{"phpstan", "phpstan/phpstan-2-identifiers.json", 6, labels(0, 0, 6, 0, 0)},
	// PHPStan's JsonErrorFormatter test output: 4 file errors, 2 general errors, "files": [].
	{"phpstan", "phpstan/formatter-file-and-generic-errors.json", 6, labels(0, 0, 4, 0, 2)},
	{"phpstan", "phpstan/formatter-no-errors.json", 0, nil},

	// Snyk writes NSP identifiers as numbers.
	{"snyk", "snyk/oss-maven-nsp-ids.json", 4, labels(0, 2, 2, 0, 0)},
	{"snyk", "snyk/oss-all-projects.json", 4, labels(0, 0, 4, 0, 0)},
	{"snyk", "snyk/container-with-applications.json", 4, labels(1, 2, 0, 1, 0)},

	// Anchore Engine: imageDigest (0.x) and image_digest (2.4.1); Negligible and Unknown.
	{"anchore", "anchore/engine-imageDigest.json", 4, labels(0, 1, 1, 0, 2)},
	{"anchore", "anchore/engine-2.4.1-image_digest.json", 3, labels(0, 1, 1, 1, 0)},
	{"anchore", "anchore/engine-one-vuln-many-files.json", 4, labels(0, 4, 0, 0, 0)},

	{"ecr", "ecr/basic-aws-cli-example.json", 1, labels(0, 0, 1, 0, 0)},
	// Inspector writes "None Provided" and "NotAvailable" for what it does not know.
	{"ecr", "ecr/enhanced-inspector.json", 2, labels(0, 0, 1, 0, 1)},

	// CodeQL: levels from the rules' defaultConfiguration (note, error, warning).
	{"sarif", "sarif/codeql-2.5.4.sarif", 3, labels(0, 1, 1, 1, 0)},
	// Semgrep OSS with GitLab rules: security-severity is the word "MEDIUM".
	{"sarif", "sarif/semgrep-oss-1.69.0.sarif", 3, labels(0, 0, 3, 0, 0)},
	{"sarif", "sarif/grype-0.34.7.sarif", 3, labels(0, 0, 0, 3, 0)},
	// gitleaks 7 SARIF has no ruleId; two results are the same leak in two commits.
	{"sarif", "sarif/gitleaks-7.4.0-no-ruleid.sarif", 2, labels(0, 0, 2, 0, 0)},
	{"sarif", "sarif/gitleaks-8-report-writer.sarif", 1, labels(0, 0, 1, 0, 0)},
	{"sarif", "sarif/zap-sarif-json-template-example.sarif", 1, labels(0, 1, 0, 0, 0)},
}

// labels builds the expected label counts, highest first; zero counts are left out.
func labels(critical, high, medium, low, informational int) map[asff.Label]int {
	m := map[asff.Label]int{}
	for l, n := range map[asff.Label]int{asff.Critical: critical, asff.High: high, asff.Medium: medium, asff.Low: low, asff.Informational: informational} {
		if n > 0 {
			m[l] = n
		}
	}
	return m
}

func TestRealReportsBecomeValidASFF(t *testing.T) {
	scan := asff.Scan{
		Region: "eu-west-1", AccountID: "123456789012",
		Repository: "sample-app", Branch: "main", Commit: "9f1c2ab", BuildID: "sample-app-scan:1",
		Now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	}
	productArn := regexp.MustCompile(`^arn:aws:securityhub:eu-west-1:123456789012:product/123456789012/default$`)
	for _, tt := range realReports {
		t.Run(tt.file, func(t *testing.T) {
			// GIVEN a report the tool really wrote
			data, err := os.ReadFile(filepath.Join("testdata", "real", tt.file))
			if err != nil {
				t.Fatal(err)
			}

			// WHEN it is parsed and converted on the Lambda's and the CLI's code path
			rep, err := reports.Parse(tt.tool, data)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			_, fs, err := asff.Convert(tt.tool, data, scan)
			if err != nil {
				t.Fatalf("convert: %v", err)
			}

			// THEN every finding of the report is there once, as valid ASFF, rated as read
			if len(fs) != tt.count {
				t.Fatalf("%d findings (from %d parsed), want %d", len(fs), len(rep.Findings), tt.count)
			}
			if fs == nil {
				t.Error("a clean report must give an empty, non-nil slice")
			}
			got := map[asff.Label]int{}
			ids := map[string]bool{}
			for _, f := range fs {
				got[f.Severity.Label]++
				checkRealFinding(t, f, productArn)
				if ids[f.ID] {
					t.Errorf("id %s twice", f.ID)
				}
				ids[f.ID] = true
			}
			if tt.count > 0 && !reflect.DeepEqual(got, tt.labels) {
				t.Errorf("labels = %v, want %v", got, tt.labels)
			}
		})
	}
}

// checkRealFinding asserts what Security Hub requires of one finding, and that the tool's
// severity was one its table knows.
func checkRealFinding(t *testing.T, f asff.Finding, productArn *regexp.Regexp) {
	t.Helper()
	if f.SchemaVersion != "2018-10-08" || strings.TrimSpace(f.ID) == "" || len(f.ID) > 512 {
		t.Errorf("SchemaVersion %q Id %q", f.SchemaVersion, f.ID)
	}
	if !productArn.MatchString(f.ProductArn) {
		t.Errorf("ProductArn %q", f.ProductArn)
	}
	if !strings.HasPrefix(f.GeneratorID, "securestacks/") || !strings.HasSuffix(f.GeneratorID, "/sample-app") || len(f.GeneratorID) > 512 {
		t.Errorf("GeneratorId %q", f.GeneratorID)
	}
	if len(f.Types) == 0 {
		t.Error("no Types")
	}
	for _, ty := range f.Types {
		if !strings.HasPrefix(ty, "Software and Configuration Checks/") {
			t.Errorf("type %q outside the Software and Configuration Checks namespace", ty)
		}
	}
	if f.Severity.Label.Rank() < 0 || f.Severity.Normalized != f.Severity.Label.Normalized() {
		t.Errorf("severity %+v", f.Severity)
	}
	if note := f.ProductFields["securestacks/SeverityNote"]; strings.Contains(note, "not in the mapping table") {
		t.Errorf("a severity the tool really writes is unknown to the table: %s", note)
	}
	if n := utf8.RuneCountInString(f.Title); strings.TrimSpace(f.Title) == "" || n > asff.MaxTitle {
		t.Errorf("Title has %d characters: %q", n, f.Title)
	}
	if n := utf8.RuneCountInString(f.Description); strings.TrimSpace(f.Description) == "" || n > asff.MaxDescription {
		t.Errorf("Description has %d characters", n)
	}
	if f.AwsAccountID != "123456789012" || f.CreatedAt == "" || f.UpdatedAt == "" || f.RecordState != "ACTIVE" {
		t.Errorf("account %q created %q updated %q state %q", f.AwsAccountID, f.CreatedAt, f.UpdatedAt, f.RecordState)
	}
	if len(f.Resources) == 0 {
		t.Error("no Resources")
	}
	for _, r := range f.Resources {
		if strings.TrimSpace(r.ID) == "" || r.Type == "" {
			t.Errorf("resource without Id or Type: %+v", r)
		}
	}
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > asff.MaxFindingBytes {
		t.Errorf("finding is %d bytes of JSON", len(b))
	}
}

func TestEveryRealReportIsInTheTable(t *testing.T) {
	// GIVEN the real reports on disk
	var onDisk []string
	err := filepath.WalkDir(filepath.Join("testdata", "real"), func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Ext(path) != ".md" {
			rel, _ := filepath.Rel(filepath.Join("testdata", "real"), path)
			onDisk = append(onDisk, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// WHEN they are compared with the table
	inTable := map[string]bool{}
	tools := map[string]bool{}
	for _, tt := range realReports {
		inTable[tt.file] = true
		tools[tt.tool] = true
	}
	// THEN none lacks its expected count, and every tool has real reports
	sort.Strings(onDisk)
	for _, f := range onDisk {
		if !inTable[f] {
			t.Errorf("%s has no row in realReports", f)
		}
	}
	if len(onDisk) != len(inTable) {
		t.Errorf("%d files on disk, %d in the table", len(onDisk), len(inTable))
	}
	for _, tool := range reports.Tools() {
		if !tools[tool] && withoutRealReport[tool] == "" {
			t.Errorf("no real report of %s", tool)
		}
	}
}

// withoutRealReport names the tools that have no report copied from a public repository yet,
// and why; their fixtures in testdata/ follow the tool's documented format.
var withoutRealReport = map[string]string{
	reports.Falco: "falco.jsonl follows Falco's documented json_output shape and default rules; no public repository with a provenance we could cite was found",
}

func TestRealReportFields(t *testing.T) {
	tests := []struct {
		name, tool, file string
		// check inspects what the parser read from the report.
		check func(t *testing.T, fs []reports.Finding)
	}{
		{"zap: count beyond the listed instances, no cweid", "zap", "zap/2.8.0-baseline.json", func(t *testing.T, fs []reports.Finding) {
			eq(t, "rule from pluginid (no alertRef before 2.9)", fs[0].RuleID, "10038")
			eq(t, "occurrences", fs[0].Occurrences, 4)
			eq(t, "10050 has no cweid", fs[1].CWEs, []string(nil))
		}},
		{"gitleaks v7 field names", "gitleaks", "gitleaks/v7.5.0.json", func(t *testing.T, fs []reports.Finding) {
			eq(t, "rule", fs[0].RuleID, "AWS Access Key")
			eq(t, "line", fs[0].StartLine, 13)
			eq(t, "location names the commit", fs[0].Location, "dojo/unittests/scans/gitlab_secret_detection_report/gitlab_secret_detection_report_1_vuln.json:13@6d127980966808f7413935678e079dcd7fedf9c2")
		}},
		{"grype: severity of the related advisory when the NVD record has none", "grype", "grype/image-0.96.json", func(t *testing.T, fs []reports.Finding) {
			f := fs[5]
			eq(t, "rule", f.RuleID, "CVE-2024-26308")
			eq(t, "severity", f.Severity, "High")
			eq(t, "score", f.Score, 7.5)
		}},
		{"snyk: numeric NSP identifiers do not stop the CVE and CWE ids", "snyk", "snyk/oss-maven-nsp-ids.json", func(t *testing.T, fs []reports.Finding) {
			prefix(t, "title", fs[3].Title, "CVE-2019-11358, CVE-2019-5428 (Prototype Pollution)")
			eq(t, "cwes", fs[3].CWEs, []string{"CWE-400"})
		}},
		{"trivy: an image report without a name keeps the image id", "trivy", "trivy/image-statuses.json", func(t *testing.T, fs []reports.Finding) {
			if fs[0].Image == nil || fs[0].Image.Digest != "sha256:22ae3921bdaac434bb4cb92dbbc209e46b1f3f70e9fa0b5fbbb43ce7d452c72d" {
				t.Errorf("image = %+v", fs[0].Image)
			}
		}},
		{"trivy: licenses", "trivy", "trivy/image-licenses.json", func(t *testing.T, fs []reports.Finding) {
			eq(t, "category", fs[0].Category, reports.License)
			eq(t, "rule", fs[0].RuleID, "GPL-2.0")
			eq(t, "loose file location", fs[3].Location, "Loose File License(s) /etc/ssl/misc/CA.pl")
		}},
		{"trivy k8s: resource in the location", "trivy", "trivy/k8s-cluster.json", func(t *testing.T, fs []reports.Finding) {
			eq(t, "location", fs[0].Location, "default/Service/kubernetes Service/kubernetes")
		}},
		{"anchore 2.4.1: image_digest and extra.description", "anchore", "anchore/engine-2.4.1-image_digest.json", func(t *testing.T, fs []reports.Finding) {
			eq(t, "digest", fs[0].Image.Digest, "sha256:e010a676dba57f2110960b4e81a1d9098585ed6a8ac79e8c4a552ba4018d1674")
			prefix(t, "description", fs[0].Description, "A buffer overflow exists in the Brotli library")
		}},
		{"ecr enhanced: Inspector placeholders are not values", "ecr", "ecr/enhanced-inspector.json", func(t *testing.T, fs []reports.Finding) {
			eq(t, "no fixed version from NotAvailable", fs[0].FixedVersion, "")
			eq(t, "no remediation from None Provided", fs[0].Remediation, "")
			eq(t, "description falls back to the title", fs[1].Description, "CVE-2025-24528 - krb5")
			eq(t, "digest from the finding's resource", fs[0].Image.Digest, "sha256:9c7d02b8b260fa42b14a85cc1221f942f2029b5bf1132fc300ec479273406f5d")
		}},
		{"sarif: gitleaks 7 names the rule only in the message", "sarif", "sarif/gitleaks-7.4.0-no-ruleid.sarif", func(t *testing.T, fs []reports.Finding) {
			eq(t, "rule", fs[2].RuleID, "Asymmetric Private Key")
			prefix(t, "title", fs[2].Title, "Asymmetric Private Key in dojo/")
		}},
		{"sarif: security-severity as a word", "sarif", "sarif/semgrep-oss-1.69.0.sarif", func(t *testing.T, fs []reports.Finding) {
			eq(t, "severity", fs[0].Severity, "medium")
		}},
		{"dependency-check: one package in two files is one place", "dependency-check", "dependency-check/12.0.2-retirejs-kev.json", func(t *testing.T, fs []reports.Finding) {
			eq(t, "first copy", fs[0].Location, "pkg:javascript/bootstrap@3.1.1")
			eq(t, "second copy, same place", fs[3].Location, fs[0].Location)
			eq(t, "unscored RetireJS severity", fs[1].Severity, "medium")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN a report the tool really wrote
			data, err := os.ReadFile(filepath.Join("testdata", "real", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			// WHEN it is parsed
			rep, err := reports.Parse(tt.tool, data)
			// THEN the fields the tool wrote are where the finding needs them
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, rep.Findings)
		})
	}
}
