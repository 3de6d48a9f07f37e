package asff

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"
)

// MaxBatch is the most findings one BatchImportFindings call accepts.
const MaxBatch = 100

// BatchImporter is the one Security Hub operation the importer calls.
type BatchImporter interface {
	BatchImportFindings(ctx context.Context, in *securityhub.BatchImportFindingsInput, optFns ...func(*securityhub.Options)) (*securityhub.BatchImportFindingsOutput, error)
}

var _ BatchImporter = (*securityhub.Client)(nil)

// Importer sends findings to Security Hub in batches.
type Importer struct {
	// API is the Security Hub client. Required.
	API BatchImporter
	// Retry runs one BatchImportFindings call, retrying it on throttling and transient errors.
	// The asff-ingest Lambda passes lambda-src/internal/awsretry.Do with its policy (jittered
	// exponential backoff; its SDK client makes one attempt per call); the CLI leaves it nil and
	// relies on the SDK's standard retryer, which backs off on throttling the same way.
	// Default: nil, one call per batch.
	Retry func(ctx context.Context, op func(ctx context.Context) error) error
	// BatchSize is the number of findings per call. Default and maximum MaxBatch.
	BatchSize int
}

// ImportResult says what happened to each finding.
type ImportResult struct {
	// Batches is the number of batches sent (retries of a batch not counted).
	Batches int
	// Imported is the number of findings Security Hub accepted.
	Imported int
	// Failed lists, by id, every finding Security Hub rejected or that could not be sent.
	Failed []FailedFinding
}

// FailedFinding is one finding that did not make it into Security Hub.
type FailedFinding struct {
	ID      string
	Code    string
	Message string
}

// ImportError reports every finding that was not imported; nothing is dropped silently.
type ImportError struct {
	Total  int
	Failed []FailedFinding
}

// Error lists every failed id, grouped by error code and message so that one line stays
// readable when a whole batch fails for the same reason.
func (e *ImportError) Error() string {
	groups := map[string][]string{}
	for _, f := range e.Failed {
		k := f.Code + ": " + f.Message
		groups[k] = append(groups[k], f.ID)
	}
	var parts []string
	for _, k := range sortedKeys(groups) {
		parts = append(parts, fmt.Sprintf("%s (%d): %s", k, len(groups[k]), strings.Join(groups[k], ", ")))
	}
	return fmt.Sprintf("securityhub: %d of %d findings not imported: %s", len(e.Failed), e.Total, strings.Join(parts, "; "))
}

// Import sends fs in batches of at most BatchSize, each retried under Retry. It does not stop
// at a failed batch: the other batches are still sent, and the error (an *ImportError) lists
// every finding that was rejected (FailedFindings) or not sent, by id. When ctx ends, the
// findings not yet sent are reported as not sent.
func (im Importer) Import(ctx context.Context, fs []Finding) (ImportResult, error) {
	size := im.BatchSize
	if size <= 0 || size > MaxBatch {
		size = MaxBatch
	}
	var res ImportResult
	for start := 0; start < len(fs); start += size {
		batch := fs[start:min(start+size, len(fs))]
		if err := ctx.Err(); err != nil {
			for _, f := range fs[start:] {
				res.Failed = append(res.Failed, FailedFinding{ID: f.ID, Code: "NotSent", Message: oneLine(err.Error())})
			}
			break
		}
		in := &securityhub.BatchImportFindingsInput{Findings: make([]types.AwsSecurityFinding, len(batch))}
		for i := range batch {
			in.Findings[i] = ToSDK(batch[i])
		}
		var out *securityhub.BatchImportFindingsOutput
		call := func(ctx context.Context) error {
			var err error
			out, err = im.API.BatchImportFindings(ctx, in)
			return err
		}
		var err error
		if im.Retry != nil {
			err = im.Retry(ctx, call)
		} else {
			err = call(ctx)
		}
		res.Batches++
		if err != nil {
			for _, f := range batch {
				res.Failed = append(res.Failed, FailedFinding{ID: f.ID, Code: "BatchFailed", Message: oneLine(err.Error())})
			}
			continue
		}
		failed := map[string]bool{}
		for _, ff := range out.FailedFindings {
			id := aws.ToString(ff.Id)
			failed[id] = true
			res.Failed = append(res.Failed, FailedFinding{ID: id, Code: aws.ToString(ff.ErrorCode), Message: oneLine(aws.ToString(ff.ErrorMessage))})
		}
		// FailedCount without matching entries would hide findings; count what was accepted.
		if n := int(aws.ToInt32(out.FailedCount)); n > len(out.FailedFindings) {
			res.Failed = append(res.Failed, FailedFinding{ID: "(unnamed)", Code: "FailedCount", Message: fmt.Sprintf("Security Hub reported %d failures but named %d", n, len(out.FailedFindings))})
		}
		for _, f := range batch {
			if !failed[f.ID] {
				res.Imported++
			}
		}
	}
	sort.SliceStable(res.Failed, func(i, j int) bool { return res.Failed[i].ID < res.Failed[j].ID })
	if len(res.Failed) > 0 {
		return res, &ImportError{Total: len(fs), Failed: res.Failed}
	}
	return res, nil
}

// FailedIDs is the set of ids in res.Failed.
func (res ImportResult) FailedIDs() map[string]bool {
	out := make(map[string]bool, len(res.Failed))
	for _, f := range res.Failed {
		out[f.ID] = true
	}
	return out
}

// SplitArchived counts the findings of archived that Security Hub accepted and returns the
// others, which the next State keeps so that the next scan archives them again.
func (res ImportResult) SplitArchived(archived []Finding) (accepted int, notArchived []Finding) {
	failed := res.FailedIDs()
	for _, a := range archived {
		if failed[a.ID] {
			notArchived = append(notArchived, a)
		} else {
			accepted++
		}
	}
	return accepted, notArchived
}

// ToSDK converts a finding to the SDK type BatchImportFindings takes.
func ToSDK(f Finding) types.AwsSecurityFinding {
	s := types.AwsSecurityFinding{
		SchemaVersion:   aws.String(f.SchemaVersion),
		Id:              aws.String(f.ID),
		ProductArn:      aws.String(f.ProductArn),
		GeneratorId:     aws.String(f.GeneratorID),
		AwsAccountId:    aws.String(f.AwsAccountID),
		Types:           f.Types,
		CreatedAt:       aws.String(f.CreatedAt),
		UpdatedAt:       aws.String(f.UpdatedAt),
		FirstObservedAt: optional(f.FirstObservedAt),
		LastObservedAt:  optional(f.LastObservedAt),
		Severity: &types.Severity{
			Label:      types.SeverityLabel(f.Severity.Label),
			Normalized: aws.Int32(int32(f.Severity.Normalized)),
			Original:   optional(f.Severity.Original),
		},
		Title:         aws.String(f.Title),
		Description:   aws.String(f.Description),
		SourceUrl:     optional(f.SourceURL),
		ProductFields: f.ProductFields,
		ProductName:   optional(f.ProductName),
		CompanyName:   optional(f.CompanyName),
		RecordState:   types.RecordState(f.RecordState),
	}
	if pf := f.FindingProviderFields; pf != nil {
		s.FindingProviderFields = &types.FindingProviderFields{Types: pf.Types}
		if pf.Severity != nil {
			s.FindingProviderFields.Severity = &types.FindingProviderSeverity{Label: types.SeverityLabel(pf.Severity.Label), Original: optional(pf.Severity.Original)}
		}
	}
	if f.Remediation != nil {
		s.Remediation = &types.Remediation{Recommendation: &types.Recommendation{
			Text: optional(f.Remediation.Recommendation.Text),
			Url:  optional(f.Remediation.Recommendation.URL),
		}}
	}
	for _, r := range f.Resources {
		sr := types.Resource{Type: aws.String(r.Type), Id: aws.String(r.ID), Partition: types.Partition(r.Partition), Region: optional(r.Region)}
		if d := r.Details; d != nil {
			sr.Details = &types.ResourceDetails{Other: d.Other}
			if c := d.Container; c != nil {
				sr.Details.Container = &types.ContainerDetails{Name: optional(c.Name), ImageId: optional(c.ImageID), ImageName: optional(c.ImageName)}
			}
			if e := d.AwsEcrContainerImage; e != nil {
				sr.Details.AwsEcrContainerImage = &types.AwsEcrContainerImageDetails{
					RegistryId: optional(e.RegistryID), RepositoryName: optional(e.RepositoryName),
					ImageDigest: optional(e.ImageDigest), ImageTags: e.ImageTags,
				}
			}
		}
		s.Resources = append(s.Resources, sr)
	}
	for _, v := range f.Vulnerabilities {
		sv := types.Vulnerability{Id: aws.String(v.ID), ReferenceUrls: v.ReferenceUrls, FixAvailable: types.VulnerabilityFixAvailable(v.FixAvailable)}
		for _, p := range v.VulnerablePackages {
			sv.VulnerablePackages = append(sv.VulnerablePackages, types.SoftwarePackage{
				Name: optional(p.Name), Version: optional(p.Version), FixedInVersion: optional(p.FixedInVersion),
				PackageManager: optional(p.PackageManager), FilePath: optional(p.FilePath),
			})
		}
		for _, c := range v.Cvss {
			sv.Cvss = append(sv.Cvss, types.Cvss{Version: optional(c.Version), BaseScore: aws.Float64(c.BaseScore), BaseVector: optional(c.BaseVector)})
		}
		s.Vulnerabilities = append(s.Vulnerabilities, sv)
	}
	return s
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}
