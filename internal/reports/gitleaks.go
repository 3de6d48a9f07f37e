package reports

import "strconv"

// gitleaksFinding is one element of gitleaks' JSON report: v8 (gitleaks git|dir
// --report-format json) names its fields RuleID, StartLine, File...; v7 (gitleaks --report
// FILE, still common in older pipelines) wrote rule, lineNumber, file and leakURL. Secret,
// Match, Line and offender are deliberately absent: they hold the credential, which must never
// reach Security Hub. Tags are not read either: v8 writes an array and v7 a comma-separated
// string, and neither says anything the rule id does not.
type gitleaksFinding struct {
	RuleID      *string `json:"RuleID"`
	Description string  `json:"Description"`
	StartLine   int     `json:"StartLine"`
	EndLine     int     `json:"EndLine"`
	File        string  `json:"File"`
	Commit      string  `json:"Commit"`
	Link        string  `json:"Link"`
	Author      string  `json:"Author"`
	Date        string  `json:"Date"`
	// The gitleaks v7 names; encoding/json matches keys case-insensitively, so v7's "file",
	// "commit", "author" and "date" already fill the fields above.
	Rule       *string `json:"rule"`
	LineNumber int     `json:"lineNumber"`
	LeakURL    string  `json:"leakURL"`
}

// ParseGitleaks reads a gitleaks JSON report, v8 or v7. gitleaks gives no severity: every leak
// is reported with Severity "secret", which the asff table maps to HIGH. Location is the file
// and line, plus the commit when gitleaks scanned history, so the same leak in the same commit
// stays one finding. The secret and the matched line are never read.
func ParseGitleaks(data []byte) (*Report, error) {
	var leaks []gitleaksFinding
	if err := decode(Gitleaks, data, &leaks); err != nil {
		return nil, err
	}
	rep := &Report{Tool: Gitleaks, Scanners: scanners("gitleaks")}
	for i, l := range leaks {
		if l.RuleID == nil {
			if l.Rule == nil {
				return nil, missing(Gitleaks, strconv.Itoa(i)+".RuleID")
			}
			l.RuleID, l.StartLine, l.EndLine, l.Link = l.Rule, l.LineNumber, l.LineNumber, l.LeakURL
		}
		file := RelPath(l.File)
		where := lineLoc(file, l.StartLine)
		if l.Commit != "" {
			where += "@" + l.Commit
		}
		desc := firstNonEmpty(l.Description, "Secret matched rule "+*l.RuleID) + "."
		if l.Commit != "" {
			desc += " Introduced in commit " + l.Commit
			if l.Author != "" {
				desc += " by " + l.Author
			}
			if l.Date != "" {
				desc += " on " + l.Date
			}
			desc += "."
		}
		desc += " The secret itself is not copied into the finding."
		rep.Findings = append(rep.Findings, Finding{
			Scanner:     "gitleaks",
			Category:    Secret,
			RuleID:      *l.RuleID,
			Location:    where,
			Title:       "Secret (" + *l.RuleID + ") in " + lineLoc(file, l.StartLine),
			Description: desc,
			Severity:    "secret",
			File:        file,
			StartLine:   l.StartLine,
			EndLine:     l.EndLine,
			References:  refs(l.Link),
			Remediation: "Revoke and rotate the credential, then remove it from the repository history.",
		})
	}
	return finish(rep)
}
