package reports

import (
	"strconv"
	"strings"
)

// sarifLog is a SARIF 2.1.0 log (OASIS standard), as written by CodeQL, Semgrep --sarif, ZAP's
// sarif-json report, Trivy/Grype -f sarif, Checkov, tfsec, Bandit and many more.
type sarifLog struct {
	Version *string     `json:"version"`
	Runs    *[]sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool struct {
		Driver     sarifComponent   `json:"driver"`
		Extensions []sarifComponent `json:"extensions"`
	} `json:"tool"`
	OriginalURIBaseIDs map[string]struct {
		URI string `json:"uri"`
	} `json:"originalUriBaseIds"`
	Results []sarifResult `json:"results"`
}

type sarifComponent struct {
	Name            string      `json:"name"`
	FullName        string      `json:"fullName"`
	Version         string      `json:"version"`
	SemanticVersion string      `json:"semanticVersion"`
	Rules           []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID               string     `json:"id"`
	Name             string     `json:"name"`
	ShortDescription *sarifText `json:"shortDescription"`
	FullDescription  *sarifText `json:"fullDescription"`
	Help             *sarifText `json:"help"`
	HelpURI          string     `json:"helpUri"`
	DefaultConfig    *struct {
		Level string `json:"level"`
	} `json:"defaultConfiguration"`
	Properties sarifProperties `json:"properties"`
}

type sarifText struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown"`
}

// sarifProperties is a SARIF property bag: free-form, so it is read loosely.
type sarifProperties map[string]any

type sarifResult struct {
	RuleID    string `json:"ruleId"`
	RuleIndex *int   `json:"ruleIndex"`
	Rule      *struct {
		ID            string `json:"id"`
		Index         *int   `json:"index"`
		ToolComponent *struct {
			Index *int `json:"index"`
		} `json:"toolComponent"`
	} `json:"rule"`
	Level         string    `json:"level"`
	Kind          string    `json:"kind"`
	Message       sarifText `json:"message"`
	BaselineState string    `json:"baselineState"`
	Locations     []struct {
		PhysicalLocation *struct {
			ArtifactLocation *struct {
				URI       string `json:"uri"`
				URIBaseID string `json:"uriBaseId"`
			} `json:"artifactLocation"`
			Region *struct {
				StartLine int `json:"startLine"`
				EndLine   int `json:"endLine"`
			} `json:"region"`
		} `json:"physicalLocation"`
		LogicalLocations []struct {
			FullyQualifiedName string `json:"fullyQualifiedName"`
			Name               string `json:"name"`
		} `json:"logicalLocations"`
	} `json:"locations"`
	Suppressions []struct {
		Kind   string `json:"kind"`
		Status string `json:"status"`
	} `json:"suppressions"`
	Properties sarifProperties `json:"properties"`
}

// ParseSARIF reads a SARIF 2.1.0 log: every result of every run that is a failure (kind "fail",
// the default), not absent from the scan (baselineState) and not suppressed with an accepted
// suppression. Scanner is the run's driver name, so CodeQL and Semgrep logs stay apart.
// Severity is the effective level (the result's, else the rule's default configuration, else
// "warning" as the specification says), or the "security-severity" property when a rule pack
// wrote a word there ("MEDIUM"); Score is "security-severity" as a number (result first, then
// rule), as GitHub code scanning reads it. Location is the artifact URI and start
// line, or the logical location.
func ParseSARIF(data []byte) (*Report, error) {
	var l sarifLog
	if err := decode(SARIF, data, &l); err != nil {
		return nil, err
	}
	if l.Version == nil {
		return nil, missing(SARIF, "version")
	}
	if *l.Version != "2.1.0" {
		return nil, invalid(SARIF, "version", "got "+strconv.Quote(*l.Version)+": expected \"2.1.0\"")
	}
	if l.Runs == nil {
		return nil, missing(SARIF, "runs")
	}
	rep := &Report{Tool: SARIF}
	var names []string
	for ri, run := range *l.Runs {
		scanner := firstNonEmpty(run.Tool.Driver.Name, run.Tool.Driver.FullName, "SARIF")
		names = append(names, scanner)
		for i, res := range run.Results {
			switch res.Kind {
			case "pass", "notApplicable":
				continue
			}
			if res.BaselineState == "absent" || accepted(res.Suppressions) {
				continue
			}
			rule := run.rule(res)
			id := res.RuleID
			if id == "" && res.Rule != nil {
				id = res.Rule.ID
			}
			if id == "" && rule != nil {
				id = rule.ID
			}
			if id == "" && res.Rule == nil && rule == nil {
				// ruleId is optional in SARIF. gitleaks 7 writes none but starts the message with
				// the rule's id ("AWS Access Key secret detected"), so a rule named at the start
				// of the message is the result's rule.
				if rule = run.ruleInMessage(res.Message.Text); rule != nil {
					id = rule.ID
				}
			}
			if id == "" {
				return nil, missing(SARIF, "runs."+strconv.Itoa(ri)+".results."+strconv.Itoa(i)+".ruleId")
			}
			level := res.Level
			if level == "" && rule != nil && rule.DefaultConfig != nil {
				level = rule.DefaultConfig.Level
			}
			if level == "" {
				level = "warning"
			}
			if res.Kind != "" && res.Kind != "fail" {
				level = "none"
			}
			f := Finding{
				Scanner:     scanner,
				Category:    Code,
				RuleID:      id,
				Severity:    level,
				Description: res.Message.Text,
				Score:       res.Properties.score(),
			}
			if rule != nil {
				if f.Score == 0 {
					f.Score = rule.Properties.score()
				}
				f.Title = firstNonEmpty(text(rule.ShortDescription), rule.Name)
				if d := text(rule.FullDescription); d != "" && d != f.Description {
					f.Description = strings.TrimSpace(f.Description + "\n\n" + d)
				}
				f.References = refs(rule.HelpURI)
				f.Remediation = text(rule.Help)
				for _, tag := range rule.Properties.strings("tags") {
					// CodeQL: "external/cwe/cwe-079"
					if j := strings.LastIndex(tag, "cwe-"); j >= 0 {
						f.CWEs = append(f.CWEs, cwes(tag[j:])...)
					}
				}
			}
			if f.Score == 0 && f.Severity != "none" {
				// Some rule packs (GitLab's Semgrep rules) put a word, not a score, in
				// security-severity; it still says more than the generic level.
				word := res.Properties.severityWord()
				if word == "" && rule != nil {
					word = rule.Properties.severityWord()
				}
				if word != "" {
					f.Severity = word
				}
			}
			for _, loc := range res.Locations {
				if p := loc.PhysicalLocation; p != nil && p.ArtifactLocation != nil && p.ArtifactLocation.URI != "" {
					f.File = RelPath(p.ArtifactLocation.URI)
					if p.Region != nil {
						f.StartLine, f.EndLine = p.Region.StartLine, p.Region.EndLine
					}
					break
				}
				for _, ll := range loc.LogicalLocations {
					if f.File == "" {
						f.File = firstNonEmpty(ll.FullyQualifiedName, ll.Name)
					}
				}
			}
			f.Location = lineLoc(f.File, f.StartLine)
			if f.Location == "" {
				f.Location = scanner
			}
			switch {
			case strings.HasPrefix(f.File, "http://") || strings.HasPrefix(f.File, "https://"):
				f.Category, f.URL, f.Target = Web, f.File, f.File
			case strings.HasPrefix(id, "CVE-") || strings.HasPrefix(id, "GHSA-"):
				f.Category = Package
			}
			if f.Title == "" {
				f.Title = id
			}
			if f.Title != id {
				// gitleaks names its rules by their ids; "X: X" would say nothing more.
				f.Title = id + ": " + strings.TrimPrefix(f.Title, id+": ")
			}
			if f.File != "" && f.Category != Web {
				f.Title += " in " + lineLoc(f.File, f.StartLine)
			}
			if f.Description == "" {
				f.Description = f.Title
			}
			rep.Findings = append(rep.Findings, f)
		}
	}
	rep.Scanners = scanners(names...)
	return finish(rep)
}

// rule finds the reporting descriptor of res: by index into the driver (or the extension named
// by rule.toolComponent), then by id.
func (run *sarifRun) rule(res sarifResult) *sarifRule {
	comp := &run.Tool.Driver
	idx := res.RuleIndex
	id := res.RuleID
	if res.Rule != nil {
		if res.Rule.Index != nil {
			idx = res.Rule.Index
		}
		if id == "" {
			id = res.Rule.ID
		}
		if tc := res.Rule.ToolComponent; tc != nil && tc.Index != nil && *tc.Index >= 0 && *tc.Index < len(run.Tool.Extensions) {
			comp = &run.Tool.Extensions[*tc.Index]
		}
	}
	if idx != nil && *idx >= 0 && *idx < len(comp.Rules) {
		return &comp.Rules[*idx]
	}
	for _, c := range append([]*sarifComponent{comp, &run.Tool.Driver}, extensionPtrs(run)...) {
		for i := range c.Rules {
			if c.Rules[i].ID == id {
				return &c.Rules[i]
			}
		}
	}
	return nil
}

func extensionPtrs(run *sarifRun) []*sarifComponent {
	out := make([]*sarifComponent, len(run.Tool.Extensions))
	for i := range run.Tool.Extensions {
		out[i] = &run.Tool.Extensions[i]
	}
	return out
}

func accepted(s []struct {
	Kind   string `json:"kind"`
	Status string `json:"status"`
}) bool {
	for _, x := range s {
		if x.Status == "" || x.Status == "accepted" {
			return true
		}
	}
	return false
}

// ruleInMessage is the rule of the run whose id or name starts message (the longest, when
// several do), or nil.
func (run *sarifRun) ruleInMessage(message string) *sarifRule {
	var best *sarifRule
	n := 0
	for _, c := range append([]*sarifComponent{&run.Tool.Driver}, extensionPtrs(run)...) {
		for i := range c.Rules {
			for _, key := range []string{c.Rules[i].ID, c.Rules[i].Name} {
				if len(key) > n && strings.HasPrefix(message, key) {
					best, n = &c.Rules[i], len(key)
				}
			}
		}
	}
	return best
}

func text(t *sarifText) string {
	if t == nil {
		return ""
	}
	return firstNonEmpty(t.Text, t.Markdown)
}

// score reads "security-severity", a string ("8.8") by convention, sometimes a number.
func (p sarifProperties) score() float64 {
	switch v := p["security-severity"].(type) {
	case string:
		if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && f >= 0 && f <= 10 {
			return f
		}
	case float64:
		if v >= 0 && v <= 10 {
			return v
		}
	}
	return 0
}

// severityWord reads "security-severity" written as a word: "critical", "high", "medium" or
// "low" (lower case), else "".
func (p sarifProperties) severityWord() string {
	v, _ := p["security-severity"].(string)
	switch w := strings.ToLower(strings.TrimSpace(v)); w {
	case "critical", "high", "medium", "low":
		return w
	}
	return ""
}

func (p sarifProperties) strings(key string) []string {
	list, _ := p[key].([]any)
	out := make([]string, 0, len(list))
	for _, v := range list {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
