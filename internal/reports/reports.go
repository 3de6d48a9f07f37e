// Package reports parses the JSON reports of the scanners the DevSecOps pipeline runs into one
// tool-neutral Finding shape. There is one pure parser per format ([]byte in, findings out: no
// I/O, no clock, no AWS), so the asff-ingest Lambda and `securestacks asff convert` share it.
//
// Every parser reads the field names the tool writes today and rejects what is not its format:
// an empty file, truncated JSON, another tool's JSON (its marker fields are missing) or a field
// of the wrong type all return an *Error that names the tool and the byte offset or the field.
// A well-formed report with nothing to report returns no findings and no error.
//
// Severities stay as the tool wrote them (Finding.Severity); package asff maps them to the
// Security Hub scale with one documented table per tool.
package reports

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Tool ids, as typed after `securestacks asff convert --tool` and as the reportType of the
// ingestion envelope.
const (
	ZAP             = "zap"
	DependencyCheck = "dependency-check"
	Trivy           = "trivy"
	Grype           = "grype"
	Gitleaks        = "gitleaks"
	Semgrep         = "semgrep"
	Opengrep        = "opengrep"
	SonarQube       = "sonarqube"
	PHPStan         = "phpstan"
	Snyk            = "snyk"
	Anchore         = "anchore"
	ECR             = "ecr"
	SARIF           = "sarif"
	Falco           = "falco"
)

// Category says what kind of weakness a finding is; it selects the ASFF finding type.
type Category string

// Categories of findings.
const (
	// Package is a known vulnerability (CVE, GHSA, Snyk id...) in a dependency or OS package.
	Package Category = "package"
	// Code is a weakness a static analyser found in source code.
	Code Category = "code"
	// Secret is a credential or key committed to the repository.
	Secret Category = "secret"
	// Web is an alert of a dynamic scan against a running application.
	Web Category = "web"
	// Config is an infrastructure-as-code or configuration misconfiguration.
	Config Category = "config"
	// License is a dependency whose license breaks a policy.
	License Category = "license"
	// Runtime is suspicious behaviour a runtime sensor (Falco) saw in a running workload.
	Runtime Category = "runtime"
)

// Report is one parsed scanner report.
type Report struct {
	// Tool is the tool id of the parser that read the report, e.g. Trivy.
	Tool string
	// Scanners names the programs that produced the report, sorted and distinct: the tool's
	// display name ("Trivy") for single-tool formats, the driver names for SARIF ("CodeQL",
	// "Semgrep OSS"). Present even when there are no findings, so that a clean re-scan still
	// knows whose earlier findings it closes.
	Scanners []string
	// Findings in report order.
	Findings []Finding
}

// Finding is one issue in a report, in tool-neutral form. Empty fields mean the tool did not
// say.
type Finding struct {
	// Scanner is the program that reported the finding (see Report.Scanners).
	Scanner string
	// Category selects the ASFF type.
	Category Category
	// RuleID identifies the kind of issue: a CVE or advisory id, a rule or check id, a ZAP
	// alert reference. Never empty.
	RuleID string
	// Location says where the issue is, in a form that survives re-scans: a repository-relative
	// file and line, a package@version in a manifest, a site and alert. Together with the tool,
	// repository, branch and RuleID it makes the deterministic finding id. Never empty.
	Location string
	// Title is a one-line summary.
	Title string
	// Description is the tool's explanation (may be long; asff truncates it).
	Description string
	// Severity is the severity exactly as the tool wrote it, e.g. "HIGH", "Medium", "3",
	// "BLOCKER", "error". Empty when the tool gives none.
	Severity string
	// Score is a numeric severity the tool gave next to Severity: a CVSS base score, or the
	// SARIF security-severity property. Zero means none.
	Score float64
	// CVSSVector and CVSSVersion describe Score when it is a CVSS score.
	CVSSVector, CVSSVersion string
	// File is the repository-relative path of the affected file (CodeBuild's source directory
	// prefix is removed), or a path inside a container image.
	File string
	// StartLine and EndLine are 1-based; 0 means unknown.
	StartLine, EndLine int
	// Package, InstalledVersion, FixedVersion and PackageManager describe the vulnerable
	// dependency of a Package finding.
	Package, InstalledVersion, FixedVersion, PackageManager string
	// PURL is the package URL when the tool gives one.
	PURL string
	// Target is what was scanned: a site URL (DAST), a manifest or lockfile, an image name.
	Target string
	// URL is the affected URL of a Web finding (its first instance).
	URL string
	// Image is set for findings about a container image.
	Image *Image
	// CWEs are CWE ids in the form "CWE-79".
	CWEs []string
	// References are advisory and documentation URLs, at most MaxReferences.
	References []string
	// Remediation is the tool's fix advice.
	Remediation string
	// Occurrences counts the places the same issue was reported (ZAP instances, Snyk paths,
	// repeated Falco events); at least 1.
	Occurrences int
	// ObservedAt is when a runtime event happened (Falco's time); zero for scans.
	ObservedAt time.Time
	// Workload is the running workload a Runtime finding is about; nil for scans.
	Workload *Workload
	// Fields are the tool's own event fields shown on the finding (Falco's output_fields,
	// values as text), at most MaxFields.
	Fields map[string]string
}

// Workload identifies where a runtime event happened. Empty fields mean the sensor did not
// know (Falco writes null, or "<NA>", for fields that do not apply, such as the pod of a
// container that Kubernetes did not start).
type Workload struct {
	// Hostname is the node that ran the sensor.
	Hostname string
	// Namespace and Pod are the Kubernetes namespace and pod.
	Namespace, Pod string
	// ContainerID, ContainerName and Image describe the container ("host" for events
	// outside any container, as Falco writes container.id).
	ContainerID, ContainerName, Image string
}

// MaxFields bounds Finding.Fields: Security Hub accepts at most 50 ProductFields, and the
// finding's own fields need some of them.
const MaxFields = 30

// Image identifies a scanned container image.
type Image struct {
	// Name is the image reference as scanned, e.g. "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:abc123".
	Name string
	// Digest is the manifest digest, "sha256:...".
	Digest string
	// Repository and RegistryID are set for Amazon ECR images.
	Repository, RegistryID string
	// Tags are the image tags known to the report.
	Tags []string
}

// MaxReferences bounds Finding.References: advisories can list hundreds of links and Security
// Hub limits the size of a finding.
const MaxReferences = 32

// Parser reads one tool's report.
type Parser func(data []byte) (*Report, error)

var parsers = map[string]Parser{
	ZAP:             ParseZAP,
	DependencyCheck: ParseDependencyCheck,
	Trivy:           ParseTrivy,
	Grype:           ParseGrype,
	Gitleaks:        ParseGitleaks,
	Semgrep:         ParseSemgrep,
	Opengrep:        ParseOpengrep,
	SonarQube:       ParseSonarQube,
	PHPStan:         ParsePHPStan,
	Snyk:            ParseSnyk,
	Anchore:         ParseAnchore,
	ECR:             ParseECR,
	SARIF:           ParseSARIF,
	Falco:           ParseFalco,
}

// aliases are the other names a reportType may carry: the seed solution's names, so that its
// buildspecs keep working, and obvious variants.
var aliases = map[string]string{
	"owasp-zap": ZAP, "zaproxy": ZAP, "zap-baseline": ZAP, "zap-full": ZAP,
	"owasp-dependency-check": DependencyCheck, "dependencycheck": DependencyCheck,
	"sonar": SonarQube, "ecr-scan": ECR, "amazon-ecr": ECR, "anchore-engine": Anchore,
	"sarif-2.1.0": SARIF,
}

// Tools returns every tool id, sorted.
func Tools() []string {
	out := make([]string, 0, len(parsers))
	for t := range parsers {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// Lookup resolves a tool id or alias, in any case ("OWASP-Zap" → "zap"). ok is false for an
// unknown name.
func Lookup(name string) (tool string, ok bool) {
	n := strings.ToLower(strings.TrimSpace(name))
	if _, ok := parsers[n]; ok {
		return n, true
	}
	t, ok := aliases[n]
	return t, ok
}

// Parse reads data as a report of tool (an id or alias, see Lookup).
func Parse(tool string, data []byte) (*Report, error) {
	id, ok := Lookup(tool)
	if !ok {
		return nil, fmt.Errorf("unknown tool %q: expected one of %s", tool, strings.Join(Tools(), ", "))
	}
	return parsers[id](data)
}

// Error is a report that could not be read. Its message is one line: the tool, where (byte
// offset, field path or both) and what was expected.
type Error struct {
	// Tool is the tool id.
	Tool string
	// Line is the 1-based line of a line-oriented report (Falco JSON lines) where the fault
	// is; 0 when it does not apply. Offset is then the byte offset within that line.
	Line int
	// Offset is the byte offset in the report where reading stopped: where the syntax broke,
	// or just after the value of the wrong type. -1 when it does not apply.
	Offset int64
	// Field is the JSON path of the field at fault, e.g. "Results.0.Vulnerabilities.3.Severity";
	// empty when it does not apply.
	Field string
	// Problem says what was wrong and what was expected.
	Problem string
	// Err is the underlying decoding error, if any.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Tool)
	b.WriteString(": ")
	if e.Line > 0 {
		b.WriteString("line ")
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteString(": ")
	}
	if e.Offset >= 0 {
		b.WriteString("byte ")
		b.WriteString(strconv.FormatInt(e.Offset, 10))
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString("field ")
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Problem)
	return strings.Join(strings.Fields(b.String()), " ")
}

func (e *Error) Unwrap() error { return e.Err }

// describe says what each format looks like, for error messages.
var describe = map[string]string{
	ZAP:             "a ZAP traditional JSON report (an object with @version and site)",
	DependencyCheck: "an OWASP Dependency-Check JSON report (an object with reportSchema and dependencies)",
	Trivy:           "a Trivy JSON report (an object with SchemaVersion 2)",
	Grype:           "a Grype JSON report (an object with matches and descriptor)",
	Gitleaks:        "a gitleaks JSON report (an array of findings with RuleID)",
	Semgrep:         "a Semgrep JSON report (an object with results and errors)",
	Opengrep:        "an Opengrep JSON report (Semgrep's format: an object with results and errors)",
	SonarQube:       "a SonarQube /api/issues/search response (an object with issues and paging)",
	PHPStan:         "a PHPStan JSON report (an object with totals and files)",
	Snyk:            "a Snyk JSON report (an object with ok and vulnerabilities, or an array of them)",
	Anchore:         "an Anchore legacy vulnerability report (an object with imageDigest and vulnerabilities)",
	ECR:             "an ECR DescribeImageScanFindings response (an object with imageScanFindings)",
	SARIF:           "a SARIF 2.1.0 log (an object with version \"2.1.0\" and runs)",
	Falco:           "Falco JSON lines (one event per line, as Falco writes with json_output: true: an object with rule, priority and time)",
}

// decode unmarshals data into v, turning every failure into an *Error with the byte offset and
// the field path.
func decode(tool string, data []byte, v any) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return &Error{Tool: tool, Offset: 0, Problem: fmt.Sprintf("empty report (%d bytes): expected %s", len(data), describe[tool])}
	}
	err := json.Unmarshal(data, v)
	if err == nil {
		return nil
	}
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		problem := "malformed JSON: " + syntax.Error()
		if syntax.Offset >= int64(len(data)) || strings.Contains(syntax.Error(), "unexpected end") {
			problem = fmt.Sprintf("truncated JSON (the report ends after %d bytes): expected %s", len(data), describe[tool])
		}
		return &Error{Tool: tool, Offset: syntax.Offset, Problem: problem, Err: err}
	case errors.As(err, &typ):
		if typ.Field == "" {
			return &Error{Tool: tool, Offset: typ.Offset, Problem: fmt.Sprintf("the report is a JSON %s: expected %s", typ.Value, describe[tool]), Err: err}
		}
		return &Error{Tool: tool, Offset: typ.Offset, Field: typ.Field, Problem: fmt.Sprintf("expected %s, got %s", kindOf(typ.Type), typ.Value), Err: err}
	}
	return &Error{Tool: tool, Offset: -1, Problem: err.Error(), Err: err}
}

// missing reports a marker field that is absent: the JSON is well-formed but not this tool's.
func missing(tool, field string) error {
	return &Error{Tool: tool, Offset: -1, Field: field, Problem: "missing: expected " + describe[tool]}
}

// invalid reports a field whose value is well-typed but unacceptable.
func invalid(tool, field, problem string) error {
	return &Error{Tool: tool, Offset: -1, Field: field, Problem: problem}
}

func kindOf(t reflect.Type) string {
	if t == nil {
		return "a value"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Pointer:
		return kindOf(t.Elem())
	}
	return t.String()
}

// codeBuildSrc matches the per-build source directory of CodeBuild. Paths under it differ on
// every build, so they are made repository-relative before they enter a finding id.
var codeBuildSrc = regexp.MustCompile(`^(?:file://)?/codebuild/output/src[0-9]+/src/`)

// RelPath makes a path that a tool wrote repository-relative: it removes "file://", CodeBuild's
// source directory prefix and a leading "./".
func RelPath(p string) string {
	p = codeBuildSrc.ReplaceAllString(p, "")
	p = strings.TrimPrefix(p, "file://")
	for strings.HasPrefix(p, "./") {
		p = p[2:]
	}
	return p
}

// refs keeps at most MaxReferences distinct, non-empty URLs.
func refs(in ...string) []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range in {
		r = strings.TrimSpace(r)
		if r == "" || seen[r] {
			continue
		}
		seen[r] = true
		out = append(out, r)
		if len(out) == MaxReferences {
			break
		}
	}
	return out
}

// cwe normalises "79", "CWE-79" and "CWE-79: Improper Neutralization..." to "CWE-79"; it
// returns "" for anything else (ZAP writes "-1" and "0" when there is none).
func cwe(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(strings.TrimPrefix(s, "CWE-"), "cwe-")
	end := 0
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	n := strings.TrimLeft(s[:end], "0") // CodeQL writes "cwe-079"
	if n == "" {
		return ""
	}
	return "CWE-" + n
}

func cwes(in ...string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range in {
		if c := cwe(s); c != "" && !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}

// pkgAt is "name@version", or name alone when the version is unknown.
func pkgAt(name, version string) string {
	if version == "" {
		return name
	}
	return name + "@" + version
}

func lineLoc(file string, line int) string {
	if line <= 0 {
		return file
	}
	return file + ":" + strconv.Itoa(line)
}

func scanners(names ...string) []string {
	seen := map[string]bool{}
	var out []string
	for _, n := range names {
		if n != "" && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// decodeAt decodes raw, a value that appears verbatim inside data under the JSON path field,
// and reports errors with offsets into data and paths from data's root.
func decodeAt(tool string, data, raw []byte, field string, v any) error {
	err := decode(tool, raw, v)
	e, ok := err.(*Error)
	if !ok {
		return err
	}
	if e.Offset >= 0 {
		if base := bytes.Index(data, raw); base >= 0 {
			e.Offset += int64(base)
		} else {
			e.Offset = -1
		}
	}
	if e.Field == "" {
		e.Field = field
	} else {
		e.Field = field + "." + e.Field
	}
	if strings.HasPrefix(e.Problem, "the report is a JSON") {
		e.Problem = "expected an object or an array, got " + strings.TrimPrefix(e.Problem, "the report is a JSON ")
	}
	return e
}

// finish checks and completes what every parser returns, so that each finding can become an
// ASFF finding: a rule id is required (without it the id would not say what the issue is),
// the other identifying and display fields get their fallbacks.
func finish(rep *Report) (*Report, error) {
	for i := range rep.Findings {
		f := &rep.Findings[i]
		f.RuleID = strings.TrimSpace(f.RuleID)
		if f.RuleID == "" {
			return nil, &Error{Tool: rep.Tool, Offset: -1, Field: "finding " + strconv.Itoa(i), Problem: "has no rule or vulnerability id: expected " + describe[rep.Tool]}
		}
		if strings.TrimSpace(f.Location) == "" {
			f.Location = firstNonEmpty(f.Target, "unknown location")
		}
		if f.Scanner == "" {
			f.Scanner = rep.Tool
		}
		if strings.TrimSpace(f.Title) == "" {
			f.Title = f.RuleID
		}
		if strings.TrimSpace(f.Description) == "" {
			f.Description = f.Title
		}
		if f.Occurrences < 1 {
			f.Occurrences = 1
		}
		if im := f.Image; im != nil && strings.TrimSpace(im.Name+im.Digest+im.Repository) == "" {
			// An image the report does not name cannot be an ASFF resource (its Id would be
			// empty); the repository resource still places the finding.
			f.Image = nil
		}
	}
	return rep, nil
}
