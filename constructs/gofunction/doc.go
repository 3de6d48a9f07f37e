// Package gofunction provides GoFunction, a Lambda function on
// provided.al2023 (arm64 by default) whose bootstrap binary is built from a
// Go main package named by import path or by a directory of the module.
//
// The build runs "go build -trimpath -buildvcs=false -tags lambda.norpc
// -ldflags '-s -w -buildid='" with CGO_ENABLED=0 GOOS=linux, so two clean
// builds of the same source are byte-identical. It uses the local go when
// it is on PATH and at least as new as go.mod's go line, and otherwise
// falls back to CDK's Docker bundling in a pinned golang image.
//
// The asset hash is computed before bundling from what decides the binary
// (the handler's in-module dependency files, external module versions,
// go.mod and go.sum, flags, target and Go version), so an unchanged
// handler is never rebuilt, and a change rebuilds exactly the handlers
// that depend on it.
//
// CDK asks for each bundle while the function is constructed. GoFunction
// only records the request then, and builds every recorded handler at synth
// (in the validation phase) with one parallel "go build -o DIR pkg..." per
// build configuration. See README.md for the details and for the security
// notes on build flags, environment and GOPROXY.
package gofunction
