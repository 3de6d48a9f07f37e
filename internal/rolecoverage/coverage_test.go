package rolecoverage_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/internal/rolecoverage"
	"github.com/securestacks/securestacks/stacks"
)

// The role-coverage gate: every Go Lambda's role, together with the resource
// policies of what it calls (key, bucket, secret, queue policies) and the VPC
// endpoint policies it calls through, allows every action its code and
// configuration need, following AWS's policy evaluation logic
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html),
// as implemented by the pinned @cloud-copilot/iam-simulate (internal/iamsim).

const (
	goRuntime     = "provided.al2023"
	handlerPrefix = "github.com/securestacks/securestacks/lambda-src/"
)

// environments are synthesized by the gate: the environment-agnostic
// sandbox (its pseudo parameters get stand-in values) and a pinned one.
var environments = map[string]rolecoverage.Env{
	"Sandbox-": {Account: "111122223333", Region: "us-east-1", Partition: "aws"},
	"Pinned-":  {Account: "123456789012", Region: "eu-west-1", Partition: "aws"},
}

type fixture struct {
	moduleDir  string
	templates  []*rolecoverage.Template
	operations map[string][]rolecoverage.Use
	// outcomes of the real templates, and of the bite test's mutated one.
	outcomes, mutated []rolecoverage.Outcome
	mutation          string
	setupErr          error
	seconds           float64
	// phases are the seconds each setup step took.
	phases []string
}

func phase(name string, start time.Time) {
	fx.phases = append(fx.phases, fmt.Sprintf("%s %.1f s", name, time.Since(start).Seconds()))
}

var fx fixture

func TestMain(m *testing.M) {
	start := time.Now()
	fx.setupErr = setup()
	fx.seconds = time.Since(start).Seconds()
	os.Exit(m.Run())
}

func setup() error {
	dir, err := filepath.Abs("../..")
	if err != nil {
		return err
	}
	// Constructs resolve asset paths (skills/...) from the module root, as cdk synth does.
	if err := os.Chdir(dir); err != nil {
		return err
	}
	fx.moduleDir = dir
	start := time.Now()
	if fx.operations, err = rolecoverage.HandlerOperations(dir, "./lambda-src/..."); err != nil {
		return err
	}
	phase("static analysis", start)
	start = time.Now()
	if fx.templates, err = synth(); err != nil {
		return err
	}
	phase("synth", start)
	reqs, err := requirements(fx.templates)
	if err != nil {
		return err
	}
	mutatedReqs, err := mutate()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start = time.Now()
	all, err := rolecoverage.Evaluate(ctx, dir, append(reqs, mutatedReqs...))
	if err != nil {
		return err
	}
	phase(fmt.Sprintf("simulator (%d requests)", len(all)), start)
	fx.outcomes, fx.mutated = all[:len(reqs)], all[len(reqs):]
	return nil
}

// synth builds every stack of the sandbox and the pinned test environment
// in one app, bundling skipped.
func synth() ([]*rolecoverage.Template, error) {
	b, err := os.ReadFile("cdk.json")
	if err != nil {
		return nil, err
	}
	var doc struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("cdk.json: %w", err)
	}
	ctx := doc.Context
	ctx["aws:cdk:bundling-stacks"] = []any{}
	ctx[stacks.ContextEnv] = "all"
	envs, _ := ctx[stacks.ContextEnvironments].(map[string]any)
	if envs == nil {
		envs = map[string]any{}
	}
	// The pinned test environment every gate uses (the Makefile synthesizes
	// it into cdk.out.pinned for the IAM policy gate and validation).
	pb, err := os.ReadFile("testdata/pinned.context.json")
	if err != nil {
		return nil, err
	}
	var pinned struct {
		Environments map[string]map[string]any `json:"environments"`
	}
	if err := json.Unmarshal(pb, &pinned); err != nil {
		return nil, fmt.Errorf("testdata/pinned.context.json: %w", err)
	}
	p := pinned.Environments["pinned"]
	if want := environments["Pinned-"]; p["account"] != want.Account || p["region"] != want.Region {
		return nil, fmt.Errorf("testdata/pinned.context.json: the pinned environment is %v/%v, the gate expects %s/%s", p["account"], p["region"], want.Account, want.Region)
	}
	envs["pinned"] = p
	ctx[stacks.ContextEnvironments] = envs
	tmp, err := os.MkdirTemp("", "rolecoverage")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	// CloudFormation's template validation runs in the whole-app synth tests;
	// here it would only cost time.
	app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx, Outdir: jsii.String(tmp), BuiltinCloudFormationValidation: jsii.Bool(false)})
	built, err := stacks.BuildApp(app)
	if err != nil {
		return nil, err
	}
	asm := app.Synth(nil)
	var out []*rolecoverage.Template
	for _, s := range built {
		name := *s.StackName()
		var env rolecoverage.Env
		for prefix, e := range environments {
			if strings.HasPrefix(name, prefix) {
				env = e
			}
		}
		if env.Account == "" {
			return nil, fmt.Errorf("stack %s belongs to no environment of the gate", name)
		}
		raw, _ := asm.GetStackArtifact(s.ArtifactId()).Template().(map[string]any)
		t, err := rolecoverage.NewTemplate(name, env, raw)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// handlerOf maps a function's construct id to its handler name.
func handlerOf() map[string]string {
	out := map[string]string{}
	for name, h := range handlers {
		for _, fn := range h.functions {
			out[fn] = name
		}
	}
	return out
}

// requirements lists what every Go function of templates needs: its
// configuration's implied actions, and each operation its handler's code
// can call on each runtime target. Missing knowledge is an error naming
// what to add.
func requirements(templates []*rolecoverage.Template) ([]rolecoverage.Requirement, error) {
	var out []rolecoverage.Requirement
	var missing []string
	byFunction := handlerOf()
	for _, t := range templates {
		fns, err := t.Functions(goRuntime)
		if err != nil {
			return nil, err
		}
		for _, f := range fns {
			name, ok := byFunction[rolecoverage.ConstructID(f.ID)]
			if !ok {
				missing = append(missing, fmt.Sprintf("%s is a Go function of no handler: add its construct id %q to its handler's functions in handlers_test.go", f.Name(), rolecoverage.ConstructID(f.ID)))
				continue
			}
			implied, err := f.Implied()
			if err != nil {
				return nil, err
			}
			out = append(out, implied...)
			for _, use := range fx.operations[handlerPrefix+name] {
				tf, ok := handlers[name].targets[use.String()]
				if !ok {
					continue // reported by TestEveryHandlerOperationHasItsRuntimeResources
				}
				targets, err := tf(f)
				if err != nil {
					return nil, fmt.Errorf("%s %s: %w", name, use, err)
				}
				reqs, err := f.Requirements(use.Operation, targets)
				if err != nil {
					return nil, err
				}
				out = append(out, reqs...)
			}
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(missing, "; "))
	}
	return out, nil
}

// biteFunction and biteStatement are what the bite test removes: the
// statement that lets the findings-ingest function use the pipeline key.
const (
	biteStack     = "Pinned-DevSecOps"
	biteFunction  = "PipelineIngestFunction"
	biteStatement = "UseThePipelineKey"
)

// mutate returns the requirements of biteStack's ingest function with
// biteStatement removed from its role's policy.
func mutate() ([]rolecoverage.Requirement, error) {
	var t *rolecoverage.Template
	for _, c := range fx.templates {
		if c.Stack == biteStack {
			t = c
		}
	}
	if t == nil {
		return nil, fmt.Errorf("no template %s", biteStack)
	}
	copied := &rolecoverage.Template{Stack: t.Stack, Env: t.Env, Resources: map[string]*rolecoverage.Resource{}}
	for id, r := range t.Resources {
		copied.Resources[id] = r
	}
	removed := 0
	for _, id := range append(copied.IDs("AWS::IAM::Policy"), copied.IDs("AWS::IAM::ManagedPolicy")...) {
		r := copied.Resources[id]
		doc, _ := r.Properties["PolicyDocument"].(map[string]any)
		stmts, _ := doc["Statement"].([]any)
		var kept []any
		for _, s := range stmts {
			if m, _ := s.(map[string]any); m["Sid"] == biteStatement {
				removed++
				continue
			}
			kept = append(kept, s)
		}
		if len(kept) == len(stmts) {
			continue
		}
		props := map[string]any{}
		for k, v := range r.Properties {
			props[k] = v
		}
		props["PolicyDocument"] = map[string]any{"Version": doc["Version"], "Statement": kept}
		copied.Resources[id] = &rolecoverage.Resource{ID: id, Type: r.Type, Properties: props}
	}
	if removed != 1 {
		return nil, fmt.Errorf("%s: expected one statement %s, found %d", biteStack, biteStatement, removed)
	}
	fx.mutation = fmt.Sprintf("%s without statement %s", biteStack, biteStatement)
	reqs, err := requirements([]*rolecoverage.Template{copied})
	if err != nil {
		return nil, err
	}
	var out []rolecoverage.Requirement
	for _, r := range reqs {
		if rolecoverage.ConstructID(r.Function.ID) == biteFunction {
			out = append(out, r)
		}
	}
	return out, nil
}

func ready(t *testing.T) {
	t.Helper()
	if fx.setupErr != nil {
		t.Fatal(fx.setupErr)
	}
}

func TestEveryHandlerOperationHasItsRuntimeResources(t *testing.T) {
	ready(t)
	// GIVEN the operations static analysis found in each handler's code
	var names []string
	for pkg := range fx.operations {
		names = append(names, pkg)
	}
	sort.Strings(names)
	// THEN each handler has an entry, each operation a runtime target,
	// and no entry names an operation the code no longer calls
	for _, pkg := range names {
		name := strings.TrimPrefix(pkg, handlerPrefix)
		h, ok := handlers[name]
		if !ok {
			t.Errorf("handler %s has no entry: add %q with its functions and one target per operation to handlers in handlers_test.go", pkg, name)
			continue
		}
		found := map[string]bool{}
		for _, u := range fx.operations[pkg] {
			found[u.String()] = true
			if _, ok := h.targets[u.String()]; !ok {
				t.Errorf("%s calls %s (%s): add %q to its targets in handlers_test.go with the resource it acts on at run time", name, u, u.At, u.String())
			}
		}
		for op := range h.targets {
			if !found[op] {
				t.Errorf("%s: handlers_test.go has a target for %s, which its code never calls: remove it", name, op)
			}
		}
	}
	for name := range handlers {
		if _, ok := fx.operations[handlerPrefix+name]; !ok {
			t.Errorf("handlers_test.go has an entry for %s, which is no main package under lambda-src: remove it", name)
		}
	}
}

func TestEveryGoFunctionBelongsToAHandler(t *testing.T) {
	ready(t)
	// GIVEN the Go functions of every template
	seen := map[string]bool{}
	for _, tpl := range fx.templates {
		fns, err := tpl.Functions(goRuntime)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fns {
			seen[rolecoverage.ConstructID(f.ID)] = true
		}
	}
	// THEN every function named in handlers exists in some template (the
	// requirements step already failed for a function no handler claims)
	for name, h := range handlers {
		for _, fn := range h.functions {
			if !seen[fn] {
				t.Errorf("%s: no template has a Go function %s: fix its functions in handlers_test.go", name, fn)
			}
		}
	}
}

func TestRolesCoverTheCode(t *testing.T) {
	ready(t)
	// GIVEN every action each Go function needs, evaluated against its role,
	// the resource's policy and the VPC endpoint policy it calls through
	stillFailing := map[string]bool{}
	functions := map[string]bool{}
	ops := map[string]bool{}
	actions := map[string]bool{}
	for _, o := range fx.outcomes {
		functions[o.Function.Name()] = true
		ops[o.Function.Name()+" "+o.Source] = true
		actions[o.Function.Name()+" "+o.Action+" "+o.Resource] = true
		// THEN each is allowed
		if o.Failed() {
			if known, ok := knownGaps[gapKey(o)]; ok {
				stillFailing[gapKey(o)] = true
				t.Logf("known gap, fixed by %s: %s", known, o)
				continue
			}
			t.Error(o.String())
		}
	}
	for gap := range knownGaps {
		if !stillFailing[gap] {
			t.Errorf("known gap %q no longer fails: remove it from knownGaps", gap)
		}
	}
	opCount := 0
	for _, us := range fx.operations {
		opCount += len(us)
	}
	t.Logf("%d handlers, %d operations in their code; %d Go functions, %d (function, source) pairs, %d (function, action, resource) checks; setup took %.1f s (%s)",
		len(fx.operations), opCount, len(functions), len(ops), len(actions), fx.seconds, strings.Join(fx.phases, ", "))
	// AND any granted action no code path or configuration uses is reported
	unused, err := rolecoverage.Unused(fx.outcomes)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range unused {
		t.Log("unused grant: " + u)
	}
}

// knownGaps are failures another change fixes, by "<construct id> <action>",
// with who fixes it. Each stays visible in the test log.
var knownGaps = map[string]string{}

func gapKey(o rolecoverage.Outcome) string {
	return rolecoverage.ConstructID(o.Function.ID) + " " + o.Action
}

func TestRemovingANeededStatementFailsTheGate(t *testing.T) {
	ready(t)
	// GIVEN the ingest function's role without the statement that lets it
	// use the pipeline key (the bucket's SSE-KMS key)
	// WHEN its requirements are evaluated
	var failed []string
	for _, o := range fx.mutated {
		if o.Failed() {
			failed = append(failed, o.String())
		}
	}
	// THEN the gate fails, on exactly the KMS actions S3 needs for it
	want := []string{"kms:Decrypt", "kms:GenerateDataKey"}
	var got []string
	for _, f := range failed {
		for _, a := range want {
			if strings.Contains(f, " needs "+a+" on ") && !contains(got, a) {
				got = append(got, a)
			}
		}
	}
	sort.Strings(got)
	if strings.Join(got, ",") != strings.Join(want, ",") || len(failed) == 0 {
		t.Fatalf("%s: want failures on %v, got %d:\n%s", fx.mutation, want, len(failed), strings.Join(failed, "\n"))
	}
	for _, f := range failed {
		if !strings.Contains(f, "kms:") {
			t.Errorf("%s: unexpected failure: %s", fx.mutation, f)
		}
	}
	t.Logf("%s fails the gate %d times, e.g. %s", fx.mutation, len(failed), failed[0])
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}
