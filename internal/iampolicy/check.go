package iampolicy

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
)

// The checks a Finding belongs to.
const (
	CheckPolicy            = "policy"             // the document or statement is malformed
	CheckAction            = "action"             // the action does not exist
	CheckResource          = "resource"           // a Resource can never match the action
	CheckConditionKey      = "condition-key"      // the key is unknown, or absent from the action's request context
	CheckConditionOperator = "condition-operator" // the operator is unknown, or does not fit the key's type
)

// Finding is one problem of one statement.
type Finding struct {
	Check     string
	Statement string // the Sid, or #index when the statement has none
	Action    string // the policy's action string, "" for the statement as a whole
	Message   string
}

// operatorTypes maps each condition operator (without set prefix and
// IfExists) to the key types it fits, from
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
// String operators also fit ARN keys. Null fits every key.
var operatorTypes = func() map[string][]string {
	m := map[string][]string{}
	add := func(types []string, ops ...string) {
		for _, op := range ops {
			m[op] = types
		}
	}
	add([]string{"String", "ARN"}, "StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase", "StringLike", "StringNotLike")
	add([]string{"Numeric"}, "NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals", "NumericGreaterThan", "NumericGreaterThanEquals")
	add([]string{"Date"}, "DateEquals", "DateNotEquals", "DateLessThan", "DateLessThanEquals", "DateGreaterThan", "DateGreaterThanEquals")
	add([]string{"Bool"}, "Bool")
	add([]string{"Binary"}, "BinaryEquals")
	add([]string{"IPAddress"}, "IpAddress", "NotIpAddress")
	// ARN operators also fit String keys that hold ARNs: CloudWatch Logs
	// documents ArnLike on kms:EncryptionContext:aws:logs:arn (a String key) in
	// https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html
	add([]string{"ARN", "String"}, "ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike")
	add(nil, "Null")
	return m
}()

// operator is a parsed condition operator such as ForAnyValue:StringLikeIfExists.
type operator struct {
	set      string // "", "ForAllValues" or "ForAnyValue"
	base     string
	ifExists bool
	known    bool
}

func parseOperator(op string) operator {
	var o operator
	if set, rest, ok := strings.Cut(op, ":"); ok {
		o.set, op = set, rest
		if set != "ForAllValues" && set != "ForAnyValue" {
			return o
		}
	}
	if base, ok := strings.CutSuffix(op, "IfExists"); ok && base != "Null" {
		o.ifExists, op = true, base
	}
	o.base = op
	_, o.known = operatorTypes[op]
	return o
}

// resolvedAction is one entry of a statement's Action with the reference
// actions it names.
type resolvedAction struct {
	raw     string
	service *Service
	actions []*Action
}

// Check returns the findings of one policy document.
func (r *Reference) Check(doc Document) ([]Finding, error) {
	body, ok := doc.Body.(map[string]any)
	if !ok {
		return []Finding{{Check: CheckPolicy, Statement: "-", Message: "the policy document is not a JSON object (an unresolved intrinsic?)"}}, nil
	}
	var statements []any
	switch s := body["Statement"].(type) {
	case []any:
		statements = s
	case map[string]any:
		statements = []any{s}
	default:
		return []Finding{{Check: CheckPolicy, Statement: "-", Message: "expected Statement to be a list or an object"}}, nil
	}
	var out []Finding
	for i, s := range statements {
		st, ok := s.(map[string]any)
		if !ok {
			out = append(out, Finding{Check: CheckPolicy, Statement: fmt.Sprintf("#%d", i), Message: "expected the statement to be an object"})
			continue
		}
		found, err := r.checkStatement(doc, i, st)
		if err != nil {
			return nil, err
		}
		out = append(out, found...)
	}
	return out, nil
}

func (r *Reference) checkStatement(doc Document, index int, st map[string]any) ([]Finding, error) {
	kind := doc.Kind
	name := fmt.Sprintf("#%d", index)
	if sid, ok := st["Sid"].(string); ok && sid != "" {
		name = sid
	}
	var out []Finding
	report := func(check, action, format string, args ...any) {
		out = append(out, Finding{Check: check, Statement: name, Action: action, Message: fmt.Sprintf(format, args...)})
	}
	if e := st["Effect"]; e != "Allow" && e != "Deny" {
		report(CheckPolicy, "", "expected Effect Allow or Deny, got %v", e)
	}
	actionValue, notAction := st["Action"], false
	if v, ok := st["NotAction"]; ok {
		actionValue, notAction = v, true
	}
	var actions []resolvedAction
	allResolved := !notAction
	for _, raw := range stringList(actionValue) {
		if raw == "*" {
			allResolved = false
			continue
		}
		prefix, actionName, ok := strings.Cut(raw, ":")
		if !ok {
			report(CheckAction, raw, "expected service:action")
			allResolved = false
			continue
		}
		svc, err := r.Service(prefix)
		if err != nil {
			return nil, err
		}
		if svc == nil {
			report(CheckAction, raw, "no service has the prefix %q", prefix)
			allResolved = false
			continue
		}
		matched := svc.MatchActions(actionName)
		if len(matched) == 0 {
			if strings.ContainsAny(actionName, "*?") {
				report(CheckAction, raw, "the wildcard matches no %s action", prefix)
			} else {
				report(CheckAction, raw, "%s has no action %s", prefix, actionName)
			}
			allResolved = false
			continue
		}
		actions = append(actions, resolvedAction{raw: raw, service: svc, actions: matched})
	}

	if _, notResource := st["NotResource"]; !notResource && !notAction && kind != Trust {
		resourceValue, has := st["Resource"]
		if !has && kind == Identity {
			report(CheckPolicy, "", "expected Resource or NotResource")
		}
		if has {
			out = append(out, checkResources(Resolver{Types: doc.Types}, name, actions, allResolved, resourceValue)...)
		}
	}

	conditions, _ := st["Condition"].(map[string]any)
	for _, op := range slices.Sorted(maps.Keys(conditions)) {
		o := parseOperator(op)
		if !o.known {
			report(CheckConditionOperator, "", "unknown condition operator %s", op)
		}
		keys, _ := conditions[op].(map[string]any)
		for _, key := range slices.Sorted(maps.Keys(keys)) {
			def, global, err := r.ConditionKey(key)
			if err != nil {
				return nil, err
			}
			if def == nil {
				report(CheckConditionKey, "", "%s is not a global condition key and no service defines it", key)
				continue
			}
			if o.known {
				if msg := operatorMismatch(o, op, key, def.Type); msg != "" {
					report(CheckConditionOperator, "", "%s", msg)
				}
			}
			// A key absent from the action's request context makes a positive
			// operator false (the statement never applies to that action) and a
			// negated one true (the condition tests nothing); Null and ...IfExists
			// are written for absent keys. See "If the key that you specify in a
			// policy condition is not present in the request context" in
			// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
			if global || o.ifExists || o.base == "Null" || notAction {
				continue
			}
			for _, a := range actions {
				if !a.acceptsKey(def.Key) {
					report(CheckConditionKey, a.raw, "%s is not in the request context of %s: not a global key and not among the action's condition keys", key, a.raw)
				}
			}
		}
	}
	return out, nil
}

func (a resolvedAction) acceptsKey(canonical string) bool {
	for _, act := range a.actions {
		if a.service.Accepts(act, canonical) {
			return true
		}
	}
	return false
}

// checkResources finds the actions no Resource can match, and, when every
// action is known, the Resources no action can match.
func checkResources(resolver Resolver, stmt string, actions []resolvedAction, allResolved bool, resourceValue any) []Finding {
	var out []Finding
	var entries [][]Value
	var texts []string
	for _, v := range anyList(resourceValue) {
		vals, ok := resolver.Resolve(v)
		if !ok {
			out = append(out, Finding{Check: CheckPolicy, Statement: stmt, Message: fmt.Sprintf("expected each Resource to be a string, got %v", v)})
			continue
		}
		if len(vals) == 0 {
			continue
		}
		entries = append(entries, vals)
		texts = append(texts, vals[0].Text)
	}
	used := make([]bool, len(entries))
	for _, a := range actions {
		granted := false
		for e, vals := range entries {
			for _, v := range vals {
				for _, act := range a.actions {
					if a.service.AcceptsResource(act, v) {
						granted, used[e] = true, true
					}
				}
			}
		}
		if granted || len(entries) == 0 {
			continue
		}
		got := strings.Join(texts, ", ")
		if types := resourceTypeNames(a); len(types) == 0 {
			out = append(out, Finding{Check: CheckResource, Statement: stmt, Action: a.raw,
				Message: fmt.Sprintf("%s supports no resource-level permissions: Resource must be \"*\", got %s", a.raw, got)})
		} else {
			out = append(out, Finding{Check: CheckResource, Statement: stmt, Action: a.raw,
				Message: fmt.Sprintf("no Resource matches %s's resource types (%s): got %s", a.raw, strings.Join(types, "; "), got)})
		}
	}
	// A Resource no action can use is dead weight; reported only when every
	// action is known and granted, so one mistake gives one finding.
	if allResolved && len(actions) > 0 && len(out) == 0 {
		for e, ok := range used {
			if !ok {
				out = append(out, Finding{Check: CheckResource, Statement: stmt,
					Message: fmt.Sprintf("Resource %s matches a resource type of none of the statement's actions", texts[e])})
			}
		}
	}
	return out
}

// resourceTypeNames lists the ARN forms the actions accept, for messages.
func resourceTypeNames(a resolvedAction) []string {
	seen := map[string]bool{}
	var out []string
	for _, act := range a.actions {
		for _, t := range act.ResourceTypes {
			for _, f := range a.service.Formats(act, t) {
				if s := t.Name + " " + f.Text; !seen[s] {
					seen[s] = true
					out = append(out, s)
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// operatorMismatch explains why an operator does not fit a key type, or
// returns "".
func operatorMismatch(o operator, op, key, keyType string) string {
	array := strings.HasPrefix(keyType, "ArrayOf")
	scalar := strings.TrimPrefix(keyType, "ArrayOf")
	if o.base != "Null" {
		switch {
		case o.set != "" && !array:
			return fmt.Sprintf("%s uses %s with %s, a single-valued %s key: set operators are for multivalued keys", op, o.set, key, keyType)
		case o.set == "" && array:
			return fmt.Sprintf("%s on %s, a multivalued %s key, needs ForAllValues: or ForAnyValue:", op, key, keyType)
		}
	}
	fits := operatorTypes[o.base]
	if fits == nil {
		return ""
	}
	for _, t := range fits {
		if t == scalar {
			return ""
		}
	}
	return fmt.Sprintf("%s does not fit %s, of type %s: %s keys take %s operators", op, key, keyType, scalar, operatorFamily(scalar))
}

func operatorFamily(keyType string) string {
	switch keyType {
	case "IPAddress":
		return "IpAddress"
	case "ARN":
		return "Arn or String"
	}
	return keyType
}

func stringList(v any) []string {
	var out []string
	for _, x := range anyList(v) {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func anyList(v any) []any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		return x
	default:
		return []any{x}
	}
}
