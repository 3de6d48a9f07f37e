package gofunction

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/version"
	"io"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

// traceEnv names the variable that, set to 1, makes every go invocation
// print one line to stderr ("gofunction: go build 4 packages (...)"), so a
// script can count builds on a warm synth.
const traceEnv = "SECURESTACKS_GOFUNCTION_TRACE"

// Docker paths: CDK mounts the source at /asset-input and collects
// /asset-output. The container runs as the host user, whose HOME is not
// writable, so the caches go to /tmp.
const (
	dockerOutput  = "/asset-output/bootstrap"
	dockerGoCache = "/tmp/go-build"
	dockerGoPath  = "/tmp/go"
)

// pendingMarker is the content of the placeholder bootstrap that TryBundle
// leaves until the batch build replaces it. A directory still holding it was
// left by a process that stopped before synth; the next run deletes it.
const pendingMarker = "gofunction: build pending\n"

// The toolchain is reached through these variables so that tests can prove
// the Docker fallback without uninstalling Go.
var (
	lookPath              = exec.LookPath
	traceOut    io.Writer = os.Stderr
	traceWriteM sync.Mutex
)

func tracef(format string, args ...any) {
	if os.Getenv(traceEnv) != "1" {
		return
	}
	traceWriteM.Lock()
	defer traceWriteM.Unlock()
	fmt.Fprintf(traceOut, "gofunction: "+format+"\n", args...)
}

// buildConfig is everything but the package that decides how a handler is
// built. Functions with equal keys are built by the same go invocation.
type buildConfig struct {
	moduleDir   string
	goarch      string
	flags       []string
	tags        []string
	env         map[string]string
	cgo         bool
	goproxy     *string
	image       string
	forceDocker bool
}

func newBuildConfig(moduleDir, goarch string, b *BundlingOptions) *buildConfig {
	c := &buildConfig{moduleDir: moduleDir, goarch: goarch, image: DefaultDockerImage, env: map[string]string{}}
	if b == nil {
		return c
	}
	for _, f := range b.BuildFlags {
		name, _, _ := strings.Cut(strings.TrimLeft(f, "-"), "=")
		switch {
		case !strings.HasPrefix(f, "-"):
			panic(fmt.Sprintf("gofunction: BuildFlags element %q: expected a flag starting with '-', one flag per element", f))
		case name == "o":
			panic("gofunction: BuildFlags must not contain -o: GoFunction chooses the output path")
		case name == "tags":
			panic("gofunction: BuildFlags must not contain -tags: use Bundling.Tags (lambda.norpc is always set)")
		}
	}
	for _, t := range b.Tags {
		if t == "" || strings.ContainsAny(t, ", \t\n\"'") {
			panic(fmt.Sprintf("gofunction: Tags element %q: expected one build tag without commas, quotes or spaces", t))
		}
	}
	for k, v := range b.Environment {
		switch k {
		case "CGO_ENABLED", "GOOS", "GOARCH":
			panic(fmt.Sprintf("gofunction: Environment must not set %s: use Bundling.CgoEnabled and FunctionProps.Architecture", k))
		}
		if k == "" || strings.ContainsAny(k, "=\x00") {
			panic(fmt.Sprintf("gofunction: Environment key %q: expected a variable name", k))
		}
		if v != nil {
			c.env[k] = *v
		}
	}
	c.flags = slices.Clone(b.BuildFlags)
	c.tags = slices.Clone(b.Tags)
	c.cgo = b.CgoEnabled
	c.goproxy = b.GoProxy
	c.forceDocker = b.ForceDocker
	if b.DockerImage != nil {
		if strings.TrimSpace(*b.DockerImage) == "" {
			panic("gofunction: DockerImage must not be empty: expected an image reference such as " + DefaultDockerImage)
		}
		c.image = *b.DockerImage
	}
	return c
}

// buildArgs are the arguments after "go build" that precede "-o".
func (c *buildConfig) buildArgs() []string {
	args := []string{
		"-trimpath",
		"-buildvcs=false",
		"-tags", strings.Join(append([]string{lambdaNoRPCTag}, c.tags...), ","),
		"-ldflags", "-s -w -buildid=",
	}
	return append(args, c.flags...)
}

// listArgs are the flags that change which files go list reports: tags and
// the user's flags (-mod, -race, ... change the package graph).
func (c *buildConfig) listArgs() []string {
	return append([]string{"-tags", strings.Join(append([]string{lambdaNoRPCTag}, c.tags...), ",")}, c.flags...)
}

// goFlags is the GOFLAGS of every go command GoFunction runs. It must not
// be empty: go reads an empty GOFLAGS from the go env file instead, where a
// "go env -w GOFLAGS=-mod=mod" would let a synth rewrite go.mod and go.sum,
// or other flags would change the binary behind the hash's back.
const goFlags = "-mod=readonly"

// targetEnv is the environment both builds get on top of their base.
// Environment's GOFLAGS comes after ours.
func (c *buildConfig) targetEnv() map[string]string {
	env := map[string]string{"CGO_ENABLED": "0", "GOOS": "linux", "GOARCH": c.goarch, "GOFLAGS": goFlags}
	if c.cgo {
		env["CGO_ENABLED"] = "1"
	}
	if c.goproxy != nil {
		env["GOPROXY"] = *c.goproxy
	}
	maps.Copy(env, c.env)
	if user, ok := c.env["GOFLAGS"]; ok {
		env["GOFLAGS"] = strings.TrimSpace(goFlags + " " + user)
	}
	return env
}

// localEnv is the process environment with the target on top: the
// inherited GOFLAGS, CGO_ENABLED, GOOS and GOARCH never reach the build.
func (c *buildConfig) localEnv() []string {
	target := c.targetEnv()
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool {
		k, _, _ := strings.Cut(kv, "=")
		_, override := target[k]
		return override
	})
	for _, k := range slices.Sorted(maps.Keys(target)) {
		env = append(env, k+"="+target[k])
	}
	return env
}

func (c *buildConfig) dockerEnv() *map[string]*string {
	env := map[string]*string{"GOCACHE": jsii.String(dockerGoCache), "GOPATH": jsii.String(dockerGoPath)}
	for k, v := range c.targetEnv() {
		env[k] = jsii.String(v)
	}
	return &env
}

// key identifies the group of functions one go build can serve.
func (c *buildConfig) key() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\x00%s\x00%t\x00%q\x00%q", c.moduleDir, c.goarch, c.cgo, c.flags, c.tags)
	for _, k := range slices.Sorted(maps.Keys(c.env)) {
		fmt.Fprintf(&b, "\x00%s=%s", k, c.env[k])
	}
	if c.goproxy != nil {
		fmt.Fprintf(&b, "\x00GOPROXY=%s", *c.goproxy)
	}
	return b.String()
}

// BuildCommand returns, shell-quoted, the command that builds the handler
// entry for GOARCH goarch into the file output: the exact argv the Docker
// fallback runs, and the argv of a local build (which batches many packages
// behind "-o DIR/"). It runs under CGO_ENABLED=0 (1 with CgoEnabled),
// GOOS=linux, GOARCH=goarch and bundling.Environment; see BuildEnvironment.
//
// Example: BuildCommand("./lambda/hello", "arm64", "/asset-output/bootstrap", nil) is
//
//	go build -trimpath -buildvcs=false -tags lambda.norpc -ldflags "-s -w -buildid=" -o /asset-output/bootstrap ./lambda/hello
//
// bundling may be nil. Invalid bundling options panic as in NewGoFunction.
func BuildCommand(entry, goarch, output string, bundling *BundlingOptions) string {
	c := newBuildConfig("", goarch, bundling)
	return shellJoin(buildArgv(c, output, entry))
}

// BuildEnvironment returns the variables BuildCommand runs under, besides
// the inherited ones: CGO_ENABLED, GOOS=linux, GOARCH=goarch,
// GOFLAGS=-mod=readonly (followed by Environment's GOFLAGS, if any), GOPROXY
// when bundling.GoProxy is set, and bundling.Environment. Docker adds
// GOCACHE and GOPATH under /tmp.
func BuildEnvironment(goarch string, bundling *BundlingOptions) map[string]string {
	return newBuildConfig("", goarch, bundling).targetEnv()
}

func buildArgv(c *buildConfig, output string, pkgs ...string) []string {
	argv := append([]string{"go", "build"}, c.buildArgs()...)
	argv = append(argv, "-o", output)
	return append(argv, pkgs...)
}

// shellJoin quotes like a careful human would: bare words stay bare, the
// rest go in double quotes with \ " $ ` escaped.
func shellJoin(argv []string) string {
	quoted := make([]string, len(argv))
	for i, a := range argv {
		quoted[i] = shellQuote(a)
	}
	return strings.Join(quoted, " ")
}

func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.,/:=@%+") == "" {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		if strings.ContainsRune("\\\"$`", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}

// dockerBundling is the CDK bundling of one handler. Local is nil with
// ForceDocker; CDK then goes straight to Docker.
func dockerBundling(c *buildConfig, entry string, local *localBundling) *awscdk.BundlingOptions {
	argv := buildArgv(c, dockerOutput, entry)
	command := make([]*string, len(argv))
	for i, a := range argv {
		command[i] = jsii.String(a)
	}
	opts := &awscdk.BundlingOptions{
		Image:       awscdk.DockerImage_FromRegistry(jsii.String(c.image)),
		Command:     &command,
		Environment: c.dockerEnv(),
	}
	if local != nil {
		opts.Local = local
	}
	return opts
}

// toolchain is what probing the local go found; usable is false when go is
// missing, fails, or is older than the go.mod's go line.
type toolchain struct {
	usable bool
	reason string
	goBin  string
	// env is `go env` under the target environment: the values that change
	// the binary without appearing in any flag.
	env map[string]string
}

var toolchains = struct {
	sync.Mutex
	byKey map[string]*toolchain
}{byKey: map[string]*toolchain{}}

// toolchainFor probes once per build configuration and process.
func toolchainFor(c *buildConfig) *toolchain {
	toolchains.Lock()
	defer toolchains.Unlock()
	k := c.key()
	if tc, ok := toolchains.byKey[k]; ok {
		return tc
	}
	tc := probeToolchain(c)
	toolchains.byKey[k] = tc
	if !tc.usable {
		tracef("local go unusable in %s (%s): bundling falls back to Docker", c.moduleDir, tc.reason)
	}
	return tc
}

func probeToolchain(c *buildConfig) *toolchain {
	bin, err := lookPath("go")
	if err != nil {
		return &toolchain{reason: "go not found in PATH"}
	}
	cmd := exec.Command(bin, "env", "-json", "GOVERSION", "GOAMD64", "GOARM64", "GOEXPERIMENT", "GOWORK", "GOMOD")
	cmd.Dir = c.moduleDir
	cmd.Env = c.localEnv()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return &toolchain{reason: "go env: " + goError(stderr.String(), err)}
	}
	env := map[string]string{}
	if err := json.Unmarshal(out, &env); err != nil {
		return &toolchain{reason: "go env: " + err.Error()}
	}
	want, err := goDirective(filepath.Join(c.moduleDir, "go.mod"))
	if err != nil {
		return &toolchain{reason: err.Error()}
	}
	have := env["GOVERSION"]
	if want != "" && version.IsValid(have) && version.Compare(have, "go"+want) < 0 {
		return &toolchain{reason: fmt.Sprintf("%s is older than go.mod's go %s", have, want)}
	}
	return &toolchain{usable: true, goBin: bin, env: env}
}

// goDirective returns the version of go.mod's go line ("" when absent).
func goDirective(goMod string) (string, error) {
	data, err := os.ReadFile(goMod)
	if err != nil {
		return "", fmt.Errorf("read go.mod: %w", err)
	}
	for line := range strings.Lines(string(data)) {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "go" {
			return f[1], nil
		}
	}
	return "", nil
}

// goError is go's whole stderr on one line ("to add it:\n\tgo get X"
// keeps its hint), or err when go printed nothing.
func goError(stderr string, err error) string {
	if line := oneLine(stderr); line != "" {
		return line
	}
	return err.Error()
}

// oneLine joins the trimmed non-empty lines of s with spaces: a synth
// error is one line per construct.
func oneLine(s string) string {
	var parts []string
	for line := range strings.Lines(s) {
		if line = strings.TrimSpace(line); line != "" {
			parts = append(parts, line)
		}
	}
	return strings.Join(parts, " ")
}

// localBundling builds with the local toolchain. It is handed to CDK by
// pointer (jsii needs a stable identity for the callback).
//
// CDK calls TryBundle while the Function is being constructed, before the
// next GoFunction exists, so building there would mean one go invocation
// per function. TryBundle therefore only records the job and leaves a
// placeholder bootstrap; the first GoFunction validation of the synth
// builds every recorded job in one "go build -o DIR pkg..." per group.
type localBundling struct {
	cfg        *buildConfig
	entry      string
	importPath string // "" when the hash was computed without go list
	job        *buildJob
	// err is a failure found before the build (go list) or by a build that
	// could not be deferred; staged are the directories to drop with it.
	err    error
	staged []string
}

var _ awscdk.ILocalBundling = (*localBundling)(nil)

// TryBundle implements awscdk.ILocalBundling. It returns false, so that CDK
// runs the Docker fallback, when the local toolchain is unusable.
//
// A failure here is never a panic (jsii would print its stack): TryBundle
// leaves the placeholder, so that CDK accepts the output, and the
// construct's validation reports the error and removes the directory.
func (l *localBundling) TryBundle(outputDir *string, _ *awscdk.BundlingOptions) *bool {
	bundleDir, staged := strings.CutSuffix(*outputDir, "-building")
	if l.err != nil {
		l.fail(*outputDir, bundleDir, nil)
		return jsii.Bool(true)
	}
	tc := toolchainFor(l.cfg)
	if !tc.usable {
		return jsii.Bool(false)
	}
	if !staged || l.importPath == "" {
		// Not the staging layout we defer into, or no import path to name
		// the batch output by: build this one now.
		pkg := l.importPath
		if pkg == "" {
			pkg = l.entry
		}
		if out, err := runGoBuild(tc, l.cfg, filepath.Join(*outputDir, "bootstrap"), []string{pkg}); err != nil {
			l.fail(*outputDir, bundleDir, buildError(pkg, err, out))
		}
		return jsii.Bool(true)
	}
	if err := os.WriteFile(filepath.Join(*outputDir, "bootstrap"), []byte(pendingMarker), 0o644); err != nil {
		l.fail(*outputDir, bundleDir, fmt.Errorf("gofunction: write placeholder in %s: %w", *outputDir, err))
		return jsii.Bool(true)
	}
	l.job = builds.add(l.cfg, tc, l.importPath, bundleDir)
	return jsii.Bool(true)
}

// fail records err (unless one is recorded) and leaves the placeholder in
// outputDir, whose staged directories validation removes.
func (l *localBundling) fail(outputDir, bundleDir string, err error) {
	if l.err == nil {
		l.err = err
	}
	_ = os.WriteFile(filepath.Join(outputDir, "bootstrap"), []byte(pendingMarker), 0o644)
	l.staged = append(l.staged, outputDir, bundleDir)
}

// buildError is a failed go build as one line: the package, go's exit
// status and its whole output.
func buildError(pkg string, err error, out []byte) error {
	return fmt.Errorf("gofunction: go build %s failed: %v: %s", pkg, err, oneLine(string(out)))
}

// buildCheck is the validation that runs the deferred builds at synth and
// reports a failed build against the function that needed it.
type buildCheck struct{ local *localBundling }

// Validate implements constructs.IValidation.
func (v *buildCheck) Validate() *[]*string {
	errs := []*string{}
	l := v.local
	if l.err != nil {
		removeDirs(l.staged)
		return &[]*string{jsii.String(l.err.Error())}
	}
	if l.job == nil {
		return &errs
	}
	builds.flush()
	if err := l.job.err; err != nil {
		errs = append(errs, jsii.String(err.Error()))
	}
	return &errs
}

// buildJob is one package to install as bootstrap into one or more staged
// asset directories (several when CDK dedupes equal assets into one).
type buildJob struct {
	cfg        *buildConfig
	tc         *toolchain
	importPath string
	dirs       []string
	err        error
}

type buildQueue struct {
	sync.Mutex
	pending []*buildJob
}

var builds = &buildQueue{}

func (q *buildQueue) add(c *buildConfig, tc *toolchain, importPath, dir string) *buildJob {
	q.Lock()
	defer q.Unlock()
	for _, j := range q.pending {
		if j.importPath == importPath && j.cfg.key() == c.key() {
			j.dirs = append(j.dirs, dir)
			return j
		}
	}
	j := &buildJob{cfg: c, tc: tc, importPath: importPath, dirs: []string{dir}}
	q.pending = append(q.pending, j)
	return j
}

// flush builds every pending job: one go build per configuration group,
// split further only where two packages would get the same binary name.
func (q *buildQueue) flush() {
	q.Lock()
	jobs := q.pending
	q.pending = nil
	q.Unlock()

	groups := map[string][]*buildJob{}
	var order []string
	for _, j := range jobs {
		k := j.cfg.key()
		if _, seen := groups[k]; !seen {
			order = append(order, k)
		}
		groups[k] = append(groups[k], j)
	}
	for _, k := range order {
		for _, batch := range splitByExeName(groups[k]) {
			buildBatch(batch)
		}
	}
}

// splitByExeName keeps each batch free of binary-name collisions:
// "go build -o DIR a/hello b/hello" silently writes both to DIR/hello.
func splitByExeName(jobs []*buildJob) [][]*buildJob {
	var batches [][]*buildJob
	var names []map[string]bool
	for _, j := range jobs {
		name := exeName(j.importPath)
		i := slices.IndexFunc(names, func(n map[string]bool) bool { return !n[name] })
		if i < 0 {
			batches = append(batches, nil)
			names = append(names, map[string]bool{})
			i = len(batches) - 1
		}
		batches[i] = append(batches[i], j)
		names[i][name] = true
	}
	return batches
}

func buildBatch(batch []*buildJob) {
	tmp, err := os.MkdirTemp("", "gofunction-")
	if err != nil {
		failJobs(batch, fmt.Errorf("gofunction: build directory: %w", err))
		return
	}
	defer os.RemoveAll(tmp)
	pkgs := make([]string, len(batch))
	for i, j := range batch {
		pkgs[i] = j.importPath
	}
	out, buildErr := runGoBuild(batch[0].tc, batch[0].cfg, tmp+string(filepath.Separator), pkgs)
	for _, j := range batch {
		bin := filepath.Join(tmp, exeName(j.importPath))
		if _, err := os.Stat(bin); err != nil {
			j.err = buildError(j.importPath, buildErr, out)
			if buildErr == nil {
				j.err = fmt.Errorf("gofunction: go build %s wrote no %s", j.importPath, bin)
			}
		} else {
			j.err = installBootstrap(bin, j.dirs)
		}
		if j.err != nil {
			removeDirs(j.dirs)
		}
	}
}

func failJobs(jobs []*buildJob, err error) {
	for _, j := range jobs {
		j.err = err
		removeDirs(j.dirs)
	}
}

// removeDirs drops staged directories of failed builds, so that no later
// synth mistakes a placeholder for a built asset.
func removeDirs(dirs []string) {
	for _, d := range dirs {
		_ = os.RemoveAll(d)
	}
}

// installBootstrap copies bin to DIR/bootstrap through a rename, so a
// crash never leaves a half-written binary under the final name.
func installBootstrap(bin string, dirs []string) error {
	data, err := os.ReadFile(bin)
	if err != nil {
		return fmt.Errorf("gofunction: read built binary: %w", err)
	}
	for _, d := range dirs {
		tmp := filepath.Join(d, ".bootstrap.tmp")
		if err := os.WriteFile(tmp, data, 0o755); err != nil {
			return fmt.Errorf("gofunction: install bootstrap in %s: %w", d, err)
		}
		if err := os.Chmod(tmp, 0o755); err != nil {
			return fmt.Errorf("gofunction: install bootstrap in %s: %w", d, err)
		}
		if err := os.Rename(tmp, filepath.Join(d, "bootstrap")); err != nil {
			return fmt.Errorf("gofunction: install bootstrap in %s: %w", d, err)
		}
	}
	return nil
}

func runGoBuild(tc *toolchain, c *buildConfig, output string, pkgs []string) ([]byte, error) {
	noun := "packages"
	if len(pkgs) == 1 {
		noun = "package"
	}
	tracef("go build %d %s (%s)", len(pkgs), noun, strings.Join(pkgs, " "))
	argv := buildArgv(c, output, pkgs...)
	cmd := exec.Command(tc.goBin, argv[1:]...)
	cmd.Dir = c.moduleDir
	cmd.Env = c.localEnv()
	return cmd.CombinedOutput()
}

// exeName is the file name "go build -o DIR/" gives a main package: the
// last import path element, or the one before a major version suffix.
func exeName(importPath string) string {
	_, elem := path.Split(importPath)
	if elem != importPath && isVersionElement(elem) {
		_, elem = path.Split(path.Dir(importPath))
	}
	return elem
}

// isVersionElement mirrors cmd/go: v2, v3, ... but not v0, v1 or v1x.
func isVersionElement(s string) bool {
	if len(s) < 2 || s[0] != 'v' || s[1] == '0' || s[1] == '1' && len(s) == 2 {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

var cleanedOutdirs sync.Map

// removeStalePlaceholders deletes, once per asset outdir and process,
// staged directories whose bootstrap is still the placeholder: a previous
// process recorded the build but stopped before synth ran it. Without this,
// CDK would see asset.<hash> and never build it.
func removeStalePlaceholders(outdir string) {
	if _, done := cleanedOutdirs.LoadOrStore(outdir, true); done {
		return
	}
	entries, err := os.ReadDir(outdir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), "asset.") {
			continue
		}
		bootstrap := filepath.Join(outdir, e.Name(), "bootstrap")
		if fi, err := os.Lstat(bootstrap); err != nil || fi.Size() != int64(len(pendingMarker)) {
			continue
		}
		if data, err := os.ReadFile(bootstrap); err == nil && string(data) == pendingMarker {
			_ = os.RemoveAll(filepath.Join(outdir, e.Name()))
		}
	}
}
