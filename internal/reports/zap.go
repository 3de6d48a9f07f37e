package reports

import (
	"html"
	"regexp"
	"strconv"
	"strings"
)

// zapReport is ZAP's "traditional-json" report (zap-baseline.py -J, zap-full-scan.py -J, or the
// Report Generation add-on's traditional-json template).
type zapReport struct {
	ProgramName string     `json:"@programName"`
	Version     *string    `json:"@version"`
	Site        *[]zapSite `json:"site"`
}

type zapSite struct {
	Name   string     `json:"@name"`
	Host   string     `json:"@host"`
	Alerts []zapAlert `json:"alerts"`
}

type zapAlert struct {
	PluginID   string        `json:"pluginid"`
	AlertRef   string        `json:"alertRef"`
	Alert      string        `json:"alert"`
	Name       string        `json:"name"`
	RiskCode   string        `json:"riskcode"`
	Confidence string        `json:"confidence"`
	RiskDesc   string        `json:"riskdesc"`
	Desc       string        `json:"desc"`
	Instances  []zapInstance `json:"instances"`
	Count      string        `json:"count"`
	Solution   string        `json:"solution"`
	Reference  string        `json:"reference"`
	CWEID      string        `json:"cweid"`
	WASCID     string        `json:"wascid"`
}

type zapInstance struct {
	URI    string `json:"uri"`
	Method string `json:"method"`
	Param  string `json:"param"`
}

// ParseZAP reads a ZAP traditional JSON report. One finding per alert and site; its instances
// (URLs) are counted in Occurrences (from "count": ZAP lists at most 20 instances) and the first
// becomes URL. Severity is ZAP's riskcode
// ("0" informational to "3" high). Location is the site and the alert reference, so an alert
// that moves between pages of the same site stays one finding.
func ParseZAP(data []byte) (*Report, error) {
	var r zapReport
	if err := decode(ZAP, data, &r); err != nil {
		return nil, err
	}
	if r.Site == nil {
		return nil, missing(ZAP, "site")
	}
	if r.Version == nil {
		return nil, missing(ZAP, "@version")
	}
	rep := &Report{Tool: ZAP, Scanners: scanners("OWASP ZAP")}
	for si, s := range *r.Site {
		for i, a := range s.Alerts {
			ref := firstNonEmpty(a.AlertRef, a.PluginID)
			if ref == "" {
				return nil, invalid(ZAP, "site."+strconv.Itoa(si)+".alerts."+strconv.Itoa(i)+".pluginid", "missing: expected the alert's plugin id")
			}
			f := Finding{
				Scanner:     "OWASP ZAP",
				Category:    Web,
				RuleID:      ref,
				Location:    s.Name + " " + ref,
				Title:       htmlText(firstNonEmpty(a.Alert, a.Name)),
				Description: htmlText(a.Desc),
				Severity:    a.RiskCode,
				Target:      s.Name,
				CWEs:        cwes(a.CWEID),
				References:  refs(urls(a.Reference)...),
				Remediation: htmlText(a.Solution),
				Occurrences: zapCount(a),
			}
			if len(a.Instances) > 0 {
				in := a.Instances[0]
				f.URL = in.URI
				if in.Method != "" || in.Param != "" {
					f.Description += "\n\nFirst instance: " + strings.TrimSpace(in.Method+" "+in.URI)
					if in.Param != "" {
						f.Description += " (parameter " + in.Param + ")"
					}
				}
			}
			rep.Findings = append(rep.Findings, f)
		}
	}
	return finish(rep)
}

// zapCount is the number of instances of an alert: "count" when ZAP wrote it (the report lists
// only the first instances; ZAP 2.7 wrote count "525" next to 20 instances), else the list's
// length, and at least 1.
func zapCount(a zapAlert) int {
	n := len(a.Instances)
	if c, err := strconv.Atoi(strings.TrimSpace(a.Count)); err == nil && c > n {
		n = c
	}
	return max(1, n)
}

var tagRe = regexp.MustCompile(`<[^>]*>`)

// htmlText turns ZAP's HTML paragraphs into plain text.
func htmlText(s string) string {
	if !strings.Contains(s, "<") && !strings.Contains(s, "&") {
		return strings.TrimSpace(s)
	}
	s = strings.ReplaceAll(s, "</p><p>", "\n")
	s = tagRe.ReplaceAllString(s, "")
	return strings.TrimSpace(html.UnescapeString(s))
}

var urlRe = regexp.MustCompile(`https?://[^\s<>"']+`)

func urls(s string) []string { return urlRe.FindAllString(s, -1) }
