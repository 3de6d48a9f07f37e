package reports

import (
	"strconv"
	"strings"
)

// trivyReport is Trivy's JSON report (trivy fs|image|config|repo --format json),
// SchemaVersion 2. `trivy k8s --format json` writes no SchemaVersion but a ClusterName and one
// Results list per Kubernetes resource: under Resources since Trivy 0.45, split into
// Vulnerabilities and Misconfigurations before.
type trivyReport struct {
	SchemaVersion *int               `json:"SchemaVersion"`
	ArtifactName  string             `json:"ArtifactName"`
	ArtifactType  string             `json:"ArtifactType"`
	Metadata      trivyMetadata      `json:"Metadata"`
	Results       []trivyResult      `json:"Results"`
	ClusterName   *string            `json:"ClusterName"`
	Resources     []trivyK8sResource `json:"Resources"`
	K8sVulns      []trivyK8sResource `json:"Vulnerabilities"`
	K8sMisconfigs []trivyK8sResource `json:"Misconfigurations"`
}

type trivyK8sResource struct {
	Namespace string        `json:"Namespace"`
	Kind      string        `json:"Kind"`
	Name      string        `json:"Name"`
	Results   []trivyResult `json:"Results"`
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
	Licenses          []trivyLicense       `json:"Licenses"`
}

// trivyLicense is a license the license scanner (--scanners license) classified: Category is
// forbidden, restricted, reciprocal, notice, permissive or unencumbered, and Severity follows
// from it.
type trivyLicense struct {
	Severity string `json:"Severity"`
	Category string `json:"Category"`
	PkgName  string `json:"PkgName"`
	FilePath string `json:"FilePath"`
	Name     string `json:"Name"`
	Link     string `json:"Link"`
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

// ParseTrivy reads a Trivy JSON report (SchemaVersion 2, or a `trivy k8s` report):
// vulnerabilities, misconfigurations (only those with Status FAIL), secrets and classified
// licenses of every result. Severity is Trivy's "Severity" (CRITICAL, HIGH, MEDIUM, LOW,
// UNKNOWN). Location is the result target and package@version, plus the package's path when
// Trivy gives one (the same jar can sit in two places of an image); for the OS packages of an
// image scan it is the OS package type instead of the target, whose name carries the image tag
// and so changes on every build. In a Kubernetes report every location starts with the
// resource's namespace, kind and name.
func ParseTrivy(data []byte) (*Report, error) {
	var r trivyReport
	if err := decode(Trivy, data, &r); err != nil {
		return nil, err
	}
	rep := &Report{Tool: Trivy, Scanners: scanners("Trivy")}
	if r.SchemaVersion == nil && r.ClusterName != nil {
		for _, list := range [][]trivyK8sResource{r.Resources, r.K8sVulns, r.K8sMisconfigs} {
			for _, k := range list {
				trivyResults(rep, k.Results, nil, strings.Trim(k.Namespace+"/"+k.Kind+"/"+k.Name, "/")+" ")
			}
		}
		return finish(rep)
	}
	if r.SchemaVersion == nil {
		return nil, missing(Trivy, "SchemaVersion")
	}
	if *r.SchemaVersion != 2 {
		return nil, invalid(Trivy, "SchemaVersion", "got "+strconv.Itoa(*r.SchemaVersion)+": expected 2 (this parser reads Trivy JSON SchemaVersion 2)")
	}
	var image *Image
	if r.ArtifactType == "container_image" {
		// ArtifactName is empty for some inputs (an image archive), and RepoTags and
		// RepoDigests then hold empty strings; the image ID still names the image.
		tags := nonEmpty(r.Metadata.RepoTags)
		image = &Image{Name: r.ArtifactName, Tags: tags, Digest: r.Metadata.ImageID}
		if image.Name == "" && len(tags) > 0 {
			image.Name = tags[0]
		}
		for _, rd := range r.Metadata.RepoDigests {
			if _, d, ok := cutLast(rd, "@"); ok && d != "" {
				image.Digest = d
				break
			}
		}
	}
	trivyResults(rep, r.Results, image, "")
	return finish(rep)
}

// trivyResults appends the findings of results to rep; prefix starts every location.
func trivyResults(rep *Report, results []trivyResult, image *Image, prefix string) {
	for _, res := range results {
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
				Location:         prefix + where + " " + strings.TrimSpace(pkgAt(v.PkgName, v.InstalledVersion)+" "+v.PkgPath),
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
				Location:    prefix + strings.TrimSpace(lineLoc(target, m.CauseMetadata.StartLine)+" "+m.CauseMetadata.Resource),
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
				Location:    prefix + lineLoc(target, s.StartLine),
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
		for _, l := range res.Licenses {
			subject := firstNonEmpty(l.PkgName, RelPath(l.FilePath), target)
			rep.Findings = append(rep.Findings, Finding{
				Scanner:     "Trivy",
				Category:    License,
				RuleID:      l.Name,
				Location:    prefix + target + " " + subject,
				Title:       "License " + l.Name + " (" + l.Category + ") in " + subject,
				Description: subject + " is licensed under " + l.Name + ", which Trivy classifies as " + l.Category + ".",
				Severity:    l.Severity,
				Package:     l.PkgName,
				File:        RelPath(l.FilePath),
				Target:      target,
				Image:       image,
				References:  refs(l.Link),
			})
		}
	}
}

// nonEmpty is list without its blank strings.
func nonEmpty(list []string) []string {
	var out []string
	for _, s := range list {
		if strings.TrimSpace(s) != "" {
			out = append(out, s)
		}
	}
	return out
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
