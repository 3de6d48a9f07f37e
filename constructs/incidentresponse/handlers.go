//go:build securestacks.handlers

package incidentresponse

// This file is never built: a main package cannot be imported, so building
// with the tag fails. It lists the Lambda handlers this package builds with
// GoFunction (by import path, at synth) as imports, because "go mod tidy"
// reads the imports of every file whatever its build tags. An app that
// imports this package therefore keeps, after go get and go mod tidy, the
// requirements and go.sum lines that building these handlers needs.

import (
	_ "github.com/securestacks/securestacks/lambda-src/ir-api"
	_ "github.com/securestacks/securestacks/lambda-src/ir-contain"
	_ "github.com/securestacks/securestacks/lambda-src/ir-evidence"
)
