package main

import (
	"encoding/json"
	"fmt"
	"slices"
)

// Statement is one statement of a Lambda resource-based policy, as GetPolicy returns it.
type Statement struct {
	Sid       string
	Effect    string
	Principal Principal
	Action    stringList
	Condition map[string]map[string]stringList
}

// Principal is a policy principal: "*" or an object such as {"Service": "x"}.
type Principal struct {
	Any     bool
	Service stringList
}

// UnmarshalJSON accepts "*" and the object form; principal kinds other than Service (AWS,
// Federated) are irrelevant to Alexa and are ignored.
func (p *Principal) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		p.Any = s == "*"
		return nil
	}
	var obj struct{ Service stringList }
	if err := json.Unmarshal(b, &obj); err != nil {
		return fmt.Errorf("principal: expected \"*\" or an object: %w", err)
	}
	p.Service = obj.Service
	return nil
}

// stringList is a policy value that IAM writes as a string or as a list of strings.
type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*l = stringList{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("expected a string or a list of strings: %w", err)
	}
	*l = many
	return nil
}

// ParsePolicy reads the policy document GetPolicy returns. An empty document has no statements.
func ParsePolicy(doc string) ([]Statement, error) {
	if doc == "" {
		return nil, nil
	}
	var policy struct{ Statement []Statement }
	if err := json.Unmarshal([]byte(doc), &policy); err != nil {
		return nil, fmt.Errorf("policy document: %w", err)
	}
	return policy.Statement, nil
}

// eventSourceTokenKey is the condition key AddPermission writes for EventSourceToken.
const eventSourceTokenKey = "lambda:EventSourceToken"

// isAlexaInvoke reports whether s allows Alexa to invoke the function.
func (s Statement) isAlexaInvoke() bool {
	return s.Effect == "Allow" && slices.Contains(s.Principal.Service, AlexaPrincipal) &&
		(slices.Contains(s.Action, invokeAction) || slices.Contains(s.Action, "lambda:*"))
}

// tokens returns the EventSourceToken values s is restricted to, if any.
func (s Statement) tokens() []string {
	var out []string
	for _, keys := range s.Condition {
		out = append(out, keys[eventSourceTokenKey]...)
	}
	return out
}

// isUnscopedAlexa reports whether s lets every skill invoke the function: an Alexa statement
// without an EventSourceToken condition.
func (s Statement) isUnscopedAlexa() bool {
	return s.isAlexaInvoke() && len(s.tokens()) == 0
}

// grantsOnlySkill reports whether s is exactly the scoped statement for skillId.
func (s Statement) grantsOnlySkill(skillId string) bool {
	if !s.isAlexaInvoke() || len(s.Condition) != 1 {
		return false
	}
	eq, ok := s.Condition["StringEquals"]
	return ok && len(eq) == 1 && slices.Equal(eq[eventSourceTokenKey], []string{skillId})
}
