package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/internal/nag"
	"github.com/securestacks/securestacks/stacks"
)

// cdkJSONContext returns the context of cdk.json (feature flags and
// environments), so tests synthesize with the same flags as `cdk synth`.
func cdkJSONContext(t *testing.T) map[string]any {
	t.Helper()
	b, err := os.ReadFile("cdk.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("cdk.json: %v", err)
	}
	return doc.Context
}

// newApp returns an App with the cdk.json context plus extra, bundling skipped
// (the GoFunction tests cover bundling), writing into a temporary directory.
func newApp(t *testing.T, extra map[string]any) awscdk.App {
	t.Helper()
	ctx := cdkJSONContext(t)
	ctx["aws:cdk:bundling-stacks"] = []any{}
	for k, v := range extra {
		ctx[k] = v
	}
	return awscdk.NewApp(&awscdk.AppProps{Context: &ctx, Outdir: jsii.String(t.TempDir())})
}

func TestSandboxSynthesizesEveryStackNagClean(t *testing.T) {
	// GIVEN the app with the cdk.json context and no env selected
	app := newApp(t, nil)
	// WHEN every system stack is built with the three nag packs and synthesized
	built, err := stacks.BuildApp(app)
	if err != nil {
		t.Fatal(err)
	}
	nag.ApplyPacks(app)
	app.Synth(nil)
	// THEN there is one Sandbox-<System> stack per system, each without an
	// unsuppressed nag error, and each pack wrote its CSV report
	if len(built) != len(stacks.Systems()) {
		t.Fatalf("built %d stacks for %d systems", len(built), len(stacks.Systems()))
	}
	for i, stack := range built {
		want := "Sandbox-" + stacks.Systems()[i].Name
		if got := *stack.StackName(); got != want {
			t.Errorf("stack %d is named %q, want %q", i, got, want)
		}
		if errs := nag.Errors(stack); len(errs) > 0 {
			t.Errorf("%s has %d unsuppressed nag errors:\n%s", want, len(errs), strings.Join(errs, "\n"))
		}
		for _, pack := range nag.Packs {
			// cdk-nag names reports <pack>-<stage id>-<stack>; the App's id is "".
			report := filepath.Join(*app.Outdir(), pack+"--"+want+"-NagReport.csv")
			if _, err := os.Stat(report); err != nil {
				t.Errorf("missing nag report %s", report)
			}
		}
	}
}

// pinnedContext is the pinned test environment, a concrete account and region
// used only by tests; make test synthesizes it into cdk.out.pinned and runs
// cfn-guard and the IAM gate on it.
const pinnedContext = "testdata/pinned.context.json"

// pinnedEnvironment returns the pinned test environment's name and settings.
func pinnedEnvironment(t *testing.T) (string, map[string]any) {
	t.Helper()
	b, err := os.ReadFile(pinnedContext)
	if err != nil {
		t.Fatal(err)
	}
	var ctx struct {
		Env          string                    `json:"env"`
		Environments map[string]map[string]any `json:"environments"`
	}
	if err := json.Unmarshal(b, &ctx); err != nil {
		t.Fatalf("%s: %v", pinnedContext, err)
	}
	if ctx.Environments[ctx.Env] == nil {
		t.Fatalf("%s: env %q is not among its environments", pinnedContext, ctx.Env)
	}
	return ctx.Env, ctx.Environments[ctx.Env]
}

func TestPinnedEnvironmentIsOnlyForTests(t *testing.T) {
	// GIVEN the pinned test environment and cdk.json's user environments
	name, env := pinnedEnvironment(t)
	// THEN it is the concrete account and region the gates expect, and no
	// user environment (which -c env=all would deploy) names it or its account
	if name != "pinned" || env["account"] != "123456789012" || env["region"] != "eu-west-1" {
		t.Errorf("pinned environment = %s %v, want pinned 123456789012/eu-west-1", name, env)
	}
	users, _ := cdkJSONContext(t)["environments"].(map[string]any)
	for n, e := range users {
		if n == name || strings.Contains(asJSON(t, e), `"123456789012"`) {
			t.Errorf("cdk.json environment %s is the pinned test environment", n)
		}
	}
}

func asJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestAllEnvironmentsAreSynthesizedWithTheirAccountAndRegion(t *testing.T) {
	// GIVEN the pinned test environment and a second pinned one, selected
	// with env=all beside the sandbox
	name, pinned := pinnedEnvironment(t)
	app := newApp(t, map[string]any{
		"env": "all",
		"environments": map[string]any{
			name:         pinned,
			"eu-staging": map[string]any{"account": "210987654321", "region": "eu-central-1", "tags": map[string]any{"cost-centre": "sec"}},
		},
	})
	// WHEN the app is built with the three nag packs
	built, err := stacks.BuildApp(app)
	if err != nil {
		t.Fatal(err)
	}
	nag.ApplyPacks(app)
	// THEN every environment has every system, named <Env>-<System>, pinned to
	// its account and region, and nag-clean there too: a pinned region turns
	// partition, region and account tokens into literals that suppressions
	// must still match
	var names []string
	for _, s := range built {
		names = append(names, *s.StackName())
		if strings.HasPrefix(*s.StackName(), "Pinned-") && (*s.Account() != pinned["account"] || *s.Region() != pinned["region"]) {
			t.Errorf("%s is in %s/%s", *s.StackName(), *s.Account(), *s.Region())
		}
		if errs := nag.Errors(s); len(errs) > 0 {
			t.Errorf("%s has %d unsuppressed nag errors:\n%s", *s.StackName(), len(errs), strings.Join(errs, "\n"))
		}
	}
	for _, prefix := range []string{"EuStaging-", "Pinned-", "Sandbox-"} {
		for _, sys := range stacks.Systems() {
			if !slices.Contains(names, prefix+sys.Name) {
				t.Errorf("missing stack %s%s in %v", prefix, sys.Name, names)
			}
		}
	}
}

// TestSystemsFilterBuildsOnlyTheNamedSystems checks the test-only
// securestacks:systems context, which the externalroot test environment uses
// to synthesize only its Mtls stacks.
func TestSystemsFilterBuildsOnlyTheNamedSystems(t *testing.T) {
	// GIVEN the sandbox with the filter set to Mtls
	app := newApp(t, map[string]any{"securestacks:systems": []any{"Mtls"}})
	// WHEN the app is built
	built, err := stacks.BuildApp(app)
	if err != nil {
		t.Fatal(err)
	}
	// THEN it has exactly the sandbox's Mtls stack
	if len(built) != 1 || *built[0].StackName() != "Sandbox-Mtls" {
		var names []string
		for _, s := range built {
			names = append(names, *s.StackName())
		}
		t.Errorf("built %v, want [Sandbox-Mtls]", names)
	}
}

func TestBadConfigIsOneLineError(t *testing.T) {
	cases := []struct {
		name string
		ctx  map[string]any
		want string
	}{
		{"unknown env", map[string]any{"env": "nope"}, `config: env: unknown environment "nope"`},
		{"account", map[string]any{"env": "prod", "environments": map[string]any{"prod": map[string]any{"account": "42", "region": "eu-west-1"}}}, "config: environments.prod.account: expected a 12-digit AWS account id"},
		{"region", map[string]any{"env": "prod", "environments": map[string]any{"prod": map[string]any{"account": "123456789012", "region": "mars-1"}}}, "config: environments.prod.region: expected an AWS region"},
		{"unknown key", map[string]any{"environments": map[string]any{"sandbox": map[string]any{"regoin": "eu-west-1"}}}, "config: environments.sandbox.regoin: unknown key"},
		{"wrong type", map[string]any{"environments": map[string]any{"sandbox": map[string]any{"tags": "x"}}}, "config: environments.sandbox.tags: expected an object"},
		{"missing required", map[string]any{"env": "prod", "environments": map[string]any{"prod": map[string]any{"account": "123456789012"}}}, "config: environments.prod.region: missing required key"},
		{"env not a string", map[string]any{"env": 3}, "config: env: expected an environment name or all"},
		{"unknown system", map[string]any{"securestacks:systems": []any{"Mtls", "Nope"}}, "config: securestacks:systems[1]: expected one of AlexaSkill, "},
		{"systems not a list", map[string]any{"securestacks:systems": "Mtls"}, "config: securestacks:systems: expected a non-empty list of system names, got the string \"Mtls\""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// GIVEN a context with one defect WHEN the app is built
			_, err := stacks.BuildApp(newApp(t, tc.ctx))
			// THEN one line names the key and what was expected
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error = %v, want one line starting %q", err, tc.want)
			}
		})
	}
}

func TestAppBinaryPrintsOneLineAndExitsNonZeroOnBadConfig(t *testing.T) {
	// GIVEN the app binary, run the way the CDK CLI runs it
	bin := filepath.Join(t.TempDir(), "app")
	if out, err := exec.Command("go", "build", "-trimpath", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, ctx := range []string{
		`{"env":"staging"}`,
		`{"environments":{"sandbox":{"account":12}}}`,
	} {
		cmd := exec.Command(bin)
		cmd.Env = append(os.Environ(), "CDK_CONTEXT_JSON="+ctx, "CDK_OUTDIR="+t.TempDir())
		var stderr strings.Builder
		cmd.Stderr = &stderr
		// WHEN it runs with bad config
		err := cmd.Run()
		// THEN it exits 1 with exactly one line on stderr: no Go or jsii trace
		exit, ok := err.(*exec.ExitError)
		if !ok || exit.ExitCode() != 1 {
			t.Fatalf("context %s: err = %v, want exit status 1", ctx, err)
		}
		lines := strings.Split(strings.TrimRight(stderr.String(), "\n"), "\n")
		if len(lines) != 1 || !strings.HasPrefix(lines[0], "securestacks: config: ") {
			t.Fatalf("context %s: stderr = %q, want one 'securestacks: config: ...' line", ctx, stderr.String())
		}
	}
}

// failing is a construct validation that always fails with its message.
type failing struct{ msg string }

func (f *failing) Validate() *[]*string { return &[]*string{jsii.String(f.msg)} }

func TestSynthPrintsEveryValidationErrorWithItsPath(t *testing.T) {
	// GIVEN an app with two constructs whose validation fails (as a GoFunction's
	// does when its handler does not build)
	app := newApp(t, nil)
	stack := awscdk.NewStack(app, jsii.String("Broken"), nil)
	for _, id := range []string{"First", "Second"} {
		c := constructs.NewConstruct(stack, jsii.String(id))
		c.Node().AddValidation(&failing{msg: "gofunction: go build example.com/" + id + " failed: exit status 1"})
	}
	// WHEN it is synthesized
	err := synth(app)
	// THEN the error names each construct path with its whole message, one line
	// each, and carries no JavaScript stack
	if err == nil {
		t.Fatal("synth succeeded")
	}
	lines := strings.Split(err.Error(), "\n")
	want := []string{
		"[Broken/First] gofunction: go build example.com/First failed: exit status 1",
		"[Broken/Second] gofunction: go build example.com/Second failed: exit status 1",
	}
	if len(lines) != 3 || !slices.Equal(lines[1:], want) {
		t.Errorf("synth error lines = %q, want a summary line then %q", lines, want)
	}
	if strings.Contains(err.Error(), "    at ") || strings.Contains(err.Error(), "goroutine") {
		t.Errorf("synth error carries a stack: %q", err)
	}
}
