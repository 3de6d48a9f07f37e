package main_test

import (
	"bytes"
	"io"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	securestacks "github.com/securestacks/securestacks/cmd/securestacks"
)

type runFunc func(args []string, stdout, stderr io.Writer) int

func TestVersion(t *testing.T) {
	tests := []struct {
		name    string
		ldflags string // value of main.version, "" for the build-info default
		want    *regexp.Regexp
	}{
		{
			name: "default from build info",
			want: regexp.MustCompile(`^securestacks \S+ \(` + regexp.QuoteMeta(runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH) + `\)\n$`),
		},
		{
			name:    "set with -ldflags -X main.version",
			ldflags: "v1.2.3",
			want:    regexp.MustCompile(`^` + regexp.QuoteMeta("securestacks v1.2.3 ("+runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH+")") + `\n$`),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN the version the binary was linked with
			defer securestacks.SetVersion(tt.ldflags)()
			var stdout, stderr bytes.Buffer

			// WHEN the version command runs
			code := securestacks.Run([]string{"version"}, &stdout, &stderr)

			// THEN it prints one line with the version, the Go version and the platform
			if code != 0 || stderr.Len() != 0 {
				t.Fatalf("exit %d, stderr %q", code, stderr.String())
			}
			if !tt.want.MatchString(stdout.String()) {
				t.Errorf("stdout = %q, want match %s", stdout.String(), tt.want)
			}
		})
	}
}

func TestRun(t *testing.T) {
	tests := []struct {
		name       string
		run        runFunc
		args       []string
		wantCode   int
		wantStderr string   // exact; "" means stderr must be empty
		wantStdout []string // substrings
	}{
		{
			name: "no command", run: securestacks.Run, args: nil, wantCode: 2,
			wantStderr: "securestacks: missing command; expected one of: " + strings.Join(securestacks.TopLevelNames(), ", ") + "; run 'securestacks help'\n",
		},
		{
			name: "unknown command", run: securestacks.Run, args: []string{"foo"}, wantCode: 2,
			wantStderr: "securestacks: unknown command \"foo\"; run 'securestacks help'\n",
		},
		{
			name: "unknown top-level flag", run: securestacks.Run, args: []string{"-v"}, wantCode: 2,
			wantStderr: "securestacks: unknown flag \"-v\"; run 'securestacks help'\n",
		},
		{
			name: "unknown flag of a command", run: securestacks.Run, args: []string{"version", "-json"}, wantCode: 2,
			wantStderr: "securestacks version: flag provided but not defined: -json; run 'securestacks help version'\n",
		},
		{
			name: "unexpected argument", run: securestacks.Run, args: []string{"version", "now"}, wantCode: 2,
			wantStderr: "securestacks version: unexpected argument \"now\"; version takes none\n",
		},
		{
			name: "help", run: securestacks.Run, args: []string{"help"}, wantCode: 0,
			wantStdout: []string{"Usage:\n  securestacks <command>", "\n  version ", " print the securestacks and Go versions\n", "Exit status: 0 success, 1 failure, 2 usage error."},
		},
		{
			name: "-h", run: securestacks.Run, args: []string{"-h"}, wantCode: 0,
			wantStdout: []string{"Usage:\n  securestacks <command>"},
		},
		{
			name: "--help", run: securestacks.Run, args: []string{"--help"}, wantCode: 0,
			wantStdout: []string{"Usage:\n  securestacks <command>"},
		},
		{
			name: "help for a command", run: securestacks.Run, args: []string{"help", "version"}, wantCode: 0,
			wantStdout: []string{"Usage:\n  securestacks version\n"},
		},
		{
			name: "command -h", run: securestacks.Run, args: []string{"version", "-h"}, wantCode: 0,
			wantStdout: []string{"Usage:\n  securestacks version\n"},
		},
		{
			name: "help for an unknown command", run: securestacks.Run, args: []string{"help", "foo"}, wantCode: 2,
			wantStderr: "securestacks: unknown command \"foo\"; run 'securestacks help'\n",
		},
		{
			name: "group without subcommand", run: securestacks.RunDemo, args: []string{"kms"}, wantCode: 2,
			wantStderr: "securestacks kms: missing subcommand; expected one of: sign, verify, public-key\n",
		},
		{
			name: "group with unknown subcommand", run: securestacks.RunDemo, args: []string{"kms", "encrypt"}, wantCode: 2,
			wantStderr: "securestacks kms: unknown subcommand \"encrypt\"; expected one of: sign, verify, public-key\n",
		},
		{
			name: "group with a flag instead of a subcommand", run: securestacks.RunDemo, args: []string{"kms", "-key-id", "k"}, wantCode: 2,
			wantStderr: "securestacks kms: unknown flag \"-key-id\"; run 'securestacks help kms'\n",
		},
		{
			name: "subcommand runs", run: securestacks.RunDemo, args: []string{"kms", "sign", "-key-id", "alias/k"}, wantCode: 0,
			wantStdout: []string{"signed with alias/k\n"},
		},
		{
			name: "subcommand flag without its value", run: securestacks.RunDemo, args: []string{"kms", "sign", "-key-id"}, wantCode: 2,
			wantStderr: "securestacks kms sign: flag needs an argument: -key-id; run 'securestacks help kms sign'\n",
		},
		{
			name: "subcommand failure is one line, exit 1", run: securestacks.RunDemo, args: []string{"kms", "sign", "-key-id", "fail"}, wantCode: 1,
			wantStderr: "securestacks kms sign: calling kms:Sign: AccessDeniedException\n",
		},
		{
			name: "help lists subcommands with their full path", run: securestacks.RunDemo, args: []string{"help"}, wantCode: 0,
			wantStdout: []string{"\n  kms sign        sign a digest\n", "\n  kms public-key  print the public key\n", "\n  version         print"},
		},
		{
			name: "help for a group", run: securestacks.RunDemo, args: []string{"help", "kms"}, wantCode: 0,
			wantStdout: []string{"Usage:\n  securestacks kms <subcommand>", "\n  kms verify      verify a signature\n"},
		},
		{
			name: "group -h", run: securestacks.RunDemo, args: []string{"kms", "-h"}, wantCode: 0,
			wantStdout: []string{"Usage:\n  securestacks kms <subcommand>"},
		},
		{
			name: "help for a subcommand shows its flags", run: securestacks.RunDemo, args: []string{"help", "kms", "sign"}, wantCode: 0,
			wantStdout: []string{"Usage:\n  securestacks kms sign -key-id ID\n", "-key-id string\n", "KMS key ID or alias (required)"},
		},
		{
			name: "help for an unknown subcommand", run: securestacks.RunDemo, args: []string{"help", "kms", "nope"}, wantCode: 2,
			wantStderr: "securestacks: unknown command \"kms nope\"; run 'securestacks help'\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN a command line
			var stdout, stderr bytes.Buffer

			// WHEN the CLI runs it
			code := tt.run(tt.args, &stdout, &stderr)

			// THEN the exit status, the one-line error or the help text are as expected
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d (stderr %q)", code, tt.wantCode, stderr.String())
			}
			if stderr.String() != tt.wantStderr {
				t.Errorf("stderr = %q\nwant     %q", stderr.String(), tt.wantStderr)
			}
			if n := strings.Count(stderr.String(), "\n"); n > 1 {
				t.Errorf("stderr has %d lines, want at most one", n)
			}
			if tt.wantStderr != "" && stdout.Len() != 0 {
				t.Errorf("stdout = %q on a usage error, want nothing", stdout.String())
			}
			for _, want := range tt.wantStdout {
				if !strings.Contains(stdout.String(), want) {
					t.Errorf("stdout does not contain %q:\n%s", want, stdout.String())
				}
			}
		})
	}
}

func TestRegistryIsValid(t *testing.T) {
	// GIVEN the registry as shipped
	// WHEN it is validated
	// THEN it breaks no rule
	if err := securestacks.RegistryError(); err != nil {
		t.Fatal(err)
	}
}

func TestRegistryValidationCatchesEachRule(t *testing.T) {
	// GIVEN one registry per rule, each breaking that rule
	// WHEN they are validated
	// THEN each one is rejected
	for name, err := range securestacks.BadRegistryErrors() {
		if err == nil {
			t.Errorf("%s: accepted, want an error", name)
		}
	}
}

// TestBinary builds the real binary: main.go's wiring, the -X variable name, and the rule that
// the CLI never links CDK (jsii) packages.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not on PATH")
	}
	const pkg = "github.com/securestacks/securestacks/cmd/securestacks"

	t.Run("no CDK dependency", func(t *testing.T) {
		// GIVEN the CLI package
		// WHEN its dependencies are listed
		out, err := exec.Command(gobin, "list", "-deps", "-f", "{{.ImportPath}}", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list: %v\n%s", err, out)
		}
		// THEN none is a CDK, constructs or jsii package
		for _, dep := range strings.Fields(string(out)) {
			for _, banned := range []string{"github.com/aws/aws-cdk-go", "github.com/aws/constructs-go", "github.com/aws/jsii-runtime-go", "github.com/cdklabs/"} {
				if strings.HasPrefix(dep, banned) {
					t.Errorf("imports %s", dep)
				}
			}
		}
	})

	t.Run("version set at link time, exit codes from main", func(t *testing.T) {
		// GIVEN the binary linked with -X main.version
		bin := filepath.Join(t.TempDir(), "securestacks")
		if out, err := exec.Command(gobin, "build", "-ldflags", "-X main.version=v9.8.7", "-o", bin, pkg).CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}

		// WHEN it prints its version and gets an unknown command
		out, err := exec.Command(bin, "version").Output()
		if err != nil {
			t.Fatal(err)
		}
		bad := exec.Command(bin, "foo")
		bad.Stderr = io.Discard
		err = bad.Run()

		// THEN the linked version is printed and the usage error exits 2
		if !strings.HasPrefix(string(out), "securestacks v9.8.7 (go") {
			t.Errorf("version output = %q", out)
		}
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
			t.Errorf("unknown command: err %v, want exit status 2", err)
		}
	})
}
