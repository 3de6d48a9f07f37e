package asff_test

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/securestacks/securestacks/internal/asff"
	"github.com/securestacks/securestacks/internal/reports"
)

func TestSeverityTables(t *testing.T) {
	tests := []struct {
		tool, raw string
		score     float64
		want      asff.Label
		note      bool
	}{
		{"zap", "3", 0, asff.High, false},
		{"zap", "2", 0, asff.Medium, false},
		{"zap", "1", 0, asff.Low, false},
		{"zap", "0", 0, asff.Informational, false},
		{"zap", "Meduim", 0, asff.Informational, true}, // the seed's typo is reported, not silently dropped
		{"dependency-check", "CRITICAL", 0, asff.Critical, false},
		{"dependency-check", "moderate", 0, asff.Medium, false},
		{"dependency-check", "Unknown", 0, asff.Informational, true},
		{"trivy", "HIGH", 0, asff.High, false},
		{"trivy", "UNKNOWN", 0, asff.Informational, true},
		{"grype", "Negligible", 0, asff.Informational, false},
		{"grype", "Critical", 0, asff.Critical, false},
		{"gitleaks", "secret", 0, asff.High, false},
		{"semgrep", "ERROR", 0, asff.High, false},
		{"semgrep", "WARNING", 0, asff.Medium, false},
		{"semgrep", "INFO", 0, asff.Low, false},
		{"semgrep", "CRITICAL", 0, asff.Critical, false},
		{"sonarqube", "BLOCKER", 0, asff.Critical, false},
		{"sonarqube", "CRITICAL", 0, asff.High, false},
		{"sonarqube", "MAJOR", 0, asff.Medium, false},
		{"sonarqube", "MINOR", 0, asff.Low, false},
		{"sonarqube", "impact:HIGH", 0, asff.High, false},
		{"sonarqube", "impact:BLOCKER", 0, asff.Critical, false},
		{"phpstan", "error", 0, asff.Medium, false},
		{"phpstan", "general", 0, asff.Informational, false},
		{"snyk", "critical", 0, asff.Critical, false},
		{"snyk", "low", 0, asff.Low, false},
		{"anchore", "Medium", 0, asff.Medium, false},
		{"anchore", "Unknown", 0, asff.Informational, true},
		{"ecr", "UNDEFINED", 0, asff.Informational, true},
		{"ecr", "UNTRIAGED", 0, asff.Informational, true},
		{"ecr", "INFORMATIONAL", 0, asff.Informational, false},
		{"sarif", "error", 0, asff.High, false},
		{"sarif", "note", 0, asff.Low, false},
		{"sarif", "none", 0, asff.Informational, false},
		{"sarif", "warning", 9.8, asff.Critical, false},
		{"sarif", "error", 6.1, asff.Medium, false},
		{"sarif", "note", 7.0, asff.High, false},
		{"sarif", "error", 0.1, asff.Low, false},
		{"trivy", "", 0, asff.Informational, true},
		{"snyk", "urgent", 0, asff.Informational, true},
	}
	for _, tt := range tests {
		t.Run(tt.tool+"/"+tt.raw, func(t *testing.T) {
			// GIVEN a finding with the tool's own severity
			f := reports.Finding{Severity: tt.raw, Score: tt.score}
			// WHEN it is mapped
			got, note := asff.MapSeverity(tt.tool, f)
			// THEN it lands on the documented label, with a note only when it was not a rating
			if got != tt.want || (note != "") != tt.note {
				t.Errorf("MapSeverity = %s, note %q; want %s, note %v", got, note, tt.want, tt.note)
			}
		})
	}
	for _, tool := range reports.Tools() {
		if _, ok := asff.SeverityTables[tool]; !ok {
			t.Errorf("no severity table for %s", tool)
		}
	}
}

func TestScale(t *testing.T) {
	tests := []struct {
		normalized int
		want       asff.Label
	}{
		{0, asff.Informational}, {1, asff.Low}, {39, asff.Low}, {40, asff.Medium}, {69, asff.Medium},
		{70, asff.High}, {89, asff.High}, {90, asff.Critical}, {100, asff.Critical},
	}
	for _, tt := range tests {
		// GIVEN a normalized score WHEN it is labelled THEN the seed's bands apply
		if got := asff.LabelOf(tt.normalized); got != tt.want {
			t.Errorf("LabelOf(%d) = %s, want %s", tt.normalized, got, tt.want)
		}
	}
	for _, l := range asff.Labels {
		// AND each label's own Normalized value falls in its band
		if asff.LabelOf(l.Normalized()) != l {
			t.Errorf("%s.Normalized() = %d is outside its band", l, l.Normalized())
		}
	}
	if _, err := asff.ParseLabel("medium"); err != nil {
		t.Error(err)
	}
	if _, err := asff.ParseLabel("Meduim"); err == nil || !strings.Contains(err.Error(), `severity "Meduim": expected one of INFORMATIONAL, LOW, MEDIUM, HIGH, CRITICAL`) {
		t.Errorf("ParseLabel(Meduim) err = %v", err)
	}
}

func TestFindingIDs(t *testing.T) {
	base := func() *reports.Report {
		return &reports.Report{Tool: "semgrep", Scanners: []string{"Semgrep"}, Findings: []reports.Finding{{
			Scanner: "Semgrep", Category: reports.Code, RuleID: "python.sqli", Location: "app/db.py:42",
			Title: "sqli", Description: "d", Severity: "ERROR", Occurrences: 1,
		}}}
	}
	id := func(mutate func(*reports.Report, *asff.Scan)) string {
		rep, scan := base(), govScan()
		if mutate != nil {
			mutate(rep, &scan)
		}
		fs, err := asff.Build(rep, scan)
		if err != nil {
			t.Fatal(err)
		}
		return fs[0].ID
	}
	first := id(nil)
	tests := []struct {
		name   string
		mutate func(*reports.Report, *asff.Scan)
		same   bool
	}{
		{"same input", nil, true},
		{"new commit, build and time", func(_ *reports.Report, s *asff.Scan) {
			s.Commit, s.BuildID, s.Now, s.ScannedAt = "0000000", "other-build", now.AddDate(0, 1, 0), now
		}, true},
		{"new title and severity", func(r *reports.Report, _ *asff.Scan) { r.Findings[0].Title, r.Findings[0].Severity = "x", "INFO" }, true},
		{"changed location", func(r *reports.Report, _ *asff.Scan) { r.Findings[0].Location = "app/db.py:43" }, false},
		{"changed rule", func(r *reports.Report, _ *asff.Scan) { r.Findings[0].RuleID = "python.xss" }, false},
		{"other branch", func(_ *reports.Report, s *asff.Scan) { s.Branch = "develop" }, false},
		{"other repository", func(_ *reports.Report, s *asff.Scan) { s.Repository = "other-app" }, false},
		{"other tool", func(r *reports.Report, _ *asff.Scan) { r.Tool = "sarif" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN the same finding, with one thing changed
			// WHEN its id is built
			got := id(tt.mutate)
			// THEN the id changes exactly when tool, repository, branch, rule or location change
			if (got == first) != tt.same {
				t.Errorf("id %s vs %s: same = %v, want %v", got, first, got == first, tt.same)
			}
		})
	}
	if !strings.HasPrefix(first, "securestacks/semgrep/") || len(first) != len("securestacks/semgrep/")+64 {
		t.Errorf("id format %q", first)
	}
}

func TestConvertTwiceGivesTheSameIDs(t *testing.T) {
	// GIVEN the same report scanned twice
	// WHEN both are converted
	_, a, err := asff.Convert("trivy", fixture(t, "trivy-fs.json"), govScan())
	if err != nil {
		t.Fatal(err)
	}
	scan := govScan()
	scan.BuildID, scan.Commit = "sample-app-sca:next", "abcdef0"
	_, b, err := asff.Convert("trivy", fixture(t, "trivy-fs.json"), scan)
	if err != nil {
		t.Fatal(err)
	}
	// THEN every id is the same and unique within the scan
	seen := map[string]bool{}
	for i := range a {
		if a[i].ID != b[i].ID {
			t.Errorf("finding %d: %s then %s", i, a[i].ID, b[i].ID)
		}
		if seen[a[i].ID] {
			t.Errorf("duplicate id %s", a[i].ID)
		}
		seen[a[i].ID] = true
	}
}

func TestDuplicatesAreMerged(t *testing.T) {
	// GIVEN a report that lists the same issue twice, once as MEDIUM, once as HIGH
	dup := reports.Finding{Scanner: "Trivy", Category: reports.Package, RuleID: "CVE-2021-23337", Location: "package-lock.json lodash@4.17.20", Title: "t", Description: "d", Severity: "MEDIUM", Occurrences: 1}
	other := dup
	other.Location = "web/package-lock.json lodash@4.17.20"
	high := dup
	high.Severity, high.Occurrences = "HIGH", 2
	rep := &reports.Report{Tool: "trivy", Findings: []reports.Finding{dup, other, high}}

	// WHEN it is built
	fs, err := asff.Build(rep, govScan())

	// THEN the duplicate is sent once, with the highest severity and all occurrences
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 2 {
		t.Fatalf("%d findings, want 2", len(fs))
	}
	if fs[0].Severity.Label != asff.High || fs[0].FindingProviderFields.Severity.Label != asff.High || fs[0].ProductFields["securestacks/Occurrences"] != "3" {
		t.Errorf("merged = %s, occurrences %q", fs[0].Severity.Label, fs[0].ProductFields["securestacks/Occurrences"])
	}
	if _, ok := fs[1].ProductFields["securestacks/Occurrences"]; ok {
		t.Errorf("single finding has an occurrence count: %v", fs[1].ProductFields)
	}
}

func TestTruncation(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		n     int
		want  string
		runes int
	}{
		{"short", "hello", 10, "hello", 5},
		{"exact", strings.Repeat("a", 256), 256, strings.Repeat("a", 256), 256},
		{"long ascii", strings.Repeat("a", 300), 256, strings.Repeat("a", 255) + "…", 256},
		{"long multibyte", strings.Repeat("é", 2000), 1024, strings.Repeat("é", 1023) + "…", 1024},
		{"invalid utf-8", "ok\xff", 10, "ok\uFFFD", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN text longer or shorter than an ASFF limit
			// WHEN it is truncated
			got := asff.Truncate(tt.in, tt.n)
			// THEN it fits, ends with an ellipsis when cut, and is valid UTF-8
			if got != tt.want || utf8.RuneCountInString(got) != tt.runes || !utf8.ValidString(got) {
				t.Errorf("Truncate = %q (%d runes)", got, utf8.RuneCountInString(got))
			}
		})
	}

	// AND a finding with a huge title and description is cut to 256 and 1024 characters
	rep := &reports.Report{Tool: "zap", Findings: []reports.Finding{{RuleID: "1", Location: "l", Title: strings.Repeat("T", 5000), Description: strings.Repeat("D", 50000), Severity: "3", Occurrences: 1}}}
	fs, err := asff.Build(rep, govScan())
	if err != nil {
		t.Fatal(err)
	}
	if n := utf8.RuneCountInString(fs[0].Title); n != 256 || !strings.HasSuffix(fs[0].Title, "…") {
		t.Errorf("title %d characters", n)
	}
	if n := utf8.RuneCountInString(fs[0].Description); n != 1024 || !strings.HasSuffix(fs[0].Description, "…") {
		t.Errorf("description %d characters", n)
	}
}

func TestSizeLimit(t *testing.T) {
	huge := reports.Finding{
		Scanner: "Trivy", Category: reports.Package, RuleID: "CVE-2024-0001", Location: strings.Repeat("L", 5000),
		Title: "t", Description: strings.Repeat("<", 5000), Severity: "HIGH", Occurrences: 1,
		Package: strings.Repeat("p", 5000), InstalledVersion: strings.Repeat("v", 5000), FixedVersion: strings.Repeat("f", 5000),
		File: strings.Repeat("/dir", 2000), Target: strings.Repeat("t", 5000), URL: "https://x/" + strings.Repeat("u", 5000),
		Remediation: strings.Repeat("<r>", 5000), CWEs: []string{"CWE-79"},
	}
	for i := 0; i < reports.MaxReferences; i++ {
		huge.References = append(huge.References, "https://example.com/"+strings.Repeat("<", 900))
	}
	tests := []struct {
		name      string
		limit     int
		truncated string
	}{
		{"the Security Hub limit", 0, ""},
		{"a limit the caps alone do not meet", 30 * 1000, "ReferenceUrls"},
		{"a limit that takes more steps", 10 * 1000, "ReferenceUrls,Remediation,Resources.Details"},
		{"a limit that needs every step", 3 * 1024, "ReferenceUrls,Remediation,Resources.Details,Vulnerabilities,ProductFields"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN a finding whose every field is as large as a tool can make it (about 42 KB once
			// capped: the field caps alone keep every finding far below the 240 KB of Security Hub,
			// so smaller limits exercise the truncation steps)
			scan := govScan()
			scan.MaxFindingBytes = tt.limit
			limit := tt.limit
			if limit == 0 {
				limit = asff.MaxFindingBytes
			}
			// WHEN it is built
			fs, err := asff.Build(&reports.Report{Tool: "trivy", Findings: []reports.Finding{huge}}, scan)
			// THEN its JSON fits the limit, and what was dropped to fit is recorded
			if err != nil {
				t.Fatal(err)
			}
			if n := asff.Size(&fs[0]); n > limit {
				t.Errorf("%d bytes > %d", n, limit)
			}
			b, _ := json.Marshal(fs[0])
			if got := fs[0].ProductFields["securestacks/Truncated"]; got != tt.truncated {
				t.Errorf("Truncated = %q, want %q", got, tt.truncated)
			}
			if fs[0].ID == "" || fs[0].Title == "" || len(fs[0].Resources) == 0 {
				t.Errorf("required fields dropped: %s", b)
			}
		})
	}
}

func TestCountsAndThreshold(t *testing.T) {
	// GIVEN converted findings and an archived one
	_, fs, err := asff.Convert("trivy", fixture(t, "trivy-fs.json"), govScan())
	if err != nil {
		t.Fatal(err)
	}
	fs = append(fs, asff.Finding{Severity: asff.Severity{Label: asff.Critical}, RecordState: asff.RecordArchived})
	// WHEN they are counted
	c := asff.Counts(fs)
	// THEN every label is present, archived findings do not count, and the threshold sums upwards
	want := map[asff.Label]int{asff.Critical: 1, asff.High: 3, asff.Medium: 1, asff.Low: 0, asff.Informational: 1}
	for l, n := range want {
		if c[l] != n {
			t.Errorf("%s = %d, want %d", l, c[l], n)
		}
	}
	if n := asff.AtOrAbove(c, asff.High); n != 4 {
		t.Errorf("AtOrAbove(HIGH) = %d, want 4", n)
	}
	if n := asff.AtOrAbove(c, asff.Informational); n != 6 {
		t.Errorf("AtOrAbove(INFORMATIONAL) = %d, want 6", n)
	}
}
