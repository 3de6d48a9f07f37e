// Package asff turns parsed scanner reports (package reports) into AWS Security Finding Format
// findings and imports them into Security Hub. The asff-ingest Lambda and `securestacks asff
// convert|import` use the same functions, so what the CLI prints is what the Lambda sends.
//
// The rules, each enforced here and tested:
//   - SchemaVersion 2018-10-08; ProductArn arn:<partition>:securityhub:<region>:<account>:
//     product/<account>/default, built from Scan, never a literal partition;
//   - one GeneratorId per tool and repository;
//   - a deterministic Id: the same issue in the same place of the same branch gets the same id
//     on every scan, so a re-scan updates findings instead of duplicating them, and findings of
//     the previous scan that the new one no longer reports are ARCHIVED (Reconcile);
//   - severities mapped per tool with documented tables (severity.go) onto the Security Hub
//     scale; an unknown severity becomes INFORMATIONAL with a note, never an error;
//   - Title ≤ 256 and Description ≤ 1024 characters, truncated with "…"; each finding ≤ 240 KB
//     of JSON;
//   - at most 100 findings per BatchImportFindings call, throttling retried, every rejected
//     finding reported by id (Importer).
package asff

// SchemaVersion is the ASFF schema version of every finding.
const SchemaVersion = "2018-10-08"

// Record states.
const (
	RecordActive   = "ACTIVE"
	RecordArchived = "ARCHIVED"
)

// Limits Security Hub puts on a finding (BatchImportFindings rejects larger values).
const (
	// MaxTitle is the maximum length of Title, in characters.
	MaxTitle = 256
	// MaxDescription is the maximum length of Description, in characters.
	MaxDescription = 1024
	// MaxFindingBytes is the maximum size of one finding's JSON: 240 KB.
	MaxFindingBytes = 240 * 1024
	// maxRecommendation bounds Remediation.Recommendation.Text.
	maxRecommendation = 512
	// maxFieldValue bounds ProductFields and Resources.Details.Other values.
	maxFieldValue = 1024
	// maxFieldKey bounds ProductFields keys.
	maxFieldKey = 128
	// maxResourceID bounds Resources.Id and GeneratorId.
	maxResourceID = 512
)

// Finding is one ASFF finding. Field names follow ASFF exactly in JSON (json tags), so the
// CLI's output can be passed to `aws securityhub batch-import-findings` as is.
type Finding struct {
	SchemaVersion   string            `json:"SchemaVersion"`
	ID              string            `json:"Id"`
	ProductArn      string            `json:"ProductArn"`
	ProductName     string            `json:"ProductName,omitempty"`
	CompanyName     string            `json:"CompanyName,omitempty"`
	GeneratorID     string            `json:"GeneratorId"`
	AwsAccountID    string            `json:"AwsAccountId"`
	Types           []string          `json:"Types"`
	FirstObservedAt string            `json:"FirstObservedAt,omitempty"`
	LastObservedAt  string            `json:"LastObservedAt,omitempty"`
	CreatedAt       string            `json:"CreatedAt"`
	UpdatedAt       string            `json:"UpdatedAt"`
	Severity        Severity          `json:"Severity"`
	Title           string            `json:"Title"`
	Description     string            `json:"Description"`
	Remediation     *Remediation      `json:"Remediation,omitempty"`
	SourceURL       string            `json:"SourceUrl,omitempty"`
	ProductFields   map[string]string `json:"ProductFields,omitempty"`
	Resources       []Resource        `json:"Resources"`
	Vulnerabilities []Vulnerability   `json:"Vulnerabilities,omitempty"`
	RecordState     string            `json:"RecordState"`
	// FindingProviderFields repeats Severity and Types: Security Hub takes a provider's later
	// changes of those from here, the top-level fields belonging to the customer's workflow.
	FindingProviderFields *ProviderFields `json:"FindingProviderFields,omitempty"`
}

// ProviderFields is ASFF FindingProviderFields.
type ProviderFields struct {
	Severity *ProviderSeverity `json:"Severity,omitempty"`
	Types    []string          `json:"Types,omitempty"`
}

// ProviderSeverity is ASFF FindingProviderFields.Severity.
type ProviderSeverity struct {
	Label    Label  `json:"Label"`
	Original string `json:"Original,omitempty"`
}

// Severity is the ASFF severity: Label on the Security Hub scale, Normalized its 0–100 value,
// Original what the tool wrote.
type Severity struct {
	Label      Label  `json:"Label"`
	Normalized int    `json:"Normalized"`
	Original   string `json:"Original,omitempty"`
}

// Remediation carries the tool's fix advice.
type Remediation struct {
	Recommendation Recommendation `json:"Recommendation"`
}

// Recommendation is ASFF Remediation.Recommendation.
type Recommendation struct {
	Text string `json:"Text,omitempty"`
	URL  string `json:"Url,omitempty"`
}

// Resource is one affected resource: the repository (Type Other), and the image for image
// scans (Container, or AwsEcrContainerImage for Amazon ECR).
type Resource struct {
	Type      string           `json:"Type"`
	ID        string           `json:"Id"`
	Partition string           `json:"Partition,omitempty"`
	Region    string           `json:"Region,omitempty"`
	Details   *ResourceDetails `json:"Details,omitempty"`
}

// ResourceDetails is the subset of ASFF Resources.Details that findings use.
type ResourceDetails struct {
	Other                map[string]string  `json:"Other,omitempty"`
	Container            *ContainerDetails  `json:"Container,omitempty"`
	AwsEcrContainerImage *EcrContainerImage `json:"AwsEcrContainerImage,omitempty"`
}

// ContainerDetails is ASFF Resources.Details.Container.
type ContainerDetails struct {
	Name      string `json:"Name,omitempty"`
	ImageID   string `json:"ImageId,omitempty"`
	ImageName string `json:"ImageName,omitempty"`
}

// EcrContainerImage is ASFF Resources.Details.AwsEcrContainerImage.
type EcrContainerImage struct {
	RegistryID     string   `json:"RegistryId,omitempty"`
	RepositoryName string   `json:"RepositoryName,omitempty"`
	ImageDigest    string   `json:"ImageDigest,omitempty"`
	ImageTags      []string `json:"ImageTags,omitempty"`
}

// Vulnerability is ASFF Vulnerabilities[] for package findings.
type Vulnerability struct {
	ID                 string            `json:"Id"`
	VulnerablePackages []SoftwarePackage `json:"VulnerablePackages,omitempty"`
	Cvss               []Cvss            `json:"Cvss,omitempty"`
	ReferenceUrls      []string          `json:"ReferenceUrls,omitempty"`
	FixAvailable       string            `json:"FixAvailable,omitempty"`
}

// SoftwarePackage is ASFF Vulnerabilities[].VulnerablePackages[].
type SoftwarePackage struct {
	Name           string `json:"Name,omitempty"`
	Version        string `json:"Version,omitempty"`
	FixedInVersion string `json:"FixedInVersion,omitempty"`
	PackageManager string `json:"PackageManager,omitempty"`
	FilePath       string `json:"FilePath,omitempty"`
}

// Cvss is ASFF Vulnerabilities[].Cvss[].
type Cvss struct {
	Version    string  `json:"Version,omitempty"`
	BaseScore  float64 `json:"BaseScore"`
	BaseVector string  `json:"BaseVector,omitempty"`
}
