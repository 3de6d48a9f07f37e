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

// The portable root: a subordinate for a root kept outside AWS Private CA.
// The first deploy leaves it PENDING_CERTIFICATE and alone; after
// `securestacks pca csr`, the root's signature and `securestacks pca
// import`, the next deploy sets SubordinateImported and the CA issues.
func Example_externalRoot() {
	app := awscdk.NewApp(nil)
	rootPem := "-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----\n" // Root_CA.crt

	before := privateca.NewCaHierarchy(awscdk.NewStack(app, jsii.String("First"), nil), "Ca", &privateca.CaHierarchyProps{
		ExternalRoot: &privateca.ExternalRoot{CertificateChain: jsii.String(rootPem)},
	})
	after := privateca.NewCaHierarchy(awscdk.NewStack(app, jsii.String("Second"), nil), "Ca", &privateca.CaHierarchyProps{
		ExternalRoot: &privateca.ExternalRoot{CertificateChain: jsii.String(rootPem), SubordinateImported: true},
	})

	fmt.Println(before.Activated, before.AcmPermission == nil, after.Activated, after.SubordinateActivation == nil)
	// Output: false true true true
}
