package gofunction_test

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/gofunction"
)

// A handler named by import path, built for arm64 with every default:
// provided.al2023, bootstrap, JSON logs to a one-year log group, X-Ray
// tracing. Function options go in FunctionProps.
func Example() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Handlers"), nil)

	hello := gofunction.NewGoFunction(stack, "Hello", &gofunction.GoFunctionProps{
		Entry: jsii.String("example.com/app/lambda/hello"),
		FunctionProps: &awslambda.FunctionProps{
			MemorySize: jsii.Number(256),
			Timeout:    awscdk.Duration_Seconds(jsii.Number(10)),
		},
		Bundling: &gofunction.BundlingOptions{Tags: []string{"prod"}},
	})
	// A GoFunction is an awslambda.Function.
	awslambda.NewFunctionUrl(stack, jsii.String("HelloUrl"), &awslambda.FunctionUrlProps{
		Function: hello,
		AuthType: awslambda.FunctionUrlAuthType_AWS_IAM,
	})

	app.Synth(nil)
}

func ExampleBuildCommand() {
	fmt.Println(gofunction.BuildCommand("./lambda/hello", "arm64", "/asset-output/bootstrap", nil))
	fmt.Println(gofunction.BuildEnvironment("arm64", nil))
	// Output:
	// go build -trimpath -buildvcs=false -tags lambda.norpc -ldflags "-s -w -buildid=" -o /asset-output/bootstrap ./lambda/hello
	// map[CGO_ENABLED:0 GOARCH:arm64 GOFLAGS:-mod=readonly GOOS:linux]
}
