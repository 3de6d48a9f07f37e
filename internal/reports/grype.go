package reports

import "strings"

// grypeReport is Grype's JSON report (grype ... -o json).
type grypeReport struct {
	Matches    *[]grypeMatch `json:"matches"`
	Source     *grypeSource  `json:"source"`
	Descriptor *struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	} `json:"descriptor"`
}

type grypeSource struct {
	Type   string `json:"type"`
	Target any    `json:"target"` // a string for directories, an object for images
}

type grypeMatch struct {
	Vulnerability struct {
		ID          string      `json:"id"`
		DataSource  string      `json:"dataSource"`
		Namespace   string      `json:"namespace"`
		Severity    string      `json:"severity"`
		URLs        []string    `json:"urls"`
		Description string      `json:"description"`
		Cvss        []grypeCVSS `json:"cvss"`
		Fix         struct {
			Versions []string `json:"versions"`
			State    string   `json:"state"`
		} `json:"fix"`
	} `json:"vulnerability"`
	RelatedVulnerabilities []struct {
		ID          string      `json:"id"`
		Description string      `json:"description"`
		Severity    string      `json:"severity"`
		Cvss        []grypeCVSS `json:"cvss"`
	} `json:"relatedVulnerabilities"`
	Artifact struct {
		ID        string `json:"id"`
		Name      string `json:"name"`
		Version   string `json:"version"`
		Type      string `json:"type"`
		Locations []struct {
			Path    string `json:"path"`
			LayerID string `json:"layerID"`
		} `json:"locations"`
		PURL string `json:"purl"`
	} `json:"artifact"`
}

type grypeCVSS struct {
	Source  string `json:"source"`
	Type    string `json:"type"`
	Version string `json:"version"`
	Vector  string `json:"vector"`
	Metrics struct {
		BaseScore float64 `json:"baseScore"`
	} `json:"metrics"`
}

// ParseGrype reads a Grype JSON report. One finding per match. Severity is the vulnerability's
// "severity" (Critical, High, Medium, Low, Negligible, Unknown), or, when Grype matched an NVD
// record that NVD has not scored yet and so gives none, the first related advisory's. Location is the package@version
// and its first location path, which Grype reports relative to the scanned directory or as a
// path inside the image.
func ParseGrype(data []byte) (*Report, error) {
	var r grypeReport
	if err := decode(Grype, data, &r); err != nil {
		return nil, err
	}
	if r.Matches == nil {
		return nil, missing(Grype, "matches")
	}
	if r.Descriptor == nil {
		return nil, missing(Grype, "descriptor")
	}
	var image *Image
	target := ""
	if r.Source != nil {
		switch t := r.Source.Target.(type) {
		case string:
			target = t
		case map[string]any:
			name, _ := t["userInput"].(string)
			digest, _ := t["manifestDigest"].(string)
			if r.Source.Type == "image" {
				image = &Image{Name: name, Digest: digest}
				if tags, ok := t["tags"].([]any); ok {
					for _, tag := range tags {
						if s, ok := tag.(string); ok {
							image.Tags = append(image.Tags, s)
						}
					}
				}
			}
			target = name
		}
	}
	rep := &Report{Tool: Grype, Scanners: scanners("Grype")}
	for _, m := range *r.Matches {
		v, a := m.Vulnerability, m.Artifact
		path := ""
		if len(a.Locations) > 0 {
			path = RelPath(strings.TrimPrefix(a.Locations[0].Path, "/"))
			if image != nil {
				path = "/" + path
			}
		}
		f := Finding{
			Scanner:          "Grype",
			Category:         Package,
			RuleID:           v.ID,
			Location:         pkgAt(a.Name, a.Version) + " " + path,
			Title:            v.ID + " in " + pkgAt(a.Name, a.Version),
			Description:      v.Description,
			Severity:         v.Severity,
			Package:          a.Name,
			InstalledVersion: a.Version,
			PackageManager:   a.Type,
			PURL:             a.PURL,
			File:             path,
			Target:           target,
			Image:            image,
			References:       refs(append([]string{v.DataSource}, v.URLs...)...),
		}
		f.Score, f.CVSSVector, f.CVSSVersion = grypeScore(v.Cvss)
		// Distro advisories often carry no text, and an unscored NVD record no severity; the
		// related records do.
		for _, rv := range m.RelatedVulnerabilities {
			if f.Description == "" {
				f.Description = rv.Description
			}
			if strings.TrimSpace(f.Severity) == "" {
				f.Severity = rv.Severity
			}
			if f.Score == 0 {
				f.Score, f.CVSSVector, f.CVSSVersion = grypeScore(rv.Cvss)
			}
		}
		if v.Fix.State == "fixed" && len(v.Fix.Versions) > 0 {
			f.FixedVersion = strings.Join(v.Fix.Versions, ", ")
			f.Remediation = "Upgrade " + a.Name + " to " + v.Fix.Versions[0] + " or later."
		}
		if f.RuleID == "" {
			return nil, invalid(Grype, "matches.vulnerability.id", "missing: expected the vulnerability id")
		}
		rep.Findings = append(rep.Findings, f)
	}
	return finish(rep)
}

// grypeScore is the highest primary base score of a CVSS list, with its vector and version.
func grypeScore(list []grypeCVSS) (score float64, vector, version string) {
	for _, c := range list {
		if c.Metrics.BaseScore > score && (c.Type == "" || c.Type == "Primary") {
			score, vector, version = c.Metrics.BaseScore, c.Vector, c.Version
		}
	}
	return score, vector, version
}
