package reports

import "strconv"

// anchoreReport is the legacy Anchore Engine vulnerability report: `anchore-cli --json image
// vuln IMAGE all` or GET /v1/images/{digest}/vuln/all, which name the digest imageDigest, and
// the same report of Anchore Engine 1.x / Enterprise 4.x (API v2), which names it image_digest
// and adds base_digest, imageFullTag and a per-vulnerability extra.description.
type anchoreReport struct {
	ImageDigest       *string                 `json:"imageDigest"`
	ImageDigestV2     *string                 `json:"image_digest"`
	ImageFullTag      string                  `json:"imageFullTag"`
	VulnerabilityType string                  `json:"vulnerability_type"`
	Vulnerabilities   *[]anchoreVulnerability `json:"vulnerabilities"`
}

type anchoreVulnerability struct {
	Feed      string `json:"feed"`
	FeedGroup string `json:"feed_group"`
	Fix       string `json:"fix"`
	NVDData   []struct {
		ID     string `json:"id"`
		CVSSv2 struct {
			BaseScore float64 `json:"base_score"`
		} `json:"cvss_v2"`
		CVSSv3 struct {
			BaseScore float64 `json:"base_score"`
		} `json:"cvss_v3"`
	} `json:"nvd_data"`
	Package        string `json:"package"`
	PackageName    string `json:"package_name"`
	PackagePath    string `json:"package_path"`
	PackageType    string `json:"package_type"`
	PackageVersion string `json:"package_version"`
	Severity       string `json:"severity"`
	URL            string `json:"url"`
	Vuln           string `json:"vuln"`
	WillNotFix     bool   `json:"will_not_fix"`
	Extra          struct {
		Description string `json:"description"`
	} `json:"extra"`
}

// ParseAnchore reads a legacy Anchore Engine vulnerability report. One finding per
// vulnerability and package. Severity is "severity" (Critical, High, Medium, Low, Negligible,
// Unknown). Location is the package (name-version) and its path in the image; the image digest
// is kept on the finding's Image but not in its Location, so a rebuilt image updates the same
// findings.
func ParseAnchore(data []byte) (*Report, error) {
	var r anchoreReport
	if err := decode(Anchore, data, &r); err != nil {
		return nil, err
	}
	if r.ImageDigest == nil {
		r.ImageDigest = r.ImageDigestV2
	}
	if r.ImageDigest == nil {
		return nil, missing(Anchore, "imageDigest")
	}
	if r.Vulnerabilities == nil {
		return nil, missing(Anchore, "vulnerabilities")
	}
	image := &Image{Digest: *r.ImageDigest, Name: r.ImageFullTag}
	rep := &Report{Tool: Anchore, Scanners: scanners("Anchore")}
	for i, v := range *r.Vulnerabilities {
		if v.Vuln == "" {
			return nil, missing(Anchore, "vulnerabilities."+strconv.Itoa(i)+".vuln")
		}
		name := firstNonEmpty(v.PackageName, v.Package)
		f := Finding{
			Scanner:          "Anchore",
			Category:         Package,
			RuleID:           v.Vuln,
			Location:         firstNonEmpty(v.Package, pkgAt(name, v.PackageVersion)) + " " + v.PackagePath,
			Title:            v.Vuln + " in " + pkgAt(name, v.PackageVersion),
			Description:      firstNonEmpty(v.Extra.Description, v.Vuln+" affects "+pkgAt(name, v.PackageVersion)+" ("+v.PackageType+", feed "+v.FeedGroup+")."),
			Severity:         v.Severity,
			Package:          name,
			InstalledVersion: v.PackageVersion,
			PackageManager:   v.PackageType,
			File:             v.PackagePath,
			Image:            image,
			References:       refs(v.URL),
		}
		for _, n := range v.NVDData {
			if n.CVSSv3.BaseScore > f.Score {
				f.Score, f.CVSSVersion = n.CVSSv3.BaseScore, "3.1"
			} else if f.Score == 0 && n.CVSSv2.BaseScore > 0 {
				f.Score, f.CVSSVersion = n.CVSSv2.BaseScore, "2.0"
			}
		}
		if v.Fix != "" && v.Fix != "None" {
			f.FixedVersion = v.Fix
			f.Remediation = "Upgrade " + name + " to " + v.Fix + "."
		} else if v.WillNotFix {
			f.Remediation = "The distribution will not fix this vulnerability; consider another base image."
		}
		rep.Findings = append(rep.Findings, f)
	}
	return finish(rep)
}
