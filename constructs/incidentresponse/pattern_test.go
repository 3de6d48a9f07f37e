package incidentresponse_test

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/aws/jsii-runtime-go"
)

// matches evaluates the part of EventBridge's pattern language the rule
// uses: a list of values matches when the event's value is one of them, a
// {"numeric": [op, n]} element compares numbers, and nested objects match
// field by field; a field the pattern names must exist in the event
// (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html,
// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html).
func matches(pattern, event map[string]any) bool {
	for k, p := range pattern {
		v, ok := event[k]
		if !ok {
			return false
		}
		switch p := p.(type) {
		case map[string]any:
			sub, ok := v.(map[string]any)
			if !ok || !matches(p, sub) {
				return false
			}
		case []any:
			if !anyMatches(p, v) {
				return false
			}
		}
	}
	return true
}

func anyMatches(alternatives []any, v any) bool {
	for _, a := range alternatives {
		if m, ok := a.(map[string]any); ok {
			if num, ok := m["numeric"].([]any); ok {
				f, isNum := v.(float64)
				if isNum && compare(num, f) {
					return true
				}
			}
			continue
		}
		if a == v {
			return true
		}
	}
	return false
}

func compare(ops []any, f float64) bool {
	for i := 0; i+1 < len(ops); i += 2 {
		n := ops[i+1].(float64)
		ok := false
		switch ops[i] {
		case ">=":
			ok = f >= n
		case ">":
			ok = f > n
		case "<":
			ok = f < n
		case "<=":
			ok = f <= n
		case "=":
			ok = f == n
		}
		if !ok {
			return false
		}
	}
	return true
}

func TestFindingRulePattern(t *testing.T) {
	// GIVEN the rule's pattern as synthesized (severity 7) and a GuardDuty
	// EC2 finding shaped as GuardDuty documents it
	// (https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_findings_eventbridge.html)
	rules := *configuredTpl.FindResources(jsii.String("AWS::Events::Rule"), nil)
	if len(rules) != 1 {
		t.Fatalf("%d rules, want 1", len(rules))
	}
	var pattern map[string]any
	for _, r := range rules {
		b, _ := json.Marshal((*r)["Properties"].(map[string]any)["EventPattern"])
		_ = json.Unmarshal(b, &pattern)
	}
	raw, err := os.ReadFile("../../lambda-src/ir-api/testdata/guardduty-ec2-finding.json")
	if err != nil {
		t.Fatal(err)
	}
	event := func(mutate func(map[string]any)) map[string]any {
		var e map[string]any
		_ = json.Unmarshal(raw, &e)
		mutate(e)
		return e
	}
	detail := func(e map[string]any) map[string]any { return e["detail"].(map[string]any) }
	tests := []struct {
		name  string
		event map[string]any
		want  bool
	}{
		{"EC2 finding of severity 8", event(func(map[string]any) {}), true},
		{"EC2 finding of severity 7", event(func(e map[string]any) { detail(e)["severity"] = 7.0 }), true},
		{"EC2 finding of severity 5.5", event(func(e map[string]any) { detail(e)["severity"] = 5.5 }), false},
		{"access-key finding", event(func(e map[string]any) {
			detail(e)["resource"] = map[string]any{"resourceType": "AccessKey"}
		}), false},
		{"another source", event(func(e map[string]any) { e["source"] = "aws.securityhub" }), false},
	}
	// THEN it matches exactly the EC2 findings at or above the threshold
	for _, tt := range tests {
		if got := matches(pattern, tt.event); got != tt.want {
			t.Errorf("%s: matched %v, want %v (pattern %v)", tt.name, got, tt.want, pattern)
		}
	}
	// AND the default deployment has no rule
	defaultTpl.ResourceCountIs(jsii.String("AWS::Events::Rule"), jsii.Number(0))
}
