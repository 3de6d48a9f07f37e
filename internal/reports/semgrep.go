package reports

import (
	"encoding/json"
	"strconv"
	"strings"
)

// semgrepReport is Semgrep's JSON output (semgrep scan --json).
type semgrepReport struct {
	Version string           `json:"version"`
	Results *[]semgrepResult `json:"results"`
	Errors  json.RawMessage  `json:"errors"`
}

type semgrepResult struct {
	CheckID string       `json:"check_id"`
	Path    string       `json:"path"`
	Start   semgrepPoint `json:"start"`
	End     semgrepPoint `json:"end"`
	Extra   struct {
		Message  string `json:"message"`
		Severity string `json:"severity"`
		Fix      string `json:"fix"`
		Metadata struct {
			CWE        stringOrList `json:"cwe"`
			References stringOrList `json:"references"`
			Source     string       `json:"source"`
			Confidence string       `json:"confidence"`
			Category   string       `json:"category"`
		} `json:"metadata"`
		IsIgnored bool `json:"is_ignored"`
	} `json:"extra"`
}

type semgrepPoint struct {
	Line   int `json:"line"`
	Col    int `json:"col"`
	Offset int `json:"offset"`
}

// stringOrList accepts a string or an array of strings: rule authors write Semgrep metadata
// both ways.
type stringOrList []string

func (s *stringOrList) UnmarshalJSON(b []byte) error {
	var list []string
	if err := json.Unmarshal(b, &list); err == nil {
		*s = list
		return nil
	}
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = []string{one}
		return nil
	}
	// Anything else (numbers, objects) is metadata we do not use; ignore it rather than
	// reject a report because of one rule's free-form metadata.
	*s = nil
	return nil
}

// ParseSemgrep reads a Semgrep JSON report. One finding per result that is not ignored (nosemgrep).
// Severity is extra.severity (ERROR, WARNING, INFO, and the newer CRITICAL, HIGH, MEDIUM, LOW).
// Location is the file and start line.
func ParseSemgrep(data []byte) (*Report, error) {
	var r semgrepReport
	if err := decode(Semgrep, data, &r); err != nil {
		return nil, err
	}
	if r.Results == nil {
		return nil, missing(Semgrep, "results")
	}
	if r.Errors == nil {
		return nil, missing(Semgrep, "errors")
	}
	rep := &Report{Tool: Semgrep, Scanners: scanners("Semgrep")}
	for i, res := range *r.Results {
		if res.Extra.IsIgnored {
			continue
		}
		if res.CheckID == "" {
			return nil, missing(Semgrep, "results."+strconv.Itoa(i)+".check_id")
		}
		file := RelPath(res.Path)
		short := res.CheckID
		if j := strings.LastIndexByte(short, '.'); j >= 0 {
			short = short[j+1:]
		}
		f := Finding{
			Scanner:     "Semgrep",
			Category:    Code,
			RuleID:      res.CheckID,
			Location:    lineLoc(file, res.Start.Line),
			Title:       short + " in " + lineLoc(file, res.Start.Line),
			Description: res.Extra.Message,
			Severity:    res.Extra.Severity,
			File:        file,
			StartLine:   res.Start.Line,
			EndLine:     res.End.Line,
			CWEs:        cwes(res.Extra.Metadata.CWE...),
			References:  refs(append([]string{res.Extra.Metadata.Source}, res.Extra.Metadata.References...)...),
		}
		if res.Extra.Fix != "" {
			f.Remediation = "Suggested fix: " + res.Extra.Fix
		}
		rep.Findings = append(rep.Findings, f)
	}
	return finish(rep)
}
