package gofunction_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/gofunction"
	"github.com/securestacks/securestacks/internal/nag"
)

func TestDefaults(t *testing.T) {
	// GIVEN a stack and only the required Entry
	stack := newUnitStack()

	// WHEN
	fn := gofunction.NewGoFunction(stack, "Hello", &gofunction.GoFunctionProps{
		Entry:     jsii.String("./hello"),
		ModuleDir: jsii.String(testModule),
	})

	// THEN the function has our runtime, architecture, handler, logging and tracing
	template := assertions.Template_FromStack(stack, nil)
	logGroupID := stack.GetLogicalId(fn.FunctionLogGroup.Node().DefaultChild().(awscdk.CfnElement))
	template.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]any{
		"Runtime":       "provided.al2023",
		"Architectures": []string{"arm64"},
		"Handler":       "bootstrap",
		"LoggingConfig": map[string]any{
			"LogFormat": "JSON",
			"LogGroup":  map[string]any{"Ref": *logGroupID},
		},
		"TracingConfig": map[string]any{"Mode": "Active"},
	})
	// AND its own log group keeps logs a year and is retained on delete
	template.ResourceCountIs(jsii.String("AWS::Logs::LogGroup"), jsii.Number(1))
	template.HasResource(jsii.String("AWS::Logs::LogGroup"), map[string]any{
		"Properties": map[string]any{
			"RetentionInDays": 365,
			"KmsKeyId":        map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("^SecurestacksLogsKey")), "Arn"}},
		},
		"DeletionPolicy": "Retain",
	})
	// AND its role has no managed policy and may write only to that log group,
	// plus the X-Ray calls that support no resource
	template.HasResourceProperties(jsii.String("AWS::IAM::Role"), map[string]any{
		"AssumeRolePolicyDocument": map[string]any{"Statement": []any{map[string]any{
			"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": map[string]any{"Service": "lambda.amazonaws.com"},
		}}},
		"ManagedPolicyArns": assertions.Match_Absent(),
	})
	template.HasResourceProperties(jsii.String("AWS::IAM::Policy"), map[string]any{
		"PolicyDocument": map[string]any{"Statement": []any{
			map[string]any{"Action": []any{"xray:PutTraceSegments", "xray:PutTelemetryRecords"}, "Effect": "Allow", "Resource": "*"},
			map[string]any{"Action": []any{"logs:CreateLogStream", "logs:PutLogEvents"}, "Effect": "Allow",
				"Resource": map[string]any{"Fn::GetAtt": []any{*logGroupID, "Arn"}}},
		}},
	})
	// AND the asset hash is the custom one (a zip named by hash)
	if key := s3Key(t, template); !strings.HasSuffix(key, ".zip") || len(key) != 64+len(".zip") {
		t.Errorf("S3Key = %q, want <sha256>.zip", key)
	}
}

func TestUserValuesWin(t *testing.T) {
	tests := []struct {
		name  string
		props func(stack awscdk.Stack) *awslambda.FunctionProps
		want  map[string]any
		// logGroups is the number of AWS::Logs::LogGroup in the template.
		logGroups int
	}{
		{
			name: "x86_64",
			props: func(awscdk.Stack) *awslambda.FunctionProps {
				return &awslambda.FunctionProps{Architecture: awslambda.Architecture_X86_64()}
			},
			want:      map[string]any{"Architectures": []string{"x86_64"}},
			logGroups: 1,
		},
		{
			name: "tracing pass-through",
			props: func(awscdk.Stack) *awslambda.FunctionProps {
				return &awslambda.FunctionProps{Tracing: awslambda.Tracing_PASS_THROUGH}
			},
			want:      map[string]any{"TracingConfig": map[string]any{"Mode": "PassThrough"}},
			logGroups: 1,
		},
		{
			name: "text logs",
			props: func(awscdk.Stack) *awslambda.FunctionProps {
				return &awslambda.FunctionProps{LoggingFormat: awslambda.LoggingFormat_TEXT}
			},
			want:      map[string]any{"LoggingConfig": map[string]any{"LogFormat": "Text"}},
			logGroups: 1,
		},
		{
			name: "memory and handler bootstrap",
			props: func(awscdk.Stack) *awslambda.FunctionProps {
				return &awslambda.FunctionProps{MemorySize: jsii.Number(256), Handler: jsii.String("bootstrap")}
			},
			want:      map[string]any{"MemorySize": 256, "Handler": "bootstrap"},
			logGroups: 1,
		},
		{
			name: "own log group",
			props: func(stack awscdk.Stack) *awslambda.FunctionProps {
				lg := awslogs.NewLogGroup(stack, jsii.String("Mine"), &awslogs.LogGroupProps{Retention: awslogs.RetentionDays_TEN_YEARS})
				return &awslambda.FunctionProps{LogGroup: lg}
			},
			want:      map[string]any{"LoggingConfig": map[string]any{"LogGroup": map[string]any{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^Mine"))}}},
			logGroups: 1,
		},
		{
			name: "log retention instead of a log group",
			props: func(stack awscdk.Stack) *awslambda.FunctionProps {
				role := awsiam.NewRole(stack, jsii.String("Own"), &awsiam.RoleProps{AssumedBy: awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil)})
				//lint:ignore SA1019 GoFunction must still honour the deprecated field
				return &awslambda.FunctionProps{LogRetention: awslogs.RetentionDays_ONE_YEAR, Role: role}
			},
			want:      map[string]any{"Runtime": "provided.al2023"},
			logGroups: 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN user function props
			stack := newUnitStack()

			// WHEN
			fn := gofunction.NewGoFunction(stack, "Fn", &gofunction.GoFunctionProps{
				FunctionProps: tt.props(stack),
				Entry:         jsii.String("./hello"),
				ModuleDir:     jsii.String(testModule),
			})

			// THEN the user's values are in the template
			template := assertions.Template_FromStack(stack, nil)
			template.HasResourceProperties(jsii.String("AWS::Lambda::Function"), tt.want)
			template.ResourceCountIs(jsii.String("AWS::Logs::LogGroup"), jsii.Number(float64(tt.logGroups)))
			// AND the exposed LogGroup is the one the function logs to
			if tt.logGroups == 1 && fn.FunctionLogGroup == nil {
				t.Error("LogGroup is nil")
			}
			if tt.logGroups == 0 && fn.FunctionLogGroup != nil {
				t.Error("LogGroup is set although the user chose LogRetention")
			}
		})
	}
}

func TestUsableAsIFunction(t *testing.T) {
	// GIVEN a GoFunction
	stack := newUnitStack()
	fn := gofunction.NewGoFunction(stack, "Hello", &gofunction.GoFunctionProps{
		Entry:     jsii.String("./hello"),
		ModuleDir: jsii.String(testModule),
	})

	// WHEN it is passed where CDK takes an IFunction
	awslambda.NewFunctionUrl(stack, jsii.String("Url"), &awslambda.FunctionUrlProps{
		Function: fn,
		AuthType: awslambda.FunctionUrlAuthType_AWS_IAM,
	})

	// THEN the URL targets this very function
	fnID := stack.GetLogicalId(fn.Node().DefaultChild().(awscdk.CfnElement))
	assertions.Template_FromStack(stack, nil).HasResourceProperties(jsii.String("AWS::Lambda::Url"), map[string]any{
		"TargetFunctionArn": map[string]any{"Fn::GetAtt": []any{*fnID, "Arn"}},
	})
}

// A GoFunction is a Function, not only an IFunction.
var _ awslambda.Function = (*gofunction.GoFunction)(nil)

// patternProps is how solutions-constructs-style patterns take a function
// the user brings.
type patternProps struct{ ExistingLambdaObj awslambda.Function }

func TestUsableAsFunction(t *testing.T) {
	// GIVEN a GoFunction and a queue
	stack := newUnitStack()
	fn := gofunction.NewGoFunction(stack, "Fn", &gofunction.GoFunctionProps{
		Entry:     jsii.String("./hello"),
		ModuleDir: jsii.String(testModule),
	})
	queue := awssqs.NewQueue(stack, jsii.String("Queue"), nil)
	invoker := awsiam.NewRole(stack, jsii.String("Invoker"), &awsiam.RoleProps{AssumedBy: awsiam.NewAccountRootPrincipal()})

	// WHEN it gets an event source, is granted invoke and is passed as a Function
	fn.AddEventSource(awslambdaeventsources.NewSqsEventSource(queue, nil))
	fn.GrantInvoke(invoker)
	props := patternProps{ExistingLambdaObj: fn}
	awslambda.NewAlias(stack, jsii.String("Live"), &awslambda.AliasProps{
		AliasName: jsii.String("live"),
		Version:   props.ExistingLambdaObj.CurrentVersion(),
	})

	// THEN each refers to this very function
	template := assertions.Template_FromStack(stack, nil)
	fnID := *stack.GetLogicalId(fn.Node().DefaultChild().(awscdk.CfnElement))
	template.HasResourceProperties(jsii.String("AWS::Lambda::EventSourceMapping"), map[string]any{
		"FunctionName": map[string]any{"Ref": fnID},
	})
	template.HasResourceProperties(jsii.String("AWS::IAM::Policy"), map[string]any{
		"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{map[string]any{
			"Action": "lambda:InvokeFunction", "Effect": "Allow",
			"Resource": assertions.Match_ArrayWith(&[]any{map[string]any{"Fn::GetAtt": []any{fnID, "Arn"}}}),
		}})},
		"Roles": []any{map[string]any{"Ref": *stack.GetLogicalId(invoker.Node().DefaultChild().(awscdk.CfnElement))}},
	})
	template.HasResourceProperties(jsii.String("AWS::Lambda::Alias"), map[string]any{
		"FunctionName": map[string]any{"Ref": fnID},
	})
	// AND the SQS grant went to the function's own role
	template.HasResourceProperties(jsii.String("AWS::IAM::Policy"), map[string]any{
		"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
			"Action": assertions.Match_ArrayWith(&[]any{"sqs:ReceiveMessage"}),
		})})},
		"Roles": []any{map[string]any{"Ref": *stack.GetLogicalId(fn.Role().Node().DefaultChild().(awscdk.CfnElement))}},
	})
}

func TestDefaultRoleIsNagClean(t *testing.T) {
	for _, tracing := range []awslambda.Tracing{awslambda.Tracing_ACTIVE, awslambda.Tracing_DISABLED} {
		t.Run(string(tracing), func(t *testing.T) {
			// GIVEN the three packs on an app
			stack := newUnitStack()
			nag.ApplyPacks(awscdk.App_Of(stack))

			// WHEN a GoFunction creates its own role and gets grants after
			// construction (an event source)
			fn := gofunction.NewGoFunction(stack, "Fn", &gofunction.GoFunctionProps{
				Entry:         jsii.String("./hello"),
				ModuleDir:     jsii.String(testModule),
				FunctionProps: &awslambda.FunctionProps{Tracing: tracing},
			})
			fn.AddEventSource(awslambdaeventsources.NewSqsEventSource(awssqs.NewQueue(stack, jsii.String("Queue"), nil), nil))

			// THEN no pack finds anything in the role, its policy or the log group
			for _, e := range nag.Errors(stack) {
				if strings.HasPrefix(e, "/Test/FnServiceRole") || strings.HasPrefix(e, "/Test/FnLogGroup") {
					t.Error(e)
				}
			}
		})
	}
}

func TestInvalidPropsPanic(t *testing.T) {
	tests := []struct {
		name  string
		props *gofunction.GoFunctionProps
		want  string
	}{
		{"nil props", nil, "gofunction: Entry is required"},
		{"empty entry", &gofunction.GoFunctionProps{Entry: jsii.String(" ")}, "gofunction: Entry is required"},
		{"code set", &gofunction.GoFunctionProps{Entry: jsii.String("./hello"), ModuleDir: jsii.String(testModule),
			FunctionProps: &awslambda.FunctionProps{Code: awslambda.Code_FromInline(jsii.String("x"))}}, "gofunction: FunctionProps.Code must be nil"},
		{"other handler", &gofunction.GoFunctionProps{Entry: jsii.String("./hello"), ModuleDir: jsii.String(testModule),
			FunctionProps: &awslambda.FunctionProps{Handler: jsii.String("main")}}, `gofunction: FunctionProps.Handler is "main", expected nil or "bootstrap"`},
		{"other runtime", &gofunction.GoFunctionProps{Entry: jsii.String("./hello"), ModuleDir: jsii.String(testModule),
			FunctionProps: &awslambda.FunctionProps{Runtime: awslambda.Runtime_NODEJS_22_X()}}, "gofunction: FunctionProps.Runtime is nodejs22.x, expected nil or provided.al2023"},
		{"custom architecture", &gofunction.GoFunctionProps{Entry: jsii.String("./hello"), ModuleDir: jsii.String(testModule),
			FunctionProps: &awslambda.FunctionProps{Architecture: awslambda.Architecture_Custom(jsii.String("riscv64"), nil)}}, `gofunction: FunctionProps.Architecture is "riscv64", expected ARM_64 or X86_64`},
		{"module dir without go.mod", &gofunction.GoFunctionProps{Entry: jsii.String("./hello"), ModuleDir: jsii.String("testdata")},
			`gofunction: ModuleDir "testdata": expected a directory holding go.mod`},
		{"entry outside module", &gofunction.GoFunctionProps{Entry: jsii.String("../other"), ModuleDir: jsii.String(testModule)},
			`gofunction: Entry "../other": expected a directory inside ModuleDir`},
		{"missing entry dir", &gofunction.GoFunctionProps{Entry: jsii.String("./nope"), ModuleDir: jsii.String(testModule)},
			`gofunction: Entry "./nope": no such directory in ModuleDir`},
		{"flag-like entry", &gofunction.GoFunctionProps{Entry: jsii.String("-toolexec=x"), ModuleDir: jsii.String(testModule)},
			`gofunction: Entry "-toolexec=x": expected a Go import path or a ./dir relative to ModuleDir`},
		{"-o in flags", &gofunction.GoFunctionProps{Entry: jsii.String("./hello"), ModuleDir: jsii.String(testModule),
			Bundling: &gofunction.BundlingOptions{BuildFlags: []string{"-o=x"}}}, "gofunction: BuildFlags must not contain -o"},
		{"-tags in flags", &gofunction.GoFunctionProps{Entry: jsii.String("./hello"), ModuleDir: jsii.String(testModule),
			Bundling: &gofunction.BundlingOptions{BuildFlags: []string{"-tags", "x"}}}, "gofunction: BuildFlags must not contain -tags"},
		{"shell line as flag", &gofunction.GoFunctionProps{Entry: jsii.String("./hello"), ModuleDir: jsii.String(testModule),
			Bundling: &gofunction.BundlingOptions{BuildFlags: []string{"x -race"}}}, `gofunction: BuildFlags element "x -race": expected a flag starting with '-'`},
		{"comma in tag", &gofunction.GoFunctionProps{Entry: jsii.String("./hello"), ModuleDir: jsii.String(testModule),
			Bundling: &gofunction.BundlingOptions{Tags: []string{"a,b"}}}, `gofunction: Tags element "a,b": expected one build tag`},
		{"GOARCH in environment", &gofunction.GoFunctionProps{Entry: jsii.String("./hello"), ModuleDir: jsii.String(testModule),
			Bundling: &gofunction.BundlingOptions{Environment: map[string]*string{"GOARCH": jsii.String("amd64")}}}, "gofunction: Environment must not set GOARCH"},
		{"empty docker image", &gofunction.GoFunctionProps{Entry: jsii.String("./hello"), ModuleDir: jsii.String(testModule),
			Bundling: &gofunction.BundlingOptions{DockerImage: jsii.String("")}}, "gofunction: DockerImage must not be empty"},
		{"log retention with our role", &gofunction.GoFunctionProps{Entry: jsii.String("./hello"), ModuleDir: jsii.String(testModule),
			//lint:ignore SA1019 the deprecated field must be refused, not ignored
			FunctionProps: &awslambda.FunctionProps{LogRetention: awslogs.RetentionDays_ONE_YEAR}}, "gofunction: FunctionProps.LogRetention needs FunctionProps.Role"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN a stack
			stack := newUnitStack()

			// WHEN
			msg := panicMessage(func() { gofunction.NewGoFunction(stack, "Fn", tt.props) })

			// THEN it panics with one line that names the field
			if !strings.HasPrefix(msg, tt.want) {
				t.Errorf("panic = %q, want prefix %q", msg, tt.want)
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("panic spans lines: %q", msg)
			}
		})
	}
}

func TestListFailuresAreValidationErrors(t *testing.T) {
	// GIVEN a stack that CDK bundles, so go list inspects each entry
	stack := newBundlingStack(t.TempDir())

	// WHEN two entries are not main packages of the build list
	construct := panicMessage(func() {
		gofunction.NewGoFunction(stack, "Library", &gofunction.GoFunctionProps{
			Entry:     jsii.String("./internal/greeting"),
			ModuleDir: jsii.String(testModule),
		})
		gofunction.NewGoFunction(stack, "Unknown", &gofunction.GoFunctionProps{
			Entry:     jsii.String("example.com/gofntest/nope"),
			ModuleDir: jsii.String(testModule),
		})
	})
	synth := panicMessage(func() { awscdk.Stage_Of(stack).Synth(nil) })

	// THEN constructing them does not panic
	if construct != "" {
		t.Fatalf("construction panicked: %q", construct)
	}
	// AND synth reports both, each on one line with its construct path
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^\s*\[Test/Library\] gofunction: Entry "./internal/greeting": example.com/gofntest/internal/greeting is package greeting, expected package main$`),
		regexp.MustCompile(`(?m)^\s*\[Test/Unknown\] gofunction: Entry "example.com/gofntest/nope": go list example.com/gofntest/nope in \S+: .*example.com/gofntest/nope.*$`),
	} {
		if !want.MatchString(synth) {
			t.Errorf("synth error %q does not match %s", synth, want)
		}
	}
}

func TestMissingSumHintNamesTheEntry(t *testing.T) {
	// GIVEN a module with two handlers that import a module whose go.sum
	// line is missing (only its go.mod is summed), and a go env file that
	// says -mod=mod, which would let go add the line behind our back
	mod := t.TempDir()
	writeFile(t, filepath.Join(mod, "go.mod"), "module example.com/missingsum\n\ngo 1.27\n\nrequire golang.org/x/mod v0.42.0\n")
	writeFile(t, filepath.Join(mod, "go.sum"), "golang.org/x/mod v0.42.0/go.mod h1:u5fzIrRInkL8MaO1cbRkUHT64v303YIT5KEqpNr7jRs=\n")
	for _, h := range []string{"first", "second"} {
		if err := os.Mkdir(filepath.Join(mod, h), 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(mod, h, "main.go"), "package main\n\nimport \"golang.org/x/mod/semver\"\n\nfunc main() { println(semver.IsValid(\"v1\")) }\n")
	}
	goEnv := filepath.Join(t.TempDir(), "env")
	writeFile(t, goEnv, "GOFLAGS=-mod=mod\n")
	t.Setenv("GOENV", goEnv)
	t.Setenv("GOPROXY", "off")
	sumBefore, _ := os.ReadFile(filepath.Join(mod, "go.sum"))

	// WHEN the second handler is hashed after its sibling was listed
	_, err := gofunction.AssetSourceHash(mod, "./second", "arm64", nil)

	// THEN the error names the second handler in go's complete hint
	msg := fmt.Sprint(err)
	for _, want := range []string{"missing go.sum entry for module providing package golang.org/x/mod/semver", "imported by example.com/missingsum/second", "to add: go get example.com/missingsum/second"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, "missingsum/first") || strings.Contains(msg, "\n") {
		t.Errorf("error %q names the sibling or spans lines", msg)
	}
	// AND go.sum is untouched
	if sumAfter, _ := os.ReadFile(filepath.Join(mod, "go.sum")); string(sumAfter) != string(sumBefore) {
		t.Errorf("go.sum rewritten:\n%s", sumAfter)
	}
}
