package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// version, when set at link time with -ldflags "-X main.version=v1.2.3", overrides the main
// module version recorded in the build info.
var version string

func runVersion(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("version")
	if done, code := parseFlags(fs, args, prog+" version",
		"Print the securestacks version, then the Go version and platform it was built with.", stdout, stderr); done {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(stderr, "version", "unexpected argument %q; version takes none", fs.Arg(0))
	}
	fmt.Fprintln(stdout, versionString())
	return exitOK
}

// versionString is "securestacks <version> (<go version> <os>/<arch>)". The version is the
// -X main.version value, else the module version go install recorded, else "(devel)".
func versionString() string {
	v := version
	if v == "" {
		if bi, ok := debug.ReadBuildInfo(); ok {
			v = bi.Main.Version
		}
	}
	if v == "" {
		v = "(devel)"
	}
	return fmt.Sprintf("%s %s (%s %s/%s)", prog, v, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
