package iampolicy

import (
	"fmt"
	"regexp"
	"strings"
)

// Value is one possible value of a policy string whose CloudFormation
// intrinsics are unresolved: Text shows it with its tokens as ${...}, and
// Pattern matches what it may resolve to.
type Value struct {
	Text    string
	Pattern Pattern
}

// maxAlternatives bounds the Fn::If combinations of one value.
const maxAlternatives = 16

// pseudoSegments are the pseudo parameters that resolve to one ARN segment.
var pseudoSegments = map[string]bool{
	"AWS::Partition": true, "AWS::Region": true, "AWS::AccountId": true, "AWS::URLSuffix": true,
}

// Resolve returns the values a policy string may take. A plain string is a
// policy pattern (its * and ? are wildcards). Ref to AWS::Partition, Region,
// AccountId or URLSuffix becomes one wildcard segment; any other Ref,
// Fn::GetAtt, Fn::ImportValue (and every intrinsic not joined) becomes a
// wildcard that may span segments; Fn::Join and Fn::Sub concatenate; Fn::If
// yields both branches. ok is false for a value that is not a string or an
// intrinsic (a malformed policy).
func Resolve(v any) (values []Value, ok bool) {
	switch x := v.(type) {
	case string:
		return []Value{{Text: x, Pattern: PolicyPattern(x)}}, true
	case map[string]any:
		if len(x) != 1 {
			return nil, false
		}
		for fn, arg := range x {
			return resolveIntrinsic(fn, arg), true
		}
	}
	return nil, false
}

func token(text string, p Pattern) []Value { return []Value{{Text: "${" + text + "}", Pattern: p}} }

func resolveIntrinsic(fn string, arg any) []Value {
	switch fn {
	case "Ref":
		name, _ := arg.(string)
		if pseudoSegments[name] {
			return token(name, segment())
		}
		if name == "AWS::NoValue" {
			return nil
		}
		return token(name, anything())
	case "Fn::GetAtt":
		parts, _ := arg.([]any)
		var names []string
		for _, p := range parts {
			names = append(names, fmt.Sprint(p))
		}
		if s, ok := arg.(string); ok {
			names = []string{s}
		}
		return token(strings.Join(names, "."), anything())
	case "Fn::Join":
		args, _ := arg.([]any)
		if len(args) != 2 {
			return token(fn, anything())
		}
		sep, _ := args[0].(string)
		parts, ok := args[1].([]any)
		if !ok {
			return token(fn, anything())
		}
		out := []Value{{}}
		for i, part := range parts {
			vals, ok := Resolve(part)
			if !ok {
				vals = token("?", anything())
			}
			if i > 0 && sep != "" {
				vals = prefix(sep, vals)
			}
			out = concat(out, vals)
		}
		return out
	case "Fn::Sub":
		tmpl, _ := arg.(string)
		vars := map[string]any{}
		if args, ok := arg.([]any); ok && len(args) == 2 {
			tmpl, _ = args[0].(string)
			vars, _ = args[1].(map[string]any)
		}
		return resolveSub(tmpl, vars)
	case "Fn::If":
		args, _ := arg.([]any)
		if len(args) != 3 {
			return token(fn, anything())
		}
		var out []Value
		for _, branch := range args[1:] {
			vals, _ := Resolve(branch)
			out = append(out, vals...)
		}
		return out
	}
	return token(fn, anything())
}

var subVariable = regexp.MustCompile(`\$\{([^}]*)\}`)

// resolveSub resolves a Fn::Sub template; ${!Literal} is the literal ${Literal}.
func resolveSub(tmpl string, vars map[string]any) []Value {
	out := []Value{{}}
	last := 0
	for _, m := range subVariable.FindAllStringSubmatchIndex(tmpl, -1) {
		out = concat(out, []Value{{Text: tmpl[last:m[0]], Pattern: PolicyPattern(tmpl[last:m[0]])}})
		name := tmpl[m[2]:m[3]]
		var vals []Value
		switch {
		case strings.HasPrefix(name, "!"):
			vals = []Value{{Text: "${" + name[1:] + "}", Pattern: anything()}} // an IAM policy variable
		case vars[name] != nil:
			vals, _ = Resolve(vars[name])
		case pseudoSegments[name]:
			vals = token(name, segment())
		default:
			vals = token(name, anything())
		}
		out = concat(out, vals)
		last = m[1]
	}
	return concat(out, []Value{{Text: tmpl[last:], Pattern: PolicyPattern(tmpl[last:])}})
}

func prefix(sep string, vals []Value) []Value {
	out := make([]Value, len(vals))
	for i, v := range vals {
		out[i] = Value{Text: sep + v.Text, Pattern: append(PolicyPattern(sep), v.Pattern...)}
	}
	return out
}

func concat(heads, tails []Value) []Value {
	var out []Value
	for _, h := range heads {
		for _, t := range tails {
			if len(out) == maxAlternatives {
				return out
			}
			p := append(append(Pattern{}, h.Pattern...), t.Pattern...)
			out = append(out, Value{Text: h.Text + t.Text, Pattern: p})
		}
	}
	return out
}
