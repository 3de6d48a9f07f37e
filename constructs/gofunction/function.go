package gofunction

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3assets"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/internal/defaults"
	"github.com/securestacks/securestacks/internal/nag"
)

// GoFunction is a Lambda function on provided.al2023 whose bootstrap is
// built from a Go main package. It is an awslambda.Function (the construct
// at scope/id), so it can be passed wherever CDK or another library takes a
// Function or an IFunction.
type GoFunction struct {
	awslambda.Function

	// FunctionLogGroup is the function's log group as an awslogs.LogGroup:
	// the one GoFunction created (id + "LogGroup", retention
	// DefaultLogRetention, removal policy RETAIN), or FunctionProps.LogGroup
	// when that is an awslogs.LogGroup. Nil when FunctionProps.LogRetention
	// is set or the given log group is only an ILogGroupRef. The LogGroup()
	// method is CDK's own view of the same log group.
	FunctionLogGroup awslogs.LogGroup

	bundling   *awscdk.BundlingOptions
	sourceHash string
}

var _ awslambda.Function = (*GoFunction)(nil)

// NewGoFunction defines a GoFunction at scope/id and its log group at
// scope/(id + "LogGroup"). props must name Entry; everything else has a
// default (see GoFunctionProps). Invalid props panic with a one-line
// message prefixed "gofunction:".
//
// The asset hash is computed here, before bundling; see README.md for what
// it covers. When the stack is excluded from bundling (context
// aws:cdk:bundling-stacks), a cheap hash over Entry and the options is used
// and no go command runs. A handler that go cannot list or build is not a
// panic: it is a validation error of this construct, which synth reports
// with the construct path and go's whole message on one line.
func NewGoFunction(scope constructs.Construct, id string, props *GoFunctionProps) *GoFunction {
	if props == nil || props.Entry == nil || strings.TrimSpace(*props.Entry) == "" {
		panic(`gofunction: Entry is required: a Go import path or a directory relative to ModuleDir such as "./lambda/hello"`)
	}
	var fp awslambda.FunctionProps
	if props.FunctionProps != nil {
		fp = *props.FunctionProps
	}
	checkForced(&fp)
	moduleDir := resolveModuleDir(props.ModuleDir)
	entry := resolveEntry(*props.Entry, moduleDir)
	if fp.Architecture == nil {
		fp.Architecture = awslambda.Architecture_ARM_64()
	}
	cfg := newBuildConfig(moduleDir, goarchOf(fp.Architecture), props.Bundling)

	local, hash := prepareAsset(scope, cfg, entry)
	bundling := dockerBundling(cfg, entry, local)
	fp.Code = awslambda.Code_FromAsset(jsii.String(moduleDir), &awss3assets.AssetOptions{
		AssetHash:     jsii.String(hash),
		AssetHashType: awscdk.AssetHashType_CUSTOM,
		Bundling:      bundling,
	})
	fp.Handler = jsii.String("bootstrap")
	fp.Runtime = awslambda.Runtime_PROVIDED_AL2023()
	//lint:ignore SA1019 a user who still sets the deprecated LogFormat chose the format; our default must not conflict with it
	if fp.LoggingFormat == "" && fp.LogFormat == nil {
		fp.LoggingFormat = awslambda.LoggingFormat_JSON
	}
	if fp.Tracing == "" {
		fp.Tracing = awslambda.Tracing_ACTIVE
	}

	g := &GoFunction{bundling: bundling, sourceHash: hash}
	//lint:ignore SA1019 a user who still sets the deprecated LogRetention gets CDK's retention resource, not a second log group
	logRetention := fp.LogRetention
	switch {
	case fp.LogGroup == nil && logRetention == "":
		g.FunctionLogGroup = defaults.LogGroup(scope, id+"LogGroup", &awslogs.LogGroupProps{
			Retention: DefaultLogRetention,
		})
		fp.LogGroup = g.FunctionLogGroup
	case fp.LogGroup != nil:
		g.FunctionLogGroup, _ = fp.LogGroup.(awslogs.LogGroup)
	}

	// The role GoFunction creates may write only to a log group it can grant on.
	var logTarget awslogs.ILogGroup
	if fp.Role == nil {
		switch lg, ok := fp.LogGroup.(awslogs.ILogGroup); {
		case logRetention != "":
			panic("gofunction: FunctionProps.LogRetention needs FunctionProps.Role: the role GoFunction creates can write only to a log group it can grant on; set LogGroup instead")
		case fp.LogGroup != nil && !ok:
			panic("gofunction: FunctionProps.LogGroup is only an ILogGroupRef, which GoFunction cannot grant its role on: pass an awslogs.ILogGroup or set FunctionProps.Role")
		default:
			logTarget = lg
		}
	}

	var role awsiam.Role
	if fp.Role == nil {
		// Our own role instead of CDK's default: no AWSLambdaBasicExecutionRole
		// managed policy (CreateLogGroup and PutLogEvents on every log group),
		// only write access to this function's own log group, granted below.
		role = awsiam.NewRole(scope, jsii.String(id+"ServiceRole"), &awsiam.RoleProps{
			AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
			Description: jsii.String("Execution role of the " + id + " Lambda function"),
		})
		fp.Role = role
	}

	// Creating through g registers g itself with jsii, so g converts to the
	// same JS object wherever a Function or an IFunction is passed.
	awslambda.NewFunction_Override(g, scope, jsii.String(id), &fp)
	if local != nil {
		g.Node().AddValidation(&buildCheck{local: local})
	}
	if role != nil {
		logTarget.GrantWrite(role)
		suppressDefaultRole(role, fp.Tracing)
	}
	return g
}

// suppressDefaultRole records the cdk-nag decisions of the role GoFunction
// creates. Its grants (the log group, X-Ray, and whatever the app grants
// the function later: event sources, x.Grant*(fn)) go where CDK puts every
// grant, the role's default policy, which logTarget.GrantWrite has just
// created, so the suppressions also cover later grants.
func suppressDefaultRole(role awsiam.Role, tracing awslambda.Tracing) {
	inline := "GoFunction's own role belongs to this one function: its grants live in CDK's default policy of the role, " +
		"an inline policy in a strict one-to-one relation with the role that is deleted with it " +
		"(https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_managed-vs-inline.html); " +
		"pass FunctionProps.Role to manage the policy yourself"
	rules := nag.NISTAndHIPAA("IAMNoInlinePolicy", inline)
	if tracing != awslambda.Tracing_DISABLED {
		rules = append(rules, nag.Rule{
			ID:        "AwsSolutions-IAM5",
			Reason:    "Active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions, so CDK grants them on *",
			AppliesTo: []string{"Resource::*"},
		})
	}
	nag.SuppressTree(role, rules...)
}

// SourceHash returns the custom asset hash GoFunction computed before
// bundling (see README.md); CDK derives the asset hash from it and the
// bundling options. Two functions with equal SourceHash and options share
// one built asset.
func (g *GoFunction) SourceHash() string { return g.sourceHash }

// prepareAsset computes the asset hash and, unless ForceDocker is set, the
// local bundler. Only a stack that CDK will bundle pays for go list. When go
// cannot list the handler, the returned bundler only carries the error to
// validation: CDK must neither build nor fall back to Docker.
func prepareAsset(scope constructs.Construct, cfg *buildConfig, entry string) (*localBundling, string) {
	var local *localBundling
	if !cfg.forceDocker {
		local = &localBundling{cfg: cfg, entry: entry}
	}
	if !*awscdk.Stack_Of(scope).BundlingRequired() {
		return local, optionsHash(cfg, entry)
	}
	failed := func(err error) (*localBundling, string) {
		return &localBundling{cfg: cfg, entry: entry, err: err}, failedHash(cfg, entry)
	}
	outdir, err := filepath.Abs(*awscdk.Stage_Of(scope).AssetOutdir())
	if err != nil {
		return failed(fmt.Errorf("gofunction: asset outdir: %w", err))
	}
	removeStalePlaceholders(outdir)
	src, err := assetSource(cfg, entry, outdir)
	if err != nil {
		return failed(fmt.Errorf("gofunction: Entry %q: %s", entry, oneLine(err.Error())))
	}
	if local != nil {
		local.importPath = src.importPath
	}
	return local, src.hash
}

// assetSource hashes from go list when the local toolchain is usable, and
// from the whole module tree otherwise (the build will then run in Docker,
// and importPath stays empty).
func assetSource(cfg *buildConfig, entry, assetOutdir string) (handlerSource, error) {
	tc := toolchainFor(cfg)
	if !tc.usable {
		hash, err := treeHash(cfg, entry, assetOutdir)
		return handlerSource{hash: hash}, err
	}
	return sourceHash(cfg, tc, entry)
}

// checkForced rejects values GoFunction would have to overwrite silently.
func checkForced(fp *awslambda.FunctionProps) {
	if fp.Code != nil {
		panic("gofunction: FunctionProps.Code must be nil: GoFunction builds the code from Entry")
	}
	if fp.Handler != nil && *fp.Handler != "bootstrap" {
		panic(fmt.Sprintf("gofunction: FunctionProps.Handler is %q, expected nil or \"bootstrap\"", *fp.Handler))
	}
	if fp.Runtime != nil && *fp.Runtime.Name() != *awslambda.Runtime_PROVIDED_AL2023().Name() {
		panic(fmt.Sprintf("gofunction: FunctionProps.Runtime is %s, expected nil or provided.al2023", *fp.Runtime.Name()))
	}
}

func goarchOf(a awslambda.Architecture) string {
	switch name := *a.Name(); name {
	case *awslambda.Architecture_ARM_64().Name():
		return "arm64"
	case *awslambda.Architecture_X86_64().Name():
		return "amd64"
	default:
		panic(fmt.Sprintf("gofunction: FunctionProps.Architecture is %q, expected ARM_64 or X86_64", name))
	}
}

// resolveModuleDir returns the absolute module directory, which must hold
// a go.mod.
func resolveModuleDir(dir *string) string {
	if dir == nil {
		wd, err := os.Getwd()
		if err != nil {
			panic(fmt.Sprintf("gofunction: ModuleDir not set and the working directory is unknown: %v", err))
		}
		for d := wd; ; d = filepath.Dir(d) {
			if fileExists(filepath.Join(d, "go.mod")) {
				return d
			}
			if filepath.Dir(d) == d {
				panic(fmt.Sprintf("gofunction: ModuleDir not set and no go.mod found in %s or above", wd))
			}
		}
	}
	abs, err := filepath.Abs(*dir)
	if err != nil || !fileExists(filepath.Join(abs, "go.mod")) {
		panic(fmt.Sprintf("gofunction: ModuleDir %q: expected a directory holding go.mod", *dir))
	}
	return abs
}

// resolveEntry normalizes Entry to the form go runs in moduleDir: an import
// path, or "./dir" inside the module. The relative form keeps absolute
// paths out of the build command, which CDK hashes.
func resolveEntry(entry, moduleDir string) string {
	if filepath.IsAbs(entry) {
		rel, err := filepath.Rel(moduleDir, entry)
		if err != nil {
			panic(fmt.Sprintf("gofunction: Entry %q: expected a directory inside ModuleDir %s", entry, moduleDir))
		}
		entry = "./" + filepath.ToSlash(rel)
	}
	if entry != "." && entry != ".." && !strings.HasPrefix(entry, "./") && !strings.HasPrefix(entry, "../") {
		if strings.HasPrefix(entry, "-") || strings.ContainsAny(entry, " \t\n\"'\\") {
			panic(fmt.Sprintf("gofunction: Entry %q: expected a Go import path or a ./dir relative to ModuleDir", entry))
		}
		return entry
	}
	clean := path.Clean(entry)
	if clean == ".." || strings.HasPrefix(clean, "../") {
		panic(fmt.Sprintf("gofunction: Entry %q: expected a directory inside ModuleDir %s", entry, moduleDir))
	}
	if fi, err := os.Stat(filepath.Join(moduleDir, filepath.FromSlash(clean))); err != nil || !fi.IsDir() {
		panic(fmt.Sprintf("gofunction: Entry %q: no such directory in ModuleDir %s", entry, moduleDir))
	}
	if clean == "." {
		return "."
	}
	return "./" + clean
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}
