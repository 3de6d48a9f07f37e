package reports

import (
	"encoding/json"
	"sort"
	"strings"
)

// phpstanReport is PHPStan's JSON report (phpstan analyse --error-format=json).
type phpstanReport struct {
	Totals *struct {
		Errors     int `json:"errors"`
		FileErrors int `json:"file_errors"`
	} `json:"totals"`
	// Files is an object keyed by file path, or [] when no file has errors: PHP serialises an
	// empty associative array as a JSON list.
	Files  json.RawMessage `json:"files"`
	Errors []string        `json:"errors"`
}

type phpstanFile struct {
	Errors   int `json:"errors"`
	Messages []struct {
		Message    string `json:"message"`
		Line       int    `json:"line"`
		Ignorable  bool   `json:"ignorable"`
		Identifier string `json:"identifier"`
		Tip        string `json:"tip"`
	} `json:"messages"`
}

// ParsePHPStan reads a PHPStan JSON report. One finding per file message, with Severity
// "error" (PHPStan has no levels per message; the table maps it to MEDIUM), and one per general
// error (Severity "general", INFORMATIONAL: configuration problems, not code weaknesses).
// RuleID is the message identifier (PHPStan 1.11+), or "phpstan" before identifiers existed.
// Location is the file, line and message, since one line can break several rules.
func ParsePHPStan(data []byte) (*Report, error) {
	var r phpstanReport
	if err := decode(PHPStan, data, &r); err != nil {
		return nil, err
	}
	if r.Totals == nil {
		return nil, missing(PHPStan, "totals")
	}
	if r.Files == nil {
		return nil, missing(PHPStan, "files")
	}
	files := map[string]phpstanFile{}
	if t := strings.TrimSpace(string(r.Files)); t != "[]" {
		if err := decodeAt(PHPStan, data, r.Files, "files", &files); err != nil {
			return nil, err
		}
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	rep := &Report{Tool: PHPStan, Scanners: scanners("PHPStan")}
	for _, name := range names {
		file := RelPath(name)
		for _, m := range files[name].Messages {
			rule := firstNonEmpty(m.Identifier, "phpstan")
			f := Finding{
				Scanner:     "PHPStan",
				Category:    Code,
				RuleID:      rule,
				Location:    lineLoc(file, m.Line) + " " + m.Message,
				Title:       m.Message,
				Description: m.Message,
				Severity:    "error",
				File:        file,
				StartLine:   m.Line,
				EndLine:     m.Line,
				Remediation: m.Tip,
			}
			if m.Identifier != "" {
				f.Description += " (" + m.Identifier + ")"
			}
			rep.Findings = append(rep.Findings, f)
		}
	}
	for _, e := range r.Errors {
		rep.Findings = append(rep.Findings, Finding{
			Scanner:     "PHPStan",
			Category:    Code,
			RuleID:      "phpstan.general",
			Location:    "general " + e,
			Title:       "PHPStan: " + e,
			Description: e,
			Severity:    "general",
		})
	}
	return finish(rep)
}
