package asff_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"
	"github.com/aws/smithy-go"

	"github.com/securestacks/securestacks/internal/asff"
	"github.com/securestacks/securestacks/internal/reports"
)

// importFunc is a fake Security Hub client.
type importFunc func(ctx context.Context, in *securityhub.BatchImportFindingsInput, optFns ...func(*securityhub.Options)) (*securityhub.BatchImportFindingsOutput, error)

func (f importFunc) BatchImportFindings(ctx context.Context, in *securityhub.BatchImportFindingsInput, optFns ...func(*securityhub.Options)) (*securityhub.BatchImportFindingsOutput, error) {
	return f(ctx, in, optFns...)
}

// recorder accepts every finding and records the size of each call.
type recorder struct{ calls []int }

func (r *recorder) api() importFunc {
	return func(_ context.Context, in *securityhub.BatchImportFindingsInput, _ ...func(*securityhub.Options)) (*securityhub.BatchImportFindingsOutput, error) {
		r.calls = append(r.calls, len(in.Findings))
		return &securityhub.BatchImportFindingsOutput{SuccessCount: aws.Int32(int32(len(in.Findings))), FailedCount: aws.Int32(0)}, nil
	}
}

// retryThrottled is a Retry hook that retries throttling errors up to five attempts and counts
// the waits (the Lambda passes awsretry.Do, tested in the handler's tests).
func retryThrottled(waits *int) func(context.Context, func(context.Context) error) error {
	return func(ctx context.Context, op func(context.Context) error) error {
		var err error
		for attempt := 1; attempt <= 5; attempt++ {
			if err = op(ctx); err == nil {
				return nil
			}
			var api smithy.APIError
			if !errors.As(err, &api) || api.ErrorCode() != "TooManyRequestsException" {
				return err
			}
			*waits++
		}
		return err
	}
}

// synthetic builds n distinct findings.
func synthetic(t testing.TB, n int) []asff.Finding {
	t.Helper()
	rep := &reports.Report{Tool: "trivy", Scanners: []string{"Trivy"}}
	for i := range n {
		rep.Findings = append(rep.Findings, reports.Finding{
			Scanner: "Trivy", Category: reports.Package, RuleID: fmt.Sprintf("CVE-2025-%05d", i), Location: "go.mod pkg@1.0.0",
			Title: "t", Description: "d", Severity: "HIGH", Package: "pkg", InstalledVersion: "1.0.0", Occurrences: 1,
		})
	}
	fs, err := asff.Build(rep, govScan())
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

func TestBatching(t *testing.T) {
	tests := []struct {
		n     int
		calls []int
	}{
		{0, nil},
		{1, []int{1}},
		{100, []int{100}},
		{101, []int{100, 1}},
		{250, []int{100, 100, 50}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.n), func(t *testing.T) {
			// GIVEN n findings
			var rec recorder
			// WHEN they are imported
			res, err := asff.Importer{API: rec.api()}.Import(context.Background(), synthetic(t, tt.n))
			// THEN they go in calls of at most 100 findings, each finding exactly once
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(rec.calls, tt.calls) || res.Imported != tt.n || res.Batches != len(tt.calls) {
				t.Errorf("calls %v imported %d batches %d; want %v", rec.calls, res.Imported, res.Batches, tt.calls)
			}
		})
	}
}

// TestTenThousandFindingsTakeExactlyOneHundredCalls is the benchmark figure of the issue: the
// seed made one BatchImportFindings call per finding (10,000); we make 100.
func TestTenThousandFindingsTakeExactlyOneHundredCalls(t *testing.T) {
	// GIVEN 10,000 findings
	fs := synthetic(t, 10000)
	var rec recorder
	// WHEN they are imported
	res, err := asff.Importer{API: rec.api()}.Import(context.Background(), fs)
	// THEN Security Hub is called exactly 100 times
	if err != nil || len(rec.calls) != 100 || res.Imported != 10000 {
		t.Errorf("%d calls, %d imported, err %v", len(rec.calls), res.Imported, err)
	}
}

func TestThrottlingIsRetried(t *testing.T) {
	// GIVEN Security Hub throttles the second batch twice
	fs := synthetic(t, 150)
	calls, waits := 0, 0
	api := importFunc(func(_ context.Context, in *securityhub.BatchImportFindingsInput, _ ...func(*securityhub.Options)) (*securityhub.BatchImportFindingsOutput, error) {
		calls++
		if calls == 2 || calls == 3 {
			return nil, &smithy.GenericAPIError{Code: "TooManyRequestsException", Message: "Rate exceeded"}
		}
		return &securityhub.BatchImportFindingsOutput{FailedCount: aws.Int32(0)}, nil
	})
	// WHEN the findings are imported
	res, err := asff.Importer{API: api, Retry: retryThrottled(&waits)}.Import(context.Background(), fs)
	// THEN the batch is retried after a backoff and every finding is imported
	if err != nil || res.Imported != 150 || calls != 4 || waits != 2 || res.Batches != 2 {
		t.Errorf("err %v imported %d calls %d waits %d batches %d", err, res.Imported, calls, waits, res.Batches)
	}
}

func TestFailuresAreReportedByID(t *testing.T) {
	fs := synthetic(t, 250)
	rejected := []string{fs[3].ID, fs[120].ID}
	tests := []struct {
		name       string
		api        importFunc
		wantFailed []string
		wantCode   string
		imported   int
	}{
		{
			name: "FailedFindings in a successful call",
			api: func(_ context.Context, in *securityhub.BatchImportFindingsInput, _ ...func(*securityhub.Options)) (*securityhub.BatchImportFindingsOutput, error) {
				out := &securityhub.BatchImportFindingsOutput{FailedCount: aws.Int32(0)}
				for _, f := range in.Findings {
					for _, id := range rejected {
						if aws.ToString(f.Id) == id {
							out.FailedFindings = append(out.FailedFindings, types.ImportFindingsError{Id: f.Id, ErrorCode: aws.String("InvalidInput"), ErrorMessage: aws.String("Finding does not adhere to ASFF")})
						}
					}
				}
				out.FailedCount = aws.Int32(int32(len(out.FailedFindings)))
				return out, nil
			},
			wantFailed: rejected, wantCode: "InvalidInput", imported: 248,
		},
		{
			name: "a batch that fails for good",
			api: func(_ context.Context, in *securityhub.BatchImportFindingsInput, _ ...func(*securityhub.Options)) (*securityhub.BatchImportFindingsOutput, error) {
				if aws.ToString(in.Findings[0].Id) == fs[100].ID {
					return nil, &smithy.GenericAPIError{Code: "InvalidAccessException", Message: "Account is not subscribed to AWS Security Hub"}
				}
				return &securityhub.BatchImportFindingsOutput{FailedCount: aws.Int32(0)}, nil
			},
			wantFailed: ids(fs[100:200]), wantCode: "BatchFailed", imported: 150,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN Security Hub rejects some findings
			waits := 0
			// WHEN 250 findings are imported
			res, err := asff.Importer{API: tt.api, Retry: retryThrottled(&waits)}.Import(context.Background(), fs)
			// THEN the other findings still go in, and the error names every rejected id
			var ie *asff.ImportError
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v, want an *ImportError", err)
			}
			want := append([]string(nil), tt.wantFailed...)
			sort.Strings(want)
			if got := failedIDs(ie.Failed); !reflect.DeepEqual(got, want) {
				t.Errorf("failed ids %v, want %v", got, want)
			}
			for _, id := range tt.wantFailed {
				if !strings.Contains(err.Error(), id) {
					t.Errorf("error does not name %s", id)
				}
			}
			if ie.Failed[0].Code != tt.wantCode || res.Imported != tt.imported || ie.Total != 250 {
				t.Errorf("code %q imported %d total %d", ie.Failed[0].Code, res.Imported, ie.Total)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line")
			}
		})
	}
}

func TestCancelledContextReportsUnsentFindings(t *testing.T) {
	// GIVEN the context ends after the first batch
	fs := synthetic(t, 250)
	ctx, cancel := context.WithCancel(context.Background())
	api := importFunc(func(context.Context, *securityhub.BatchImportFindingsInput, ...func(*securityhub.Options)) (*securityhub.BatchImportFindingsOutput, error) {
		cancel()
		return &securityhub.BatchImportFindingsOutput{}, nil
	})
	// WHEN the findings are imported
	res, err := asff.Importer{API: api}.Import(ctx, fs)
	// THEN the 150 findings not sent are reported by id, not dropped
	var ie *asff.ImportError
	if !errors.As(err, &ie) || len(ie.Failed) != 150 || ie.Failed[0].Code != "NotSent" || res.Imported != 100 {
		t.Errorf("err %v imported %d", err, res.Imported)
	}
}

func TestReconcileArchivesWhatTheNewScanLacks(t *testing.T) {
	// GIVEN a previous scan that reported a, b and c
	all := synthetic(t, 4)
	a, b, c, d := all[0], all[1], all[2], all[3]
	_ = c // c stays in both scans
	earlier := "2025-05-01T00:00:00.000Z"
	b.CreatedAt = earlier
	prev := asff.NewState("scope", []asff.Finding{a, b, c}, nil)

	// WHEN the new scan reports b, c and d
	updated, archived, err := asff.Reconcile(prev, all[1:], govScan())

	// THEN a is archived, b keeps its first-seen time, and d is new
	if err != nil {
		t.Fatal(err)
	}
	if len(archived) != 1 || archived[0].ID != a.ID || archived[0].RecordState != "ARCHIVED" {
		t.Fatalf("archived = %+v", archived)
	}
	x := archived[0]
	if x.FindingProviderFields == nil || x.FindingProviderFields.Severity.Label != a.Severity.Label {
		t.Errorf("archived finding without provider fields: %+v", x.FindingProviderFields)
	}
	if x.Title != a.Title || x.GeneratorID != a.GeneratorID || !reflect.DeepEqual(x.Types, a.Types) || x.Severity != a.Severity ||
		x.UpdatedAt != "2025-06-03T09:30:00.000Z" || x.ProductArn != a.ProductArn || len(x.Resources) != 1 {
		t.Errorf("archived finding lacks required fields: %+v", x)
	}
	if !strings.Contains(x.Description, "No longer reported by the latest scan of sample-app branch main (build sample-app-sca:7c1d, commit 9f1c2ab)") {
		t.Errorf("description %q", x.Description)
	}
	if updated[0].ID != b.ID || updated[0].CreatedAt != earlier {
		t.Errorf("b = %s created %s", updated[0].ID, updated[0].CreatedAt)
	}
	if updated[2].ID != d.ID || updated[2].CreatedAt != "2025-06-03T09:00:00.000Z" {
		t.Errorf("d = %s created %s", updated[2].ID, updated[2].CreatedAt)
	}

	// AND with no previous state nothing is archived
	_, archived, _ = asff.Reconcile(asff.State{}, all, govScan())
	if len(archived) != 0 {
		t.Errorf("first scan archived %d", len(archived))
	}

	// AND a clean re-scan archives everything
	_, archived, _ = asff.Reconcile(prev, nil, govScan())
	if got := ids(archived); !reflect.DeepEqual(got, ids([]asff.Finding{a, b, c})) {
		t.Errorf("clean scan archived %v", got)
	}
}

func TestNewStateKeepsUnarchivedFindings(t *testing.T) {
	// GIVEN open findings and an archived one that Security Hub rejected
	fs := synthetic(t, 3)
	// WHEN the state is written
	s := asff.NewState("trivy|Trivy|sample-app|main", fs[:2], fs[2:])
	// THEN the next scan sees all three, so it retries the archive
	if len(s.Findings) != 3 || s.Findings[2].ID != fs[2].ID || s.Scope != "trivy|Trivy|sample-app|main" {
		t.Errorf("state = %+v", s)
	}
}

func TestScopeKey(t *testing.T) {
	// GIVEN scanners listed in any order WHEN the scope is keyed THEN the key is the same
	if asff.ScopeKey("sarif", []string{"b", "a"}, "r", "main") != asff.ScopeKey("sarif", []string{"a", "b"}, "r", "main") {
		t.Error("scope depends on scanner order")
	}
	// AND different scanners, repositories or branches are different scopes
	base := asff.ScopeKey("sarif", []string{"CodeQL"}, "r", "main")
	for _, other := range []string{
		asff.ScopeKey("sarif", []string{"Semgrep OSS"}, "r", "main"),
		asff.ScopeKey("sarif", []string{"CodeQL"}, "r2", "main"),
		asff.ScopeKey("sarif", []string{"CodeQL"}, "r", "dev"),
	} {
		if other == base || asff.ScopeHash(other) == asff.ScopeHash(base) {
			t.Errorf("%q collides with %q", other, base)
		}
	}
	// AND a scan that names no repository or branch has the scope of Scan's defaults
	if got := asff.ScopeKey("trivy", []string{"Trivy"}, " ", ""); got != "trivy|Trivy|unknown-repository|unknown-branch" {
		t.Errorf("scope without repository and branch = %q", got)
	}
}

func TestSplitArchived(t *testing.T) {
	// GIVEN three archived findings, one of which Security Hub rejected
	archived := []asff.Finding{{ID: "a"}, {ID: "b"}, {ID: "c"}}
	res := asff.ImportResult{Failed: []asff.FailedFinding{{ID: "b", Code: "InvalidInput"}, {ID: "not-archived-here"}}}

	// WHEN they are split
	accepted, notArchived := res.SplitArchived(archived)

	// THEN two count as archived and the rejected one is kept for the next scan
	if accepted != 2 || len(notArchived) != 1 || notArchived[0].ID != "b" {
		t.Errorf("accepted %d, not archived %+v", accepted, notArchived)
	}
}

func TestToSDK(t *testing.T) {
	// GIVEN an ECR finding with every optional part
	_, fs, err := asff.Convert("ecr", fixture(t, "ecr-enhanced.json"), govScan())
	if err != nil {
		t.Fatal(err)
	}
	// WHEN it is converted to the SDK type
	s := asff.ToSDK(fs[0])
	// THEN the fields BatchImportFindings needs are carried over
	if aws.ToString(s.Id) != fs[0].ID || s.Severity.Label != types.SeverityLabelHigh || aws.ToInt32(s.Severity.Normalized) != 70 ||
		s.RecordState != types.RecordStateActive || s.Resources[0].Partition != types.PartitionAwsUsGov ||
		aws.ToString(s.Resources[1].Details.AwsEcrContainerImage.RepositoryName) != "sample-app" ||
		aws.ToString(s.Vulnerabilities[0].VulnerablePackages[0].Name) != "libc6" || s.Vulnerabilities[0].FixAvailable != types.VulnerabilityFixAvailableYes ||
		aws.ToString(s.SourceUrl) != fs[0].SourceURL || s.ProductFields["securestacks/Tool"] != "ecr" ||
		s.FindingProviderFields.Severity.Label != types.SeverityLabelHigh || s.FindingProviderFields.Types[0] != fs[0].Types[0] {
		t.Errorf("sdk finding = %+v", s)
	}
}

func ids(fs []asff.Finding) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.ID
	}
	sort.Strings(out)
	return out
}

func failedIDs(fs []asff.FailedFinding) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.ID
	}
	sort.Strings(out)
	return out
}
