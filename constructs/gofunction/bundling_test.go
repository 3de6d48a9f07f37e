package gofunction_test

import (
	"bytes"
	"debug/elf"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/gofunction"
)

func TestBuildCommand(t *testing.T) {
	tests := []struct {
		name     string
		entry    string
		goarch   string
		output   string
		bundling *gofunction.BundlingOptions
		want     string
	}{
		{
			name:   "defaults",
			entry:  "./lambda/hello",
			goarch: "arm64",
			output: "/asset-output/bootstrap",
			want:   `go build -trimpath -buildvcs=false -tags lambda.norpc -ldflags "-s -w -buildid=" -o /asset-output/bootstrap ./lambda/hello`,
		},
		{
			name:     "import path, amd64, extra tags and flags",
			entry:    "example.com/app/lambda/hello",
			goarch:   "amd64",
			output:   "/asset-output/bootstrap",
			bundling: &gofunction.BundlingOptions{Tags: []string{"prod", "otel"}, BuildFlags: []string{"-gcflags=all=-N -l", "-mod=vendor"}},
			want:     `go build -trimpath -buildvcs=false -tags lambda.norpc,prod,otel -ldflags "-s -w -buildid=" "-gcflags=all=-N -l" -mod=vendor -o /asset-output/bootstrap example.com/app/lambda/hello`,
		},
		{
			name:     "shell metacharacters stay quoted",
			entry:    "./hello",
			goarch:   "arm64",
			output:   "/tmp/out dir/bootstrap",
			bundling: &gofunction.BundlingOptions{BuildFlags: []string{"-ldflags=-X main.v=$(id)`x`\"q\""}},
			want: "go build -trimpath -buildvcs=false -tags lambda.norpc -ldflags \"-s -w -buildid=\" " +
				"\"-ldflags=-X main.v=\\$(id)\\`x\\`\\\"q\\\"\" -o \"/tmp/out dir/bootstrap\" ./hello",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN an entry and options
			// WHEN
			got := gofunction.BuildCommand(tt.entry, tt.goarch, tt.output, tt.bundling)

			// THEN it is exactly the expected command line
			if got != tt.want {
				t.Errorf("BuildCommand =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestBuildCommandQuotingRoundTrips(t *testing.T) {
	// GIVEN a flag full of shell metacharacters
	flag := "-ldflags=-X 'main.v=$(id)' `x` \"q\" \\"

	// WHEN bash parses the rendered command
	cmd := gofunction.BuildCommand("./hello", "arm64", "/out", &gofunction.BundlingOptions{BuildFlags: []string{flag}})
	script := "set -- " + cmd + "\nfor a in \"$@\"; do printf '%s\\0' \"$a\"; done"
	out, err := exec.Command("bash", "-c", script).Output()
	if err != nil {
		t.Fatal(err)
	}

	// THEN it gets the flag back unchanged, as one argument
	args := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	if !slices.Contains(args, flag) || len(args) != 12 {
		t.Errorf("bash split %q into %q", cmd, args)
	}
}

func TestBuildEnvironment(t *testing.T) {
	tests := []struct {
		name     string
		goarch   string
		bundling *gofunction.BundlingOptions
		want     map[string]string
	}{
		{"defaults", "arm64", nil, map[string]string{"CGO_ENABLED": "0", "GOOS": "linux", "GOARCH": "arm64", "GOFLAGS": "-mod=readonly"}},
		{"cgo, proxy and environment", "amd64",
			&gofunction.BundlingOptions{CgoEnabled: true, GoProxy: jsii.String("https://proxy.example"), Environment: map[string]*string{"CC": jsii.String("zig cc")}},
			map[string]string{"CGO_ENABLED": "1", "GOOS": "linux", "GOARCH": "amd64", "GOPROXY": "https://proxy.example", "CC": "zig cc", "GOFLAGS": "-mod=readonly"}},
		{"own GOFLAGS after ours", "arm64",
			&gofunction.BundlingOptions{Environment: map[string]*string{"GOFLAGS": jsii.String("-race")}},
			map[string]string{"CGO_ENABLED": "0", "GOOS": "linux", "GOARCH": "arm64", "GOFLAGS": "-mod=readonly -race"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN options
			// WHEN
			got := gofunction.BuildEnvironment(tt.goarch, tt.bundling)

			// THEN
			if !mapsEqual(got, tt.want) {
				t.Errorf("BuildEnvironment = %v, want %v", got, tt.want)
			}
		})
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// fakeGo writes an executable "go" that prints env as `go env -json` would.
func fakeGo(t *testing.T, goVersion string, exitCode int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "go")
	script := "#!/bin/sh\necho 'go: broken toolchain' >&2\nexit 1\n"
	if exitCode == 0 {
		script = "#!/bin/sh\necho '{\"GOVERSION\": \"" + goVersion + "\"}'\n"
	}
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestDockerFallback(t *testing.T) {
	tests := []struct {
		name     string
		lookPath func(t *testing.T) func(string) (string, error)
	}{
		{"go absent", func(*testing.T) func(string) (string, error) {
			return func(string) (string, error) { return "", exec.ErrNotFound }
		}},
		{"go older than go.mod", func(t *testing.T) func(string) (string, error) {
			p := fakeGo(t, "go1.21.0", 0)
			return func(string) (string, error) { return p, nil }
		}},
		{"go env fails", func(t *testing.T) func(string) (string, error) {
			p := fakeGo(t, "", 1)
			return func(string) (string, error) { return p, nil }
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN no usable local toolchain
			t.Cleanup(gofunction.SetLookPath(tt.lookPath(t)))
			stack := newUnitStack()
			fn := gofunction.NewGoFunction(stack, "Fn", &gofunction.GoFunctionProps{
				Entry:     jsii.String("./hello"),
				ModuleDir: jsii.String(testModule),
			})
			bundling := gofunction.BundlingOf(fn)
			out := t.TempDir()

			// WHEN CDK asks the local bundler first
			ok := bundling.Local.TryBundle(jsii.String(out), bundling)

			// THEN it declines, so CDK runs Docker
			if *ok {
				t.Fatal("TryBundle = true, want false")
			}
			if entries, _ := os.ReadDir(out); len(entries) != 0 {
				t.Errorf("TryBundle wrote %d files", len(entries))
			}
			// AND Docker runs exactly BuildCommand in the pinned image
			if got := *bundling.Image.Image(); got != gofunction.DefaultDockerImage {
				t.Errorf("image = %q, want %q", got, gofunction.DefaultDockerImage)
			}
			if got, want := shellJoinArgv(*bundling.Command), gofunction.BuildCommand("./hello", "arm64", "/asset-output/bootstrap", nil); got != want {
				t.Errorf("docker command = %q, want %q", got, want)
			}
			env := *bundling.Environment
			for k, want := range map[string]string{"CGO_ENABLED": "0", "GOOS": "linux", "GOARCH": "arm64", "GOCACHE": "/tmp/go-build", "GOPATH": "/tmp/go"} {
				if env[k] == nil || *env[k] != want {
					t.Errorf("docker env %s = %v, want %q", k, env[k], want)
				}
			}
		})
	}
}

// shellJoinArgv renders argv the way BuildCommand does for plain words.
func shellJoinArgv(argv []*string) string {
	words := make([]string, len(argv))
	for i, a := range argv {
		words[i] = *a
		if strings.ContainsAny(*a, " ") {
			words[i] = `"` + *a + `"`
		}
	}
	return strings.Join(words, " ")
}

func TestForceDockerHasNoLocalBundler(t *testing.T) {
	// GIVEN ForceDocker and a custom image
	stack := newUnitStack()

	// WHEN
	fn := gofunction.NewGoFunction(stack, "Fn", &gofunction.GoFunctionProps{
		Entry:     jsii.String("./hello"),
		ModuleDir: jsii.String(testModule),
		Bundling:  &gofunction.BundlingOptions{ForceDocker: true, DockerImage: jsii.String("golang:1.27.3-bookworm@sha256:00")},
	})

	// THEN CDK has only Docker to run
	b := gofunction.BundlingOf(fn)
	if b.Local != nil {
		t.Error("Local is set despite ForceDocker")
	}
	if got := *b.Image.Image(); got != "golang:1.27.3-bookworm@sha256:00" {
		t.Errorf("image = %q", got)
	}
}

func TestSkippedBundlingRunsNoGo(t *testing.T) {
	// GIVEN a stack excluded from bundling, and a go lookup that fails the test
	t.Cleanup(gofunction.SetLookPath(func(string) (string, error) {
		t.Error("go was looked up for a stack that is not bundled")
		return "", exec.ErrNotFound
	}))
	keys := make([]string, 2)
	for i := range keys {
		stack := newUnitStack()

		// WHEN a function is defined from a different checkout each time
		gofunction.NewGoFunction(stack, "Fn", &gofunction.GoFunctionProps{
			Entry:     jsii.String("./hello"),
			ModuleDir: jsii.String(copyModule(t)),
		})
		keys[i] = s3Key(t, assertions.Template_FromStack(stack, nil))
	}

	// THEN the cheap hash still names the same asset in both
	if keys[0] != keys[1] {
		t.Errorf("asset keys differ across checkouts: %s vs %s", keys[0], keys[1])
	}
}

// assetDirs maps each function's S3 key to the staged directory holding it.
func assetPath(t *testing.T, outdir string, template assertions.Template) string {
	t.Helper()
	return filepath.Join(outdir, "asset."+strings.TrimSuffix(s3Key(t, template), ".zip"))
}

func elfMachine(t *testing.T, path string) elf.Machine {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer f.Close()
	return f.Machine
}

func TestBatchBuild(t *testing.T) {
	// GIVEN four functions, two of which share the shared package, one whose
	// binary name collides with another's, all bundled into one outdir
	mod := copyModule(t)
	outdir := t.TempDir()
	trace := captureTrace(t)
	entries := []string{"./hello", "./world", "./solo", "./alt/hello"}

	// WHEN all are defined before any synth
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(outdir)})
	stacks := map[string]awscdk.Stack{}
	for _, e := range entries {
		stack := awscdk.NewStack(app, jsii.String("S"+strings.NewReplacer(".", "", "/", "").Replace(e)), nil)
		gofunction.NewGoFunction(stack, "Fn", &gofunction.GoFunctionProps{Entry: jsii.String(e), ModuleDir: jsii.String(mod)})
		stacks[e] = stack
	}
	// THEN hashing the four side-by-side handlers took one go list
	if l := trace.lists(); !slices.Equal(l, []string{"gofunction: go list -deps -e ./..."}) {
		t.Errorf("go list runs = %q, want one listing of ./...", l)
	}
	if b := trace.builds(); len(b) != 0 {
		t.Fatalf("go build ran before synth: %q", b)
	}
	app.Synth(nil)

	// THEN one go build served all non-colliding packages, and one more the collision
	wantBuilds := []string{
		"gofunction: go build 3 packages (example.com/gofntest/hello example.com/gofntest/world example.com/gofntest/solo)",
		"gofunction: go build 1 package (example.com/gofntest/alt/hello)",
	}
	if got := trace.builds(); !slices.Equal(got, wantBuilds) {
		t.Errorf("builds =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantBuilds, "\n"))
	}
	// AND every asset holds an executable arm64 bootstrap, distinct per package
	dirs := map[string]string{}
	seen := map[string]string{}
	for _, e := range entries {
		dirs[e] = assetPath(t, outdir, assertions.Template_FromStack(stacks[e], nil))
		bootstrap := filepath.Join(dirs[e], "bootstrap")
		fi, err := os.Stat(bootstrap)
		if err != nil {
			t.Fatalf("%s: %v", e, err)
		}
		if fi.Mode().Perm()&0o111 == 0 {
			t.Errorf("%s: bootstrap mode %v is not executable", e, fi.Mode())
		}
		if m := elfMachine(t, bootstrap); m != elf.EM_AARCH64 {
			t.Errorf("%s: machine %v, want EM_AARCH64", e, m)
		}
		data, _ := os.ReadFile(bootstrap)
		if other, dup := seen[string(data)]; dup {
			t.Errorf("%s and %s got the same binary", e, other)
		}
		seen[string(data)] = e
		if entries, _ := os.ReadDir(dirs[e]); len(entries) != 1 {
			t.Errorf("%s: asset holds %d files, want only bootstrap", e, len(entries))
		}
	}

	// AND no source was copied into the cloud assembly
	_ = filepath.WalkDir(outdir, func(p string, d os.DirEntry, err error) error {
		if err == nil && (d.Name() == "go.mod" || strings.HasSuffix(d.Name(), ".go")) {
			t.Errorf("source copied into the outdir: %s", p)
		}
		return err
	})

	// WHEN the same app is synthesized again by a new process (warm outdir)
	gofunction.ResetCaches()
	awscdk.AssetStaging_ClearAssetHashCache()
	app2 := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(outdir)})
	for _, e := range entries {
		stack := awscdk.NewStack(app2, jsii.String("S"+strings.NewReplacer(".", "", "/", "").Replace(e)), nil)
		gofunction.NewGoFunction(stack, "Fn", &gofunction.GoFunctionProps{Entry: jsii.String(e), ModuleDir: jsii.String(mod)})
	}
	app2.Synth(nil)

	// THEN nothing is built
	if got := trace.builds(); len(got) != 0 {
		t.Errorf("warm synth built: %q", got)
	}

	// WHEN the shared package changes
	writeFile(t, filepath.Join(mod, "internal/greeting/greeting.go"),
		"package greeting\n\n// For greets.\nfunc For(name string) string { return \"hi, \" + name }\n")
	gofunction.ResetCaches()
	awscdk.AssetStaging_ClearAssetHashCache()
	app3 := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(outdir)})
	stacks3 := map[string]awscdk.Stack{}
	for _, e := range entries {
		stack := awscdk.NewStack(app3, jsii.String("S"+strings.NewReplacer(".", "", "/", "").Replace(e)), nil)
		gofunction.NewGoFunction(stack, "Fn", &gofunction.GoFunctionProps{Entry: jsii.String(e), ModuleDir: jsii.String(mod)})
		stacks3[e] = stack
	}
	app3.Synth(nil)

	// THEN exactly its two importers are rebuilt, in one go build
	want := []string{"gofunction: go build 2 packages (example.com/gofntest/hello example.com/gofntest/world)"}
	if got := trace.builds(); !slices.Equal(got, want) {
		t.Errorf("builds after shared change = %q, want %q", got, want)
	}
	for _, e := range entries {
		changed := assetPath(t, outdir, assertions.Template_FromStack(stacks3[e], nil)) != dirs[e]
		if importer := e == "./hello" || e == "./world"; changed != importer {
			t.Errorf("%s: asset changed = %v, want %v", e, changed, importer)
		}
	}
}

func TestBuiltBinaryRuns(t *testing.T) {
	// GIVEN an x86_64 function, which this amd64 test host can execute
	outdir := t.TempDir()
	stack := newBundlingStack(outdir)
	gofunction.NewGoFunction(stack, "Fn", &gofunction.GoFunctionProps{
		FunctionProps: &awslambda.FunctionProps{Architecture: awslambda.Architecture_X86_64()},
		Entry:         jsii.String("./hello"),
		ModuleDir:     jsii.String(testModule),
	})

	// WHEN it is synthesized
	template := assertions.Template_FromStack(stack, nil)

	// THEN its bootstrap is the hello program, with the embedded file
	bootstrap := filepath.Join(assetPath(t, outdir, template), "bootstrap")
	if m := elfMachine(t, bootstrap); m != elf.EM_X86_64 {
		t.Fatalf("machine %v, want EM_X86_64", m)
	}
	out, err := exec.Command(bootstrap).Output()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(out), "hello, hello embedded message\n\n"; got != want {
		t.Errorf("output %q, want %q", got, want)
	}
}

func TestReproducibleBuild(t *testing.T) {
	// GIVEN two checkouts of the same source, each built clean: its own
	// outdir and an empty GOCACHE
	var binaries [2][]byte
	var keys [2]string
	for i := range binaries {
		t.Setenv("GOCACHE", t.TempDir())
		outdir := t.TempDir()
		stack := newBundlingStack(outdir)
		gofunction.NewGoFunction(stack, "Fn", &gofunction.GoFunctionProps{
			Entry:     jsii.String("./hello"),
			ModuleDir: jsii.String(copyModule(t)),
		})

		// WHEN each is synthesized
		template := assertions.Template_FromStack(stack, nil)
		keys[i] = s3Key(t, template)
		data, err := os.ReadFile(filepath.Join(assetPath(t, outdir, template), "bootstrap"))
		if err != nil {
			t.Fatal(err)
		}
		binaries[i] = data
	}

	// THEN the binaries are byte-identical and the asset hashes equal
	if !bytes.Equal(binaries[0], binaries[1]) {
		t.Errorf("bootstraps differ (%d vs %d bytes)", len(binaries[0]), len(binaries[1]))
	}
	if keys[0] != keys[1] {
		t.Errorf("asset keys differ across checkouts: %s vs %s", keys[0], keys[1])
	}
}

func TestBuildFailureIsReportedAndLeavesNoAsset(t *testing.T) {
	// GIVEN a handler that does not compile
	mod := copyModule(t)
	writeFile(t, filepath.Join(mod, "solo/main.go"), "package main\n\nfunc main() { undefinedFunction() }\n")
	outdir := t.TempDir()
	stack := newBundlingStack(outdir)
	gofunction.NewGoFunction(stack, "Fn", &gofunction.GoFunctionProps{Entry: jsii.String("./solo"), ModuleDir: jsii.String(mod)})

	// WHEN it is synthesized
	msg := panicMessage(func() { awscdk.Stage_Of(stack).Synth(nil) })

	// THEN synth fails with one line naming the construct, the package and
	// the compiler error
	want := regexp.MustCompile(`(?m)^\s*\[Test/Fn\] gofunction: go build example.com/gofntest/solo failed: exit status 1: .*undefined: undefinedFunction$`)
	if !want.MatchString(msg) {
		t.Errorf("synth error %q does not match %s", msg, want)
	}
	// AND no staged directory is left for a later synth to trust
	matches, _ := filepath.Glob(filepath.Join(outdir, "asset.*"))
	if len(matches) != 0 {
		t.Errorf("left behind %q", matches)
	}
}

func TestStalePlaceholderIsRemoved(t *testing.T) {
	// GIVEN an outdir where a previous process recorded a build but never
	// ran it, next to a finished asset
	outdir := t.TempDir()
	stale := filepath.Join(outdir, "asset.stale")
	done := filepath.Join(outdir, "asset.done")
	for dir, content := range map[string]string{stale: gofunction.PendingMarker, done: "\x7fELF binary"} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, "bootstrap"), content)
	}
	gofunction.ResetCaches()

	// WHEN a GoFunction is defined in that outdir
	gofunction.NewGoFunction(newBundlingStack(outdir), "Fn", &gofunction.GoFunctionProps{
		Entry:     jsii.String("./solo"),
		ModuleDir: jsii.String(testModule),
	})

	// THEN the placeholder directory is gone and the finished one stays
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale placeholder still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(done, "bootstrap")); err != nil {
		t.Errorf("finished asset removed: %v", err)
	}
}
