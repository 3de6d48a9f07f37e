package asff_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/securestacks/securestacks/internal/asff"
	"github.com/securestacks/securestacks/internal/reports"
)

var (
	scannedAt = time.Date(2025, 6, 3, 9, 0, 0, 0, time.UTC)
	now       = time.Date(2025, 6, 3, 9, 30, 0, 0, time.UTC)
)

func govScan() asff.Scan {
	return asff.Scan{
		Region: "us-gov-west-1", AccountID: "123456789012",
		Repository: "sample-app", Branch: "main", Commit: "9f1c2ab", BuildID: "sample-app-sca:7c1d",
		SourceURL: "https://reports-bucket.s3.us-gov-west-1.amazonaws.com/reports/trivy/sample-app-sca%3A7c1d-2025-06-03T09%3A00%3A00Z.json",
		ScannedAt: scannedAt, Now: now,
	}
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "reports", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestConvertEveryFormat(t *testing.T) {
	tests := []struct {
		tool, file string
		count      int
		labels     map[asff.Label]int
		image      string // Resources[1].Type expected for image scans
	}{
		{"zap", "zap.json", 4, map[asff.Label]int{asff.High: 1, asff.Medium: 1, asff.Low: 1, asff.Informational: 1}, ""},
		{"dependency-check", "dependency-check.json", 3, map[asff.Label]int{asff.Critical: 2, asff.Medium: 1}, ""},
		{"trivy", "trivy-fs.json", 6, map[asff.Label]int{asff.Critical: 1, asff.High: 3, asff.Medium: 1, asff.Informational: 1}, ""},
		{"trivy", "trivy-image.json", 1, map[asff.Label]int{asff.High: 1}, "Container"},
		{"grype", "grype.json", 2, map[asff.Label]int{asff.High: 1, asff.Informational: 1}, ""},
		{"grype", "grype-image.json", 1, map[asff.Label]int{asff.Critical: 1}, "Container"},
		{"gitleaks", "gitleaks.json", 2, map[asff.Label]int{asff.High: 2}, ""},
		{"semgrep", "semgrep.json", 2, map[asff.Label]int{asff.High: 1, asff.Medium: 1}, ""},
		{"sonarqube", "sonarqube.json", 3, map[asff.Label]int{asff.Critical: 1, asff.High: 1, asff.Medium: 1}, ""},
		{"phpstan", "phpstan.json", 4, map[asff.Label]int{asff.Medium: 3, asff.Informational: 1}, ""},
		{"snyk", "snyk-oss.json", 2, map[asff.Label]int{asff.High: 1, asff.Medium: 1}, ""},
		{"snyk", "snyk-container.json", 2, map[asff.Label]int{asff.High: 1, asff.Medium: 1}, "Container"},
		{"anchore", "anchore.json", 3, map[asff.Label]int{asff.Critical: 1, asff.High: 1, asff.Informational: 1}, "Container"},
		{"ecr", "ecr-basic.json", 3, map[asff.Label]int{asff.High: 1, asff.Informational: 2}, "AwsEcrContainerImage"},
		{"ecr", "ecr-enhanced.json", 2, map[asff.Label]int{asff.High: 1, asff.Informational: 1}, "AwsEcrContainerImage"},
		{"sarif", "sarif-codeql.json", 2, map[asff.Label]int{asff.High: 2}, ""},
		{"sarif", "sarif-zap.json", 1, map[asff.Label]int{asff.Medium: 1}, ""},
		{"zap", "zap-empty.json", 0, map[asff.Label]int{}, ""},
	}
	typeRe := regexp.MustCompile(`^Software and Configuration Checks/`)
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			// GIVEN a real report and a scan of a GovCloud account
			scan := govScan()

			// WHEN it is converted
			_, fs, err := asff.Convert(tt.tool, fixture(t, tt.file), scan)

			// THEN every finding is valid ASFF for that partition, region and account
			if err != nil {
				t.Fatal(err)
			}
			if len(fs) != tt.count {
				t.Fatalf("%d findings, want %d", len(fs), tt.count)
			}
			got := map[asff.Label]int{}
			for _, f := range fs {
				got[f.Severity.Label]++
				checkValid(t, f, scan)
				if f.GeneratorID != asff.GeneratorID(tt.tool, f.ProductName, "sample-app") {
					t.Errorf("GeneratorId = %q", f.GeneratorID)
				}
				for _, ty := range f.Types {
					if !typeRe.MatchString(ty) {
						t.Errorf("type %q outside the Software and Configuration Checks namespace", ty)
					}
				}
				if tt.image != "" && (len(f.Resources) != 2 || f.Resources[1].Type != tt.image) {
					t.Errorf("resources = %+v, want the repository and a %s", f.Resources, tt.image)
				}
				if tt.image == "" && len(f.Resources) != 1 {
					t.Errorf("resources = %+v, want only the repository", f.Resources)
				}
			}
			if !reflect.DeepEqual(got, tt.labels) && (len(got) > 0 || len(tt.labels) > 0) {
				t.Errorf("labels = %v, want %v", got, tt.labels)
			}
		})
	}
}

// checkValid asserts the ASFF rules every finding must satisfy.
func checkValid(t *testing.T, f asff.Finding, scan asff.Scan) {
	t.Helper()
	if f.SchemaVersion != "2018-10-08" {
		t.Errorf("SchemaVersion = %q", f.SchemaVersion)
	}
	if want := "arn:aws-us-gov:securityhub:us-gov-west-1:123456789012:product/123456789012/default"; f.ProductArn != want {
		t.Errorf("ProductArn = %q, want %q", f.ProductArn, want)
	}
	if f.AwsAccountID != scan.AccountID || f.RecordState != "ACTIVE" {
		t.Errorf("account %q record state %q", f.AwsAccountID, f.RecordState)
	}
	if n := utf8.RuneCountInString(f.Title); n == 0 || n > 256 {
		t.Errorf("title has %d characters", n)
	}
	if n := utf8.RuneCountInString(f.Description); n == 0 || n > 1024 {
		t.Errorf("description has %d characters", n)
	}
	if f.CreatedAt != "2025-06-03T09:00:00.000Z" || f.UpdatedAt != "2025-06-03T09:30:00.000Z" {
		t.Errorf("CreatedAt %q UpdatedAt %q", f.CreatedAt, f.UpdatedAt)
	}
	if f.SourceURL != scan.SourceURL {
		t.Errorf("SourceUrl = %q", f.SourceURL)
	}
	if want := map[asff.Label]int{asff.Informational: 0, asff.Low: 1, asff.Medium: 40, asff.High: 70, asff.Critical: 90}[f.Severity.Label]; f.Severity.Normalized != want {
		t.Errorf("Normalized %d for %s", f.Severity.Normalized, f.Severity.Label)
	}
	r := f.Resources[0]
	if r.Type != "Other" || r.ID != "sample-app" || r.Partition != "aws-us-gov" || r.Region != "us-gov-west-1" {
		t.Errorf("repository resource = %+v", r)
	}
	o := r.Details.Other
	if o["repository"] != "sample-app" || o["branch"] != "main" || o["commit"] != "9f1c2ab" || o["buildId"] != "sample-app-sca:7c1d" {
		t.Errorf("repository details = %v", o)
	}
	if n := asff.Size(&f); n > asff.MaxFindingBytes {
		t.Errorf("finding is %d bytes", n)
	}
	b, _ := json.Marshal(f)
	if strings.Contains(string(b), "arn:aws:") {
		t.Errorf("commercial-partition ARN in a GovCloud finding: %s", b)
	}
}

func TestJSONUsesASFFFieldNames(t *testing.T) {
	// GIVEN a converted package finding
	_, fs, err := asff.Convert("trivy", fixture(t, "trivy-image.json"), govScan())
	if err != nil {
		t.Fatal(err)
	}
	// WHEN it is serialised
	b, _ := json.Marshal(fs[0])
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	// THEN the keys are ASFF's, spelled as BatchImportFindings expects
	for _, k := range []string{"SchemaVersion", "Id", "ProductArn", "GeneratorId", "AwsAccountId", "Types", "CreatedAt", "UpdatedAt", "Severity", "Title", "Description", "Resources", "SourceUrl", "RecordState", "Vulnerabilities", "ProductFields", "Remediation", "FindingProviderFields"} {
		if _, ok := m[k]; !ok {
			t.Errorf("missing key %s in %s", k, b)
		}
	}
	v := m["Vulnerabilities"].([]any)[0].(map[string]any)
	pkg := v["VulnerablePackages"].([]any)[0].(map[string]any)
	if v["Id"] != "CVE-2024-2961" || pkg["Name"] != "libc6" || pkg["FixedInVersion"] != "2.36-9+deb12u7" || v["FixAvailable"] != "YES" {
		t.Errorf("vulnerability = %v", v)
	}
	if cvss := v["Cvss"].([]any)[0].(map[string]any); cvss["BaseScore"] != 8.1 {
		t.Errorf("cvss = %v", cvss)
	}
	if pf := m["FindingProviderFields"].(map[string]any); pf["Severity"].(map[string]any)["Label"] != "HIGH" || pf["Types"].([]any)[0] != "Software and Configuration Checks/Vulnerabilities/CVE" {
		t.Errorf("FindingProviderFields = %v", pf)
	}
	img := m["Resources"].([]any)[1].(map[string]any)
	if img["Id"] != "123456789012.dkr.ecr.us-gov-west-1.amazonaws.com/sample-app:4f2a9c1" {
		t.Errorf("image resource = %v", img)
	}
}

func TestECRImageResourceIsPartitioned(t *testing.T) {
	// GIVEN an ECR scan converted for GovCloud
	_, fs, err := asff.Convert("ecr", fixture(t, "ecr-basic.json"), govScan())
	if err != nil {
		t.Fatal(err)
	}
	// WHEN the image resource is read
	r := fs[0].Resources[1]
	// THEN it is the image's ARN in the scan's partition, with its ECR details
	want := "arn:aws-us-gov:ecr:us-gov-west-1:123456789012:repository/sample-app/sha256:1c9b6a5e3d2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b"
	if r.ID != want || r.Details.AwsEcrContainerImage.RepositoryName != "sample-app" || r.Details.AwsEcrContainerImage.ImageTags[0] != "4f2a9c1" {
		t.Errorf("resource = %+v", r)
	}
}

func TestScanValidation(t *testing.T) {
	tests := []struct {
		name string
		scan asff.Scan
		want string
	}{
		{"no account", asff.Scan{Region: "eu-west-1"}, `account: expected a 12-digit AWS account id, got ""`},
		{"short account", asff.Scan{Region: "eu-west-1", AccountID: "12345"}, `account: expected a 12-digit AWS account id, got "12345"`},
		{"bad region", asff.Scan{Region: "Europe", AccountID: "123456789012"}, `region: expected an AWS region such as eu-west-1, got "Europe"`},
		{"bad partition", asff.Scan{Region: "eu-west-1", AccountID: "123456789012", Partition: "AWS"}, `partition: expected aws, aws-cn or aws-us-gov, got "AWS"`},
	}
	rep := &reports.Report{Tool: "trivy"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN scan metadata with one bad field
			// WHEN findings are built
			_, err := asff.Build(rep, tt.scan)
			// THEN the error names the field and what was expected
			if err == nil || err.Error() != tt.want {
				t.Errorf("err = %v, want %s", err, tt.want)
			}
		})
	}
}

func TestPartitionOfRegion(t *testing.T) {
	tests := map[string]string{
		"eu-west-1": "aws", "us-gov-west-1": "aws-us-gov", "cn-north-1": "aws-cn", "us-iso-east-1": "aws-iso",
		"us-isob-east-1": "aws-iso-b",
	}
	for region, want := range tests {
		// GIVEN a region WHEN no partition is set THEN the ProductArn uses the region's partition
		_, fs, err := asff.Convert("gitleaks", fixture(t, "gitleaks.json"), asff.Scan{Region: region, AccountID: "123456789012"})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(fs[0].ProductArn, "arn:"+want+":securityhub:"+region+":") {
			t.Errorf("%s: ProductArn = %q", region, fs[0].ProductArn)
		}
	}
}

func TestEmptyReportGivesEmptyNonNilSlice(t *testing.T) {
	// GIVEN a well-formed report with no findings
	// WHEN it is converted
	_, fs, err := asff.Convert("gitleaks", []byte("[]"), govScan())
	// THEN the result is an empty array, which the CLI prints as []
	b, _ := json.Marshal(fs)
	if err != nil || string(b) != "[]" {
		t.Errorf("got %s, %v", b, err)
	}
}
