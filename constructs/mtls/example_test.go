package mtls_test

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/mtls"
	"github.com/securestacks/securestacks/constructs/privateca"
)

// The default system: a new VPC, the Envoy plane, and two endpoints with
// their own CA hierarchies.
func Example() {
	app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{"aws:cdk:bundling-stacks": []any{}}})
	stack := awscdk.NewStack(app, jsii.String("Mtls"), nil)

	system := mtls.NewMutualTls(stack, "Mtls", nil)

	fmt.Println(system.Plane, system.Gateway.DnsName, "->", system.Backend.DnsName)
	// Output: envoy colorgateway.mtls.internal -> colorteller.mtls.internal
}

// The rendered bootstrap names no secret: Envoy reads the certificate, key
// and trust bundle from the environment the start script prepares.
func ExampleBackendBootstrap() {
	y, err := mtls.BackendBootstrap("colorteller.mtls.internal", "colorgateway.mtls.internal")
	if err != nil {
		panic(err)
	}
	fmt.Println(len(y) > 0)
	// Output: true
}

// Four endpoints: the default gateway and backend, a backend in its own
// domain with its own hierarchy, and one sharing a hierarchy passed in.
func ExampleMutualTls_Endpoints() {
	app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{"aws:cdk:bundling-stacks": []any{}}})
	stack := awscdk.NewStack(app, jsii.String("Mtls"), nil)
	shared := privateca.NewCaHierarchy(stack, "TellerCa", nil)

	system := mtls.NewMutualTls(stack, "Mtls", &mtls.MutualTlsProps{
		AdditionalBackends: []*mtls.EndpointProps{
			{Name: jsii.String("colorteller-blue"), Domain: jsii.String("blue.internal")},
			{Name: jsii.String("colorteller-red"), CaHierarchy: shared},
		},
	})

	for _, e := range system.Endpoints() {
		fmt.Println(e.DnsName, e.CaHierarchy == shared)
	}
	// Output:
	// colorgateway.mtls.internal false
	// colorteller.mtls.internal false
	// colorteller-blue.blue.internal false
	// colorteller-red.mtls.internal true
}
