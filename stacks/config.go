package stacks

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"
)

// SandboxEnv is the environment synthesized when no -c env=NAME is given. It is
// environment-agnostic (no account, no region), so it synthesizes offline with
// no AWS credentials.
const SandboxEnv = "sandbox"

// AllEnvs selects every configured environment: -c env=all.
const AllEnvs = "all"

//go:embed sandbox.json
var sandboxJSON []byte

// Environment is one deployment target from the cdk.json context key
// "environments". Every key is optional except where a system section says
// otherwise; a section left out takes that system's defaults.
type Environment struct {
	// Name is the key of this environment in the environments map.
	Name string `json:"-"`
	// Account is the 12-digit AWS account id. Required, except in sandbox,
	// which is environment-agnostic.
	Account string `json:"account,omitempty"`
	// Region is an AWS region such as eu-west-1 or us-gov-west-1. Required,
	// except in sandbox.
	Region string `json:"region,omitempty"`
	// Tags are applied to every resource of every stack of this environment.
	Tags map[string]string `json:"tags,omitempty"`

	// System sections: one pointer field per system, nil means that system's
	// defaults. Each section type lives in its system's file in this package.
	AlexaSkill       *AlexaSkillConfig       `json:"alexaSkill,omitempty"`
	AsymmetricKeys   *AsymmetricKeysConfig   `json:"asymmetricKeys,omitempty"`
	AppStreamSandbox *AppStreamSandboxConfig `json:"appStreamSandbox,omitempty"`
	Mtls             *MtlsConfig             `json:"mtls,omitempty"`
	DevSecOps        *DevSecOpsConfig        `json:"devSecOps,omitempty"`
	TenantIsolation  *TenantIsolationConfig  `json:"tenantIsolation,omitempty"`
	CloudFrontOrigin *CloudFrontOriginConfig `json:"cloudFrontOrigin,omitempty"`
	IncidentResponse *IncidentResponseConfig `json:"incidentResponse,omitempty"`
}

// Config is the validated "environments" map.
type Config struct {
	Environments map[string]Environment
}

var (
	accountRe = regexp.MustCompile(`^[0-9]{12}$`)
	// Region names: partition prefix (us, eu, ap, ca, me, sa, af, il, mx, cn,
	// us-gov, us-iso, us-isob, eusc), a geographic word and a number.
	regionRe  = regexp.MustCompile(`^(us|eu|ap|ca|me|sa|af|il|mx|cn|us-gov|us-iso|us-isob|us-isof|eu-isoe|eusc)-(central|north|south|east|west|northeast|northwest|southeast|southwest|de)-[0-9]{1,2}$`)
	envNameRe = regexp.MustCompile(`^[a-z][a-z0-9-]{0,30}$`)
)

// ConfigError is a configuration error with the dotted path of the key at fault.
type ConfigError struct {
	Key      string
	Expected string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("config: %s: %s", e.Key, e.Expected)
}

func errorf(key, format string, args ...any) error {
	return &ConfigError{Key: key, Expected: fmt.Sprintf(format, args...)}
}

// LoadConfig validates the raw value of the "environments" context key (nil
// when absent) and merges it over the embedded sandbox environment: an
// environment named "sandbox" in cdk.json replaces the embedded one.
func LoadConfig(raw any) (*Config, error) {
	var embedded map[string]any
	if err := json.Unmarshal(sandboxJSON, &embedded); err != nil {
		return nil, fmt.Errorf("config: embedded sandbox.json: %w", err)
	}
	envs := map[string]any{SandboxEnv: embedded}
	if raw != nil {
		m, ok := normalize(raw).(map[string]any)
		if !ok {
			return nil, errorf("environments", "expected an object mapping environment names to settings, got %s", kindOf(normalize(raw)))
		}
		for k, v := range m {
			envs[k] = v
		}
	}
	cfg := &Config{Environments: map[string]Environment{}}
	for _, name := range sortedKeys(envs) {
		key := "environments." + name
		if !envNameRe.MatchString(name) {
			return nil, errorf(key, "expected an environment name of lower-case letters, digits and dashes, starting with a letter (at most 31 characters)")
		}
		var env Environment
		if err := decodeStrict(key, envs[name], reflect.ValueOf(&env).Elem()); err != nil {
			return nil, err
		}
		env.Name = name
		if err := env.validate(key); err != nil {
			return nil, err
		}
		cfg.Environments[name] = env
	}
	if err := checkSharedNames(cfg); err != nil {
		return nil, err
	}
	if err := checkOneTrailPerAccount(cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}

func (e Environment) validate(key string) error {
	if e.Name != SandboxEnv {
		// Every environment but sandbox deploys somewhere real: pin it, so a
		// deploy can never land in whatever account the shell happens to hold.
		if e.Account == "" {
			return errorf(key+".account", "missing required key: expected a 12-digit AWS account id")
		}
		if e.Region == "" {
			return errorf(key+".region", "missing required key: expected an AWS region such as eu-west-1")
		}
	}
	if e.Account != "" && !accountRe.MatchString(e.Account) {
		return errorf(key+".account", "expected a 12-digit AWS account id, got %q", e.Account)
	}
	if e.Region != "" && !regionRe.MatchString(e.Region) {
		return errorf(key+".region", "expected an AWS region such as eu-west-1, got %q", e.Region)
	}
	for k := range e.Tags {
		if k == "" || len(k) > 128 || strings.HasPrefix(strings.ToLower(k), "aws:") {
			return errorf(key+".tags", "expected tag keys of 1 to 128 characters not starting with aws:, got %q", k)
		}
	}
	return validateSections(key, reflect.ValueOf(e))
}

// sectionValidator is implemented by system sections with checks beyond
// types, such as ranges and formats. validate must accept a nil receiver
// (the section was left out) and name key or key.field in its error.
type sectionValidator interface {
	validate(key string) error
}

// validateSections calls validate on every system section of env, in field
// order, so a system adds its checks without touching this file.
func validateSections(key string, env reflect.Value) error {
	t := env.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if v, ok := env.Field(i).Interface().(sectionValidator); ok {
			if err := v.validate(key + "." + name); err != nil {
				return err
			}
		}
	}
	return nil
}

// Select returns the environments named by the -c env value: one name, "all",
// or "" for the sandbox default. The result is sorted by name.
func (c *Config) Select(env string) ([]Environment, error) {
	if env == "" {
		env = SandboxEnv
	}
	if env == AllEnvs {
		out := make([]Environment, 0, len(c.Environments))
		for _, name := range sortedKeys(c.Environments) {
			out = append(out, c.Environments[name])
		}
		return out, nil
	}
	e, ok := c.Environments[env]
	if !ok {
		return nil, errorf("env", "unknown environment %q: expected one of %s, or all", env, strings.Join(sortedKeys(c.Environments), ", "))
	}
	return []Environment{e}, nil
}

// StackPrefix is the environment part of stack names: "sandbox" → "Sandbox",
// "eu-prod" → "EuProd".
func (e Environment) StackPrefix() string {
	var b strings.Builder
	for _, part := range strings.Split(e.Name, "-") {
		if part == "" {
			continue
		}
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

// decodeStrict decodes v (the generic JSON value) into dst, rejecting unknown
// keys and wrong types with an error that names the dotted key path.
func decodeStrict(key string, v any, dst reflect.Value) error {
	if v == nil {
		return nil
	}
	switch dst.Kind() {
	case reflect.Pointer:
		if dst.IsNil() {
			dst.Set(reflect.New(dst.Type().Elem()))
		}
		return decodeStrict(key, v, dst.Elem())
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return errorf(key, "expected an object, got %s", kindOf(v))
		}
		fields := jsonFields(dst.Type())
		for _, k := range sortedKeys(m) {
			idx, ok := fields[k]
			if !ok {
				return errorf(key+"."+k, "unknown key: expected one of %s", strings.Join(sortedKeys(fields), ", "))
			}
			if err := decodeStrict(key+"."+k, m[k], dst.Field(idx)); err != nil {
				return err
			}
		}
		return nil
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			return errorf(key, "expected an object, got %s", kindOf(v))
		}
		dst.Set(reflect.MakeMapWithSize(dst.Type(), len(m)))
		for _, k := range sortedKeys(m) {
			elem := reflect.New(dst.Type().Elem()).Elem()
			if err := decodeStrict(key+"."+k, m[k], elem); err != nil {
				return err
			}
			dst.SetMapIndex(reflect.ValueOf(k), elem)
		}
		return nil
	case reflect.Slice:
		items, ok := v.([]any)
		if !ok {
			return errorf(key, "expected a list, got %s", kindOf(v))
		}
		dst.Set(reflect.MakeSlice(dst.Type(), len(items), len(items)))
		for i, item := range items {
			if err := decodeStrict(fmt.Sprintf("%s[%d]", key, i), item, dst.Index(i)); err != nil {
				return err
			}
		}
		return nil
	case reflect.String:
		s, ok := v.(string)
		if !ok {
			return errorf(key, "expected a string, got %s", kindOf(v))
		}
		dst.SetString(s)
		return nil
	case reflect.Bool:
		b, ok := v.(bool)
		if !ok {
			return errorf(key, "expected true or false, got %s", kindOf(v))
		}
		dst.SetBool(b)
		return nil
	case reflect.Int, reflect.Int32, reflect.Int64:
		f, ok := v.(float64)
		if !ok || f != float64(int64(f)) {
			return errorf(key, "expected a whole number, got %s", kindOf(v))
		}
		dst.SetInt(int64(f))
		return nil
	case reflect.Float64:
		f, ok := v.(float64)
		if !ok {
			return errorf(key, "expected a number, got %s", kindOf(v))
		}
		dst.SetFloat(f)
		return nil
	}
	return errorf(key, "unsupported setting type %s", dst.Type())
}

// jsonFields maps the json names of t's exported fields to their index.
func jsonFields(t reflect.Type) map[string]int {
	out := map[string]int{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = i
	}
	return out
}

// normalize turns whatever jsii returns for a context value (maps with
// interface values, numbers of various types) into plain JSON values.
func normalize(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return v
	}
	return out
}

func kindOf(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("the string %q", x)
	case bool:
		return fmt.Sprintf("%t", x)
	case float64:
		return fmt.Sprintf("the number %v", x)
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
