package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// command is one entry of the CLI: a leaf, which has run, or a group, which has subcommands
// (`securestacks kms sign`). A group never runs anything itself.
type command struct {
	// name is the word typed on the command line; unique among its siblings.
	name string
	// summary is one line, lower case, no final period, shown in help listings.
	summary string
	// run executes a leaf with the arguments after its name and returns the exit status. It
	// parses flags with newFlagSet and parseFlags, so that "-h" prints its usage to stdout and
	// a bad flag is one line on stderr, and reports failures with failure.
	run func(args []string, stdout, stderr io.Writer) int
	// subcommands makes the command a group.
	subcommands []command
}

// commands is the registry. Add a group as
//
//	{name: "kms", summary: "sign and verify with KMS asymmetric keys", subcommands: []command{
//		{name: "sign", summary: "sign a file's digest with kms:Sign", run: runKmsSign},
//	}},
//
// TestRegistryIsValid checks every entry.
var commands = []command{
	{name: "appstream", summary: "audit the AppStream sandbox: who did what to which object", subcommands: appstreamCommands},
	{name: "asff", summary: "convert scanner reports to ASFF findings and import them into Security Hub", subcommands: asffCommands},
	{name: "fle", summary: "field-level encryption: encrypt JSON fields, decrypt through KMS", subcommands: fleCommands},
	{name: "ir", summary: "EC2 incident response: start, follow and release cases", subcommands: irCommands},
	{name: "kms", summary: "sign with KMS asymmetric keys and verify offline", subcommands: kmsCommands},
	{name: "pca", summary: "portable root: export a subordinate CA's CSR, check and import what the external root signed", subcommands: pcaCommands},
	{name: "origin", summary: "keep origins reachable from CloudFront only: plan the updater's changes offline", subcommands: originCommands},
	{name: "version", summary: "print the securestacks and Go versions", run: runVersion},
}

// validate checks the rules dispatch relies on: names unique among siblings and not taken by
// help or flags, every entry a leaf or a non-empty group, every entry summarised.
func validate(cmds []command) error {
	var errs []error
	var walk func(prefix string, cmds []command)
	walk = func(prefix string, cmds []command) {
		seen := map[string]bool{}
		for _, c := range cmds {
			path := strings.TrimSpace(prefix + " " + c.name)
			switch {
			case c.name == "" || strings.HasPrefix(c.name, "-") || strings.ContainsAny(c.name, " \t") || isHelp(c.name):
				errs = append(errs, fmt.Errorf("command %q: name must be a word that is neither a flag nor help", path))
			case seen[c.name]:
				errs = append(errs, fmt.Errorf("command %q: registered twice", path))
			}
			seen[c.name] = true
			if c.summary == "" {
				errs = append(errs, fmt.Errorf("command %q: summary is empty", path))
			}
			if (c.run == nil) == (len(c.subcommands) == 0) {
				errs = append(errs, fmt.Errorf("command %q: needs exactly one of run or subcommands", path))
			}
			walk(path, c.subcommands)
		}
	}
	walk("", cmds)
	return errors.Join(errs...)
}
