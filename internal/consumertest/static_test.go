package consumertest_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const (
	handlerPrefix = modulePath + "/lambda-src/"
	handlersTag   = "securestacks.handlers"
)

// TestConstructsListTheirHandlers checks the contract that makes go get and
// go mod tidy enough for a consumer: every package that names one of our
// handlers (a string constant such as mtls.ExportHandlerEntry, built by
// GoFunction at synth) imports it in handlers.go under the
// securestacks.handlers tag, which go mod tidy reads and no build uses.
func TestConstructsListTheirHandlers(t *testing.T) {
	for _, dir := range packageDirs(t, "../../constructs") {
		t.Run(filepath.ToSlash(dir), func(t *testing.T) {
			// GIVEN the handlers the package's code names
			named, listed := map[string]bool{}, map[string]bool{}
			var tagged *ast.File
			for name, f := range parseDir(t, dir) {
				if strings.HasSuffix(name, "_test.go") {
					continue
				}
				if name == "handlers.go" {
					tagged = f
					for _, imp := range f.Imports {
						p, _ := strconv.Unquote(imp.Path.Value)
						listed[p] = true
					}
					continue
				}
				ast.Inspect(f, func(n ast.Node) bool {
					if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
						if p, _ := strconv.Unquote(lit.Value); strings.HasPrefix(p, handlerPrefix) {
							named[p] = true
						}
					}
					return true
				})
			}
			if len(named) == 0 && tagged == nil {
				return
			}
			// THEN handlers.go exists, is tagged, and imports each of them,
			// and only existing main packages
			if tagged == nil {
				t.Fatalf("names handlers %v but has no handlers.go", keys(named))
			}
			src, err := os.ReadFile(filepath.Join(dir, "handlers.go"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(src), "//go:build "+handlersTag+"\n") {
				t.Errorf("handlers.go must start with //go:build %s", handlersTag)
			}
			for p := range named {
				if !listed[p] {
					t.Errorf("handlers.go does not import %s", p)
				}
			}
			for p := range listed {
				main := filepath.Join("../../lambda-src", strings.TrimPrefix(p, handlerPrefix), "main.go")
				if _, err := os.Stat(main); !strings.HasPrefix(p, handlerPrefix) || err != nil {
					t.Errorf("handlers.go imports %s, which is not one of our handlers", p)
				}
			}
		})
	}
}

// TestDocsUseOnlyExportedAPI checks every README and Example test against
// what a consumer can compile: no import of an internal package of ours, no
// handler that does not exist, and Example tests in the external _test
// package.
func TestDocsUseOnlyExportedAPI(t *testing.T) {
	internal := regexp.MustCompile(regexp.QuoteMeta(modulePath) + `/(?:[\w.-]+/)*internal(?:/|")`)
	handlerRef := regexp.MustCompile(`lambda-src/([a-z0-9][\w.-]*)`)
	err := filepath.WalkDir("../..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != "../.." && (strings.HasPrefix(name, ".") || name == "node_modules" || name == "cdk.out" || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		var text, code string
		switch {
		case d.Name() == "README.md":
			text = readFile(t, path)
			code = goBlocks(text)
		case d.Name() == "example_test.go" || strings.HasSuffix(d.Name(), "_example_test.go"):
			src := readFile(t, path)
			f, err := parser.ParseFile(token.NewFileSet(), path, src, parser.PackageClauseOnly)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasSuffix(f.Name.Name, "_test") {
				t.Errorf("%s: package %s, want the external %s_test package", path, f.Name.Name, f.Name.Name)
			}
			text, code = src, src
		default:
			return nil
		}
		if m := internal.FindString(code); m != "" {
			t.Errorf("%s: uses %s, which a consumer cannot import", path, strings.TrimSuffix(m, `"`))
		}
		for _, m := range handlerRef.FindAllStringSubmatch(text, -1) {
			if _, err := os.Stat(filepath.Join("../../lambda-src", m[1])); err != nil {
				t.Errorf("%s: refers to lambda-src/%s, which does not exist", path, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// goBlocks returns the ```go fenced blocks of a Markdown file.
func goBlocks(md string) string {
	var b strings.Builder
	in := false
	for line := range strings.Lines(md) {
		trimmed := strings.TrimSpace(line)
		switch {
		case !in && trimmed == "```go":
			in = true
		case in && trimmed == "```":
			in = false
		case in:
			b.WriteString(line)
		}
	}
	return b.String()
}

func packageDirs(t *testing.T, roots ...string) []string {
	t.Helper()
	var dirs []string
	for _, root := range roots {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && (d.Name() == "testdata" || d.Name() == "internal") {
				return filepath.SkipDir
			}
			if d.IsDir() {
				if m, _ := filepath.Glob(filepath.Join(path, "*.go")); len(m) > 0 {
					dirs = append(dirs, path)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return dirs
}

func parseDir(t *testing.T, dir string) map[string]*ast.File {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*ast.File{}
	fset := token.NewFileSet()
	for _, name := range files {
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(name)] = f
	}
	return out
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
