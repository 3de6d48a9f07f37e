package reports_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/securestacks/securestacks/internal/reports"
)

// fuzzParser feeds the tool's fixtures (and every other fixture, as hostile input) to its
// parser. Whatever the input, the parser must not panic and must either return a
// *reports.Error or findings that carry the fields an ASFF id is built from.
func fuzzParser(f *testing.F, tool string) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		f.Fatal(err)
	}
	// The reports the tools really wrote, too (testdata/real/<tool>/...).
	real, err := filepath.Glob(filepath.Join("testdata", "real", "*", "*.*"))
	if err != nil {
		f.Fatal(err)
	}
	lines, err := filepath.Glob(filepath.Join("testdata", "*.jsonl"))
	if err != nil {
		f.Fatal(err)
	}
	files = append(append(files, real...), lines...)
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		if strings.HasPrefix(filepath.Base(file), tool) || filepath.Base(filepath.Dir(file)) == tool {
			f.Add(b[:len(b)/2])
		}
	}
	f.Add([]byte(""))
	f.Add([]byte("null"))
	f.Add([]byte("[]"))
	f.Add([]byte("{}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := reports.Parse(tool, data)
		if err != nil {
			var e *reports.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not a *reports.Error: %v", err, err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error: %q", err)
			}
			return
		}
		for _, f := range rep.Findings {
			if f.RuleID == "" || f.Location == "" {
				t.Fatalf("finding without rule or location: %+v", f)
			}
		}
	})
}

func FuzzZAP(f *testing.F)             { fuzzParser(f, reports.ZAP) }
func FuzzDependencyCheck(f *testing.F) { fuzzParser(f, reports.DependencyCheck) }
func FuzzTrivy(f *testing.F)           { fuzzParser(f, reports.Trivy) }
func FuzzGrype(f *testing.F)           { fuzzParser(f, reports.Grype) }
func FuzzGitleaks(f *testing.F)        { fuzzParser(f, reports.Gitleaks) }
func FuzzSemgrep(f *testing.F)         { fuzzParser(f, reports.Semgrep) }
func FuzzSonarQube(f *testing.F)       { fuzzParser(f, reports.SonarQube) }
func FuzzPHPStan(f *testing.F)         { fuzzParser(f, reports.PHPStan) }
func FuzzSnyk(f *testing.F)            { fuzzParser(f, reports.Snyk) }
func FuzzAnchore(f *testing.F)         { fuzzParser(f, reports.Anchore) }
func FuzzECR(f *testing.F)             { fuzzParser(f, reports.ECR) }
func FuzzSARIF(f *testing.F)           { fuzzParser(f, reports.SARIF) }
func FuzzFalco(f *testing.F)           { fuzzParser(f, reports.Falco) }
