// Package lambdasize_test holds every Lambda handler binary to MaxBytes:
// a larger bootstrap takes longer to download and start on a cold invoke.
package lambdasize_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/securestacks/securestacks/constructs/gofunction"
)

// MaxBytes is the most a handler's bootstrap may weigh: 10 MiB.
const MaxBytes = 10 << 20

// TestEveryHandlerFitsTheSizeLimit builds every main package under lambda-src
// exactly as GoFunction bundles it (its own build command and environment,
// arm64) and fails for each binary above MaxBytes. The build shares the Go
// build cache, so an unchanged tree relinks only.
func TestEveryHandlerFitsTheSizeLimit(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	// GIVEN the production build command for every handler at once
	out := t.TempDir()
	cmd := exec.Command("sh", "-c", gofunction.BuildCommand("./lambda-src/...", "arm64", out+"/", nil))
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOFLAGS=")
	for k, v := range gofunction.BuildEnvironment("arm64", nil) {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	// WHEN it runs
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, b)
	}
	// THEN there is one binary per handler, each at most MaxBytes
	entries, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	handlers := handlerDirs(t, filepath.Join(root, "lambda-src"))
	if len(entries) != len(handlers) {
		t.Fatalf("built %d binaries for %d handlers %v", len(entries), len(handlers), handlers)
	}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		if info.Size() > MaxBytes {
			t.Errorf("%s: %s, above the %s limit", e.Name(), mib(info.Size()), mib(MaxBytes))
		} else {
			t.Logf("%-36s %s", e.Name(), mib(info.Size()))
		}
	}
}

// handlerDirs lists the directories of lambda-src holding a main.go.
func handlerDirs(t *testing.T, dir string) []string {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(dir, "*", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range matches {
		names = append(names, filepath.Base(filepath.Dir(m)))
	}
	sort.Strings(names)
	return names
}

func mib(n int64) string { return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20)) }
