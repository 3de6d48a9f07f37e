package reports

import (
	"strconv"
	"strings"
)

// ecrResponse is the response of ECR DescribeImageScanFindings (`aws ecr
// describe-image-scan-findings --output json`), for basic scanning ("findings") and enhanced
// scanning with Amazon Inspector ("enhancedFindings").
type ecrResponse struct {
	RegistryID     string `json:"registryId"`
	RepositoryName string `json:"repositoryName"`
	ImageID        struct {
		ImageDigest string `json:"imageDigest"`
		ImageTag    string `json:"imageTag"`
	} `json:"imageId"`
	ImageScanStatus *struct {
		Status      string `json:"status"`
		Description string `json:"description"`
	} `json:"imageScanStatus"`
	ImageScanFindings *struct {
		Findings         []ecrBasicFinding    `json:"findings"`
		EnhancedFindings []ecrEnhancedFinding `json:"enhancedFindings"`
	} `json:"imageScanFindings"`
}

type ecrBasicFinding struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	URI         string `json:"uri"`
	Severity    string `json:"severity"`
	Attributes  []struct {
		Key   string `json:"key"`
		Value string `json:"value"`
	} `json:"attributes"`
}

type ecrEnhancedFinding struct {
	AwsAccountID                string `json:"awsAccountId"`
	Description                 string `json:"description"`
	FindingArn                  string `json:"findingArn"`
	PackageVulnerabilityDetails struct {
		Cvss []struct {
			BaseScore     float64 `json:"baseScore"`
			ScoringVector string  `json:"scoringVector"`
			Source        string  `json:"source"`
			Version       string  `json:"version"`
		} `json:"cvss"`
		ReferenceUrls      []string `json:"referenceUrls"`
		Source             string   `json:"source"`
		SourceURL          string   `json:"sourceUrl"`
		VendorSeverity     string   `json:"vendorSeverity"`
		VulnerabilityID    string   `json:"vulnerabilityId"`
		VulnerablePackages []struct {
			Name           string `json:"name"`
			Version        string `json:"version"`
			Release        string `json:"release"`
			PackageManager string `json:"packageManager"`
			FilePath       string `json:"filePath"`
			FixedInVersion string `json:"fixedInVersion"`
		} `json:"vulnerablePackages"`
	} `json:"packageVulnerabilityDetails"`
	Remediation struct {
		Recommendation struct {
			Text string `json:"text"`
			URL  string `json:"url"`
		} `json:"recommendation"`
	} `json:"remediation"`
	Resources []struct {
		Details struct {
			AwsEcrContainerImage struct {
				ImageHash string   `json:"imageHash"`
				ImageTags []string `json:"imageTags"`
			} `json:"awsEcrContainerImage"`
		} `json:"details"`
	} `json:"resources"`
	Score    float64 `json:"score"`
	Severity string  `json:"severity"`
	Status   string  `json:"status"`
	Title    string  `json:"title"`
	Type     string  `json:"type"`
}

// ParseECR reads an ECR DescribeImageScanFindings response, basic or enhanced. A scan that is
// not COMPLETE is an error, because "no findings yet" must not pass a severity gate. Severity is
// "severity" (CRITICAL, HIGH, MEDIUM, LOW, INFORMATIONAL, UNDEFINED; enhanced adds UNTRIAGED).
// Location is the repository and package@version: a new image of the same repository updates
// the same findings. Enhanced findings that Inspector already CLOSED are skipped.
func ParseECR(data []byte) (*Report, error) {
	var r ecrResponse
	if err := decode(ECR, data, &r); err != nil {
		return nil, err
	}
	if r.ImageScanFindings == nil {
		return nil, missing(ECR, "imageScanFindings")
	}
	if r.ImageScanStatus != nil && r.ImageScanStatus.Status != "" && r.ImageScanStatus.Status != "COMPLETE" && r.ImageScanStatus.Status != "ACTIVE" {
		return nil, invalid(ECR, "imageScanStatus.status", "got "+r.ImageScanStatus.Status+" ("+r.ImageScanStatus.Description+"): expected COMPLETE; wait for the scan to finish")
	}
	image := &Image{Repository: r.RepositoryName, RegistryID: r.RegistryID, Digest: r.ImageID.ImageDigest}
	image.Name = r.RepositoryName
	if r.ImageID.ImageTag != "" {
		image.Tags = []string{r.ImageID.ImageTag}
	}
	// A response asked for by tag carries no digest; Inspector's findings name the image.
	for _, e := range r.ImageScanFindings.EnhancedFindings {
		for _, res := range e.Resources {
			if im := res.Details.AwsEcrContainerImage; image.Digest == "" && im.ImageHash != "" {
				image.Digest = im.ImageHash
				if len(image.Tags) == 0 {
					image.Tags = im.ImageTags
				}
			}
		}
	}
	rep := &Report{Tool: ECR, Scanners: scanners("Amazon ECR")}
	for i, b := range r.ImageScanFindings.Findings {
		if b.Name == "" {
			return nil, missing(ECR, "imageScanFindings.findings."+strconv.Itoa(i)+".name")
		}
		attrs := map[string]string{}
		for _, a := range b.Attributes {
			attrs[a.Key] = a.Value
		}
		name, version := attrs["package_name"], attrs["package_version"]
		f := Finding{
			Scanner:          "Amazon ECR",
			Category:         Package,
			RuleID:           b.Name,
			Location:         r.RepositoryName + " " + pkgAt(name, version),
			Title:            b.Name + " in " + pkgAt(name, version),
			Description:      firstNonEmpty(b.Description, b.Name),
			Severity:         b.Severity,
			Package:          name,
			InstalledVersion: version,
			PackageManager:   "os",
			Image:            image,
			Target:           r.RepositoryName,
			References:       refs(b.URI),
		}
		for _, v := range []string{"3", "2"} {
			if s, err := strconv.ParseFloat(attrs["CVSS"+v+"_SCORE"], 64); err == nil && s > 0 {
				f.Score, f.CVSSVector, f.CVSSVersion = s, attrs["CVSS"+v+"_VECTOR"], v+".0"
				break
			}
		}
		rep.Findings = append(rep.Findings, f)
	}
	for i, e := range r.ImageScanFindings.EnhancedFindings {
		if e.Status == "CLOSED" || e.Status == "SUPPRESSED" {
			continue
		}
		d := e.PackageVulnerabilityDetails
		id := firstNonEmpty(d.VulnerabilityID, e.Title)
		if id == "" {
			return nil, missing(ECR, "imageScanFindings.enhancedFindings."+strconv.Itoa(i)+".packageVulnerabilityDetails.vulnerabilityId")
		}
		var pkgs []string
		f := Finding{
			Scanner:     "Amazon Inspector (ECR enhanced scanning)",
			Category:    Package,
			RuleID:      id,
			Title:       firstNonEmpty(e.Title, id),
			Description: firstNonEmpty(inspectorText(e.Description), e.Title, id),
			Severity:    e.Severity,
			Score:       e.Score,
			Image:       image,
			Target:      r.RepositoryName,
			References:  refs(append([]string{d.SourceURL, e.Remediation.Recommendation.URL}, d.ReferenceUrls...)...),
		}
		f.Remediation = inspectorText(e.Remediation.Recommendation.Text)
		for _, p := range d.VulnerablePackages {
			version := p.Version
			if p.Release != "" {
				version += "-" + p.Release
			}
			pkgs = append(pkgs, pkgAt(p.Name, version)+" "+p.FilePath)
			if f.Package == "" {
				f.Package, f.InstalledVersion, f.FixedVersion, f.PackageManager, f.File = p.Name, version, inspectorText(p.FixedInVersion), p.PackageManager, p.FilePath
			}
		}
		f.Location = r.RepositoryName + " " + strings.TrimSpace(strings.Join(pkgs, ","))
		for _, c := range d.Cvss {
			if c.BaseScore == f.Score || f.CVSSVector == "" {
				f.CVSSVector, f.CVSSVersion = c.ScoringVector, c.Version
			}
		}
		if f.FixedVersion != "" && f.Remediation == "" {
			f.Remediation = "Upgrade " + f.Package + " to " + f.FixedVersion + "."
		}
		rep.Findings = append(rep.Findings, f)
	}
	return finish(rep)
}

// inspectorText is s, or "" for the placeholders Amazon Inspector writes where it has nothing:
// "None Provided" (description, recommendation) and "NotAvailable" (fixedInVersion).
func inspectorText(s string) string {
	switch strings.TrimSpace(s) {
	case "None Provided", "NotAvailable":
		return ""
	}
	return s
}
