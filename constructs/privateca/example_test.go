package privateca_test

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscertificatemanager"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/privateca"
)

// A root and a subordinate issuing CA, and an exportable ACM private
// certificate that waits for the subordinate's activation.
func Example() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Pki"), nil)

	ca := privateca.NewCaHierarchy(stack, "ColorTellerCa", &privateca.CaHierarchyProps{
		KeyAlgorithm: jsii.String(privateca.KeyAlgorithmEcPrime256v1),
	})
	cert := awscertificatemanager.NewPrivateCertificate(stack, jsii.String("Cert"), &awscertificatemanager.PrivateCertificateProps{
		DomainName:           jsii.String("colorteller.mtls.internal"),
		CertificateAuthority: ca.IssuingCa,
		AllowExport:          jsii.Bool(true),
	})
	ca.WaitFor(cert)

	fmt.Println(ca.Subordinate != nil, ca.Activated)
	// Output: true true
}
