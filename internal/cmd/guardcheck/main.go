// Command guardcheck runs cfn-guard with the AWS Control Tower proactive rules
// over every synthesized template and fails on any failure that is not in the
// committed allowlist. Each allowlist entry names the rule, the logical id and
// the reason, so an accepted failure is a reviewed decision, not noise.
//
//	go run ./internal/cmd/guardcheck -guard BIN -rules DIR -allowlist FILE cdk.out/*.template.json
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
)

// Allowed is one accepted cfn-guard failure.
type Allowed struct {
	Rule      string `json:"rule"`
	LogicalID string `json:"logicalId"`
	Reason    string `json:"reason"`
}

// Failure is one rule failing on one resource of one template.
type Failure struct {
	Template  string
	Rule      string
	LogicalID string
	Message   string
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("guardcheck", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	guard := fs.String("guard", "", "path of the cfn-guard binary")
	rules := fs.String("rules", "", "directory of .guard rules")
	allowFile := fs.String("allowlist", "", "JSON allowlist of accepted failures")
	if err := fs.Parse(args); err != nil {
		fmt.Fprintf(stderr, "guardcheck: %v\n", err)
		return 2
	}
	if *guard == "" || *rules == "" || *allowFile == "" || fs.NArg() == 0 {
		fmt.Fprintln(stderr, "guardcheck: expected -guard BIN -rules DIR -allowlist FILE TEMPLATE...")
		return 2
	}
	allow, err := loadAllowlist(*allowFile)
	if err != nil {
		fmt.Fprintf(stderr, "guardcheck: %v\n", err)
		return 2
	}
	// One cfn-guard process per template, as many at once as there are CPUs:
	// every test environment's templates are checked.
	templates := fs.Args()
	found := make([][]Failure, len(templates))
	errs := make([]error, len(templates))
	var wg sync.WaitGroup
	slots := make(chan struct{}, runtime.NumCPU())
	for i, tpl := range templates {
		wg.Add(1)
		go func() {
			defer wg.Done()
			slots <- struct{}{}
			defer func() { <-slots }()
			out, err := runGuard(*guard, *rules, tpl)
			if err == nil {
				found[i], err = parseReport(tpl, out)
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	var failures []Failure
	for i, tpl := range templates {
		if errs[i] != nil {
			fmt.Fprintf(stderr, "guardcheck: %s: %v\n", tpl, errs[i])
			return 2
		}
		failures = append(failures, found[i]...)
	}
	bad, allowed := partition(failures, allow)
	fmt.Fprintf(stdout, "cfn-guard (Control Tower rules): %d templates, %d failures, %d allowlisted, %d not allowed\n",
		len(fs.Args()), len(failures), allowed, len(bad))
	for _, f := range bad {
		fmt.Fprintf(stdout, "FAIL %s %s %s: %s\n", f.Template, f.Rule, f.LogicalID, f.Message)
	}
	if len(bad) > 0 {
		return 1
	}
	return 0
}

func loadAllowlist(path string) (map[[2]string]bool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var entries []Allowed
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&entries); err != nil {
		return nil, fmt.Errorf("%s: expected a JSON list of {rule, logicalId, reason}: %w", path, err)
	}
	out := map[[2]string]bool{}
	for i, e := range entries {
		if e.Rule == "" || e.LogicalID == "" || len(strings.TrimSpace(e.Reason)) < 20 {
			return nil, fmt.Errorf("%s: entry %d: expected rule, logicalId and a reason of at least 20 characters", path, i)
		}
		out[[2]string{e.Rule, e.LogicalID}] = true
	}
	return out, nil
}

// runGuard returns cfn-guard's JSON report. cfn-guard exits 19 when a rule
// fails, which is a result here, not an error.
func runGuard(bin, rules, template string) ([]byte, error) {
	cmd := exec.Command(bin, "validate", "--rules", rules, "--data", template, "--output-format", "json", "--show-summary", "none")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 19) {
		return nil, fmt.Errorf("cfn-guard: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

var resourcePath = regexp.MustCompile(`^/Resources/([^/\[]+)`)
var controlID = regexp.MustCompile(`\[(CT\.[A-Z0-9.]+)\]`)

// parseReport reads cfn-guard's stream of JSON documents, one per rule file.
func parseReport(template string, out []byte) ([]Failure, error) {
	dec := json.NewDecoder(bytes.NewReader(out))
	seen := map[[2]string]bool{}
	var failures []Failure
	for {
		var doc struct {
			Status       string `json:"status"`
			NotCompliant []struct {
				Rule map[string]any `json:"Rule"`
			} `json:"not_compliant"`
		}
		if err := dec.Decode(&doc); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("reading cfn-guard report: %w", err)
		}
		for _, nc := range doc.NotCompliant {
			name, _ := nc.Rule["name"].(string)
			paths, msgs := map[string]bool{}, map[string]bool{}
			walk(nc.Rule, paths, msgs)
			msg := strings.Join(sortedKeys(msgs), " ")
			for _, id := range sortedKeys(paths) {
				key := [2]string{name, id}
				if seen[key] {
					continue
				}
				seen[key] = true
				failures = append(failures, Failure{Template: template, Rule: name, LogicalID: id, Message: msg})
			}
		}
	}
	return failures, nil
}

// walk collects the logical ids of every traversed /Resources path and the
// Control Tower control ids mentioned in messages.
func walk(v any, paths, msgs map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		for k, child := range x {
			if s, ok := child.(string); ok {
				if k == "path" {
					if m := resourcePath.FindStringSubmatch(s); m != nil {
						paths[m[1]] = true
					}
				}
				for _, m := range controlID.FindAllStringSubmatch(s, -1) {
					msgs[m[1]] = true
				}
				continue
			}
			walk(child, paths, msgs)
		}
	case []any:
		for _, child := range x {
			walk(child, paths, msgs)
		}
	}
}

func partition(failures []Failure, allow map[[2]string]bool) (bad []Failure, allowed int) {
	for _, f := range failures {
		if allow[[2]string{f.Rule, f.LogicalID}] {
			allowed++
			continue
		}
		bad = append(bad, f)
	}
	sort.Slice(bad, func(i, j int) bool {
		if bad[i].Template != bad[j].Template {
			return bad[i].Template < bad[j].Template
		}
		return bad[i].Rule+bad[i].LogicalID < bad[j].Rule+bad[j].LogicalID
	})
	return bad, allowed
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
