package reports

import (
	"strings"
)

// dcReport is OWASP Dependency-Check's JSON report (--format JSON, reportSchema "1.1").
type dcReport struct {
	ReportSchema *string `json:"reportSchema"`
	ScanInfo     struct {
		EngineVersion string `json:"engineVersion"`
	} `json:"scanInfo"`
	Dependencies *[]dcDependency `json:"dependencies"`
}

type dcDependency struct {
	IsVirtual bool   `json:"isVirtual"`
	FileName  string `json:"fileName"`
	FilePath  string `json:"filePath"`
	Packages  []struct {
		ID  string `json:"id"`
		URL string `json:"url"`
	} `json:"packages"`
	Vulnerabilities []dcVulnerability `json:"vulnerabilities"`
}

type dcVulnerability struct {
	Source   string `json:"source"`
	Name     string `json:"name"`
	Severity string `json:"severity"`
	Unscored string `json:"unscored"`
	CVSSv2   *struct {
		Score    float64 `json:"score"`
		Severity string  `json:"severity"`
		Version  string  `json:"version"`
	} `json:"cvssv2"`
	CVSSv3 *struct {
		BaseScore    float64 `json:"baseScore"`
		BaseSeverity string  `json:"baseSeverity"`
		Version      string  `json:"version"`
	} `json:"cvssv3"`
	CVSSv4 *struct {
		VectorString string  `json:"vectorString"`
		Version      string  `json:"version"`
		BaseScore    float64 `json:"baseScore"`
		BaseSeverity string  `json:"baseSeverity"`
	} `json:"cvssv4"`
	CWEs        []string `json:"cwes"`
	Description string   `json:"description"`
	References  []struct {
		Source string `json:"source"`
		URL    string `json:"url"`
		Name   string `json:"name"`
	} `json:"references"`
	VulnerableSoftware []struct {
		Software struct {
			ID                     string `json:"id"`
			VulnerabilityIDMatched string `json:"vulnerabilityIdMatched"`
			VersionEndExcluding    string `json:"versionEndExcluding"`
			VersionEndIncluding    string `json:"versionEndIncluding"`
		} `json:"software"`
	} `json:"vulnerableSoftware"`
}

// ParseDependencyCheck reads an OWASP Dependency-Check JSON report. One finding per
// vulnerability of each dependency. Severity is the vulnerability's "severity" (the CVSS v4, v3
// or v2 base severity, or the unscored severity of NPM/OSS Index advisories: "moderate",
// "Unknown"...). Location is the dependency's package URL, or its repository-relative path
// when it has none: the absolute filePath differs on every CodeBuild build.
func ParseDependencyCheck(data []byte) (*Report, error) {
	var r dcReport
	if err := decode(DependencyCheck, data, &r); err != nil {
		return nil, err
	}
	if r.ReportSchema == nil {
		return nil, missing(DependencyCheck, "reportSchema")
	}
	if r.Dependencies == nil {
		return nil, missing(DependencyCheck, "dependencies")
	}
	rep := &Report{Tool: DependencyCheck, Scanners: scanners("OWASP Dependency-Check")}
	for _, d := range *r.Dependencies {
		if len(d.Vulnerabilities) == 0 {
			continue
		}
		purl := ""
		if len(d.Packages) > 0 {
			purl = d.Packages[0].ID
		}
		name, version := purlNameVersion(purl)
		if name == "" {
			name = d.FileName
		}
		file := RelPath(d.FilePath)
		where := firstNonEmpty(purl, file, d.FileName)
		for _, v := range d.Vulnerabilities {
			f := Finding{
				Scanner:          "OWASP Dependency-Check",
				Category:         Package,
				RuleID:           v.Name,
				Location:         where,
				Title:            v.Name + " in " + pkgAt(name, version),
				Description:      v.Description,
				Severity:         v.Severity,
				File:             file,
				Package:          name,
				InstalledVersion: version,
				PURL:             purl,
				Target:           d.FileName,
				CWEs:             cwes(v.CWEs...),
			}
			if strings.TrimSpace(f.Severity) == "" {
				// Reports written before "severity" existed, or by an analyzer that left it
				// out, still rate the vulnerability in its CVSS blocks.
				f.Severity = dcCVSSSeverity(v)
			}
			switch {
			case v.CVSSv4 != nil && v.CVSSv4.BaseScore > 0:
				f.Score, f.CVSSVector, f.CVSSVersion = v.CVSSv4.BaseScore, v.CVSSv4.VectorString, firstNonEmpty(v.CVSSv4.Version, "4.0")
			case v.CVSSv3 != nil:
				f.Score, f.CVSSVersion = v.CVSSv3.BaseScore, firstNonEmpty(v.CVSSv3.Version, "3.1")
			case v.CVSSv2 != nil:
				f.Score, f.CVSSVersion = v.CVSSv2.Score, firstNonEmpty(v.CVSSv2.Version, "2.0")
			}
			var links []string
			for _, ref := range v.References {
				links = append(links, ref.URL)
			}
			f.References = refs(links...)
			for _, vs := range v.VulnerableSoftware {
				if vs.Software.VulnerabilityIDMatched == "true" && vs.Software.VersionEndExcluding != "" {
					f.FixedVersion = vs.Software.VersionEndExcluding
					f.Remediation = "Upgrade " + name + " to " + vs.Software.VersionEndExcluding + " or later."
				}
			}
			if f.RuleID == "" {
				return nil, invalid(DependencyCheck, "dependencies["+d.FileName+"].vulnerabilities.name", "missing: expected the vulnerability id")
			}
			rep.Findings = append(rep.Findings, f)
		}
	}
	return finish(rep)
}

// dcCVSSSeverity is the base severity of the newest CVSS version the vulnerability has.
func dcCVSSSeverity(v dcVulnerability) string {
	switch {
	case v.CVSSv4 != nil && v.CVSSv4.BaseSeverity != "":
		return v.CVSSv4.BaseSeverity
	case v.CVSSv3 != nil && v.CVSSv3.BaseSeverity != "":
		return v.CVSSv3.BaseSeverity
	case v.CVSSv2 != nil:
		return v.CVSSv2.Severity
	}
	return ""
}

// purlNameVersion splits "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?type=jar" into
// "org.apache.logging.log4j/log4j-core" and "2.14.1".
func purlNameVersion(purl string) (name, version string) {
	if !strings.HasPrefix(purl, "pkg:") {
		return "", ""
	}
	p := strings.TrimPrefix(purl, "pkg:")
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	if i := strings.IndexByte(p, '/'); i >= 0 {
		p = p[i+1:]
	}
	name, version, _ = strings.Cut(p, "@")
	return name, version
}
