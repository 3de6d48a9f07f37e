package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// Exit statuses. Scripts tell a usage mistake (2) from an operation that failed (1).
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

const prog = "securestacks"

// run executes the command line args (without the program name) and returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	return runWith(commands, args, stdout, stderr)
}

// runWith is run over any registry, so that tests can exercise groups before real ones exist.
func runWith(cmds []command, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && isHelp(args[0]) {
		return help(cmds, args[1:], stdout, stderr)
	}
	return dispatch(cmds, nil, args, stdout, stderr)
}

// dispatch walks args down the registry; path is the words already consumed.
func dispatch(cmds []command, path []string, args []string, stdout, stderr io.Writer) int {
	where := strings.Join(path, " ")
	if len(args) == 0 {
		if len(path) == 0 {
			return usageError(stderr, "", "missing command; expected one of: %s; run '%s help'", names(cmds), prog)
		}
		return usageError(stderr, where, "missing subcommand; expected one of: %s", names(cmds))
	}
	arg := args[0]
	switch {
	case len(path) > 0 && isHelp(arg):
		return help(cmds, args[1:], stdout, stderr, path...)
	case strings.HasPrefix(arg, "-"):
		return usageError(stderr, where, "unknown flag %q; run '%s'", arg, helpCommand(path))
	}
	c, ok := find(cmds, arg)
	if !ok {
		if len(path) == 0 {
			return usageError(stderr, "", "unknown command %q; run '%s help'", arg, prog)
		}
		return usageError(stderr, where, "unknown subcommand %q; expected one of: %s", arg, names(cmds))
	}
	if c.run == nil {
		return dispatch(c.subcommands, append(path, c.name), args[1:], stdout, stderr)
	}
	return c.run(args[1:], stdout, stderr)
}

// help prints, to stdout, the usage of the command that args name below path, or of the
// whole CLI. A leaf prints its own usage: it is run with -h.
func help(cmds []command, args []string, stdout, stderr io.Writer, path ...string) int {
	for _, arg := range args {
		c, ok := find(cmds, arg)
		if !ok {
			unknown := strings.Join(append(append([]string(nil), path...), arg), " ")
			return usageError(stderr, "", "unknown command %q; run '%s help'", unknown, prog)
		}
		path = append(path, c.name)
		if c.run != nil {
			return c.run([]string{"-h"}, stdout, stderr)
		}
		cmds = c.subcommands
	}
	if len(path) == 0 {
		fmt.Fprintf(stdout, "%s runs the securestacks Lambdas' logic from a terminal.\n\n", prog)
		fmt.Fprintf(stdout, "Usage:\n  %s <command> [<subcommand>] [flags] [arguments]\n\nCommands:\n", prog)
	} else {
		where := strings.Join(path, " ")
		fmt.Fprintf(stdout, "Usage:\n  %s %s <subcommand> [flags] [arguments]\n\nSubcommands:\n", prog, where)
	}
	listCommands(stdout, cmds, path)
	fmt.Fprintf(stdout, "\nRun '%s help <command>' for a command's flags.\n", prog)
	fmt.Fprintf(stdout, "Exit status: 0 success, 1 failure, 2 usage error.\n")
	return exitOK
}

// listCommands prints every leaf under cmds, with its full path, aligned.
func listCommands(w io.Writer, cmds []command, path []string) {
	type row struct{ name, summary string }
	var rows []row
	var walk func(prefix []string, cmds []command)
	walk = func(prefix []string, cmds []command) {
		for _, c := range cmds {
			p := append(append([]string(nil), prefix...), c.name)
			if c.run != nil {
				rows = append(rows, row{strings.Join(p, " "), c.summary})
				continue
			}
			walk(p, c.subcommands)
		}
	}
	walk(nil, cmds)
	width := 0
	for _, r := range rows {
		width = max(width, len(r.name))
	}
	prefix := strings.Join(path, " ")
	if prefix != "" {
		prefix += " "
	}
	for _, r := range rows {
		fmt.Fprintf(w, "  %s%-*s  %s\n", prefix, width, r.name, r.summary)
	}
}

func find(cmds []command, name string) (command, bool) {
	for _, c := range cmds {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

func names(cmds []command) string {
	n := make([]string, len(cmds))
	for i, c := range cmds {
		n[i] = c.name
	}
	return strings.Join(n, ", ")
}

func isHelp(arg string) bool {
	switch arg {
	case "help", "-h", "-help", "--help":
		return true
	}
	return false
}

func helpCommand(path []string) string {
	return strings.TrimSpace(prog + " help " + strings.Join(path, " "))
}

// newFlagSet returns the FlagSet of the leaf at path (for example "kms sign"). It writes
// nothing itself: parseFlags reports errors in one line, where the flag package would print
// the whole usage.
func newFlagSet(path string) *flag.FlagSet {
	fs := flag.NewFlagSet(path, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parseFlags parses args into fs. When done is true the command must return code at once:
// exitOK after -h, with the usage on stdout (synopsis is the line after "Usage:", for example
// "securestacks kms sign -key-id ID FILE"; summary explains it), or exitUsage after a flag
// error, with one line on stderr.
func parseFlags(fs *flag.FlagSet, args []string, synopsis, summary string, stdout, stderr io.Writer) (done bool, code int) {
	err := fs.Parse(args)
	switch {
	case err == nil:
		return false, exitOK
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprintf(stdout, "Usage:\n  %s\n\n%s\n", synopsis, summary)
		hasFlags := false
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprintf(stdout, "\nFlags:\n")
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			fs.SetOutput(io.Discard)
		}
		return true, exitOK
	default:
		return true, usageError(stderr, fs.Name(), "%v; run '%s'", err, helpCommand([]string{fs.Name()}))
	}
}

// usageError writes "securestacks[ where]: <message>" as one line to stderr and returns
// exitUsage.
func usageError(stderr io.Writer, where, format string, args ...any) int {
	writeLine(stderr, where, fmt.Sprintf(format, args...))
	return exitUsage
}

// failure writes "securestacks <where>: <err>" as one line to stderr and returns exitFailure.
func failure(stderr io.Writer, where string, err error) int {
	writeLine(stderr, where, err.Error())
	return exitFailure
}

// writeLine collapses every run of whitespace, newlines included, so that a message is always
// one line however the error that carries it was built.
func writeLine(w io.Writer, where, msg string) {
	head := prog
	if where != "" {
		head += " " + where
	}
	fmt.Fprintf(w, "%s: %s\n", head, strings.Join(strings.Fields(msg), " "))
}
