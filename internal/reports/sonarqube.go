package reports

import (
	"strconv"
	"strings"
)

// sonarResponse is the response of SonarQube's GET /api/issues/search (SonarQube Server 9.9 to
// 2025.x and SonarQube Cloud).
type sonarResponse struct {
	Total  int `json:"total"`
	Paging *struct {
		PageIndex int `json:"pageIndex"`
		PageSize  int `json:"pageSize"`
		Total     int `json:"total"`
	} `json:"paging"`
	Issues     *[]sonarIssue `json:"issues"`
	Components []struct {
		Key  string `json:"key"`
		Path string `json:"path"`
	} `json:"components"`
}

type sonarIssue struct {
	Key       string `json:"key"`
	Rule      string `json:"rule"`
	Severity  string `json:"severity"`
	Component string `json:"component"`
	Project   string `json:"project"`
	Line      int    `json:"line"`
	TextRange *struct {
		StartLine int `json:"startLine"`
		EndLine   int `json:"endLine"`
	} `json:"textRange"`
	Status      string `json:"status"`
	IssueStatus string `json:"issueStatus"`
	// SimpleStatus is what SonarQube 10.3 called issueStatus.
	SimpleStatus string `json:"simpleStatus"`
	Resolution   string `json:"resolution"`
	Message      string `json:"message"`
	Type         string `json:"type"`
	Impacts      []struct {
		SoftwareQuality string `json:"softwareQuality"`
		Severity        string `json:"severity"`
	} `json:"impacts"`
}

// sonarClosed are the issue statuses of SonarQube 10.3+ that mean nobody has to act: the
// deprecated status/resolution pair says the same, but only while SonarQube still writes it.
var sonarClosed = map[string]bool{"ACCEPTED": true, "FALSE_POSITIVE": true, "FIXED": true, "CLOSED": true}

// sonarImpactRank orders the impact severities of SonarQube 10.2+ (BLOCKER and INFO since 10.8).
var sonarImpactRank = map[string]int{"INFO": 1, "LOW": 2, "MEDIUM": 3, "HIGH": 4, "BLOCKER": 5}

// ParseSonarQube reads a SonarQube /api/issues/search response. Closed, resolved, accepted and
// false-positive issues are skipped. Severity is the highest impact severity, written "impact:HIGH", when the server
// reports impacts (SonarQube 10.2+), else the legacy severity (BLOCKER, CRITICAL, MAJOR,
// MINOR, INFO). Location is SonarQube's issue key, which SonarQube itself keeps stable while
// code moves around the issue.
func ParseSonarQube(data []byte) (*Report, error) {
	var r sonarResponse
	if err := decode(SonarQube, data, &r); err != nil {
		return nil, err
	}
	if r.Issues == nil {
		return nil, missing(SonarQube, "issues")
	}
	if r.Paging == nil {
		return nil, missing(SonarQube, "paging")
	}
	paths := map[string]string{}
	for _, c := range r.Components {
		paths[c.Key] = c.Path
	}
	rep := &Report{Tool: SonarQube, Scanners: scanners("SonarQube")}
	for i, is := range *r.Issues {
		if is.Status == "CLOSED" || is.Resolution != "" || sonarClosed[firstNonEmpty(is.IssueStatus, is.SimpleStatus)] {
			continue
		}
		if is.Key == "" || is.Rule == "" {
			return nil, missing(SonarQube, "issues."+strconv.Itoa(i)+".key/rule")
		}
		file := paths[is.Component]
		if file == "" {
			// component is "projectKey:path/to/file"
			_, file, _ = strings.Cut(is.Component, ":")
		}
		f := Finding{
			Scanner:     "SonarQube",
			Category:    Code,
			RuleID:      is.Rule,
			Location:    is.Key,
			Title:       is.Rule + " in " + lineLoc(file, is.Line) + ": " + is.Message,
			Description: is.Message,
			Severity:    is.Severity,
			File:        file,
			StartLine:   is.Line,
			EndLine:     is.Line,
			Target:      is.Project,
		}
		if is.TextRange != nil {
			f.StartLine, f.EndLine = is.TextRange.StartLine, is.TextRange.EndLine
		}
		best := 0
		for _, im := range is.Impacts {
			if rank := sonarImpactRank[im.Severity]; rank > best {
				best, f.Severity = rank, "impact:"+im.Severity
			}
		}
		if is.Type != "" {
			f.Description += " (SonarQube type " + is.Type + ")"
		}
		rep.Findings = append(rep.Findings, f)
	}
	return finish(rep)
}
