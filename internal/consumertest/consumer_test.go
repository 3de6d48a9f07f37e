// Package consumertest_test uses our module as a dependency, the way the
// README's "Using a construct from your own Go CDK app" tells a user to:
// testdata/app is a CDK app in its own module that imports every construct.
// Our module reaches it only through a file-based GOPROXY that serves a zip
// of the working tree (built with golang.org/x/mod/zip, as the go command
// builds module zips), into a module cache of its own, which go keeps
// read-only; the app's go.mod has no replace directive. Everything else
// comes from the machine's module cache, so the test runs offline.
//
// The consumer's module cache stays in the user cache directory
// (securestacks-consumertest/gomodcache under os.UserCacheDir) between runs
// and between clones. The app runs as `go run -trimpath .`, as our own
// cdk.json runs ours and `make test` runs the tests: the go command's build
// cache keys a package compiled without -trimpath by its directory, so
// without it the consumer would compile aws-cdk-go (minutes) once more.
package consumertest_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/securestacks/securestacks/internal/modproxy"
)

const (
	modulePath = "github.com/securestacks/securestacks"
	// traceEnv makes GoFunction print one line per go invocation.
	traceEnv = "SECURESTACKS_GOFUNCTION_TRACE"
)

// consumer is the copied app and the environment its commands run in.
type consumer struct {
	t        *testing.T
	root     string // our repository
	dir      string // the consumer module
	cdk      string // the pinned CLI, node_modules/.bin/cdk
	modCache string // the consumer's GOMODCACHE
	version  string // what the proxy calls our working tree
	env      []string
}

func TestConsumerModule(t *testing.T) {
	if testing.Short() {
		t.Skip("synthesizes a whole consumer app five times")
	}
	// GIVEN our module served from the working tree by a file proxy, and
	// the consumer app in a directory of its own
	c := newConsumer(t)

	// WHEN the user runs what the README says: go get and go mod tidy
	start := time.Now()
	c.run("go", "get", modulePath+"@"+c.version)
	c.run("go", "mod", "tidy")
	t.Logf("go get and go mod tidy: %s", time.Since(start).Round(time.Second))
	goSum := c.read("go.sum")
	goMod := c.read("go.mod")

	// THEN tidy kept our module and no replace
	if !strings.Contains(goMod, modulePath+" "+c.version) || strings.Contains(goMod, "replace") {
		t.Fatalf("go.mod after go get and go mod tidy:\n%s", goMod)
	}
	// AND our module landed read-only in the separate module cache
	if fi, err := os.Stat(filepath.Join(c.modCache, modulePath+"@"+c.version, "go.mod")); err != nil || fi.Mode().Perm()&0o222 != 0 {
		t.Fatalf("our module in the module cache: %v, mode %v", err, fi.Mode())
	}

	// WHEN the app is synthesized with the pinned CLI, cold
	start = time.Now()
	cold := c.synth()
	t.Logf("cold synth: %s, %s", time.Since(start).Round(time.Second), strings.Join(cold.builds, "; "))

	// THEN it succeeds with no nag finding (cdk-nag findings are error
	// annotations, which fail cdk synth) and one go build of every handler
	handlers := packagesBuilt(t, cold.builds)
	for _, want := range []string{"example.com/consumer/handler", modulePath + "/lambda-src/mtls-cert-export", modulePath + "/lambda-src/alexa-skill-backend"} {
		if !slices.Contains(handlers, want) {
			t.Errorf("cold synth built %q, missing %s", handlers, want)
		}
	}
	if errs := c.errorAnnotations(); len(errs) > 0 {
		t.Errorf("error annotations:\n%s", strings.Join(errs, "\n"))
	}

	// WHEN it is synthesized again, unchanged
	start = time.Now()
	warm := c.synth()
	t.Logf("warm synth: %s", time.Since(start).Round(time.Second))
	// THEN no go build runs
	if len(warm.builds) != 0 {
		t.Errorf("warm synth ran %q", warm.builds)
	}

	// WHEN one line of the consumer's handler changes
	c.write("handler/main.go", strings.Replace(c.read("handler/main.go"), `"hello "`, `"hello, "`, 1))
	assets := c.assets()
	start = time.Now()
	edited := c.synth()
	t.Logf("synth after a handler edit: %s", time.Since(start).Round(time.Second))
	// THEN exactly that handler is rebuilt, into one new asset
	if got := packagesBuilt(t, edited.builds); !slices.Equal(got, []string{"example.com/consumer/handler"}) {
		t.Errorf("after a handler edit, built %q", got)
	}
	if added := newAssets(assets, c.assets()); len(added) != 1 {
		t.Errorf("after a handler edit, new assets %q", added)
	}

	// WHEN a godebug line is added to the consumer's go.mod
	c.write("go.mod", c.read("go.mod")+"\ngodebug default=go1.26\n")
	goMod = c.read("go.mod")
	start = time.Now()
	debug := c.synth()
	t.Logf("synth after a godebug line: %s", time.Since(start).Round(time.Second))
	// THEN every handler is rebuilt
	if got := packagesBuilt(t, debug.builds); !slices.Equal(got, handlers) {
		t.Errorf("after a godebug line, built %q, want %q", got, handlers)
	}

	// WHEN the consumer's handler no longer compiles
	c.write("handler/main.go", c.read("handler/main.go")+"\nfunc broken() { undefinedFunction() }\n")
	failed := c.synthFails()
	// THEN synth names the construct and go's error on one line, with no
	// Go panic trace and no JavaScript stack
	want := regexp.MustCompile(`(?m)^\s*\[Handler/Hello\] gofunction: go build example.com/consumer/handler failed: exit status 1: .*undefined: undefinedFunction$`)
	if !want.MatchString(failed) {
		t.Errorf("failed synth output does not match %s:\n%s", want, failed)
	}
	for _, bad := range []string{"goroutine ", "panic:", "    at "} {
		if strings.Contains(failed, bad) {
			t.Errorf("failed synth output contains %q:\n%s", bad, failed)
		}
	}

	// AND no synth touched go.sum or go.mod
	if got := c.read("go.sum"); got != goSum {
		t.Errorf("go.sum changed by synth:\n%s", diff(goSum, got))
	}
	if got := c.read("go.mod"); got != goMod {
		t.Errorf("go.mod changed by synth:\n%s", diff(goMod, got))
	}
}

func newConsumer(t *testing.T) *consumer {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	cdk := filepath.Join(root, "node_modules", ".bin", "cdk")
	if _, err := os.Stat(cdk); err != nil {
		t.Fatalf("the pinned CDK CLI is missing (run make deps): %v", err)
	}
	work := t.TempDir()
	c := &consumer{t: t, root: root, dir: filepath.Join(work, "app"), cdk: cdk}
	if err := os.CopyFS(c.dir, os.DirFS("testdata/app")); err != nil {
		t.Fatal(err)
	}

	// The proxy serves the working tree's files (tracked and untracked, not
	// ignored) as our module; every other module comes from the machine's
	// module cache, also served as a file proxy.
	hostCache := strings.TrimSpace(string(output(t, root, nil, "go", "env", "GOMODCACHE")))
	proxy := filepath.Join(work, "proxy")
	files := strings.Split(strings.TrimRight(string(output(t, root, nil, "git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")), "\x00"), "\x00")
	// The version names the content: the kept module cache never holds
	// another tree under the same version.
	c.version = "v0.0.0-20260101000000-" + contentID(t, root, files)
	if _, err := modproxy.AddDir(proxy, modulePath, c.version, root, files); err != nil {
		t.Fatal(err)
	}
	hostProxy := filepath.Join(hostCache, "cache", "download")
	if err := modproxy.AddInfoFiles(proxy, hostProxy); err != nil {
		t.Fatal(err)
	}
	// Our go.sum holds the lines sum.golang.org verified for every module
	// we depend on; offline, it stands in for the checksum database. Our
	// own module is not in that database (GONOSUMDB), and tidy drops the
	// lines the app does not need.
	if err := os.WriteFile(filepath.Join(c.dir, "go.sum"), []byte(c.readRoot("go.sum")), 0o644); err != nil {
		t.Fatal(err)
	}

	userCache, err := os.UserCacheDir()
	if err != nil {
		t.Fatalf("consumer module cache: %v", err)
	}
	c.modCache = filepath.Join(userCache, "securestacks-consumertest", "gomodcache")
	c.env = append(os.Environ(),
		"GOPROXY=file://"+filepath.ToSlash(proxy)+",file://"+filepath.ToSlash(hostProxy)+",off",
		"GOMODCACHE="+c.modCache,
		"GONOSUMDB="+modulePath,
		"GOFLAGS=",
		"PATH="+filepath.Join(root, "node_modules", ".bin")+string(os.PathListSeparator)+os.Getenv("PATH"),
		"CDK_DISABLE_VERSION_CHECK=true",
		"JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION=true",
		"AWS_EC2_METADATA_DISABLED=true",
		traceEnv+"=1",
	)
	removeOtherVersions(t, c.modCache, c.version)
	return c
}

// contentID is 12 hex digits of a digest of the files' names and contents.
func contentID(t *testing.T, root string, files []string) string {
	t.Helper()
	h := sha256.New()
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(f)))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
		fmt.Fprintf(h, "%s %d\n", f, len(data))
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// removeOtherVersions deletes earlier runs' copies of our module from the
// kept module cache (go leaves them read-only), so it does not grow.
func removeOtherVersions(t *testing.T, modCache, keep string) {
	t.Helper()
	escaped := filepath.Join(modCache, filepath.FromSlash(modulePath))
	old, _ := filepath.Glob(escaped + "@*")
	for _, d := range old {
		if strings.HasSuffix(d, "@"+keep) {
			continue
		}
		_ = filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
			if err == nil && e.IsDir() {
				_ = os.Chmod(p, 0o755)
			}
			return nil
		})
		if err := os.RemoveAll(d); err != nil {
			t.Fatal(err)
		}
	}
	downloads, _ := filepath.Glob(filepath.Join(modCache, "cache", "download", filepath.FromSlash(modulePath), "@v", "*"))
	for _, f := range downloads {
		if !strings.Contains(filepath.Base(f), keep) {
			_ = os.Remove(f)
		}
	}
}

// synthResult is what one cdk synth printed.
type synthResult struct {
	builds []string // the "gofunction: go build ..." lines
}

// synth runs the pinned CLI (node_modules/.bin/cdk) as a user would.
func (c *consumer) synth() synthResult {
	c.t.Helper()
	out := c.run(c.cdk, "synth", "--quiet")
	var r synthResult
	for line := range strings.Lines(string(out)) {
		if strings.HasPrefix(line, "gofunction: go build ") {
			r.builds = append(r.builds, strings.TrimSpace(line))
		}
	}
	return r
}

// synthFails runs cdk synth, expects it to fail and returns its output.
func (c *consumer) synthFails() string {
	c.t.Helper()
	cmd := exec.Command(c.cdk, "synth", "--quiet")
	cmd.Dir, cmd.Env = c.dir, c.env
	out, err := cmd.CombinedOutput()
	if err == nil {
		c.t.Fatalf("cdk synth succeeded, want a failure:\n%s", out)
	}
	return string(out)
}

func (c *consumer) run(name string, args ...string) []byte {
	c.t.Helper()
	return output(c.t, c.dir, c.env, append([]string{name}, args...)...)
}

func output(t *testing.T, dir string, env []string, argv ...string) []byte {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir, cmd.Env = dir, env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out.Bytes())
	}
	return out.Bytes()
}

func (c *consumer) read(name string) string {
	c.t.Helper()
	b, err := os.ReadFile(filepath.Join(c.dir, filepath.FromSlash(name)))
	if err != nil {
		c.t.Fatal(err)
	}
	return string(b)
}

func (c *consumer) readRoot(name string) string {
	c.t.Helper()
	b, err := os.ReadFile(filepath.Join(c.root, name))
	if err != nil {
		c.t.Fatal(err)
	}
	return string(b)
}

func (c *consumer) write(name, content string) {
	c.t.Helper()
	if err := os.WriteFile(filepath.Join(c.dir, filepath.FromSlash(name)), []byte(content), 0o644); err != nil {
		c.t.Fatal(err)
	}
}

// assets are the asset directories in cdk.out.
func (c *consumer) assets() []string {
	c.t.Helper()
	dirs, err := filepath.Glob(filepath.Join(c.dir, "cdk.out", "asset.*"))
	if err != nil {
		c.t.Fatal(err)
	}
	return dirs
}

func newAssets(before, after []string) []string {
	return slices.DeleteFunc(slices.Clone(after), func(d string) bool { return slices.Contains(before, d) })
}

// errorAnnotations are the aws:cdk:error entries of the cloud assembly.
func (c *consumer) errorAnnotations() []string {
	c.t.Helper()
	var manifest struct {
		Artifacts map[string]struct {
			Metadata map[string][]struct {
				Type string
				Data any
			}
		}
	}
	if err := json.Unmarshal([]byte(c.read("cdk.out/manifest.json")), &manifest); err != nil {
		c.t.Fatal(err)
	}
	var errs []string
	for _, a := range manifest.Artifacts {
		for path, entries := range a.Metadata {
			for _, e := range entries {
				if e.Type == "aws:cdk:error" {
					errs = append(errs, path+": "+strings.SplitN(strings.TrimSpace(toString(e.Data)), "\n", 2)[0])
				}
			}
		}
	}
	slices.Sort(errs)
	return errs
}

func toString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// packagesBuilt are the packages of "gofunction: go build N packages (a b c)"
// lines, sorted.
func packagesBuilt(t *testing.T, builds []string) []string {
	t.Helper()
	var pkgs []string
	for _, b := range builds {
		open, close := strings.Index(b, "("), strings.LastIndex(b, ")")
		if open < 0 || close < open {
			t.Fatalf("unexpected trace line %q", b)
		}
		pkgs = append(pkgs, strings.Fields(b[open+1:close])...)
	}
	slices.Sort(pkgs)
	return pkgs
}

func diff(before, after string) string {
	var b strings.Builder
	bl, al := strings.Split(before, "\n"), strings.Split(after, "\n")
	for _, l := range al {
		if !slices.Contains(bl, l) {
			b.WriteString("+ " + l + "\n")
		}
	}
	for _, l := range bl {
		if !slices.Contains(al, l) {
			b.WriteString("- " + l + "\n")
		}
	}
	return b.String()
}
