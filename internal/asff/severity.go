package asff

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/securestacks/securestacks/internal/reports"
)

// Label is a Security Hub severity label.
type Label string

// The Security Hub severity scale, as in the seed posts: Normalized 0 INFORMATIONAL, 1–39 LOW,
// 40–69 MEDIUM, 70–89 HIGH, 90–100 CRITICAL.
const (
	Informational Label = "INFORMATIONAL"
	Low           Label = "LOW"
	Medium        Label = "MEDIUM"
	High          Label = "HIGH"
	Critical      Label = "CRITICAL"
)

// Labels lists the labels from the lowest to the highest.
var Labels = []Label{Informational, Low, Medium, High, Critical}

// Normalized is the value each label is imported with: the lower bound of its band, which is
// also what Security Hub derives itself when a finding carries only a label.
func (l Label) Normalized() int {
	switch l {
	case Low:
		return 1
	case Medium:
		return 40
	case High:
		return 70
	case Critical:
		return 90
	}
	return 0
}

// Rank orders labels: INFORMATIONAL 0 … CRITICAL 4; -1 for an unknown label.
func (l Label) Rank() int {
	for i, x := range Labels {
		if x == l {
			return i
		}
	}
	return -1
}

// LabelOf maps a Normalized value (0–100) onto the scale; values outside it are clamped.
func LabelOf(normalized int) Label {
	switch {
	case normalized >= 90:
		return Critical
	case normalized >= 70:
		return High
	case normalized >= 40:
		return Medium
	case normalized >= 1:
		return Low
	}
	return Informational
}

// ParseLabel reads a label in any case ("high", "HIGH"). It is how the pipeline's severity
// threshold is read.
func ParseLabel(s string) (Label, error) {
	l := Label(strings.ToUpper(strings.TrimSpace(s)))
	if l.Rank() < 0 {
		return "", fmt.Errorf("severity %q: expected one of INFORMATIONAL, LOW, MEDIUM, HIGH, CRITICAL", s)
	}
	return l, nil
}

// SeverityTables maps each tool's own severity values (compared case-insensitively) to a label.
// A value a table does not list maps to INFORMATIONAL with a note on the finding. Values that
// mean "not rated" (UNKNOWN, UNDEFINED, UNTRIAGED) are listed as INFORMATIONAL but still get the
// note, so that nobody mistakes them for a rating.
//
//	tool              tool value                          label
//	zap               riskcode 3 / 2 / 1 / 0              HIGH / MEDIUM / LOW / INFORMATIONAL
//	dependency-check  CRITICAL / HIGH                     CRITICAL / HIGH
//	                  MEDIUM, MODERATE / LOW              MEDIUM / LOW
//	                  INFO / UNKNOWN                      INFORMATIONAL
//	trivy             CRITICAL / HIGH / MEDIUM / LOW      same
//	                  UNKNOWN                             INFORMATIONAL (note)
//	grype, anchore    Critical / High / Medium / Low      same
//	                  Negligible / Unknown                INFORMATIONAL (Unknown: note)
//	gitleaks          every leak ("secret")               HIGH
//	semgrep           ERROR / WARNING / INFO              HIGH / MEDIUM / LOW
//	                  CRITICAL / HIGH / MEDIUM / LOW      same
//	                  INVENTORY / EXPERIMENT              INFORMATIONAL
//	sonarqube         impact BLOCKER / HIGH / MEDIUM      CRITICAL / HIGH / MEDIUM
//	                  impact LOW / INFO                   LOW / INFORMATIONAL
//	                  legacy BLOCKER / CRITICAL / MAJOR   CRITICAL / HIGH / MEDIUM
//	                  legacy MINOR / INFO                 LOW / INFORMATIONAL
//	phpstan           file error / general error          MEDIUM / INFORMATIONAL
//	snyk              critical / high / medium / low      same
//	ecr               CRITICAL / HIGH / MEDIUM / LOW      same
//	                  INFORMATIONAL                       INFORMATIONAL
//	                  UNDEFINED / UNTRIAGED               INFORMATIONAL (note)
//	sarif             security-severity ≥ 9.0 / ≥ 7.0     CRITICAL / HIGH
//	                  security-severity ≥ 4.0 / > 0       MEDIUM / LOW
//	                  security-severity critical / high   CRITICAL / HIGH (a word, as
//	                  / medium / low                      MEDIUM / LOW     GitLab's rules write)
//	                  else level error / warning          HIGH / MEDIUM
//	                  else level note / none              LOW / INFORMATIONAL
//	falco             Emergency / Alert / Critical        CRITICAL
//	                  Error / Warning / Notice            HIGH / MEDIUM / LOW
//	                  Informational, Info / Debug         INFORMATIONAL
var SeverityTables = map[string]map[string]Label{
	reports.ZAP: {"3": High, "2": Medium, "1": Low, "0": Informational,
		"high": High, "medium": Medium, "low": Low, "informational": Informational},
	reports.DependencyCheck: {"critical": Critical, "high": High, "medium": Medium, "moderate": Medium,
		"low": Low, "info": Informational, "unknown": Informational},
	reports.Trivy: {"critical": Critical, "high": High, "medium": Medium, "low": Low, "unknown": Informational},
	reports.Grype: {"critical": Critical, "high": High, "medium": Medium, "low": Low,
		"negligible": Informational, "unknown": Informational},
	reports.Gitleaks: {"secret": High},
	reports.Semgrep:  semgrepSeverities,
	reports.Opengrep: semgrepSeverities,
	reports.SonarQube: {"impact:blocker": Critical, "impact:high": High, "impact:medium": Medium,
		"impact:low": Low, "impact:info": Informational,
		"blocker": Critical, "critical": High, "major": Medium, "minor": Low, "info": Informational},
	reports.PHPStan: {"error": Medium, "general": Informational},
	reports.Snyk:    {"critical": Critical, "high": High, "medium": Medium, "low": Low},
	reports.Anchore: {"critical": Critical, "high": High, "medium": Medium, "low": Low,
		"negligible": Informational, "unknown": Informational},
	reports.ECR: {"critical": Critical, "high": High, "medium": Medium, "low": Low,
		"informational": Informational, "undefined": Informational, "untriaged": Informational},
	reports.SARIF: {"error": High, "warning": Medium, "note": Low, "none": Informational,
		"critical": Critical, "high": High, "medium": Medium, "low": Low},
	// Falco's priorities (https://falco.org/docs/reference/rules/rule-fields), syslog's levels.
	reports.Falco: {"emergency": Critical, "alert": Critical, "critical": Critical, "error": High,
		"warning": Medium, "notice": Low, "informational": Informational, "info": Informational, "debug": Informational},
}

// unrated are tool values that mean "no rating"; they map to INFORMATIONAL with a note.
var unrated = map[string]bool{"unknown": true, "undefined": true, "untriaged": true}

// MapSeverity returns the label of a finding of tool, and a note when the tool's value was not
// a rating this package knows (the finding then is INFORMATIONAL).
func MapSeverity(tool string, f reports.Finding) (Label, string) {
	raw := strings.ToLower(strings.TrimSpace(f.Severity))
	if tool == reports.SARIF && f.Score > 0 {
		return scoreBand(f.Score), ""
	}
	if l, ok := SeverityTables[tool][raw]; ok {
		if unrated[raw] {
			return l, fmt.Sprintf("%s rated this finding %q (not rated); imported as INFORMATIONAL", tool, f.Severity)
		}
		return l, ""
	}
	if raw == "" {
		return Informational, fmt.Sprintf("%s gave no severity; imported as INFORMATIONAL", tool)
	}
	return Informational, fmt.Sprintf("%s severity %q is not in the mapping table; imported as INFORMATIONAL", tool, f.Severity)
}

// scoreBand maps a CVSS-like 0–10 score the way CVSS v3 and GitHub code scanning band it.
func scoreBand(score float64) Label {
	switch {
	case score >= 9:
		return Critical
	case score >= 7:
		return High
	case score >= 4:
		return Medium
	case score > 0:
		return Low
	}
	return Informational
}

func formatScore(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// semgrepSeverities maps extra.severity of Semgrep's JSON format, which Opengrep writes too.
var semgrepSeverities = map[string]Label{"error": High, "warning": Medium, "info": Low,
	"critical": Critical, "high": High, "medium": Medium, "low": Low,
	"inventory": Informational, "experiment": Informational}
