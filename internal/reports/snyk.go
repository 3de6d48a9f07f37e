package reports

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// snykProject is the JSON of `snyk test --json` and `snyk container test --json` for one
// project; --all-projects prints an array of them, and a container test nests the image's
// application projects under "applications".
type snykProject struct {
	OK                *bool               `json:"ok"`
	Error             string              `json:"error"`
	Vulnerabilities   []snykVulnerability `json:"vulnerabilities"`
	PackageManager    string              `json:"packageManager"`
	ProjectName       string              `json:"projectName"`
	DisplayTargetFile string              `json:"displayTargetFile"`
	TargetFile        string              `json:"targetFile"`
	Path              string              `json:"path"`
	Docker            *struct {
		BaseImage string `json:"baseImage"`
	} `json:"docker"`
	Applications []snykProject `json:"applications"`
	// Runs is present when the document is SARIF: `snyk code test --json` writes SARIF, not
	// this format.
	Runs json.RawMessage `json:"runs"`
}

type snykVulnerability struct {
	ID             string            `json:"id"`
	Title          string            `json:"title"`
	Description    string            `json:"description"`
	Severity       string            `json:"severity"`
	CVSSv3         string            `json:"CVSSv3"`
	CVSSScore      *float64          `json:"cvssScore"`
	Identifiers    map[string]idList `json:"identifiers"`
	PackageName    string            `json:"packageName"`
	Name           string            `json:"name"`
	Version        string            `json:"version"`
	FixedIn        []string          `json:"fixedIn"`
	NearestFixedIn string            `json:"nearestFixedInVersion"`
	From           []string          `json:"from"`
	Type           string            `json:"type"`
	References     []struct {
		Title string `json:"title"`
		URL   string `json:"url"`
	} `json:"references"`
	IsUpgradable bool `json:"isUpgradable"`
}

// ParseSnyk reads Snyk CLI JSON: open-source (`snyk test --json`, one project or the
// --all-projects array) and container (`snyk container test --json`, with its "applications").
// Snyk lists a vulnerability once per dependency path; those become one finding with the
// paths counted in Occurrences. Severity is "severity" (critical, high, medium, low). Location
// is the manifest (or image) and package@version. A Snyk error document ({"ok":false,
// "error":...}) is an error, not an empty report.
func ParseSnyk(data []byte) (*Report, error) {
	var projects []snykProject
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '[' {
		if err := decode(Snyk, data, &projects); err != nil {
			return nil, err
		}
		if len(projects) == 0 {
			return nil, invalid(Snyk, "0", "empty array: expected at least one project (snyk test --all-projects --json prints one object per project)")
		}
	} else {
		var one snykProject
		if err := decode(Snyk, data, &one); err != nil {
			return nil, err
		}
		projects = []snykProject{one}
	}
	rep := &Report{Tool: Snyk, Scanners: scanners("Snyk")}
	index := map[string]int{} // id+location → finding index, to fold dependency paths
	var walk func(path string, p snykProject, image *Image) error
	walk = func(path string, p snykProject, image *Image) error {
		if p.Error != "" {
			return invalid(Snyk, path+"error", "Snyk reported an error instead of results: "+p.Error)
		}
		if p.OK == nil && len(p.Runs) > 0 {
			return invalid(Snyk, path+"ok", "missing: this is a SARIF log (snyk code test writes SARIF): convert it with --tool sarif")
		}
		if p.OK == nil {
			return missing(Snyk, path+"ok")
		}
		if p.Docker != nil && image == nil {
			image = &Image{Name: p.Path}
		}
		target := RelPath(firstNonEmpty(p.DisplayTargetFile, p.TargetFile, p.ProjectName, p.Path))
		for _, v := range p.Vulnerabilities {
			name := firstNonEmpty(v.PackageName, v.Name)
			where := target + " " + pkgAt(name, v.Version)
			if i, ok := index[v.ID+"\x00"+where]; ok {
				rep.Findings[i].Occurrences++
				continue
			}
			cat := Package
			if v.Type == "license" {
				cat = License
			}
			f := Finding{
				Scanner:          "Snyk",
				Category:         cat,
				RuleID:           v.ID,
				Location:         where,
				Title:            v.Title + " in " + pkgAt(name, v.Version),
				Description:      v.Description,
				Severity:         v.Severity,
				CVSSVector:       v.CVSSv3,
				Package:          name,
				InstalledVersion: v.Version,
				PackageManager:   p.PackageManager,
				Target:           target,
				Image:            image,
				CWEs:             cwes(v.Identifiers["CWE"]...),
				References:       refs(append([]string{"https://security.snyk.io/vuln/" + v.ID}, snykRefs(v)...)...),
				Occurrences:      1,
			}
			if v.CVSSScore != nil {
				f.Score, f.CVSSVersion = *v.CVSSScore, cvssVersion(v.CVSSv3)
			}
			if cves := v.Identifiers["CVE"]; len(cves) > 0 {
				f.Title = strings.Join(cves, ", ") + " (" + v.Title + ") in " + pkgAt(name, v.Version)
			}
			if fix := firstNonEmpty(v.NearestFixedIn, strings.Join(v.FixedIn, ", ")); fix != "" {
				f.FixedVersion = fix
				f.Remediation = "Upgrade " + name + " to " + fix + "."
			}
			if len(v.From) > 1 {
				f.Description += "\n\nIntroduced through: " + strings.Join(v.From, " > ")
			}
			if v.ID == "" {
				return errMissingID(path)
			}
			index[v.ID+"\x00"+where] = len(rep.Findings)
			rep.Findings = append(rep.Findings, f)
		}
		for i, app := range p.Applications {
			if err := walk(path+"applications."+strconv.Itoa(i)+".", app, image); err != nil {
				return err
			}
		}
		return nil
	}
	for i, p := range projects {
		prefix := ""
		if len(projects) > 1 || (len(data) > 0 && bytes.TrimSpace(data)[0] == '[') {
			prefix = strconv.Itoa(i) + "."
		}
		if err := walk(prefix, p, nil); err != nil {
			return nil, err
		}
	}
	return finish(rep)
}

// idList is one kind of Snyk identifiers. Most are strings ("CVE-2021-23337"), but Snyk writes
// the old Node Security Project ids as numbers ("NSP": [1673]), so numbers are kept as text.
type idList []string

func (l *idList) UnmarshalJSON(b []byte) error {
	var raw []any
	if json.Unmarshal(b, &raw) != nil {
		// A lone value where a list belongs: identifiers are references, not worth rejecting a
		// report over.
		*l = nil
		return nil
	}
	out := make([]string, 0, len(raw))
	for _, v := range raw {
		switch v := v.(type) {
		case string:
			out = append(out, v)
		case float64:
			out = append(out, strconv.FormatFloat(v, 'f', -1, 64))
		}
	}
	*l = out
	return nil
}

func errMissingID(path string) error {
	return missing(Snyk, path+"vulnerabilities.id")
}

func snykRefs(v snykVulnerability) []string {
	out := make([]string, 0, len(v.References))
	for _, r := range v.References {
		out = append(out, r.URL)
	}
	return out
}

// cvssVersion reads the version from a vector such as "CVSS:3.1/AV:N/...".
func cvssVersion(vector string) string {
	if v, ok := strings.CutPrefix(vector, "CVSS:"); ok {
		if i := strings.IndexByte(v, '/'); i > 0 {
			return v[:i]
		}
	}
	return ""
}
