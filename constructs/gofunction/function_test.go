package gofunction_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/gofunction"
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
	logGroupID := stack.GetLogicalId(fn.LogGroup.Node().DefaultChild().(awscdk.CfnElement))
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
			if tt.logGroups == 1 && fn.LogGroup == nil {
				t.Error("LogGroup is nil")
			}
			if tt.logGroups == 0 && fn.LogGroup != nil {
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

func TestEntryCheckedByGoList(t *testing.T) {
	tests := []struct {
		name, entry, want string
	}{
		{"library package", "./internal/greeting",
			`gofunction: Entry "./internal/greeting": example.com/gofntest/internal/greeting is package greeting, expected package main`},
		{"unknown import path", "example.com/gofntest/nope",
			`gofunction: Entry "example.com/gofntest/nope": go list example.com/gofntest/nope in `},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN a stack that CDK bundles, so go list inspects the entry
			stack := newBundlingStack(t.TempDir())

			// WHEN the entry is not a main package of the build list
			msg := panicMessage(func() {
				gofunction.NewGoFunction(stack, "Fn", &gofunction.GoFunctionProps{
					Entry:     jsii.String(tt.entry),
					ModuleDir: jsii.String(testModule),
				})
			})

			// THEN it panics with one line that names Entry
			if !strings.HasPrefix(msg, tt.want) || strings.Contains(msg, "\n") {
				t.Errorf("panic = %q, want one line starting %q", msg, tt.want)
			}
		})
	}
}
