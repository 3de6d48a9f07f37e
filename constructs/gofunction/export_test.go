package gofunction

import (
	"io"
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
)

// Test hooks: the external test package reaches internals only through
// these.

const (
	TraceEnv      = traceEnv
	PendingMarker = pendingMarker
)

// SetLookPath replaces how the go binary is found and drops every cache
// that depends on it.
func SetLookPath(f func(string) (string, error)) (restore func()) {
	old := lookPath
	lookPath = f
	ResetCaches()
	return func() {
		lookPath = old
		ResetCaches()
	}
}

// SetTraceOutput redirects the SECURESTACKS_GOFUNCTION_TRACE lines.
func SetTraceOutput(w io.Writer) (restore func()) {
	traceWriteM.Lock()
	defer traceWriteM.Unlock()
	old := traceOut
	traceOut = w
	return func() {
		traceWriteM.Lock()
		defer traceWriteM.Unlock()
		traceOut = old
	}
}

// ResetCaches forgets toolchain probes, go list results and cleaned
// outdirs, as a new process would.
func ResetCaches() {
	toolchains.Lock()
	clear(toolchains.byKey)
	toolchains.Unlock()
	listCache.Lock()
	clear(listCache.byKey)
	clear(listCache.prefetch)
	listCache.Unlock()
	cleanedOutdirs.Clear()
}

// BundlingOf returns the CDK bundling options NewGoFunction passed.
func BundlingOf(g *GoFunction) *awscdk.BundlingOptions { return g.bundling }

// AssetSourceHash computes the hash NewGoFunction uses for a stack that
// CDK bundles, without jsii.
func AssetSourceHash(moduleDir, entry, goarch string, b *BundlingOptions) (string, error) {
	dir, err := filepath.Abs(moduleDir)
	if err != nil {
		return "", err
	}
	c := newBuildConfig(dir, goarch, b)
	src, err := assetSource(c, resolveEntry(entry, dir), "")
	return src.hash, err
}
