package cfnvalidate

import (
	"encoding/json"
	"os"
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
)

// The real plugin walks the templates in order and folds each diagnostic into
// the first violation with the same rule, severity and description, else
// appends a new one. splitByTemplate keeps, per template, that template's
// share of each violation in the same order; merge folds the shares back the
// same way. merge(split(report)) is therefore the report itself, and a report
// assembled from cached and fresh shares is the one a full run would return.

// splitByTemplate returns, for each of paths, the violations restricted to
// the resources in that template (TemplatePath cleared, so an entry does not
// depend on where cdk.out is). Violations naming a resource outside paths are
// returned as rest, whole.
func splitByTemplate(violations []*awscdk.PolicyViolation, paths []string) (split [][]*awscdk.PolicyViolation, rest []*awscdk.PolicyViolation) {
	index := make(map[string]int, len(paths))
	for i, p := range paths {
		index[p] = i
	}
	split = make([][]*awscdk.PolicyViolation, len(paths))
	for _, v := range violations {
		known := true
		for _, r := range resources(v) {
			if _, ok := index[deref(r.TemplatePath)]; !ok {
				known = false
			}
		}
		if !known {
			rest = append(rest, v)
			continue
		}
		shares := make(map[int]*awscdk.PolicyViolation)
		for _, r := range resources(v) {
			i := index[deref(r.TemplatePath)]
			share, ok := shares[i]
			if !ok {
				c := *v
				c.ViolatingResources = &[]*awscdk.PolicyViolatingResource{}
				share = &c
				shares[i] = share
				split[i] = append(split[i], share)
			}
			res := *r
			res.TemplatePath = nil
			*share.ViolatingResources = append(*share.ViolatingResources, &res)
		}
	}
	return split, rest
}

// merge folds per-template shares, in stack order, into one violation list,
// setting each resource's TemplatePath to its stack's current template.
func merge(stacks []*awscdk.PolicyValidationStack, perTemplate [][]*awscdk.PolicyViolation) []*awscdk.PolicyViolation {
	out := []*awscdk.PolicyViolation{}
	for i, shares := range perTemplate {
		for _, share := range shares {
			var into *awscdk.PolicyViolation
			for _, v := range out {
				if deref(v.RuleName) == deref(share.RuleName) && deref(v.Severity) == deref(share.Severity) && deref(v.Description) == deref(share.Description) {
					into = v
					break
				}
			}
			if into == nil {
				c := *share
				c.ViolatingResources = &[]*awscdk.PolicyViolatingResource{}
				into = &c
				out = append(out, into)
			}
			for _, r := range resources(share) {
				res := *r
				res.TemplatePath = stacks[i].TemplatePath
				*into.ViolatingResources = append(*into.ViolatingResources, &res)
			}
		}
	}
	return out
}

// succeeded is the real plugin's verdict: no violation of severity error or
// fatal.
func succeeded(violations []*awscdk.PolicyViolation) bool {
	for _, v := range violations {
		if s := deref(v.Severity); s == "error" || s == "fatal" {
			return false
		}
	}
	return true
}

func resources(v *awscdk.PolicyViolation) []*awscdk.PolicyViolatingResource {
	if v.ViolatingResources == nil {
		return nil
	}
	return *v.ViolatingResources
}

// entry is one cached template's share of the report.
type entry struct {
	Format     string                    `json:"format"`
	Violations []*awscdk.PolicyViolation `json:"violations"`
}

// load returns the cached violations of key. Anything unreadable is a miss.
func (p *Plugin) load(key string) ([]*awscdk.PolicyViolation, bool) {
	b, err := os.ReadFile(filepath.Join(p.cacheDir, key+".json"))
	if err != nil {
		return nil, false
	}
	var e entry
	if err := json.Unmarshal(b, &e); err != nil || e.Format != cacheFormat {
		return nil, false
	}
	for _, v := range e.Violations {
		if v == nil || v.RuleName == nil || v.ViolatingResources == nil {
			return nil, false
		}
	}
	return e.Violations, true
}

// store writes key's entry through a temporary file and a rename, so a
// concurrent synth reads either no entry or a whole one. A failed write only
// costs a re-validation next time.
func (p *Plugin) store(key string, violations []*awscdk.PolicyViolation) {
	if violations == nil {
		violations = []*awscdk.PolicyViolation{}
	}
	b, err := json.Marshal(entry{Format: cacheFormat, Violations: violations})
	if err != nil {
		return
	}
	writeAtomic(p.cacheDir, filepath.Join(p.cacheDir, key+".json"), b)
}

// writeAtomic writes file in dir through a temporary file and a rename.
func writeAtomic(dir, file string, b []byte) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return
	}
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return
	}
	_, werr := f.Write(b)
	cerr := f.Close()
	if werr != nil || cerr != nil || os.Rename(f.Name(), file) != nil {
		os.Remove(f.Name())
	}
}
