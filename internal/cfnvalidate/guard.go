package cfnvalidate

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/internal/allowlist"
)

// The AWS Control Tower proactive controls ship as cfn-guard rules
// (https://docs.aws.amazon.com/controltower/latest/controlreference/proactive-controls.html).
// aws-cdk-lib's validation engine evaluates Guard rules itself, so they run
// in the same plugin as the built-in rules: one engine, one report, and the
// cache skips them for unchanged templates too.

// Allowed is one reviewed exception: rule may fail on the resource whose
// logical id is LogicalID, in any template, for Reason.
type Allowed struct {
	Rule      string `json:"rule"`
	LogicalID string `json:"logicalId"`
	Reason    string `json:"reason"`
}

// LoadAllowlist reads a JSON list of Allowed entries. Every entry needs a
// rule, a logical id and a reason of at least allowlist.MinReason characters.
func LoadAllowlist(path string) ([]Allowed, error) {
	entries, err := allowlist.Load[Allowed](path, "{rule, logicalId, reason}")
	if err != nil {
		return nil, err
	}
	for i, e := range entries {
		if e.Rule == "" || e.LogicalID == "" || !allowlist.Reasoned(e.Reason) {
			return nil, fmt.Errorf("%s: entry %d: expected rule, logicalId and a reason of at least %d characters", path, i, allowlist.MinReason)
		}
	}
	return entries, nil
}

// GuardRulesFromDir returns every .guard file under dir, sorted by path, as
// rule sources named by their path relative to dir.
func GuardRulesFromDir(dir string) ([]*awscdk.ValidationRuleSource, error) {
	var rules []*awscdk.ValidationRuleSource
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".guard") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		rules = append(rules, &awscdk.ValidationRuleSource{Name: jsii.String(filepath.ToSlash(rel)), Content: jsii.String(string(b))})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("guard rules: %w", err)
	}
	if len(rules) == 0 {
		return nil, fmt.Errorf("guard rules: no .guard file under %s", dir)
	}
	sort.Slice(rules, func(i, j int) bool { return *rules[i].Name < *rules[j].Name })
	return rules, nil
}

func allowed(entries []Allowed) map[[2]string]bool {
	out := make(map[[2]string]bool, len(entries))
	for _, e := range entries {
		out[[2]string{e.Rule, e.LogicalID}] = true
	}
	return out
}

// withoutAllowed drops the allowlisted resources from each violation, and
// the violations left with none.
func (p *Plugin) withoutAllowed(violations []*awscdk.PolicyViolation) []*awscdk.PolicyViolation {
	if len(p.allow) == 0 {
		return violations
	}
	out := violations[:0]
	for _, v := range violations {
		var keep []*awscdk.PolicyViolatingResource
		for _, r := range resources(v) {
			if !p.allow[[2]string{deref(v.RuleName), deref(r.ResourceLogicalId)}] {
				keep = append(keep, r)
			}
		}
		if len(keep) == 0 {
			continue
		}
		v.ViolatingResources = &keep
		out = append(out, v)
	}
	return out
}
