package asff_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/securestacks/securestacks/internal/asff"
)

// The goals: converting a 10,000-finding Trivy report and a 10,000-alert ZAP report
// each takes at most 1 s and 100 MB; importing 10,000 findings takes exactly 100
// BatchImportFindings calls. Run with:
//
//	go test ./internal/asff/ -run '^$' -bench . -benchmem

const benchFindings = 10000

// trivyReport generates a SchemaVersion 2 report with n vulnerabilities spread over 100 lockfiles,
// with descriptions and references of realistic length.
func trivyReport(n int) []byte {
	type vuln map[string]any
	var results []map[string]any
	desc := strings.Repeat("A flaw was found in the package that allows a remote attacker to cause a denial of service. ", 6)
	for t := 0; t < 100; t++ {
		var vs []vuln
		for i := t; i < n; i += 100 {
			vs = append(vs, vuln{
				"VulnerabilityID": fmt.Sprintf("CVE-2025-%05d", i), "PkgID": fmt.Sprintf("pkg%d@1.%d.0", i%500, i%7),
				"PkgName": fmt.Sprintf("pkg%d", i%500), "InstalledVersion": fmt.Sprintf("1.%d.0", i%7), "FixedVersion": fmt.Sprintf("1.%d.1", i%7),
				"Status": "fixed", "SeveritySource": "ghsa", "PrimaryURL": fmt.Sprintf("https://avd.aquasec.com/nvd/cve-2025-%05d", i),
				"PkgIdentifier": map[string]string{"PURL": fmt.Sprintf("pkg:npm/pkg%d@1.%d.0", i%500, i%7), "UID": "0123456789abcdef"},
				"Title":         "pkg: denial of service via crafted input", "Description": desc,
				"Severity": []string{"CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"}[i%5], "CweIDs": []string{"CWE-400"},
				"CVSS": map[string]any{"ghsa": map[string]any{"V3Vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", "V3Score": 7.5}},
				"References": []string{
					fmt.Sprintf("https://github.com/advisories/GHSA-%04d-aaaa-bbbb", i%10000),
					fmt.Sprintf("https://nvd.nist.gov/vuln/detail/CVE-2025-%05d", i),
					"https://security.example.org/advisories/2025/",
				},
				"PublishedDate": "2025-01-15T10:15:00Z", "LastModifiedDate": "2025-02-01T10:15:00Z",
			})
		}
		results = append(results, map[string]any{"Target": fmt.Sprintf("services/svc%02d/package-lock.json", t), "Class": "lang-pkgs", "Type": "npm", "Vulnerabilities": vs})
	}
	b, _ := json.Marshal(map[string]any{"SchemaVersion": 2, "CreatedAt": "2025-06-03T09:05:11Z", "ArtifactName": ".", "ArtifactType": "filesystem", "Results": results})
	return b
}

// zapReport generates a traditional JSON report with n alerts, each with three instances.
func zapReport(n int) []byte {
	var alerts []map[string]any
	desc := "<p>" + strings.Repeat("The response does not include a header that protects against this class of attack. ", 4) + "</p>"
	for i := 0; i < n; i++ {
		var inst []map[string]string
		for j := 0; j < 3; j++ {
			inst = append(inst, map[string]string{"id": fmt.Sprint(i*3 + j), "uri": fmt.Sprintf("https://staging.example.com/page/%d/%d", i, j), "nodeName": fmt.Sprintf("https://staging.example.com/page/%d/%d", i, j), "method": "GET", "param": "", "attack": "", "evidence": "", "otherinfo": ""})
		}
		alerts = append(alerts, map[string]any{
			"pluginid": fmt.Sprint(10000 + i), "alertRef": fmt.Sprint(10000 + i), "alert": fmt.Sprintf("Alert %d", i), "name": fmt.Sprintf("Alert %d", i),
			"riskcode": fmt.Sprint(i % 4), "confidence": "2", "riskdesc": "Medium (Medium)", "desc": desc, "instances": inst,
			"count": "3", "systemic": false, "solution": "<p>Configure the web server to set the header.</p>", "otherinfo": "",
			"reference": "<p>https://owasp.org/www-project-secure-headers/</p>", "cweid": "693", "wascid": "15", "sourceid": "1",
		})
	}
	b, _ := json.Marshal(map[string]any{"@programName": "ZAP", "@version": "2.16.1", "@generated": "Tue, 3 Jun 2025 09:14:22", "created": "2025-06-03T09:14:22Z",
		"site": []map[string]any{{"@name": "https://staging.example.com", "@host": "staging.example.com", "@port": "443", "@ssl": "true", "alerts": alerts}}})
	return b
}

func benchmarkConvert(b *testing.B, tool string, data []byte) {
	scan := govScan()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		_, fs, err := asff.Convert(tool, data, scan)
		if err != nil || len(fs) != benchFindings {
			b.Fatalf("%d findings, %v", len(fs), err)
		}
	}
}

// BenchmarkConvertTrivy10000 converts a 10,000-vulnerability Trivy report (about 16 MB).
func BenchmarkConvertTrivy10000(b *testing.B) {
	benchmarkConvert(b, "trivy", trivyReport(benchFindings))
}

// BenchmarkConvertZAP10000 converts a 10,000-alert ZAP report (30,000 instances).
func BenchmarkConvertZAP10000(b *testing.B) {
	benchmarkConvert(b, "zap", zapReport(benchFindings))
}

// BenchmarkImport10000 imports 10,000 findings into a fake Security Hub and reports the calls
// made per import: 100, where the seed made 10,000.
func BenchmarkImport10000(b *testing.B) {
	_, fs, err := asff.Convert("trivy", trivyReport(benchFindings), govScan())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	var rec recorder
	for b.Loop() {
		rec.calls = rec.calls[:0]
		if _, err := (asff.Importer{API: rec.api()}).Import(context.Background(), fs); err != nil {
			b.Fatal(err)
		}
		if len(rec.calls) != 100 {
			b.Fatalf("%d calls", len(rec.calls))
		}
	}
	b.ReportMetric(float64(len(rec.calls)), "calls/op")
}

func TestGeneratedBenchmarkReportsAreReadable(t *testing.T) {
	// GIVEN the generated benchmark reports
	for tool, data := range map[string][]byte{"trivy": trivyReport(200), "zap": zapReport(200)} {
		// WHEN they are converted
		_, fs, err := asff.Convert(tool, data, govScan())
		// THEN every generated finding comes out, with a distinct id
		if err != nil || len(fs) != 200 {
			t.Fatalf("%s: %d findings, %v", tool, len(fs), err)
		}
		var buf bytes.Buffer
		if err := asff.WriteJSON(&buf, fs); err != nil {
			t.Fatal(err)
		}
	}
}
