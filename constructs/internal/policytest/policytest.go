// Package policytest reads the resource policies of a synthesized template, for the tests that
// check that each AWS service writing into a construct's resources finds the statements its
// documentation requires. Only tests import it.
package policytest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Statement is one statement of a resource policy, with the resource that holds it.
type Statement struct {
	// LogicalID and Type are the holder's: an AWS::KMS::Key, AWS::S3::BucketPolicy,
	// AWS::SNS::TopicPolicy or AWS::SQS::QueuePolicy.
	LogicalID, Type string
	// Statement is the statement as the template has it.
	Statement map[string]any
}

// Condition is the statement's Condition as JSON, with Fn::Join and Ref rendered as text
// (Text), or "" without one.
func (s Statement) Condition() string {
	c, ok := s.Statement["Condition"]
	if !ok {
		return ""
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // keep "<AWS::Partition>" readable
	_ = enc.Encode(Render(c))
	return strings.TrimSuffix(b.String(), "\n")
}

// AllowsService returns the Allow statements of the resource policies of tpl (the JSON form of
// assertions.Template.ToJSON()) whose principal includes service principal service and whose
// actions include action. A principal written with intrinsics is compared in its Text form,
// such as "logs.eu-west-1.<AWS::URLSuffix>".
func AllowsService(tpl map[string]any, service, action string) []Statement {
	var out []Statement
	resources, _ := tpl["Resources"].(map[string]any)
	for id, r := range resources {
		r, _ := r.(map[string]any)
		props, _ := r["Properties"].(map[string]any)
		typ, _ := r["Type"].(string)
		var doc any
		switch typ {
		case "AWS::KMS::Key":
			doc = props["KeyPolicy"]
		case "AWS::S3::BucketPolicy", "AWS::SNS::TopicPolicy", "AWS::SQS::QueuePolicy":
			doc = props["PolicyDocument"]
		default:
			continue
		}
		d, _ := doc.(map[string]any)
		sts, _ := d["Statement"].([]any)
		for _, st := range sts {
			st, _ := st.(map[string]any)
			p, _ := st["Principal"].(map[string]any)
			if st["Effect"] != "Allow" || p == nil || !slices.Contains(texts(p["Service"]), service) || !slices.Contains(texts(st["Action"]), action) {
				continue
			}
			out = append(out, Statement{LogicalID: id, Type: typ, Statement: st})
		}
	}
	return out
}

// Text renders v, a string or an Fn::Join of strings and Refs, as one string with each Ref as
// "<Name>", the way cdk-nag prints resources.
func Text(v any) string { return fmt.Sprint(Render(v)) }

func texts(v any) []string {
	if l, ok := v.([]any); ok {
		out := make([]string, len(l))
		for i, e := range l {
			out[i] = Text(e)
		}
		return out
	}
	return []string{Text(v)}
}

// Render renders the Fn::Join and Ref intrinsics in v as text, recursively ("arn:<AWS::Partition>:..."
// for a Ref of AWS::Partition); other values stay as they are.
func Render(v any) any {
	switch v := v.(type) {
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = Render(e)
		}
		return out
	case map[string]any:
		if ref, ok := v["Ref"].(string); ok && len(v) == 1 {
			return "<" + ref + ">"
		}
		if join, ok := v["Fn::Join"].([]any); ok && len(v) == 1 && len(join) == 2 {
			sep, _ := join[0].(string)
			parts, _ := join[1].([]any)
			var b strings.Builder
			for i, part := range parts {
				if i > 0 {
					b.WriteString(sep)
				}
				b.WriteString(fmt.Sprint(Render(part)))
			}
			return b.String()
		}
		out := map[string]any{}
		for k, e := range v {
			out[k] = Render(e)
		}
		return out
	}
	return v
}
