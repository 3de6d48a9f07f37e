package gofunction_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/gofunction"
)

// benchEntries are four handlers with distinct binary names.
var benchEntries = []string{"./hello", "./world", "./solo", "./echo"}

// BenchmarkColdBuild compares a cold synth of four GoFunctions (empty
// outdir, empty GOCACHE) with one plain "go build -o DIR" of the same four
// packages with the same flags (empty GOCACHE too), then synthesizes again
// into the warm outdir. Times are the best of the iterations. It reports:
//
//	cold-ratio   GoFunction synth time / plain go build time (goal <= 1.3)
//	gofn-s       GoFunction cold synth, seconds (construct + synth, no node start-up)
//	gobuild-s    plain go build, seconds
//	cold-builds  most go build invocations in one cold synth (want 1)
//	warm-builds  most go build invocations in one warm synth (want 0)
//	warm-s       warm synth, seconds (hashing only)
//
// scripts/bench-gofunction.sh runs it and checks the figures.
func BenchmarkColdBuild(b *testing.B) {
	mod, err := filepath.Abs(testModule)
	if err != nil {
		b.Fatal(err)
	}
	pkgs := make([]string, len(benchEntries))
	for i, e := range benchEntries {
		pkgs[i] = "example.com/gofntest/" + strings.TrimPrefix(e, "./")
	}
	b.Setenv(gofunction.TraceEnv, "1")
	trace := &traceLines{}
	defer gofunction.SetTraceOutput(trace)()

	// Untimed: bring GOROOT and the module into the page cache, so neither
	// side pays for the disk.
	plainGoBuild(b, mod, pkgs)

	var gofn, plain, warm []time.Duration
	var coldBuilds, warmBuilds int
	coldSynth := func() {
		b.Setenv("GOCACHE", b.TempDir())
		outdir := b.TempDir()
		trace.builds()
		gofn = append(gofn, synthFunctions(outdir, mod))
		coldBuilds = max(coldBuilds, len(trace.builds()))
		warm = append(warm, synthFunctions(outdir, mod))
		warmBuilds = max(warmBuilds, len(trace.builds()))
	}
	for i := 0; b.Loop(); i++ {
		// Alternate which side goes first, so neither always meets the
		// other's leftovers (page cache, CPU frequency).
		if i%2 == 0 {
			plain = append(plain, plainGoBuild(b, mod, pkgs))
			coldSynth()
		} else {
			coldSynth()
			plain = append(plain, plainGoBuild(b, mod, pkgs))
		}
	}
	// Best of the iterations: on a shared machine the minimum is the run
	// least disturbed by other load.
	b.ReportMetric(slices.Min(gofn).Seconds()/slices.Min(plain).Seconds(), "cold-ratio")
	b.ReportMetric(slices.Min(gofn).Seconds(), "gofn-s")
	b.ReportMetric(slices.Min(plain).Seconds(), "gobuild-s")
	b.ReportMetric(float64(coldBuilds), "cold-builds")
	b.ReportMetric(float64(warmBuilds), "warm-builds")
	b.ReportMetric(slices.Min(warm).Seconds(), "warm-s")
}

// synthFunctions defines the bench functions in a new app, as a new
// process would, and synthesizes it.
func synthFunctions(outdir, mod string) time.Duration {
	gofunction.ResetCaches()
	awscdk.AssetStaging_ClearAssetHashCache()
	start := time.Now()
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(outdir)})
	stack := awscdk.NewStack(app, jsii.String("Bench"), nil)
	for _, e := range benchEntries {
		gofunction.NewGoFunction(stack, strings.TrimPrefix(e, "./"), &gofunction.GoFunctionProps{
			Entry:     jsii.String(e),
			ModuleDir: jsii.String(mod),
		})
	}
	app.Synth(nil)
	return time.Since(start)
}

// plainGoBuild is the baseline: one go build of all packages, GoFunction's
// flags, an empty GOCACHE.
func plainGoBuild(b *testing.B, mod string, pkgs []string) time.Duration {
	b.Helper()
	out := b.TempDir()
	args := strings.Fields(`build -trimpath -buildvcs=false -tags lambda.norpc -ldflags`)
	args = append(args, "-s -w -buildid=", "-o", out+string(filepath.Separator))
	cmd := exec.Command("go", append(args, pkgs...)...)
	cmd.Dir = mod
	cmd.Env = append(os.Environ(), "GOCACHE="+b.TempDir(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64", "GOFLAGS=")
	start := time.Now()
	if msg, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, msg)
	}
	return time.Since(start)
}
