package gofunction

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
)

// DefaultDockerImage is the image the Docker fallback builds in when
// BundlingOptions.DockerImage is nil. It matches the toolchain line of our
// go.mod, so a Docker build and a local build use the same compiler.
const DefaultDockerImage = "golang:1.27.3-bookworm"

// DefaultLogRetention is the retention of the log group GoFunction creates.
// One year, because the Control Tower rule CT.CLOUDWATCH.PR.2 (run by
// cfn-guard over cdk.out) rejects anything shorter.
const DefaultLogRetention = awslogs.RetentionDays_ONE_YEAR

// lambdaNoRPCTag is always passed: provided.al2023 talks to the Runtime API,
// so the net/rpc path of aws-lambda-go is dead weight in the binary.
const lambdaNoRPCTag = "lambda.norpc"

// GoFunctionProps configures a GoFunction.
type GoFunctionProps struct {
	// FunctionProps carries every awslambda.Function option. Code, Handler
	// and Runtime are forced (asset built from Entry, "bootstrap",
	// provided.al2023): setting Code, a Handler other than "bootstrap" or a
	// Runtime other than provided.al2023 panics. Defaults, each applied only
	// where the field is nil: Architecture ARM_64, LoggingFormat JSON (unless
	// the deprecated LogFormat is set), Tracing ACTIVE, a new log group with
	// DefaultLogRetention, encrypted with the stack's shared logs KMS key
	// (unless LogGroup or LogRetention is set), and a new execution role
	// (unless Role is set) that may write only to that log group (plus the
	// X-Ray calls active tracing needs). Without Role, the deprecated
	// LogRetention, or a LogGroup that is only an ILogGroupRef, panics: the
	// role would have no log group to write to.
	// Architecture must be ARM_64 or X86_64.
	*awslambda.FunctionProps

	// Entry is the handler's main package: a Go import path, for example
	// "example.com/app/lambda/hello", or a
	// directory relative to ModuleDir starting with "./", for example
	// "./lambda/hello". An absolute directory is turned into the
	// relative form. Required; the package must be package main.
	Entry *string

	// ModuleDir is the directory of the go.mod whose build list resolves
	// Entry; go runs there. Default: the nearest directory holding a go.mod,
	// walking up from the working directory.
	ModuleDir *string

	// Bundling tunes the build. Default: nil, meaning no extra flags, tags
	// or environment, CGO off, local build with Docker fallback.
	Bundling *BundlingOptions
}

// BundlingOptions tunes how GoFunction builds the handler.
//
// Every field here changes what the toolchain does. Read the security notes
// in README.md before setting any of them.
type BundlingOptions struct {
	// BuildFlags are extra "go build" flags, one flag per element (write
	// "-gcflags=all=-N -l", not a shell line). They come after our own flags,
	// so a "-ldflags" here replaces "-s -w -buildid=" entirely: repeat those
	// if you want reproducible binaries. Default: none. Conflicts: "-o" and
	// "-tags" panic (use Tags); "-toolexec" and "-overlay" run or read
	// arbitrary files and are accepted, so treat this field as code.
	BuildFlags []string

	// Tags are extra build tags, added after "lambda.norpc" (which is always
	// set). Default: none. A tag containing a comma or a space panics.
	Tags []string

	// Environment is added to the build environment of both the local and
	// the Docker build. Its values enter the asset hash, so never put a
	// secret here (use GOAUTH or .netrc for private modules). Default: none.
	// Conflicts: CGO_ENABLED, GOOS and GOARCH panic (use CgoEnabled and
	// FunctionProps.Architecture).
	Environment map[string]*string

	// CgoEnabled sets CGO_ENABLED=1. Cross-compiling cgo needs a C cross
	// compiler for the target (set CC through Environment). Default: false
	// (CGO_ENABLED=0, a static binary).
	CgoEnabled bool

	// GoProxy sets GOPROXY for the build, for example a private proxy.
	// go.sum still pins every module's content, so a proxy cannot change
	// the binary without failing the build. Default: nil, meaning the
	// inherited GOPROXY locally and proxy.golang.org in Docker.
	GoProxy *string

	// ForceDocker skips the local toolchain and always builds in
	// DockerImage. A local go, when present, still lists the dependencies
	// for the asset hash; the image then stands for the Go version.
	// Default: false (local "go" when present and new enough).
	ForceDocker bool

	// DockerImage is the image of the Docker fallback. Pin it, by tag at
	// least and by digest for supply-chain guarantees
	// ("golang:1.27.3-bookworm@sha256:..."). Default: DefaultDockerImage.
	DockerImage *string
}
