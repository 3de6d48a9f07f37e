// Command apicheck reports incompatible changes to our module's public API,
// offline: it checks out a base revision of the repository into a scratch
// directory, writes its API with apidiff (pinned in tools/go.mod), and
// compares the working tree against it.
//
//	apicheck -apidiff .bin/apidiff [-base REV]
//
// The base is the newest v* tag reachable from HEAD, else HEAD^ (the previous
// commit); with neither (a shallow or one-commit clone) there is nothing to
// compare and apicheck says so. Internal packages are not API. Before v1.0.0
// an incompatible change is reported and allowed, as semantic versioning
// allows it in a minor version; from a v1 or later base it fails the check.
package main

import (
	"archive/zip"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/mod/semver"
)

func main() {
	apidiff := flag.String("apidiff", "apidiff", "the apidiff binary")
	base := flag.String("base", "", "base git revision (default: newest v* tag, else HEAD^)")
	flag.Parse()
	if err := run(os.Stdout, *apidiff, *base); err != nil {
		fmt.Fprintln(os.Stderr, "apicheck:", err)
		os.Exit(1)
	}
}

func run(w io.Writer, apidiff, rev string) error {
	// apidiff also runs in the base checkout: resolve a relative path first.
	apidiff, err := exec.LookPath(apidiff)
	if err != nil {
		return err
	}
	if apidiff, err = filepath.Abs(apidiff); err != nil {
		return err
	}
	modPath, err := output("", "go", "list", "-m")
	if err != nil {
		return err
	}
	released := false
	if rev == "" {
		if tag, err := output("", "git", "describe", "--tags", "--abbrev=0", "--match", "v*"); err == nil && semver.IsValid(tag) {
			rev, released = tag, semver.Major(tag) != "v0"
		} else {
			rev = "HEAD^"
		}
	}
	if _, err := output("", "git", "rev-parse", "--verify", "--quiet", rev+"^{commit}"); err != nil {
		fmt.Fprintf(w, "apicheck: no base revision %s in this clone: nothing to compare\n", rev)
		return nil
	}

	scratch, err := os.MkdirTemp("", "apicheck-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	baseDir := filepath.Join(scratch, "base")
	if err := checkout(rev, baseDir); err != nil {
		return err
	}
	export := filepath.Join(scratch, "base.api")
	if _, err := output(baseDir, apidiff, "-m", "-w", export, modPath); err != nil {
		return fmt.Errorf("API of %s: %w", rev, err)
	}
	report, err := output("", apidiff, "-m", "-incompatible", export, modPath)
	if err != nil {
		return fmt.Errorf("compare with %s: %w", rev, err)
	}
	report = publicOnly(report)
	if report == "" {
		fmt.Fprintf(w, "apicheck: no incompatible API change since %s\n", rev)
		return nil
	}
	fmt.Fprintf(w, "apicheck: incompatible API changes since %s:\n%s\n", rev, report)
	if released {
		return fmt.Errorf("incompatible API changes since %s need a new major version", rev)
	}
	fmt.Fprintln(w, "apicheck: allowed before v1.0.0; name them in the commit message")
	return nil
}

// publicOnly drops the report's lines about internal packages, which are
// not API. apidiff prints one "- ./pkg/path.Name: change" line per change.
func publicOnly(report string) string {
	var b strings.Builder
	for line := range strings.Lines(report) {
		name, _, _ := strings.Cut(strings.TrimPrefix(line, "- "), ":")
		dir, _ := path.Split(name)
		if slices.Contains(strings.Split(dir, "/"), "internal") {
			continue
		}
		b.WriteString(line)
	}
	return strings.TrimSpace(b.String())
}

// checkout writes the files of rev (as "git archive" gives them) into dir.
func checkout(rev, dir string) error {
	archive, err := exec.Command("git", "archive", "--format=zip", rev).Output()
	if err != nil {
		return fmt.Errorf("git archive %s: %w", rev, err)
	}
	zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
	if err != nil {
		return err
	}
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/") {
			continue
		}
		dst := filepath.Join(dir, filepath.FromSlash(f.Name))
		if !strings.HasPrefix(dst, dir+string(filepath.Separator)) {
			return fmt.Errorf("git archive %s: path %q leaves the checkout", rev, f.Name)
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		r, err := f.Open()
		if err != nil {
			return err
		}
		data, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			return err
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func output(dir, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return "", fmt.Errorf("%s %s: %s", filepath.Base(name), strings.Join(args, " "), strings.TrimSpace(string(exit.Stderr)))
		}
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}
