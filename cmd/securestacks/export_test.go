package main

import (
	"errors"
	"fmt"
	"io"
)

// Run exposes run to the external tests.
var Run = run

// SetVersion sets the -ldflags -X variable for one test and returns the function restoring it.
func SetVersion(v string) (restore func()) {
	old := version
	version = v
	return func() { version = old }
}

// TopLevelNames lists the registry's top-level command names, in order.
func TopLevelNames() []string {
	names := make([]string, len(commands))
	for i, c := range commands {
		names[i] = c.name
	}
	return names
}

// RegistryError validates the real registry.
func RegistryError() error { return validate(commands) }

// BadRegistryErrors validates one registry per rule that validate enforces.
func BadRegistryErrors() map[string]error {
	leaf := func([]string, io.Writer, io.Writer) int { return exitOK }
	return map[string]error{
		"duplicate name":        validate([]command{{name: "a", summary: "s", run: leaf}, {name: "a", summary: "s", run: leaf}}),
		"name is a flag":        validate([]command{{name: "-a", summary: "s", run: leaf}}),
		"name is help":          validate([]command{{name: "help", summary: "s", run: leaf}}),
		"no summary":            validate([]command{{name: "a", run: leaf}}),
		"neither run nor group": validate([]command{{name: "a", summary: "s"}}),
		"both run and group":    validate([]command{{name: "a", summary: "s", run: leaf, subcommands: []command{{name: "b", summary: "s", run: leaf}}}}),
		"bad entry in a group":  validate([]command{{name: "g", summary: "s", subcommands: []command{{name: "b", summary: "s"}}}}),
	}
}

// demoCommands is a registry with a group, shaped like the kms group later work adds, so the
// dispatch of groups is tested before a real one exists.
var demoCommands = []command{
	{name: "kms", summary: "sign and verify with KMS asymmetric keys", subcommands: []command{
		{name: "sign", summary: "sign a digest", run: runDemoSign},
		{name: "verify", summary: "verify a signature", run: runDemoSign},
		{name: "public-key", summary: "print the public key", run: runDemoSign},
	}},
	{name: "version", summary: "print the securestacks and Go versions", run: runVersion},
}

// runDemoSign takes a required -key-id; key ID "fail" makes it fail with a multi-line error.
func runDemoSign(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("kms sign")
	keyId := fs.String("key-id", "", "KMS key ID or alias (required)")
	if done, code := parseFlags(fs, args, prog+" kms sign -key-id ID", "Sign a digest.", stdout, stderr); done {
		return code
	}
	if *keyId == "fail" {
		return failure(stderr, "kms sign", errors.New("calling kms:Sign:\n  AccessDeniedException\n"))
	}
	fmt.Fprintf(stdout, "signed with %s\n", *keyId)
	return exitOK
}

// RunDemo runs the command line over demoCommands.
func RunDemo(args []string, stdout, stderr io.Writer) int {
	return runWith(demoCommands, args, stdout, stderr)
}
