package reports

import "strconv"

// gitleaksFinding is one element of gitleaks' JSON report (gitleaks git|dir
// --report-format json). Secret, Match and Line are deliberately absent: they hold the
// credential, which must never reach Security Hub.
type gitleaksFinding struct {
	RuleID      *string  `json:"RuleID"`
	Description string   `json:"Description"`
	StartLine   int      `json:"StartLine"`
	EndLine     int      `json:"EndLine"`
	StartColumn int      `json:"StartColumn"`
	EndColumn   int      `json:"EndColumn"`
	File        string   `json:"File"`
	SymlinkFile string   `json:"SymlinkFile"`
	Commit      string   `json:"Commit"`
	Link        string   `json:"Link"`
	Entropy     float64  `json:"Entropy"`
	Author      string   `json:"Author"`
	Date        string   `json:"Date"`
	Tags        []string `json:"Tags"`
	Fingerprint string   `json:"Fingerprint"`
}

// ParseGitleaks reads a gitleaks JSON report. gitleaks gives no severity: every leak is
// reported with Severity "secret", which the asff table maps to HIGH. Location is the file and
// line, plus the commit when gitleaks scanned history, so the same leak in the same commit
// stays one finding. The secret and the matched line are never read.
func ParseGitleaks(data []byte) (*Report, error) {
	var leaks []gitleaksFinding
	if err := decode(Gitleaks, data, &leaks); err != nil {
		return nil, err
	}
	rep := &Report{Tool: Gitleaks, Scanners: scanners("gitleaks")}
	for i, l := range leaks {
		if l.RuleID == nil {
			return nil, missing(Gitleaks, strconv.Itoa(i)+".RuleID")
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
