package reports

import (
	"strconv"
	"strings"
)

// trivyReport is Trivy's JSON report (trivy fs|image|config --format json), SchemaVersion 2.
type trivyReport struct {
	SchemaVersion *int          `json:"SchemaVersion"`
	ArtifactName  string        `json:"ArtifactName"`
	ArtifactType  string        `json:"ArtifactType"`
	Metadata      trivyMetadata `json:"Metadata"`
	Results       []trivyResult `json:"Results"`
}

type trivyMetadata struct {
	ImageID     string   `json:"ImageID"`
	RepoTags    []string `json:"RepoTags"`
	RepoDigests []string `json:"RepoDigests"`
}

type trivyResult struct {
	Target            string               `json:"Target"`
	Class             string               `json:"Class"`
	Type              string               `json:"Type"`
	Vulnerabilities   []trivyVulnerability `json:"Vulnerabilities"`
	Misconfigurations []trivyMisconfig     `json:"Misconfigurations"`
	Secrets           []trivySecret        `json:"Secrets"`
}

type trivyVulnerability struct {
	VulnerabilityID string `json:"VulnerabilityID"`
	PkgID           string `json:"PkgID"`
	PkgName         string `json:"PkgName"`
	PkgPath         string `json:"PkgPath"`
	PkgIdentifier   struct {
		PURL string `json:"PURL"`
	} `json:"PkgIdentifier"`
	InstalledVersion string               `json:"InstalledVersion"`
	FixedVersion     string               `json:"FixedVersion"`
	Status           string               `json:"Status"`
	SeveritySource   string               `json:"SeveritySource"`
	PrimaryURL       string               `json:"PrimaryURL"`
	Title            string               `json:"Title"`
	Description      string               `json:"Description"`
	Severity         string               `json:"Severity"`
	CweIDs           []string             `json:"CweIDs"`
	CVSS             map[string]trivyCVSS `json:"CVSS"`
	References       []string             `json:"References"`
}

type trivyCVSS struct {
	V2Vector  string  `json:"V2Vector"`
	V3Vector  string  `json:"V3Vector"`
	V2Score   float64 `json:"V2Score"`
	V3Score   float64 `json:"V3Score"`
	V40Vector string  `json:"V40Vector"`
	V40Score  float64 `json:"V40Score"`
}

type trivyMisconfig struct {
	ID            string   `json:"ID"`
	AVDID         string   `json:"AVDID"`
	Title         string   `json:"Title"`
	Description   string   `json:"Description"`
	Message       string   `json:"Message"`
	Resolution    string   `json:"Resolution"`
	Severity      string   `json:"Severity"`
	PrimaryURL    string   `json:"PrimaryURL"`
	References    []string `json:"References"`
	Status        string   `json:"Status"`
	CauseMetadata struct {
		Resource  string `json:"Resource"`
		StartLine int    `json:"StartLine"`
		EndLine   int    `json:"EndLine"`
	} `json:"CauseMetadata"`
}

type trivySecret struct {
	RuleID    string `json:"RuleID"`
	Category  string `json:"Category"`
	Severity  string `json:"Severity"`
	Title     string `json:"Title"`
	StartLine int    `json:"StartLine"`
	EndLine   int    `json:"EndLine"`
	// Match is deliberately not read: it holds the secret (partly masked at best).
}

// ParseTrivy reads a Trivy JSON report (SchemaVersion 2): vulnerabilities, misconfigurations
// (only those with Status FAIL) and secrets of every result. Severity is Trivy's "Severity"
// (CRITICAL, HIGH, MEDIUM, LOW, UNKNOWN). Location is the result target and package@version;
// for the OS packages of an image scan it is the OS package type instead of the target, whose
// name carries the image tag and so changes on every build.
func ParseTrivy(data []byte) (*Report, error) {
	var r trivyReport
	if err := decode(Trivy, data, &r); err != nil {
		return nil, err
	}
	if r.SchemaVersion == nil {
		return nil, missing(Trivy, "SchemaVersion")
	}
	if *r.SchemaVersion != 2 {
		return nil, invalid(Trivy, "SchemaVersion", "got "+strconv.Itoa(*r.SchemaVersion)+": expected 2 (this parser reads Trivy JSON SchemaVersion 2)")
	}
	var image *Image
	if r.ArtifactType == "container_image" {
		image = &Image{Name: r.ArtifactName, Tags: r.Metadata.RepoTags}
		if len(r.Metadata.RepoDigests) > 0 {
			if _, d, ok := cutLast(r.Metadata.RepoDigests[0], "@"); ok {
				image.Digest = d
			}
		}
	}
	rep := &Report{Tool: Trivy, Scanners: scanners("Trivy")}
	for _, res := range r.Results {
		target := RelPath(res.Target)
		where, file := target, target
		if res.Class == "os-pkgs" {
			// An OS package result's target is the image or host, not a file.
			file = ""
			if image != nil {
				where = "os-pkgs:" + res.Type
			}
		}
		for _, v := range res.Vulnerabilities {
			f := Finding{
				Scanner:          "Trivy",
				Category:         Package,
				RuleID:           v.VulnerabilityID,
				Location:         where + " " + pkgAt(v.PkgName, v.InstalledVersion),
				Title:            v.VulnerabilityID + " in " + pkgAt(v.PkgName, v.InstalledVersion),
				Description:      v.Description,
				Severity:         v.Severity,
				Package:          v.PkgName,
				InstalledVersion: v.InstalledVersion,
				FixedVersion:     v.FixedVersion,
				PackageManager:   res.Type,
				PURL:             v.PkgIdentifier.PURL,
				File:             RelPath(firstNonEmpty(v.PkgPath, file)),
				Target:           target,
				Image:            image,
				CWEs:             cwes(v.CweIDs...),
				References:       refs(append([]string{v.PrimaryURL}, v.References...)...),
			}
			if v.Title != "" {
				f.Title += ": " + v.Title
			}
			if v.FixedVersion != "" {
				f.Remediation = "Upgrade " + v.PkgName + " to " + v.FixedVersion + "."
			}
			// The score of the source that gave the severity, else NVD's.
			for _, src := range []string{v.SeveritySource, "nvd"} {
				if c, ok := v.CVSS[src]; ok {
					switch {
					case c.V40Score > 0:
						f.Score, f.CVSSVector, f.CVSSVersion = c.V40Score, c.V40Vector, "4.0"
					case c.V3Score > 0:
						f.Score, f.CVSSVector, f.CVSSVersion = c.V3Score, c.V3Vector, "3.1"
					case c.V2Score > 0:
						f.Score, f.CVSSVector, f.CVSSVersion = c.V2Score, c.V2Vector, "2.0"
					}
					break
				}
			}
			rep.Findings = append(rep.Findings, f)
		}
		for _, m := range res.Misconfigurations {
			if m.Status != "" && m.Status != "FAIL" {
				continue
			}
			id := firstNonEmpty(m.AVDID, m.ID)
			rep.Findings = append(rep.Findings, Finding{
				Scanner:     "Trivy",
				Category:    Config,
				RuleID:      id,
				Location:    strings.TrimSpace(lineLoc(target, m.CauseMetadata.StartLine) + " " + m.CauseMetadata.Resource),
				Title:       id + ": " + m.Title,
				Description: firstNonEmpty(m.Message, m.Description),
				Severity:    m.Severity,
				File:        target,
				StartLine:   m.CauseMetadata.StartLine,
				EndLine:     m.CauseMetadata.EndLine,
				Target:      target,
				Image:       image,
				References:  refs(append([]string{m.PrimaryURL}, m.References...)...),
				Remediation: m.Resolution,
			})
		}
		for _, s := range res.Secrets {
			rep.Findings = append(rep.Findings, Finding{
				Scanner:     "Trivy",
				Category:    Secret,
				RuleID:      s.RuleID,
				Location:    lineLoc(target, s.StartLine),
				Title:       firstNonEmpty(s.Title, s.RuleID) + " in " + lineLoc(target, s.StartLine),
				Description: "A " + firstNonEmpty(s.Category, "secret") + " secret matched rule " + s.RuleID + ". The secret itself is not copied into the finding.",
				Severity:    s.Severity,
				File:        target,
				StartLine:   s.StartLine,
				EndLine:     s.EndLine,
				Target:      target,
				Image:       image,
				Remediation: "Revoke and rotate the credential, then remove it from the repository history.",
			})
		}
	}
	return finish(rep)
}

// cutLast is strings.Cut at the last sep.
func cutLast(s, sep string) (before, after string, found bool) {
	for i := len(s) - len(sep); i >= 0; i-- {
		if s[i:i+len(sep)] == sep {
			return s[:i], s[i+len(sep):], true
		}
	}
	return s, "", false
}
