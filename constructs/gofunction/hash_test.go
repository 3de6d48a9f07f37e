package gofunction_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/gofunction"
	"github.com/securestacks/securestacks/internal/modproxy"
)

func sourceHash(t *testing.T, mod, entry, goarch string, b *gofunction.BundlingOptions) string {
	t.Helper()
	h, err := gofunction.AssetSourceHash(mod, entry, goarch, b)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestSourceHashIsStable(t *testing.T) {
	// GIVEN two checkouts of the same module in different directories
	a, b := copyModule(t), copyModule(t)

	// WHEN the handler is hashed twice in one, after a restart, in the
	// other, and by import path instead of directory
	first := sourceHash(t, a, "./hello", "arm64", nil)
	again := sourceHash(t, a, "./hello", "arm64", nil)
	gofunction.ResetCaches()
	restarted := sourceHash(t, a, "./hello", "arm64", nil)
	other := sourceHash(t, b, "./hello", "arm64", nil)
	byImportPath := sourceHash(t, b, "example.com/gofntest/hello", "arm64", nil)

	// THEN every hash is the same
	for name, h := range map[string]string{"again": again, "restarted": restarted, "other checkout": other, "import path": byImportPath} {
		if h != first {
			t.Errorf("%s: %s, want %s", name, h, first)
		}
	}
}

func TestSourceHashFollowsDependencies(t *testing.T) {
	handlers := []string{"./hello", "./world", "./solo"}
	tests := []struct {
		name    string
		change  func(t *testing.T, mod string)
		changed map[string]bool
	}{
		{"handler source", func(t *testing.T, mod string) {
			writeFile(t, filepath.Join(mod, "hello/main.go"), "package main\n\nfunc main() { println(1) }\n")
		}, map[string]bool{"./hello": true}},
		{"embedded file", func(t *testing.T, mod string) {
			writeFile(t, filepath.Join(mod, "hello/message.txt"), "another message\n")
		}, map[string]bool{"./hello": true}},
		{"shared package", func(t *testing.T, mod string) {
			writeFile(t, filepath.Join(mod, "internal/greeting/greeting.go"), "package greeting\n\n// For greets.\nfunc For(n string) string { return n }\n")
		}, map[string]bool{"./hello": true, "./world": true}},
		{"file added to shared package", func(t *testing.T, mod string) {
			writeFile(t, filepath.Join(mod, "internal/greeting/extra.go"), "package greeting\n\nvar extra = 1\n")
		}, map[string]bool{"./hello": true, "./world": true}},
		{"go.sum", func(t *testing.T, mod string) {
			writeFile(t, filepath.Join(mod, "go.sum"), "example.com/dep v1.0.0 h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n")
		}, map[string]bool{"./hello": true, "./world": true, "./solo": true}},
		{"go.mod godebug", func(t *testing.T, mod string) {
			writeFile(t, filepath.Join(mod, "go.mod"), "module example.com/gofntest\n\ngo 1.27\n\ngodebug panicnil=1\n")
		}, map[string]bool{"./hello": true, "./world": true, "./solo": true}},
		{"test file", func(t *testing.T, mod string) {
			writeFile(t, filepath.Join(mod, "hello/main_test.go"), "package main\n")
		}, map[string]bool{}},
		{"file outside every package", func(t *testing.T, mod string) {
			writeFile(t, filepath.Join(mod, "README.md"), "# notes\n")
		}, map[string]bool{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN the hashes of three handlers
			mod := copyModule(t)
			before := map[string]string{}
			for _, h := range handlers {
				before[h] = sourceHash(t, mod, h, "arm64", nil)
			}

			// WHEN a file changes and a new process hashes again
			tt.change(t, mod)
			gofunction.ResetCaches()

			// THEN exactly the handlers that build from that file change hash
			for _, h := range handlers {
				if changed := sourceHash(t, mod, h, "arm64", nil) != before[h]; changed != tt.changed[h] {
					t.Errorf("%s: changed = %v, want %v", h, changed, tt.changed[h])
				}
			}
		})
	}
}

func TestSourceHashFollowsOptions(t *testing.T) {
	base := sourceHash(t, testModule, "./hello", "arm64", nil)
	tests := []struct {
		name     string
		goarch   string
		bundling *gofunction.BundlingOptions
	}{
		{"architecture", "amd64", nil},
		{"tags", "arm64", &gofunction.BundlingOptions{Tags: []string{"prod"}}},
		{"build flags", "arm64", &gofunction.BundlingOptions{BuildFlags: []string{"-gcflags=-N"}}},
		{"environment", "arm64", &gofunction.BundlingOptions{Environment: map[string]*string{"GOEXPERIMENT": jsii.String("")}}},
		{"cgo", "arm64", &gofunction.BundlingOptions{CgoEnabled: true}},
		{"docker build", "arm64", &gofunction.BundlingOptions{ForceDocker: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN the default hash of hello
			// WHEN one build option differs
			got := sourceHash(t, testModule, "./hello", tt.goarch, tt.bundling)

			// THEN the hash differs
			if got == base {
				t.Errorf("hash unchanged by %s", tt.name)
			}
		})
	}
}

func TestTreeHashWithoutGo(t *testing.T) {
	// GIVEN no go in PATH, and the go-based hash for comparison
	withGo := sourceHash(t, testModule, "./hello", "arm64", nil)
	t.Cleanup(gofunction.SetLookPath(func(string) (string, error) { return "", exec.ErrNotFound }))
	a, b := copyModule(t), copyModule(t)

	// WHEN hello is hashed in two checkouts, then after an unrelated change
	first := sourceHash(t, a, "./hello", "arm64", nil)
	other := sourceHash(t, b, "./hello", "arm64", nil)
	writeFile(t, filepath.Join(b, "solo/main.go"), "package main\n\nfunc main() {}\n")
	afterChange := sourceHash(t, b, "./hello", "arm64", nil)

	// THEN the whole-module hash is stable across checkouts, differs from the
	// go-based one, and follows any file of the module
	if first != other {
		t.Errorf("tree hash differs across checkouts: %s vs %s", first, other)
	}
	if first == withGo {
		t.Error("tree hash equals the go list hash")
	}
	if afterChange == other {
		t.Error("tree hash ignored a change to solo/main.go")
	}
}

func TestTreeHashSkipsNestedModulesAndHiddenDirs(t *testing.T) {
	// GIVEN no go in PATH and a module hashed once
	t.Cleanup(gofunction.SetLookPath(func(string) (string, error) { return "", exec.ErrNotFound }))
	mod := copyModule(t)
	before := sourceHash(t, mod, "./hello", "arm64", nil)

	// WHEN files change in .git, node_modules, cdk.out and a nested module
	for _, dir := range []string{".git", "node_modules", "cdk.out", "tools"} {
		if err := os.MkdirAll(filepath.Join(mod, dir), 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(mod, dir, "f"), "x")
	}
	writeFile(t, filepath.Join(mod, "tools", "go.mod"), "module tools\n")

	// THEN the hash is unchanged
	if after := sourceHash(t, mod, "./hello", "arm64", nil); after != before {
		t.Error("tree hash followed files outside the module's sources")
	}
}

func TestMainGoModCoversHandlersFromOtherModules(t *testing.T) {
	// GIVEN a main module whose handler comes from another module, served
	// by a file proxy into an empty module cache
	proxy, modCache := t.TempDir(), t.TempDir()
	lib := filepath.Join(t.TempDir(), "lib")
	if err := os.MkdirAll(filepath.Join(lib, "hello"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(lib, "go.mod"), "module example.com/handlers\n\ngo 1.27\n")
	writeFile(t, filepath.Join(lib, "hello", "main.go"), "package main\n\nfunc main() { println(\"hello\") }\n")
	m, err := modproxy.AddDir(proxy, "example.com/handlers", "v1.0.0", lib, nil)
	if err != nil {
		t.Fatal(err)
	}
	app := t.TempDir()
	goMod := "module example.com/app\n\ngo 1.27\n\nrequire example.com/handlers v1.0.0\n"
	writeFile(t, filepath.Join(app, "go.sum"), strings.Join(m.GoSum, "\n")+"\n")
	t.Setenv("GOPROXY", "file://"+filepath.ToSlash(proxy))
	t.Setenv("GOMODCACHE", modCache)
	t.Setenv("GONOSUMDB", "example.com")
	t.Cleanup(func() {
		clean := exec.Command("go", "clean", "-modcache")
		clean.Env = append(os.Environ(), "GOMODCACHE="+modCache)
		_ = clean.Run()
	})
	hash := func(goMod string) string {
		t.Helper()
		writeFile(t, filepath.Join(app, "go.mod"), goMod)
		gofunction.ResetCaches()
		return sourceHash(t, app, "example.com/handlers/hello", "arm64", nil)
	}
	base := hash(goMod)

	// WHEN a go.mod directive that changes the binary is added
	for name, changed := range map[string]string{
		"godebug":   goMod + "\ngodebug default=go1.21\n",
		"toolchain": goMod + "\ntoolchain go1.27.3\n",
		"go line":   strings.Replace(goMod, "go 1.27\n", "go 1.27.0\n", 1),
	} {
		// THEN the handler's hash changes
		if got := hash(changed); got == base {
			t.Errorf("%s: hash unchanged", name)
		}
	}
	// AND an unchanged go.mod keeps it
	if got := hash(goMod); got != base {
		t.Errorf("same go.mod, hash %s, want %s", got, base)
	}
}

func TestGoEnvFileCannotChangeTheBuild(t *testing.T) {
	// GIVEN a go env file whose GOFLAGS points go at another go.mod (as
	// -mod=mod would let go rewrite go.mod and go.sum)
	goEnv := filepath.Join(t.TempDir(), "env")
	writeFile(t, goEnv, "GOFLAGS=-modfile=/nonexistent/go.mod\n")
	t.Setenv("GOENV", goEnv)
	t.Setenv("GOFLAGS", "")
	gofunction.ResetCaches()

	// WHEN a handler is hashed (go list runs)
	_, err := gofunction.AssetSourceHash(testModule, "./hello", "arm64", nil)

	// THEN GoFunction's own GOFLAGS wins
	if err != nil {
		t.Errorf("the go env file's GOFLAGS reached go list: %v", err)
	}
}
