package asymmetrickey_test

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/asymmetrickey"
)

// The seed's signing key (RSA_4096, alias sample-sign-verify-key) with a
// verifier in a partner account, and a field-encryption key, both publishing
// their public keys to one shared bucket: the one the signing key's
// publication creates.
func Example() {
	app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{"aws:cdk:bundling-stacks": []any{}}})
	stack := awscdk.NewStack(app, jsii.String("Keys"), nil)

	signing := asymmetrickey.NewSigningKey(stack, "SigningKey", &asymmetrickey.SigningKeyProps{
		Alias:          jsii.String("sample-sign-verify-key"),
		ExtraVerifiers: []awsiam.IPrincipal{awsiam.NewAccountPrincipal(jsii.String("444455556666"))},
		Publication: &asymmetrickey.PublicationProps{
			ParameterName: jsii.String("/keys/sample-sign-verify-key"),
		},
	})
	fields := asymmetrickey.NewEncryptionKey(stack, "FieldKey", &asymmetrickey.EncryptionKeyProps{
		KeyProps:    &awskms.KeyProps{KeySpec: awskms.KeySpec_RSA_3072},
		Alias:       jsii.String("fle"),
		Publication: &asymmetrickey.PublicationProps{ExistingBucket: signing.Publication.Bucket, ObjectKeyPrefix: jsii.String("fle/")},
	})
	// An app role that only encrypts reads the published key, not KMS.
	ingest := awsiam.NewRole(stack, jsii.String("Ingest"), &awsiam.RoleProps{AssumedBy: awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil)})
	fields.GrantPublicKeyRead(ingest)

	app.Synth(nil)
	fmt.Println(*signing.AliasName)
	fmt.Println(*signing.Publication.ParameterName)
	fmt.Println(*fields.AliasName, *fields.Publication.PEMObjectKey)
	// Output:
	// alias/sample-sign-verify-key
	// /keys/sample-sign-verify-key
	// alias/fle fle/public-key.pem
}
