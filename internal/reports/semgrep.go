package reports

import (
	"encoding/json"
	"fmt"
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

// semgrepError is one entry of the report's errors. Type is a string ("InvalidRuleSchemaError")
// or, for target errors, a list whose first element is the name (["PartialParsing", spans]).
type semgrepError struct {
	Code     int             `json:"code"`
	Level    string          `json:"level"`
	Type     json.RawMessage `json:"type"`
	Message  string          `json:"message"`
	ShortMsg string          `json:"short_msg"`
	LongMsg  string          `json:"long_msg"`
	Path     string          `json:"path"`
}

// semgrepFatal returns an error for the first errors entry that means the scan did not run as
// configured: level "error" (a rule that did not load, a registry ruleset that did not
// download, an invalid language), or no level at all. Semgrep still writes a report with
// no results then, and a gate that read only results would pass an unscanned repository.
// Warnings ("warn": a file that did not parse, a rule that timed out on one file) are gaps in
// the coverage of single files and do not fail the report.
func semgrepFatal(tool string, data, raw json.RawMessage) error {
	var errs []semgrepError
	if err := decodeAt(tool, data, raw, "errors", &errs); err != nil {
		return err
	}
	for i, e := range errs {
		if level := strings.ToLower(e.Level); level != "" && level != "error" {
			continue
		}
		name := strings.Trim(string(e.Type), `"`)
		var list []json.RawMessage
		if json.Unmarshal(e.Type, &list) == nil && len(list) > 0 {
			name = strings.Trim(string(list[0]), `"`)
		}
		msg := e.Message
		for _, m := range []string{e.LongMsg, e.ShortMsg} {
			if msg == "" {
				msg = m
			}
		}
		msg = strings.Join(strings.Fields(msg), " ")
		if len(msg) > 300 {
			msg = msg[:300] + "..."
		}
		return invalid(tool, "errors."+strconv.Itoa(i), fmt.Sprintf("the scan failed (code %d, %s): %s; a run whose rules did not load scanned nothing and cannot pass", e.Code, name, msg))
	}
	return nil
}

// ParseSemgrep reads a Semgrep JSON report. A report whose errors hold a fatal entry (level
// "error": rules that did not load) is an error, not an empty report. One finding per result that is not ignored (nosemgrep).
// Severity is extra.severity (ERROR, WARNING, INFO, and the newer CRITICAL, HIGH, MEDIUM, LOW).
// Location is the file and start line.
func ParseSemgrep(data []byte) (*Report, error) { return parseSemgrepFamily(Semgrep, "Semgrep", data) }

// ParseOpengrep reads an Opengrep JSON report. Opengrep, the community fork of Semgrep CE,
// writes Semgrep's format (https://github.com/opengrep/opengrep), so the rules of ParseSemgrep
// apply; the findings name Opengrep as their scanner.
func ParseOpengrep(data []byte) (*Report, error) {
	return parseSemgrepFamily(Opengrep, "Opengrep", data)
}

// parseSemgrepFamily reads a report in Semgrep's JSON format written by tool.
func parseSemgrepFamily(tool, scanner string, data []byte) (*Report, error) {
	var r semgrepReport
	if err := decode(tool, data, &r); err != nil {
		return nil, err
	}
	if r.Results == nil {
		return nil, missing(tool, "results")
	}
	if r.Errors == nil {
		return nil, missing(tool, "errors")
	}
	if err := semgrepFatal(tool, data, r.Errors); err != nil {
		return nil, err
	}
	rep := &Report{Tool: tool, Scanners: scanners(scanner)}
	for i, res := range *r.Results {
		if res.Extra.IsIgnored {
			continue
		}
		if res.CheckID == "" {
			return nil, missing(tool, "results."+strconv.Itoa(i)+".check_id")
		}
		file := RelPath(res.Path)
		short := res.CheckID
		if j := strings.LastIndexByte(short, '.'); j >= 0 {
			short = short[j+1:]
		}
		f := Finding{
			Scanner:     scanner,
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
