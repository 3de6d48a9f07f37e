package stacks

import (
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// SystemProps are the props every system stack constructor receives.
type SystemProps struct {
	awscdk.StackProps
	// Config is the validated environment the stack belongs to, with its
	// system sections.
	Config Environment
}

// System is one reference architecture, synthesized as the stack <Env>-<Name>.
type System struct {
	// Name is the stack name suffix, e.g. "AlexaSkill".
	Name string
	// New builds the stack. It may panic on invalid construct props; BuildApp
	// turns such a panic into a one-line error.
	New func(scope constructs.Construct, id string, props *SystemProps) awscdk.Stack
}

// systems lists every system. Each system adds one line here and lives in its
// own file, with its config section type.
var systems = []System{
	// (one line per system: {Name: "X", New: NewXStack},)
	{Name: "AlexaSkill", New: NewAlexaSkillStack},
	{Name: "AsymmetricKeys", New: NewAsymmetricKeysStack},
	{Name: "AppStreamSandbox", New: NewAppStreamSandboxStack},
	{Name: "Mtls", New: NewMtlsStack},
	{Name: "DevSecOps", New: NewDevSecOpsStack},
	{Name: "TenantIsolation", New: NewTenantIsolationStack},
	{Name: "CloudFrontOrigin", New: NewCloudFrontOriginStack},
	{Name: "IncidentResponse", New: NewIncidentResponseStack},
}

// Systems returns the registered systems, sorted by name.
func Systems() []System {
	out := append([]System(nil), systems...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// ContextEnv and ContextEnvironments are the cdk.json / -c context keys read by
// BuildApp.
const (
	ContextEnv          = "env"
	ContextEnvironments = "environments"
	// ContextSystems, for test environments only, limits the systems built in
	// every selected environment to the names it lists (for example
	// ["Mtls"]): a test environment that exercises one system's config need
	// not synthesize the others. Unset means every system.
	ContextSystems = "securestacks:systems"
)

// BuildApp reads the "env" and "environments" context of app, validates them
// and adds every system stack of each selected environment. Any error, from
// config or from a construct, comes back as one line that names the key or the
// construct, never as a panic.
func BuildApp(app awscdk.App) (built []awscdk.Stack, err error) {
	cfg, err := LoadConfig(app.Node().TryGetContext(jsii.String(ContextEnvironments)))
	if err != nil {
		return nil, err
	}
	selected := ""
	if v := app.Node().TryGetContext(jsii.String(ContextEnv)); v != nil {
		s, ok := v.(string)
		if !ok {
			return nil, errorf("env", "expected an environment name or all, got %s", kindOf(normalize(v)))
		}
		selected = s
	}
	envs, err := cfg.Select(selected)
	if err != nil {
		return nil, err
	}
	selectedSystems, err := systemsOf(app.Node().TryGetContext(jsii.String(ContextSystems)))
	if err != nil {
		return nil, err
	}
	for _, env := range envs {
		for _, sys := range selectedSystems {
			stack, err := buildStack(app, env, sys)
			if err != nil {
				return nil, err
			}
			built = append(built, stack)
		}
	}
	return built, nil
}

// systemsOf returns the systems named by the ContextSystems value v, or every
// system when v is nil.
func systemsOf(v any) ([]System, error) {
	if v == nil {
		return Systems(), nil
	}
	list, ok := normalize(v).([]any)
	if !ok || len(list) == 0 {
		return nil, errorf(ContextSystems, "expected a non-empty list of system names, got %s", kindOf(normalize(v)))
	}
	var names []string
	byName := map[string]System{}
	for _, sys := range Systems() {
		byName[sys.Name] = sys
		names = append(names, sys.Name)
	}
	var out []System
	for i, item := range list {
		name, _ := item.(string)
		sys, ok := byName[name]
		if !ok {
			return nil, errorf(fmt.Sprintf("%s[%d]", ContextSystems, i), "expected one of %s, got %v", strings.Join(names, ", "), item)
		}
		out = append(out, sys)
	}
	return out, nil
}

func buildStack(app awscdk.App, env Environment, sys System) (stack awscdk.Stack, err error) {
	id := env.StackPrefix() + "-" + sys.Name
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("stack %s: %s", id, OneLine(fmt.Sprint(r)))
		}
	}()
	props := &SystemProps{Config: env}
	props.StackName = jsii.String(id)
	props.Description = jsii.String(fmt.Sprintf("securestacks %s for environment %s", sys.Name, env.Name))
	if env.Account != "" || env.Region != "" {
		props.Env = &awscdk.Environment{Account: strOrNil(env.Account), Region: strOrNil(env.Region)}
	}
	stack = sys.New(app, id, props)
	tags := awscdk.Tags_Of(stack)
	tags.Add(jsii.String("securestacks:system"), jsii.String(sys.Name), nil)
	for _, k := range sortedKeys(env.Tags) {
		tags.Add(jsii.String(k), jsii.String(env.Tags[k]), nil)
	}
	return stack, nil
}

// SynthFailure reduces what a failed synth panics with to the lines a user
// needs: the first meaningful line, then every construct validation error
// ("[path] message"), each on its own line, in CDK's order. The JavaScript
// stack trace that jsii appends is dropped.
func SynthFailure(s string) string {
	lines := []string{OneLine(s)}
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "[") && strings.Contains(line, "] ") {
			lines = append(lines, line)
		}
	}
	return strings.Join(lines, "\n")
}

// OneLine reduces a panic or error text (a jsii error carries a JavaScript
// stack trace) to its first meaningful line.
func OneLine(s string) string {
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		line = strings.TrimPrefix(line, "Error: ")
		if line != "" {
			return line
		}
	}
	return "unknown error"
}

func strOrNil(s string) *string {
	if s == "" {
		return nil
	}
	return jsii.String(s)
}
