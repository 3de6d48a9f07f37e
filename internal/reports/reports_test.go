package reports_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/securestacks/securestacks/internal/reports"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// key is what every parser test compares for every finding.
type key struct{ RuleID, Severity, Location string }

func keys(fs []reports.Finding) []key {
	out := make([]key, len(fs))
	for i, f := range fs {
		out[i] = key{f.RuleID, f.Severity, f.Location}
	}
	return out
}

func TestParsers(t *testing.T) {
	tests := []struct {
		tool, file string
		scanners   []string
		want       []key
		// check inspects the fields each format fills beyond the key.
		check func(t *testing.T, fs []reports.Finding)
	}{
		{
			tool: "zap", file: "zap.json", scanners: []string{"OWASP ZAP"},
			want: []key{
				{"10038-1", "2", "https://staging.example.com 10038-1"},
				{"10202", "1", "https://staging.example.com 10202"},
				{"10037", "3", "https://staging.example.com 10037"},
				{"10049", "0", "https://staging.example.com 10049"},
			},
			check: func(t *testing.T, fs []reports.Finding) {
				f := fs[0]
				eq(t, "category", f.Category, reports.Web)
				eq(t, "title", f.Title, "Content Security Policy (CSP) Header Not Set")
				eq(t, "url", f.URL, "https://staging.example.com/")
				eq(t, "occurrences", f.Occurrences, 2)
				eq(t, "cwes", f.CWEs, []string{"CWE-693"})
				eq(t, "references", f.References, []string{"https://developer.mozilla.org/en-US/docs/Web/HTTP/Guides/CSP", "https://cheatsheetseries.owasp.org/cheatsheets/Content_Security_Policy_Cheat_Sheet.html"})
				prefix(t, "description (HTML removed)", f.Description, "Content Security Policy (CSP) is an added layer")
				prefix(t, "remediation", f.Remediation, "Ensure that your web server")
				eq(t, "unescaped title", fs[2].Title, `Server Leaks Information via "X-Powered-By" HTTP Response Header Field(s)`)
				contains(t, "first instance with parameter", fs[1].Description, "POST https://staging.example.com/login (parameter username)")
				eq(t, "no instances still one occurrence", fs[3].Occurrences, 1)
			},
		},
		{tool: "zap", file: "zap-empty.json", scanners: []string{"OWASP ZAP"}},
		{
			tool: "dependency-check", file: "dependency-check.json", scanners: []string{"OWASP Dependency-Check"},
			want: []key{
				{"CVE-2021-44228", "CRITICAL", "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"},
				{"CVE-2021-45046", "CRITICAL", "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"},
				{"GHSA-vh95-rmgr-6w4m", "moderate", "pkg:npm/minimist@0.0.8"},
			},
			check: func(t *testing.T, fs []reports.Finding) {
				f := fs[0]
				eq(t, "package", f.Package, "org.apache.logging.log4j/log4j-core")
				eq(t, "version", f.InstalledVersion, "2.14.1")
				eq(t, "file relative to the source directory", f.File, "lib/log4j-core-2.14.1.jar")
				eq(t, "score from cvssv3", f.Score, 10.0)
				eq(t, "cvss version", f.CVSSVersion, "3.1")
				eq(t, "cwes", f.CWEs, []string{"CWE-917", "CWE-20", "CWE-400", "CWE-502"})
				eq(t, "fixed version from the matched CPE range", f.FixedVersion, "2.15.0")
				eq(t, "references", len(f.References), 2)
				eq(t, "title", f.Title, "CVE-2021-44228 in org.apache.logging.log4j/log4j-core@2.14.1")
				eq(t, "unscored advisory has no score", fs[2].Score, 0.0)
			},
		},
		{
			tool: "trivy", file: "trivy-fs.json", scanners: []string{"Trivy"},
			want: []key{
				{"CVE-2021-23337", "HIGH", "package-lock.json lodash@4.17.20"},
				{"CVE-2020-28500", "MEDIUM", "package-lock.json lodash@4.17.20"},
				{"CVE-2023-30861", "HIGH", "requirements.txt flask@2.2.2"},
				{"CVE-2025-99999", "UNKNOWN", "requirements.txt legacylib@0.1.0"},
				{"AVD-DS-0002", "HIGH", "Dockerfile"},
				{"aws-access-key-id", "CRITICAL", "config/settings.py:12"},
			},
			check: func(t *testing.T, fs []reports.Finding) {
				f := fs[0]
				eq(t, "category", f.Category, reports.Package)
				eq(t, "title", f.Title, "CVE-2021-23337 in lodash@4.17.20: nodejs-lodash: command injection via template")
				eq(t, "fixed", f.FixedVersion, "4.17.21")
				eq(t, "purl", f.PURL, "pkg:npm/lodash@4.17.20")
				eq(t, "score of the severity source", f.Score, 7.2)
				eq(t, "vector", f.CVSSVector, "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H")
				eq(t, "package manager", f.PackageManager, "npm")
				eq(t, "first reference is the primary URL", f.References[0], "https://avd.aquasec.com/nvd/cve-2021-23337")
				eq(t, "cwes", f.CWEs, []string{"CWE-94", "CWE-77"})
				eq(t, "misconfiguration category", fs[4].Category, reports.Config)
				eq(t, "misconfiguration remediation", fs[4].Remediation, "Add 'USER <non root user name>' line to the Dockerfile")
				eq(t, "secret category", fs[5].Category, reports.Secret)
				if strings.Contains(fs[5].Description+fs[5].Title, "AWS_ACCESS_KEY_ID =") {
					t.Errorf("the matched secret line leaked into the finding: %+v", fs[5])
				}
				eq(t, "no image on a filesystem scan", f.Image == nil, true)
			},
		},
		{
			tool: "trivy", file: "trivy-image.json", scanners: []string{"Trivy"},
			want: []key{{"CVE-2024-2961", "HIGH", "os-pkgs:debian libc6@2.36-9+deb12u4"}},
			check: func(t *testing.T, fs []reports.Finding) {
				im := fs[0].Image
				if im == nil {
					t.Fatal("image scan finding without Image")
				}
				eq(t, "image name", im.Name, "123456789012.dkr.ecr.us-gov-west-1.amazonaws.com/sample-app:4f2a9c1")
				eq(t, "image digest", im.Digest, "sha256:1c9b6a5e3d2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b")
				eq(t, "nvd score", fs[0].Score, 8.1)
				eq(t, "an OS package has no file", fs[0].File, "")
			},
		},
		{tool: "trivy", file: "trivy-clean.json", scanners: []string{"Trivy"}},
		{
			tool: "grype", file: "grype.json", scanners: []string{"Grype"},
			want: []key{
				{"GHSA-35jh-r3h4-6jhm", "High", "lodash@4.17.20 package-lock.json"},
				{"GHSA-m2qf-hxjv-5gpq", "Negligible", "flask@2.2.2 requirements.txt"},
			},
			check: func(t *testing.T, fs []reports.Finding) {
				f := fs[0]
				eq(t, "score", f.Score, 7.2)
				eq(t, "fixed", f.FixedVersion, "4.17.21")
				eq(t, "package manager", f.PackageManager, "npm")
				eq(t, "target", f.Target, ".")
				eq(t, "both fixes listed", fs[1].FixedVersion, "2.2.5, 2.3.2")
				eq(t, "remediation names the first fix", fs[1].Remediation, "Upgrade flask to 2.2.5 or later.")
			},
		},
		{
			tool: "grype", file: "grype-image.json", scanners: []string{"Grype"},
			want: []key{{"CVE-2024-2961", "Critical", "libc6@2.36-9+deb12u4 /usr/share/doc/libc6/copyright"}},
			check: func(t *testing.T, fs []reports.Finding) {
				f := fs[0]
				if f.Image == nil || f.Image.Digest != "sha256:1c9b6a5e3d2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b" {
					t.Errorf("image = %+v", f.Image)
				}
				prefix(t, "description from the related NVD record", f.Description, "The iconv() function")
			},
		},
		{
			tool: "gitleaks", file: "gitleaks.json", scanners: []string{"gitleaks"},
			want: []key{
				{"aws-access-token", "secret", "config/settings.py:12@9f1c2ab3d4e5f60718293a4b5c6d7e8f90a1b2c3"},
				{"generic-api-key", "secret", "scripts/deploy.sh:4"},
			},
			check: func(t *testing.T, fs []reports.Finding) {
				for _, f := range fs {
					all := f.Title + f.Description + f.Location + f.Remediation + strings.Join(f.References, " ")
					if strings.Contains(all, "AKIAIOSFODNN7EXAMPLE") {
						t.Errorf("secret leaked into the finding: %+v", f)
					}
				}
				eq(t, "category", fs[0].Category, reports.Secret)
				contains(t, "commit and author", fs[0].Description, "Introduced in commit 9f1c2ab3d4e5f60718293a4b5c6d7e8f90a1b2c3 by Jane Developer on 2025-05-30T14:02:11Z.")
				eq(t, "link", fs[0].References, []string{"https://git-codecommit.us-east-1.amazonaws.com/v1/repos/sample-app/blob/9f1c2ab3d4e5f60718293a4b5c6d7e8f90a1b2c3/config/settings.py#L12"})
			},
		},
		{tool: "gitleaks", file: "gitleaks-clean.json", scanners: []string{"gitleaks"}},
		{
			tool: "semgrep", file: "semgrep.json", scanners: []string{"Semgrep"},
			want: []key{
				{"python.lang.security.audit.formatted-sql-query.formatted-sql-query", "WARNING", "app/db.py:42"},
				{"python.flask.security.audit.debug-enabled.debug-enabled", "ERROR", "app/main.py:88"},
			},
			check: func(t *testing.T, fs []reports.Finding) {
				eq(t, "title", fs[0].Title, "formatted-sql-query in app/db.py:42")
				eq(t, "cwe from a list", fs[0].CWEs, []string{"CWE-89"})
				eq(t, "cwe from a string", fs[1].CWEs, []string{"CWE-489"})
				eq(t, "rule source first", fs[0].References[0], "https://semgrep.dev/r/python.lang.security.audit.formatted-sql-query.formatted-sql-query")
				eq(t, "lines", [2]int{fs[0].StartLine, fs[0].EndLine}, [2]int{42, 42})
			},
		},
		{
			tool: "sonarqube", file: "sonarqube.json", scanners: []string{"SonarQube"},
			want: []key{
				{"php:S2077", "impact:HIGH", "AZcT1uQm5nXg0vK3aB7d"},
				{"php:S1172", "impact:MEDIUM", "AZcT1uQm5nXg0vK3aB7e"},
				{"php:S2068", "BLOCKER", "AZcT1uQm5nXg0vK3aB80"},
			},
			check: func(t *testing.T, fs []reports.Finding) {
				eq(t, "file from components", fs[0].File, "src/Repository/UserRepository.php")
				eq(t, "file from the component key", fs[2].File, "config/database.php")
				eq(t, "line", fs[0].StartLine, 31)
				eq(t, "project", fs[0].Target, "sample-app")
				contains(t, "type", fs[0].Description, "SECURITY_HOTSPOT")
			},
		},
		{
			tool: "phpstan", file: "phpstan.json", scanners: []string{"PHPStan"},
			want: []key{
				{"method.notFound", "error", `src/Controller/HomeController.php:27 Call to an undefined method App\Service\Mailer::sendNow().`},
				{"argument.type", "error", `src/Controller/HomeController.php:33 Parameter #1 $id of method App\Repository\UserRepository::find() expects int, string given.`},
				{"phpstan", "error", "src/Legacy/Helper.php:14 Variable $result might not be defined."},
				{"phpstan.general", "general", "general Ignored error pattern #^Access to an undefined property# was not matched in reported errors."},
			},
			check: func(t *testing.T, fs []reports.Finding) {
				eq(t, "tip as remediation", fs[1].Remediation, "Cast the request attribute to int before calling find().")
				eq(t, "file", fs[0].File, "src/Controller/HomeController.php")
			},
		},
		{tool: "phpstan", file: "phpstan-clean.json", scanners: []string{"PHPStan"}},
		{
			tool: "snyk", file: "snyk-oss.json", scanners: []string{"Snyk"},
			want: []key{
				{"SNYK-JS-LODASH-1040724", "high", "package-lock.json lodash@4.17.20"},
				{"SNYK-JS-MINIMIST-559764", "medium", "package-lock.json minimist@0.0.8"},
			},
			check: func(t *testing.T, fs []reports.Finding) {
				eq(t, "two dependency paths folded", fs[0].Occurrences, 2)
				eq(t, "title names the CVE", fs[0].Title, "CVE-2021-23337 (Command Injection) in lodash@4.17.20")
				eq(t, "score", fs[0].Score, 7.2)
				eq(t, "cvss version from the vector", fs[0].CVSSVersion, "3.1")
				eq(t, "cwes", fs[0].CWEs, []string{"CWE-78"})
				eq(t, "fixed", fs[1].FixedVersion, "0.2.1, 1.2.3")
				contains(t, "path", fs[1].Description, "sample-app@1.0.0 > mkdirp@0.5.1 > minimist@0.0.8")
			},
		},
		{
			tool: "snyk", file: "snyk-container.json", scanners: []string{"Snyk"},
			want: []key{
				{"SNYK-DEBIAN12-GLIBC-6617113", "high", "Dockerfile glibc/libc6@2.36-9+deb12u4"},
				{"SNYK-PYTHON-FLASK-5490129", "medium", "/app/requirements.txt flask@2.2.2"},
			},
			check: func(t *testing.T, fs []reports.Finding) {
				for _, f := range fs {
					if f.Image == nil || f.Image.Name != "123456789012.dkr.ecr.eu-west-1.amazonaws.com/sample-app:4f2a9c1" {
						t.Errorf("%s: image = %+v", f.RuleID, f.Image)
					}
				}
				eq(t, "nearest fix", fs[0].FixedVersion, "2.36-9+deb12u7")
			},
		},
		{tool: "snyk", file: "snyk-all-projects.json", scanners: []string{"Snyk"},
			want: []key{
				{"SNYK-JS-LODASH-1040724", "high", "package-lock.json lodash@4.17.20"},
				{"SNYK-PYTHON-FLASK-5490129", "medium", "requirements.txt flask@2.2.2"},
			},
		},
		{
			tool: "anchore", file: "anchore.json", scanners: []string{"Anchore"},
			want: []key{
				{"CVE-2024-2961", "High", "libc6-2.36-9+deb12u4 pkgdb"},
				{"CVE-2011-4116", "Negligible", "perl-base-5.36.0-7+deb12u1 pkgdb"},
				{"GHSA-m2qf-hxjv-5gpq", "Critical", "flask-2.2.2 /usr/local/lib/python3.11/site-packages/Flask-2.2.2.dist-info/METADATA"},
			},
			check: func(t *testing.T, fs []reports.Finding) {
				eq(t, "fix", fs[0].FixedVersion, "2.36-9+deb12u7")
				eq(t, "cvss v3 score, v2 -1 ignored", fs[0].Score, 8.1)
				eq(t, "no fix 'None'", fs[1].FixedVersion, "")
				contains(t, "will not fix", fs[1].Remediation, "will not fix")
				eq(t, "digest", fs[0].Image.Digest, "sha256:1c9b6a5e3d2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b")
			},
		},
		{
			tool: "ecr", file: "ecr-basic.json", scanners: []string{"Amazon ECR"},
			want: []key{
				{"CVE-2024-2961", "HIGH", "sample-app glibc@2.36-9+deb12u4"},
				{"CVE-2023-4039", "INFORMATIONAL", "sample-app gcc-12@12.2.0-14"},
				{"CVE-2024-28182", "UNDEFINED", "sample-app nghttp2@1.52.0-1+deb12u1"},
			},
			check: func(t *testing.T, fs []reports.Finding) {
				im := fs[0].Image
				eq(t, "repository", im.Repository, "sample-app")
				eq(t, "registry", im.RegistryID, "123456789012")
				eq(t, "tags", im.Tags, []string{"4f2a9c1"})
				eq(t, "cvss3 attribute", fs[0].Score, 8.1)
				eq(t, "cvss3 vector", fs[0].CVSSVector, "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H")
			},
		},
		{
			tool: "ecr", file: "ecr-enhanced.json", scanners: []string{"Amazon ECR"},
			want: []key{
				{"CVE-2024-2961", "HIGH", "sample-app libc6@2.36-9+deb12u4"},
				{"CVE-2023-24329", "UNTRIAGED", "sample-app setuptools@65.5.1 usr/local/lib/python3.11/site-packages/setuptools-65.5.1.dist-info/METADATA"},
			},
			check: func(t *testing.T, fs []reports.Finding) {
				eq(t, "title", fs[0].Title, "CVE-2024-2961 - libc6")
				eq(t, "fixed", fs[0].FixedVersion, "0:2.36-9+deb12u7")
				eq(t, "score", fs[0].Score, 8.1)
				eq(t, "scanner", fs[0].Scanner, "Amazon Inspector (ECR enhanced scanning)")
				eq(t, "'None Provided' is no remediation", fs[1].Remediation, "")
			},
		},
		{
			tool: "sarif", file: "sarif-codeql.json", scanners: []string{"CodeQL"},
			want: []key{
				{"js/sql-injection", "error", "src/routes/users.js:27"},
				{"js/missing-rate-limiting", "warning", "src/routes/users.js:22"},
			},
			check: func(t *testing.T, fs []reports.Finding) {
				eq(t, "rule found in the extension", fs[0].Title, "js/sql-injection: Database query built from user-controlled sources in src/routes/users.js:27")
				eq(t, "security-severity", fs[0].Score, 8.8)
				eq(t, "cwes from tags", fs[0].CWEs, []string{"CWE-89", "CWE-90", "CWE-943"})
				eq(t, "category", fs[0].Category, reports.Code)
				prefix(t, "help as remediation", fs[0].Remediation, "Most database connector libraries")
			},
		},
		{
			tool: "sarif", file: "sarif-zap.json", scanners: []string{"ZAP"},
			want: []key{{"10038-1", "warning", "https://staging.example.com/login:1"}},
			check: func(t *testing.T, fs []reports.Finding) {
				eq(t, "web category", fs[0].Category, reports.Web)
				eq(t, "url", fs[0].URL, "https://staging.example.com/login")
				eq(t, "title from the rule name", fs[0].Title, "10038-1: Content Security Policy (CSP) Header Not Set")
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			// GIVEN a report the tool really writes
			data := fixture(t, tt.file)

			// WHEN it is parsed with the tool's parser
			rep, err := reports.Parse(tt.tool, data)

			// THEN every finding is read with its rule, raw severity and location
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if rep.Tool != tt.tool {
				t.Errorf("Tool = %q, want %q", rep.Tool, tt.tool)
			}
			eq(t, "scanners", rep.Scanners, tt.scanners)
			if got := keys(rep.Findings); !reflect.DeepEqual(got, tt.want) && (len(got) != 0 || len(tt.want) != 0) {
				t.Errorf("findings:\n got %q\nwant %q", got, tt.want)
			}
			for _, f := range rep.Findings {
				if f.Title == "" || f.Description == "" || f.Scanner == "" || f.Category == "" {
					t.Errorf("%s: empty title, description, scanner or category: %+v", f.RuleID, f)
				}
			}
			if tt.check != nil && len(rep.Findings) == len(tt.want) {
				tt.check(t, rep.Findings)
			}
		})
	}
}

func TestLookup(t *testing.T) {
	tests := []struct {
		name, want string
		ok         bool
	}{
		{"trivy", "trivy", true},
		{" Trivy ", "trivy", true},
		{"OWASP-Zap", "zap", true},
		{"OWASP-Dependency-Check", "dependency-check", true},
		{"SonarQube", "sonarqube", true},
		{"PHPStan", "phpstan", true},
		{"ECR", "ecr", true},
		{"nessus", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN a reportType as a buildspec may spell it
			// WHEN it is looked up
			got, ok := reports.Lookup(tt.name)
			// THEN it resolves to the tool id, or is rejected
			if got != tt.want || ok != tt.ok {
				t.Errorf("Lookup(%q) = %q, %v; want %q, %v", tt.name, got, ok, tt.want, tt.ok)
			}
		})
	}
	if n := len(reports.Tools()); n != 14 {
		t.Errorf("Tools() has %d tools, want the 12 of the issue, Opengrep and Falco", n)
	}
}

func TestParseUnknownTool(t *testing.T) {
	// GIVEN a tool id no parser has
	// WHEN a report is parsed with it
	_, err := reports.Parse("nessus", []byte(`{}`))
	// THEN the error names the tool and lists the known ones
	if err == nil || !strings.Contains(err.Error(), `unknown tool "nessus"`) || !strings.Contains(err.Error(), "trivy") {
		t.Errorf("err = %v", err)
	}
}

func TestMalformed(t *testing.T) {
	trivy := fixture(t, "trivy-fs.json")
	tests := []struct {
		name   string
		tool   string
		data   []byte
		offset int64 // -1 when the error has no offset
		field  string
		msg    string
	}{
		{"empty file", "trivy", nil, 0, "", "trivy: byte 0: empty report (0 bytes): expected a Trivy JSON report (an object with SchemaVersion 2)"},
		{"whitespace only", "zap", []byte(" \n\t"), 0, "", "zap: byte 0: empty report (3 bytes)"},
		{"truncated JSON", "trivy", trivy[:1000], 1000, "", "trivy: byte 1000: truncated JSON (the report ends after 1000 bytes)"},
		{"not JSON", "semgrep", []byte("Scan completed: 3 findings\n"), 1, "", "semgrep: byte 1: malformed JSON: invalid character 'S'"},
		{"another tool's JSON", "zap", trivy, -1, "site", "zap: field site: missing: expected a ZAP traditional JSON report"},
		{"trivy report given to grype", "grype", trivy, -1, "matches", "grype: field matches: missing"},
		{"grype report given to trivy", "trivy", fixture(t, "grype.json"), -1, "SchemaVersion", "trivy: field SchemaVersion: missing"},
		{"snyk report given to anchore", "anchore", fixture(t, "snyk-oss.json"), -1, "imageDigest", "anchore: field imageDigest: missing"},
		{"anchore report given to snyk", "snyk", fixture(t, "anchore.json"), -1, "ok", "snyk: field ok: missing"},
		{"semgrep report given to sarif", "sarif", fixture(t, "semgrep.json"), -1, "version", `sarif: field version: got "1.124.0": expected "2.1.0"`},
		{"sonarqube response given to semgrep", "semgrep", fixture(t, "sonarqube.json"), -1, "results", "semgrep: field results: missing"},
		{"object given to gitleaks", "gitleaks", fixture(t, "zap.json"), 1, "", "gitleaks: byte 1: the report is a JSON object: expected a gitleaks JSON report"},
		{"snyk array given to gitleaks", "gitleaks", fixture(t, "snyk-all-projects.json"), -1, "0.RuleID", "gitleaks: field 0.RuleID: missing"},
		{"wrong-type field", "trivy", []byte(`{"SchemaVersion":2,"Results":[{"Target":"go.mod","Vulnerabilities":[{"VulnerabilityID":"CVE-1","Severity":3}]}]}`), 107, "Results.0.Vulnerabilities.0.Severity", "trivy: byte 107: field Results.0.Vulnerabilities.0.Severity: expected a string, got number"},
		{"wrong-type nested field", "phpstan", []byte(`{"totals":{"errors":0,"file_errors":1},"files":{"a.php":{"errors":1,"messages":[{"message":"m","line":"12"}]}},"errors":[]}`), 106, "files.a.php.messages.0.line", "phpstan: byte 106: field files.a.php.messages.0.line: expected a whole number, got string"},
		{"wrong schema version", "trivy", []byte(`{"SchemaVersion":1,"Results":[]}`), -1, "SchemaVersion", "trivy: field SchemaVersion: got 1: expected 2"},
		{"wrong sarif version", "sarif", []byte(`{"version":"2.0.0","runs":[]}`), -1, "version", `sarif: field version: got "2.0.0": expected "2.1.0"`},
		{"snyk error document", "snyk", []byte(`{"ok":false,"error":"Could not detect supported target files in /app","path":"/app"}`), -1, "error", "snyk: field error: Snyk reported an error instead of results: Could not detect supported target files in /app"},
		{"ecr scan not finished", "ecr", fixture(t, "ecr-in-progress.json"), -1, "imageScanStatus.status", "ecr: field imageScanStatus.status: got IN_PROGRESS (The scan is in progress.): expected COMPLETE"},
		// The shape `semgrep scan --config <invalid rule> --json` writes (exit 7): no results, and
		// errors of level "error". Reading only results would pass an unscanned repository.
		{"semgrep rules that did not load", "semgrep", fixture(t, "semgrep-rules-not-loaded.json"), -1, "errors.0", "semgrep: field errors.0: the scan failed (code 4, InvalidRuleSchemaError): 'patterns-oops' is not valid"},
		{"semgrep registry ruleset that did not download", "semgrep", []byte(`{"version":"1.177.0","results":[],"errors":[{"code":2,"level":"error","type":"SemgrepError","message":"Failed to download configuration from https://semgrep.dev/c/p/default HTTP 503."}],"paths":{"scanned":[]}}`), -1, "errors.0", "semgrep: field errors.0: the scan failed (code 2, SemgrepError): Failed to download configuration"},
		{"zap alert without plugin id", "zap", []byte(`{"@version":"2.16.1","site":[{"@name":"https://x","alerts":[{"riskcode":"1"}]}]}`), -1, "site.0.alerts.0.pluginid", "zap: field site.0.alerts.0.pluginid: missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN input that is not a well-formed report of the tool
			// WHEN it is parsed
			rep, err := reports.Parse(tt.tool, tt.data)

			// THEN a one-line *Error names the tool and the offset or field, and nothing is returned
			if err == nil {
				t.Fatalf("no error; report %+v", rep)
			}
			var e *reports.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T %v is not a *reports.Error", err, err)
			}
			if e.Tool != tt.tool || e.Offset != tt.offset || e.Field != tt.field {
				t.Errorf("tool %q offset %d field %q; want %q %d %q (%v)", e.Tool, e.Offset, e.Field, tt.tool, tt.offset, tt.field, err)
			}
			if !strings.HasPrefix(err.Error(), tt.msg) {
				t.Errorf("message\n got %q\nwant prefix %q", err.Error(), tt.msg)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("message is not one line: %q", err.Error())
			}
		})
	}
}

func TestRelPath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/codebuild/output/src1234567890/src/lib/a.jar", "lib/a.jar"},
		{"file:///codebuild/output/src42/src/app/db.py", "app/db.py"},
		{"./app/db.py", "app/db.py"},
		{"app/db.py", "app/db.py"},
		{"/usr/lib/x.so", "/usr/lib/x.so"},
	}
	for _, tt := range tests {
		// GIVEN a path as a tool wrote it in CodeBuild
		// WHEN it is made relative
		// THEN the per-build prefix is gone, other absolute paths stay
		if got := reports.RelPath(tt.in); got != tt.want {
			t.Errorf("RelPath(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func eq[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}

func prefix(t *testing.T, what, got, want string) {
	t.Helper()
	if !strings.HasPrefix(got, want) {
		t.Errorf("%s = %q, want prefix %q", what, got, want)
	}
}

func contains(t *testing.T, what, got, want string) {
	t.Helper()
	if !strings.Contains(got, want) {
		t.Errorf("%s = %q, want it to contain %q", what, got, want)
	}
}

// sameFormat pairs the tools that write one format.
var sameFormat = map[string]string{reports.Semgrep: reports.Opengrep, reports.Opengrep: reports.Semgrep}

func TestEveryParserRejectsEveryOtherFormat(t *testing.T) {
	// fixtures maps each tool to the reports it really writes.
	fixtures := map[string][]string{
		"zap": {"zap.json", "zap-empty.json"}, "dependency-check": {"dependency-check.json"},
		"trivy": {"trivy-fs.json", "trivy-image.json", "trivy-clean.json"}, "grype": {"grype.json", "grype-image.json"},
		"gitleaks": {"gitleaks.json", "gitleaks-clean.json"}, "semgrep": {"semgrep.json"}, "opengrep": {"semgrep.json"}, "sonarqube": {"sonarqube.json"},
		"phpstan": {"phpstan.json", "phpstan-clean.json"}, "snyk": {"snyk-oss.json", "snyk-container.json", "snyk-all-projects.json"},
		"anchore": {"anchore.json"}, "ecr": {"ecr-basic.json", "ecr-enhanced.json"}, "sarif": {"sarif-codeql.json", "sarif-zap.json"},
		"falco": {"falco.jsonl"},
	}
	if len(fixtures) != len(reports.Tools()) {
		t.Fatalf("fixtures cover %d tools, want %d", len(fixtures), len(reports.Tools()))
	}
	for _, tool := range reports.Tools() {
		for other, files := range fixtures {
			// Opengrep writes Semgrep's format: each reads the other's reports.
			if other == tool || sameFormat[tool] == other {
				continue
			}
			for _, file := range files {
				t.Run(tool+"/"+file, func(t *testing.T) {
					// GIVEN another tool's real report
					// WHEN this tool's parser reads it
					_, err := reports.Parse(tool, fixture(t, file))
					// THEN it is rejected with a *reports.Error rather than read as "no findings"
					var e *reports.Error
					if !errors.As(err, &e) || e.Tool != tool {
						t.Errorf("err = %v, want a %s *reports.Error", err, tool)
					}
				})
			}
		}
	}
}
