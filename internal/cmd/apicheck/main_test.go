package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// apidiffBinary builds the pinned apidiff from tools/go.mod.
func apidiffBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "apidiff")
	cmd := exec.Command("go", "-C", "../../../tools", "build", "-o", bin, "golang.org/x/exp/cmd/apidiff")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build apidiff: %v\n%s", err, out)
	}
	return bin
}

func git(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@localhost"}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestIncompatibleChangeIsReported(t *testing.T) {
	apidiff := apidiffBinary(t)
	tests := []struct {
		name    string
		tag     string // base tag, "" for the previous commit
		wantErr bool
	}{
		{"previous commit, v0", "", false},
		{"v1 tag", "v1.2.0", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN a module whose committed API has Kept and Removed, and an
			// internal package
			repo := t.TempDir()
			write(t, repo, "go.mod", "module example.com/m\n\ngo 1.27\n")
			write(t, repo, "m.go", "package m\n\nfunc Kept() {}\n\nfunc Removed() {}\n")
			write(t, repo, "internal/x/x.go", "package x\n\nfunc Gone() {}\n")
			git(t, repo, "init", "-q")
			git(t, repo, "add", "-A")
			git(t, repo, "commit", "-q", "-m", "base")
			if tt.tag != "" {
				git(t, repo, "tag", tt.tag)
			}
			write(t, repo, "README", "a second commit\n")
			git(t, repo, "add", "-A")
			git(t, repo, "commit", "-q", "-m", "docs")
			if tt.tag == "" {
				// the base is HEAD^: the change under test is the last commit
				write(t, repo, "m.go", "package m\n\nfunc Kept() {}\n")
				write(t, repo, "internal/x/x.go", "package x\n")
				git(t, repo, "commit", "-q", "-am", "remove")
			}

			// WHEN the working tree drops Removed and the internal function
			write(t, repo, "m.go", "package m\n\nfunc Kept() {}\n")
			write(t, repo, "internal/x/x.go", "package x\n")
			t.Chdir(repo)
			rel, err := filepath.Rel(repo, apidiff) // as make passes .bin/apidiff
			if err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			err = run(&out, rel, "")

			// THEN Removed is reported, the internal package is not, and a
			// released major version fails
			if !strings.Contains(out.String(), "Removed: removed") {
				t.Errorf("report lacks the removal:\n%s", out.String())
			}
			if strings.Contains(out.String(), "Gone") {
				t.Errorf("report names an internal package:\n%s", out.String())
			}
			if (err != nil) != tt.wantErr {
				t.Errorf("err = %v, want error %t", err, tt.wantErr)
			}
		})
	}
}
