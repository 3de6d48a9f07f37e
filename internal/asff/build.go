package asff

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/securestacks/securestacks/internal/reports"
)

// Scan says where a report comes from and where its findings go. Region and AccountID are
// required; everything else has a default.
type Scan struct {
	// Partition is the AWS partition of the Security Hub that receives the findings: aws,
	// aws-cn or aws-us-gov. Default: derived from Region (cn-* → aws-cn, us-gov-* →
	// aws-us-gov, otherwise aws). Set it explicitly for other partitions.
	Partition string
	// Region is the Security Hub region, e.g. eu-west-1 or us-gov-west-1. Required.
	Region string
	// AccountID is the 12-digit account that owns the findings. Required.
	AccountID string
	// Repository names the scanned repository (a CodeCommit name, or owner/repo). Part of
	// every id. Default "unknown-repository".
	Repository string
	// Branch is the scanned branch. Part of every id. Default "unknown-branch".
	Branch string
	// Commit and BuildID identify the scanned revision and the CodeBuild build. They are shown
	// on the findings but are not part of the ids, so a new commit updates the same findings.
	Commit, BuildID string
	// SourceURL links every finding to its stored raw report. Default: none.
	SourceURL string
	// ScannedAt is the time of the scan: CreatedAt of findings seen for the first time.
	// Default: Now.
	ScannedAt time.Time
	// Now is UpdatedAt of every finding; Security Hub ignores an update whose UpdatedAt is
	// not later than the stored one. Default: time.Now().
	Now time.Time
	// MaxFindingBytes bounds the JSON of one finding. Default (and maximum): MaxFindingBytes.
	MaxFindingBytes int
}

var (
	accountRe   = regexp.MustCompile(`^[0-9]{12}$`)
	regionRe    = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$`)
	partitionRe = regexp.MustCompile(`^aws(-[a-z]+)*$`)
)

// PartitionOf is the partition of an AWS region name.
func PartitionOf(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	case strings.HasPrefix(region, "us-isob-"):
		return "aws-iso-b"
	case strings.HasPrefix(region, "us-isof-"):
		return "aws-iso-f"
	case strings.HasPrefix(region, "us-iso-"):
		return "aws-iso"
	case strings.HasPrefix(region, "eu-isoe-"):
		return "aws-iso-e"
	case strings.HasPrefix(region, "eusc-"):
		return "aws-eusc"
	}
	return "aws"
}

// withDefaults validates s and fills its defaults. Errors name the field.
func (s Scan) withDefaults() (Scan, error) {
	if !accountRe.MatchString(s.AccountID) {
		return s, fmt.Errorf("account: expected a 12-digit AWS account id, got %q", s.AccountID)
	}
	if !regionRe.MatchString(s.Region) {
		return s, fmt.Errorf("region: expected an AWS region such as eu-west-1, got %q", s.Region)
	}
	if s.Partition == "" {
		s.Partition = PartitionOf(s.Region)
	}
	if !partitionRe.MatchString(s.Partition) {
		return s, fmt.Errorf("partition: expected aws, aws-cn or aws-us-gov, got %q", s.Partition)
	}
	s.Repository = orUnknown(s.Repository, unknownRepository)
	s.Branch = orUnknown(s.Branch, unknownBranch)
	if s.Now.IsZero() {
		s.Now = time.Now()
	}
	if s.ScannedAt.IsZero() || s.ScannedAt.After(s.Now) {
		s.ScannedAt = s.Now
	}
	if s.MaxFindingBytes <= 0 || s.MaxFindingBytes > MaxFindingBytes {
		s.MaxFindingBytes = MaxFindingBytes
	}
	return s, nil
}

// The repository and branch of a scan that names none.
const (
	unknownRepository = "unknown-repository"
	unknownBranch     = "unknown-branch"
)

func orUnknown(s, unknown string) string {
	if strings.TrimSpace(s) == "" {
		return unknown
	}
	return s
}

// ProductArn is the account's default product, the one BatchImportFindings accepts from any
// account without a partner integration.
func (s Scan) ProductArn() string {
	return "arn:" + s.Partition + ":securityhub:" + s.Region + ":" + s.AccountID + ":product/" + s.AccountID + "/default"
}

// timestamp is the ASFF (RFC 3339, UTC, milliseconds) form of t.
func timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// Convert parses data as a report of tool and builds its findings: the single code path of the
// Lambda and the CLI.
func Convert(tool string, data []byte, scan Scan) (*reports.Report, []Finding, error) {
	rep, err := reports.Parse(tool, data)
	if err != nil {
		return nil, nil, err
	}
	fs, err := Build(rep, scan)
	return rep, fs, err
}

// Build converts a parsed report into ASFF findings with deterministic ids, duplicates within
// the report merged (highest severity kept, occurrences added up). The result is in report
// order; an empty report gives an empty, non-nil slice.
func Build(rep *reports.Report, scan Scan) ([]Finding, error) {
	scan, err := scan.withDefaults()
	if err != nil {
		return nil, err
	}
	out := make([]Finding, 0, len(rep.Findings))
	index := make(map[string]int, len(rep.Findings))
	occurrences := make([]int, 0, len(rep.Findings))
	for _, f := range rep.Findings {
		a := build(rep.Tool, f, scan)
		if i, dup := index[a.ID]; dup {
			occurrences[i] += f.Occurrences
			if a.Severity.Normalized > out[i].Severity.Normalized {
				out[i].Severity = a.Severity
				out[i].FindingProviderFields = providerFields(out[i].Severity, out[i].Types)
			}
			observed(&out[i], a.FirstObservedAt)
			continue
		}
		index[a.ID] = len(out)
		out = append(out, a)
		occurrences = append(occurrences, f.Occurrences)
	}
	for i := range out {
		if occurrences[i] > 1 {
			out[i].ProductFields["securestacks/Occurrences"] = strconv.Itoa(occurrences[i])
		}
		if err := fit(&out[i], scan.MaxFindingBytes); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// GeneratorID identifies what generated a finding: the tool (for SARIF, also the scanner,
// since one SARIF tool id covers CodeQL, Semgrep and others) and the repository.
func GeneratorID(tool, scanner, repository string) string {
	return clip("securestacks/"+generatorTool(tool, scanner)+"/"+repository, maxResourceID)
}

func generatorTool(tool, scanner string) string {
	if tool == reports.SARIF {
		return tool + ":" + scanner
	}
	return tool
}

// FindingID is the deterministic id: a hash of the tool (and SARIF scanner), repository,
// branch, rule and location. Commit, build and time are left out on purpose: a re-scan of the
// same branch must update the finding, not add one.
func FindingID(tool, scanner, repository, branch, rule, location string) string {
	h := sha256.New()
	for _, part := range []string{generatorTool(tool, scanner), repository, branch, rule, location} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return "securestacks/" + tool + "/" + hex.EncodeToString(h.Sum(nil))
}

// typeOf is the ASFF finding type of each category, in the "Software and Configuration
// Checks" namespace.
func typeOf(f reports.Finding) string {
	const ns = "Software and Configuration Checks/Vulnerabilities/"
	switch f.Category {
	case reports.Package:
		if strings.HasPrefix(f.RuleID, "CVE-") {
			return ns + "CVE"
		}
		return ns + "Software Composition Analysis"
	case reports.Secret:
		return ns + "Secrets"
	case reports.Web:
		return ns + "Dynamic Application Security Testing"
	case reports.Config:
		return ns + "Misconfiguration"
	case reports.License:
		return "Software and Configuration Checks/License Compliance"
	case reports.Runtime:
		if w := f.Workload; w != nil && w.ContainerID != "" && w.ContainerID != "host" {
			return "Unusual Behaviors/Container"
		}
		return "Unusual Behaviors/Process"
	}
	return ns + "Static Application Security Testing"
}

func build(tool string, f reports.Finding, scan Scan) Finding {
	label, note := MapSeverity(tool, f)
	now := timestamp(scan.Now)
	a := Finding{
		SchemaVersion: SchemaVersion,
		ID:            FindingID(tool, f.Scanner, scan.Repository, scan.Branch, f.RuleID, f.Location),
		ProductArn:    scan.ProductArn(),
		ProductName:   clip(f.Scanner, 128),
		CompanyName:   "securestacks",
		GeneratorID:   GeneratorID(tool, f.Scanner, scan.Repository),
		AwsAccountID:  scan.AccountID,
		Types:         []string{typeOf(f)},
		CreatedAt:     timestamp(scan.ScannedAt),
		UpdatedAt:     now,
		Severity:      Severity{Label: label, Normalized: label.Normalized(), Original: clip(f.Severity, 128)},
		Title:         Truncate(oneLine(f.Title), MaxTitle),
		Description:   Truncate(f.Description, MaxDescription),
		SourceURL:     scan.SourceURL,
		RecordState:   RecordActive,
	}
	a.FindingProviderFields = providerFields(a.Severity, a.Types)
	if !f.ObservedAt.IsZero() {
		a.FirstObservedAt = timestamp(f.ObservedAt)
		a.LastObservedAt = a.FirstObservedAt
	}
	pf := map[string]string{
		"securestacks/Tool":     tool,
		"securestacks/Scanner":  f.Scanner,
		"securestacks/RuleId":   clip(f.RuleID, maxFieldValue),
		"securestacks/Location": clip(f.Location, maxFieldValue),
	}
	if note != "" {
		pf["securestacks/SeverityNote"] = note
	}
	if f.Score > 0 {
		pf["securestacks/Score"] = formatScore(f.Score)
	}
	if len(f.CWEs) > 0 {
		pf["securestacks/CWE"] = clip(strings.Join(f.CWEs, ","), maxFieldValue)
	}
	if f.URL != "" {
		pf["securestacks/Url"] = clip(f.URL, maxFieldValue)
	}
	for k, v := range f.Fields {
		pf[clip(tool+"/"+k, maxFieldKey)] = clip(v, maxFieldValue)
	}
	a.ProductFields = pf

	if f.Remediation != "" || len(f.References) > 0 {
		rec := Recommendation{Text: Truncate(f.Remediation, maxRecommendation)}
		if len(f.References) > 0 && validURL(f.References[0]) {
			rec.URL = f.References[0]
		}
		if rec.Text != "" || rec.URL != "" {
			a.Remediation = &Remediation{Recommendation: rec}
		}
	}

	other := map[string]string{
		"repository": clip(scan.Repository, maxFieldValue),
		"branch":     clip(scan.Branch, maxFieldValue),
	}
	if scan.Commit != "" {
		other["commit"] = clip(scan.Commit, maxFieldValue)
	}
	if scan.BuildID != "" {
		other["buildId"] = clip(scan.BuildID, maxFieldValue)
	}
	if f.File != "" {
		other["file"] = clip(f.File, maxFieldValue)
	}
	if f.StartLine > 0 {
		other["line"] = strconv.Itoa(f.StartLine)
	}
	if f.Package != "" {
		other["package"] = clip(f.Package, maxFieldValue)
	}
	if f.Target != "" {
		other["target"] = clip(f.Target, maxFieldValue)
	}
	if w := f.Workload; w != nil {
		for k, v := range map[string]string{"hostname": w.Hostname, "namespace": w.Namespace, "pod": w.Pod,
			"containerId": w.ContainerID, "container": w.ContainerName, "image": w.Image} {
			if v != "" {
				other[k] = clip(v, maxFieldValue)
			}
		}
	}
	a.Resources = []Resource{{
		Type:      "Other",
		ID:        clip(scan.Repository, maxResourceID),
		Partition: resourcePartition(scan.Partition),
		Region:    scan.Region,
		Details:   &ResourceDetails{Other: other},
	}}
	if im := f.Image; im != nil {
		a.Resources = append(a.Resources, imageResource(im, scan))
	}
	if w := f.Workload; w != nil && w.ContainerID != "" && w.ContainerID != "host" {
		a.Resources = append(a.Resources, Resource{
			Type: "Container", ID: clip(firstNonEmpty(w.ContainerID, w.ContainerName), maxResourceID),
			Partition: resourcePartition(scan.Partition), Region: scan.Region,
			Details: &ResourceDetails{Container: &ContainerDetails{Name: clip(w.ContainerName, maxFieldValue), ImageName: clip(w.Image, maxFieldValue)}},
		})
	}

	if f.Category == reports.Package {
		v := Vulnerability{ID: clip(f.RuleID, maxFieldValue), ReferenceUrls: validURLs(f.References)}
		if f.Package != "" {
			v.VulnerablePackages = []SoftwarePackage{{
				Name: clip(f.Package, maxFieldValue), Version: clip(f.InstalledVersion, maxFieldValue),
				FixedInVersion: clip(f.FixedVersion, maxFieldValue), PackageManager: clip(f.PackageManager, maxFieldValue),
				FilePath: clip(f.File, maxFieldValue),
			}}
		}
		if f.Score > 0 && f.Score <= 10 {
			v.Cvss = []Cvss{{Version: f.CVSSVersion, BaseScore: f.Score, BaseVector: clip(f.CVSSVector, maxFieldValue)}}
		}
		if f.FixedVersion != "" {
			v.FixAvailable = "YES"
		} else {
			v.FixAvailable = "NO"
		}
		a.Vulnerabilities = []Vulnerability{v}
	}
	return a
}

// observed widens a merged finding's observation window with another event's time.
func observed(a *Finding, at string) {
	if at == "" {
		return
	}
	if a.FirstObservedAt == "" || at < a.FirstObservedAt {
		a.FirstObservedAt = at
	}
	if at > a.LastObservedAt {
		a.LastObservedAt = at
	}
}

func providerFields(sev Severity, types []string) *ProviderFields {
	return &ProviderFields{Severity: &ProviderSeverity{Label: sev.Label, Original: sev.Original}, Types: types}
}

func imageResource(im *reports.Image, scan Scan) Resource {
	if im.Repository != "" {
		// Amazon ECR: the image's own resource type and ARN, as Inspector names it.
		id := "arn:" + scan.Partition + ":ecr:" + scan.Region + ":" + firstNonEmpty(im.RegistryID, scan.AccountID) + ":repository/" + im.Repository
		if im.Digest != "" {
			id += "/" + im.Digest
		}
		return Resource{
			Type: "AwsEcrContainerImage", ID: clip(id, maxResourceID),
			Partition: resourcePartition(scan.Partition), Region: scan.Region,
			Details: &ResourceDetails{AwsEcrContainerImage: &EcrContainerImage{
				RegistryID: im.RegistryID, RepositoryName: im.Repository, ImageDigest: im.Digest, ImageTags: im.Tags,
			}},
		}
	}
	name := firstNonEmpty(im.Name, im.Digest)
	return Resource{
		Type: "Container", ID: clip(name, maxResourceID),
		Partition: resourcePartition(scan.Partition), Region: scan.Region,
		Details: &ResourceDetails{Container: &ContainerDetails{ImageName: clip(im.Name, maxFieldValue), ImageID: im.Digest}},
	}
}

// resourcePartition is the Resources.Partition value: ASFF accepts only these three.
func resourcePartition(p string) string {
	switch p {
	case "aws", "aws-cn", "aws-us-gov":
		return p
	}
	return ""
}

// Truncate shortens s to at most n characters (runes), ending with "…" when it cut; invalid
// UTF-8 is replaced, because Security Hub rejects it.
func Truncate(s string, n int) string {
	s = strings.TrimSpace(strings.ToValidUTF8(s, "\uFFFD"))
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	cut := 0
	for i := range s {
		if cut == n-1 {
			return strings.TrimRight(s[:i], " \n\t") + "…"
		}
		cut++
	}
	return s
}

func clip(s string, n int) string { return Truncate(s, n) }

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func validURL(u string) bool {
	return (strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://")) && len(u) <= maxFieldValue && !strings.ContainsAny(u, " \n\t")
}

func validURLs(in []string) []string {
	var out []string
	for _, u := range in {
		if validURL(u) {
			out = append(out, u)
		}
	}
	return out
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// fit makes a's JSON at most limit bytes. Caps on every field keep ordinary findings far below
// the limit; past it, fit drops the bulkiest optional parts in a fixed order and records what
// it dropped in ProductFields "securestacks/Truncated".
func fit(a *Finding, limit int) error {
	if estimate(a) <= limit {
		return nil
	}
	var dropped []string
	steps := []struct {
		name string
		drop func()
	}{
		{"ReferenceUrls", func() {
			for i := range a.Vulnerabilities {
				a.Vulnerabilities[i].ReferenceUrls = nil
			}
		}},
		{"Remediation", func() { a.Remediation = nil }},
		{"Resources.Details", func() {
			for i := range a.Resources {
				if d := a.Resources[i].Details; d != nil && d.Other != nil {
					d.Other = map[string]string{"repository": d.Other["repository"], "branch": d.Other["branch"]}
				}
			}
		}},
		{"Vulnerabilities", func() { a.Vulnerabilities = nil }},
		{"ProductFields", func() {
			keep := map[string]string{}
			for _, k := range []string{"securestacks/Tool", "securestacks/Scanner", "securestacks/SeverityNote"} {
				if v, ok := a.ProductFields[k]; ok {
					keep[k] = clip(v, 256)
				}
			}
			a.ProductFields = keep
		}},
	}
	for _, step := range steps {
		if size(a) <= limit {
			break
		}
		step.drop()
		dropped = append(dropped, step.name)
	}
	if len(dropped) > 0 {
		if a.ProductFields == nil {
			a.ProductFields = map[string]string{}
		}
		a.ProductFields["securestacks/Truncated"] = strings.Join(dropped, ",")
	}
	if n := size(a); n > limit {
		return fmt.Errorf("finding %s: %d bytes after truncation: expected at most %d", a.ID, n, limit)
	}
	return nil
}

// estimate is an upper bound of a's JSON size that costs no allocation: JSON escaping makes a
// string at most six times longer (\u00XX).
func estimate(a *Finding) int {
	n := 2048 + len(a.ID) + len(a.ProductArn) + len(a.GeneratorID) + len(a.Title) + len(a.Description) + len(a.SourceURL) + len(a.ProductName)
	for _, t := range a.Types {
		n += len(t) + 8
	}
	for k, v := range a.ProductFields {
		n += len(k) + len(v) + 8
	}
	if a.Remediation != nil {
		n += len(a.Remediation.Recommendation.Text) + len(a.Remediation.Recommendation.URL)
	}
	for _, r := range a.Resources {
		n += len(r.ID) + 256
		if r.Details != nil {
			for k, v := range r.Details.Other {
				n += len(k) + len(v) + 8
			}
			if c := r.Details.Container; c != nil {
				n += len(c.ImageName) + len(c.ImageID) + len(c.Name)
			}
			if e := r.Details.AwsEcrContainerImage; e != nil {
				n += len(e.RepositoryName) + len(e.ImageDigest) + len(e.RegistryID)
				for _, t := range e.ImageTags {
					n += len(t) + 8
				}
			}
		}
	}
	for _, v := range a.Vulnerabilities {
		n += len(v.ID) + 128
		for _, u := range v.ReferenceUrls {
			n += len(u) + 8
		}
		for _, p := range v.VulnerablePackages {
			n += len(p.Name) + len(p.Version) + len(p.FixedInVersion) + len(p.PackageManager) + len(p.FilePath) + 128
		}
		for _, c := range v.Cvss {
			n += len(c.Version) + len(c.BaseVector) + 64
		}
	}
	return n * 6
}

// Size is the exact size of a's JSON, in bytes.
func Size(a *Finding) int { return size(a) }

func size(a *Finding) int {
	var n countingWriter
	if err := newEncoder(&n).Encode(a); err != nil {
		return 1 << 30
	}
	return int(n) - 1 // Encode adds a newline
}

type countingWriter int

func (c *countingWriter) Write(p []byte) (int, error) {
	*c += countingWriter(len(p))
	return len(p), nil
}

// newEncoder writes JSON the way the AWS SDK sends it: "<", ">" and "&" stay as they are (the
// encoding/json default would triple their size as \u003c).
func newEncoder(w io.Writer) *json.Encoder {
	e := json.NewEncoder(w)
	e.SetEscapeHTML(false)
	return e
}

// WriteJSON writes fs as one indented JSON array, [] when empty: the CLI's output.
func WriteJSON(w io.Writer, fs []Finding) error {
	if fs == nil {
		fs = []Finding{}
	}
	e := newEncoder(w)
	e.SetIndent("", "  ")
	return e.Encode(fs)
}

// Counts returns, per label, the number of ACTIVE findings. Every label is present.
func Counts(fs []Finding) map[Label]int {
	out := make(map[Label]int, len(Labels))
	for _, l := range Labels {
		out[l] = 0
	}
	for _, f := range fs {
		if f.RecordState != RecordArchived {
			out[f.Severity.Label]++
		}
	}
	return out
}

// AtOrAbove counts the findings at or above threshold in counts.
func AtOrAbove(counts map[Label]int, threshold Label) int {
	n := 0
	for l, c := range counts {
		if l.Rank() >= threshold.Rank() {
			n += c
		}
	}
	return n
}

// sortedKeys is used for stable error messages.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
