package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"

	"github.com/securestacks/securestacks/internal/asff"
	"github.com/securestacks/securestacks/internal/reports"
)

// asffCommands is the asff group: the asff-ingest Lambda's conversion and import, from a
// terminal, on the same packages.
var asffCommands = []command{
	{name: "convert", summary: "convert a scanner report to ASFF findings (JSON on standard output)", run: runAsffConvert},
	{name: "import", summary: "convert a scanner report and import it into Security Hub, 100 findings per call", run: runAsffImport},
}

// asffTimeout bounds one import, retries included: 10,000 findings take 100 calls.
const asffTimeout = 10 * time.Minute

// asffMaxAttempts is the SDK standard retryer's attempts per BatchImportFindings call: it backs
// off exponentially on throttling (Security Hub accepts 10 calls per second, bursts of 30).
const asffMaxAttempts = 6

// scanFlags are the flags convert and import share.
type scanFlags struct {
	tool, report                                         *string
	account, region, partition                           *string
	repository, branch, commit, buildID, sourceURL, when *string
}

func addScanFlags(fs *flag.FlagSet) scanFlags {
	return scanFlags{
		tool:       fs.String("tool", "", "report format: "+strings.Join(reports.Tools(), ", ")+" (required)"),
		report:     fs.String("report", "", "report file, - for standard input (required)"),
		account:    fs.String("account", "", "12-digit AWS account id that owns the findings (required)"),
		region:     fs.String("region", "", "Security Hub region, e.g. eu-west-1 (required)"),
		partition:  fs.String("partition", "", "AWS partition: aws, aws-cn or aws-us-gov (default: from --region)"),
		repository: fs.String("repository", "", "scanned repository; part of every finding id (default unknown-repository)"),
		branch:     fs.String("branch", "", "scanned branch; part of every finding id (default unknown-branch)"),
		commit:     fs.String("commit", "", "scanned commit, shown on the findings"),
		buildID:    fs.String("build-id", "", "build that ran the scan, shown on the findings"),
		sourceURL:  fs.String("source-url", "", "URL of the stored report, set as every finding's SourceUrl"),
		when:       fs.String("created-at", "", "scan time, RFC 3339 (default: now)"),
	}
}

// convert reads and converts the report. A usage problem comes back as usage; a report that
// cannot be read or parsed as err, whose message names the tool and the offset or field.
func (f scanFlags) convert() (rep *reports.Report, findings []asff.Finding, scan asff.Scan, usage, err error) {
	if *f.tool == "" {
		return nil, nil, scan, fmt.Errorf("--tool: expected one of %s", strings.Join(reports.Tools(), ", ")), nil
	}
	tool, ok := reports.Lookup(*f.tool)
	if !ok {
		return nil, nil, scan, fmt.Errorf("--tool: unknown tool %q: expected one of %s", *f.tool, strings.Join(reports.Tools(), ", ")), nil
	}
	if *f.report == "" {
		return nil, nil, scan, errors.New("--report: expected the report file, or - for standard input"), nil
	}
	scan = asff.Scan{
		Partition: *f.partition, Region: *f.region, AccountID: *f.account,
		Repository: *f.repository, Branch: *f.branch, Commit: *f.commit, BuildID: *f.buildID, SourceURL: *f.sourceURL,
	}
	if *f.when != "" {
		t, err := time.Parse(time.RFC3339, *f.when)
		if err != nil {
			return nil, nil, scan, fmt.Errorf("--created-at: expected an RFC 3339 time such as 2025-06-03T09:00:00Z, got %q", *f.when), nil
		}
		scan.ScannedAt = t
	}
	// Scan errors name the field ("account: ..."), which is the flag's name.
	if _, err := asff.Build(&reports.Report{Tool: tool}, scan); err != nil {
		return nil, nil, scan, fmt.Errorf("--%w", err), nil
	}
	data, err := readInput(*f.report)
	if err != nil {
		return nil, nil, scan, nil, fmt.Errorf("%s: reading the report: %w", tool, err)
	}
	rep, findings, err = asff.Convert(tool, data, scan)
	return rep, findings, scan, nil, err
}

func runAsffConvert(args []string, stdout, stderr io.Writer) int {
	const where = "asff convert"
	fs := newFlagSet(where)
	sf := addScanFlags(fs)
	if done, code := parseFlags(fs, args, prog+" asff convert --tool TOOL --report FILE --account ID --region REGION [--partition P] [--repository R --branch B --commit C --build-id ID]",
		"Convert a scanner report to AWS Security Finding Format and print the findings as a JSON\n"+
			"array ([] when the report is clean). The ids are deterministic: the same issue in the same\n"+
			"place of the same repository and branch keeps its id across scans. This is the code path of\n"+
			"the asff-ingest Lambda; the output can be passed to aws securityhub batch-import-findings.", stdout, stderr); done {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(stderr, where, "unexpected argument %q; pass the report with --report", fs.Arg(0))
	}
	_, findings, _, usage, err := sf.convert()
	if usage != nil {
		return usageError(stderr, where, "%v", usage)
	}
	if err != nil {
		return failure(stderr, where, err)
	}
	if err := asff.WriteJSON(stdout, findings); err != nil {
		return failure(stderr, where, err)
	}
	return exitOK
}

// importSummary is what asff import prints.
type importSummary struct {
	Tool     string             `json:"tool"`
	Findings int                `json:"findings"`
	Imported int                `json:"imported"`
	Archived int                `json:"archived"`
	Batches  int                `json:"batches"`
	Counts   map[asff.Label]int `json:"counts"`
}

func runAsffImport(args []string, stdout, stderr io.Writer) int {
	const where = "asff import"
	fs := newFlagSet(where)
	sf := addScanFlags(fs)
	statePath := fs.String("state", "", "file with the previous scan's findings of this tool, repository and branch: findings it lists that this report lacks are ARCHIVED, and the file is rewritten (default: no archiving)")
	endpointURL := fs.String("endpoint-url", "", "send Security Hub requests to this URL (default: the SDK's endpoint, or AWS_ENDPOINT_URL_SECURITYHUB)")
	if done, code := parseFlags(fs, args, prog+" asff import --tool TOOL --report FILE --account ID --region REGION [--state FILE] [--repository R --branch B ...]",
		"Convert a scanner report as asff convert does and import the findings into Security Hub with\n"+
			"BatchImportFindings, at most 100 per call, retrying throttled calls. Prints a JSON summary with\n"+
			"the count of findings per severity. Exits 1 when any finding is rejected, naming each by id.\n"+
			"Credentials and profile come from the standard AWS SDK environment.", stdout, stderr); done {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(stderr, where, "unexpected argument %q; pass the report with --report", fs.Arg(0))
	}
	rep, findings, scan, usage, err := sf.convert()
	if usage != nil {
		return usageError(stderr, where, "%v", usage)
	}
	if err != nil {
		return failure(stderr, where, err)
	}

	scope := asff.ScopeKey(rep.Tool, rep.Scanners, scan.Repository, scan.Branch)
	prev := asff.State{Scope: scope}
	if *statePath != "" {
		b, err := os.ReadFile(*statePath)
		switch {
		case errors.Is(err, iofs.ErrNotExist):
		case err != nil:
			return usageError(stderr, where, "--state: %v", err)
		default:
			if err := json.Unmarshal(b, &prev); err != nil {
				return usageError(stderr, where, "--state: %s is not a state file written by asff import: %v", *statePath, err)
			}
			if prev.Scope != scope {
				return usageError(stderr, where, "--state: %s belongs to %q, not to this scan's %q", *statePath, prev.Scope, scope)
			}
		}
	}
	updated, archived, err := asff.Reconcile(prev, findings, scan)
	if err != nil {
		return failure(stderr, where, err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), asffTimeout)
	defer cancel()
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(scan.Region), config.WithRetryMaxAttempts(asffMaxAttempts))
	if err != nil {
		return failure(stderr, where, fmt.Errorf("loading AWS configuration: %w", err))
	}
	client := securityhub.NewFromConfig(cfg, func(o *securityhub.Options) {
		if *endpointURL != "" {
			o.BaseEndpoint = endpointURL
		}
	})
	res, importErr := asff.Importer{API: client}.Import(ctx, append(updated, archived...))
	n, notArchived := res.SplitArchived(archived)
	if *statePath != "" {
		b, err := json.MarshalIndent(asff.NewState(scope, updated, notArchived), "", "  ")
		if err == nil {
			err = os.WriteFile(*statePath, append(b, '\n'), 0o600)
		}
		if err != nil {
			importErr = errors.Join(importErr, fmt.Errorf("--state: writing %s: %w", *statePath, err))
		}
	}
	summary, _ := json.MarshalIndent(importSummary{Tool: rep.Tool, Findings: len(findings), Imported: res.Imported, Archived: n, Batches: res.Batches, Counts: asff.Counts(findings)}, "", "  ")
	fmt.Fprintln(stdout, string(summary))
	if importErr != nil {
		return failure(stderr, where, importErr)
	}
	return exitOK
}
