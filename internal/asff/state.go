package asff

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strings"
)

// State is what one scan scope (tool, scanners, repository, branch) reported last time: the
// findings that are ACTIVE in Security Hub because of it. The Lambda keeps it in S3 between
// scans; the CLI in a file (--state).
type State struct {
	// Scope is ScopeKey of the scans this state belongs to.
	Scope string `json:"scope"`
	// Findings are the open findings, with what it takes to archive them later.
	Findings []StateEntry `json:"findings"`
}

// StateEntry keeps the fields BatchImportFindings requires, so that a finding can be archived
// without fetching it from Security Hub.
type StateEntry struct {
	ID          string     `json:"id"`
	GeneratorID string     `json:"generatorId"`
	Title       string     `json:"title"`
	Types       []string   `json:"types"`
	Severity    Severity   `json:"severity"`
	CreatedAt   string     `json:"createdAt"`
	Resources   []Resource `json:"resources"`
	ProductName string     `json:"productName,omitempty"`
}

// ScopeKey names the findings a scan may close: those of the same tool and scanners (a SARIF
// log from CodeQL must not close Semgrep's), repository and branch. An empty repository or
// branch is the one Scan defaults to.
func ScopeKey(tool string, scanners []string, repository, branch string) string {
	s := append([]string(nil), scanners...)
	sort.Strings(s)
	return tool + "|" + strings.Join(s, ",") + "|" + orUnknown(repository, unknownRepository) + "|" + orUnknown(branch, unknownBranch)
}

// ScopeHash is a short, path-safe digest of a scope, for object keys and file names.
func ScopeHash(scope string) string {
	sum := sha256.Sum256([]byte(scope))
	return hex.EncodeToString(sum[:16])
}

// Reconcile compares the new scan's findings with the previous state of the same scope:
//   - current comes back with CreatedAt carried over from the previous scan for ids it already
//     reported (CreatedAt is "first seen", not "last scanned");
//   - archived holds one ARCHIVED finding for every id of prev that current lacks: the issue
//     was fixed or its code removed, and Security Hub should say so.
//
// prev may be the zero State (first scan, or a lost state object): nothing is archived then.
func Reconcile(prev State, current []Finding, scan Scan) (updated, archived []Finding, err error) {
	scan, err = scan.withDefaults()
	if err != nil {
		return nil, nil, err
	}
	seen := make(map[string]bool, len(current))
	first := make(map[string]string, len(prev.Findings))
	for _, e := range prev.Findings {
		first[e.ID] = e.CreatedAt
	}
	updated = make([]Finding, len(current))
	for i, f := range current {
		seen[f.ID] = true
		if c, ok := first[f.ID]; ok && c != "" && c < f.CreatedAt {
			f.CreatedAt = c
		}
		updated[i] = f
	}
	now := timestamp(scan.Now)
	where := scan.Repository + " branch " + scan.Branch
	if scan.BuildID != "" {
		where += " (build " + scan.BuildID
		if scan.Commit != "" {
			where += ", commit " + scan.Commit
		}
		where += ")"
	}
	for _, e := range prev.Findings {
		if seen[e.ID] {
			continue
		}
		seen[e.ID] = true // a state written twice with one id must not archive it twice
		archived = append(archived, Finding{
			SchemaVersion:         SchemaVersion,
			ID:                    e.ID,
			ProductArn:            scan.ProductArn(),
			ProductName:           e.ProductName,
			CompanyName:           "securestacks",
			GeneratorID:           e.GeneratorID,
			AwsAccountID:          scan.AccountID,
			Types:                 e.Types,
			CreatedAt:             firstNonEmpty(e.CreatedAt, now),
			UpdatedAt:             now,
			Severity:              e.Severity,
			Title:                 e.Title,
			Description:           Truncate("No longer reported by the latest scan of "+where+": the issue was fixed or the code that had it was removed.", MaxDescription),
			SourceURL:             scan.SourceURL,
			Resources:             e.Resources,
			RecordState:           RecordArchived,
			FindingProviderFields: providerFields(e.Severity, e.Types),
		})
	}
	return updated, archived, nil
}

// NewState is the state to keep after a scan: the findings now open, plus the archived ones
// whose archiving failed (so that the next scan tries again).
func NewState(scope string, open []Finding, notArchived []Finding) State {
	s := State{Scope: scope, Findings: make([]StateEntry, 0, len(open)+len(notArchived))}
	for _, group := range [][]Finding{open, notArchived} {
		for _, f := range group {
			s.Findings = append(s.Findings, StateEntry{
				ID: f.ID, GeneratorID: f.GeneratorID, Title: f.Title, Types: f.Types,
				Severity: f.Severity, CreatedAt: f.CreatedAt, Resources: f.Resources, ProductName: f.ProductName,
			})
		}
	}
	return s
}
