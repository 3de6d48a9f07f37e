package fieldencryption_test

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/asymmetrickey"
	"github.com/securestacks/securestacks/constructs/fieldencryption"
)

// The seed's system in us-east-1: the six PII fields of every person in a
// top-level list, plus card numbers under a second key (marker #02#), with
// the public keys fetched after the keys' first deploy
// (securestacks kms public-key --key-id ... > fle-01.pem).
func Example() {
	app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{"aws:cdk:bundling-stacks": []any{}}})
	stack := awscdk.NewStack(app, jsii.String("Ingest"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String("123456789012"), Region: jsii.String("us-east-1")},
	})
	cards := asymmetrickey.NewEncryptionKey(stack, "CardKey", &asymmetrickey.EncryptionKeyProps{NoDecryptFunction: true})
	// One decrypt function reads both markers, each under its own key.
	key := asymmetrickey.NewEncryptionKey(stack, "FieldKey", &asymmetrickey.EncryptionKeyProps{
		MarkerKeys: map[string]awskms.IKey{"02": cards.Key},
	})
	// In an app: os.ReadFile("fle-01.pem") and "fle-02.pem".
	pem01, pem02 := pubPEM(mustKey(2048)), pubPEM(mustKey(2048))

	fle := fieldencryption.NewFieldEncryption(stack, "FieldEncryption", &fieldencryption.FieldEncryptionProps{
		EncryptionKey: key,
		Edge: fieldencryption.EdgeConfig{
			Keys: map[string]string{"01": pem01, "02": pem02},
			Fields: []fieldencryption.EdgeField{
				{Name: "fname"}, {Name: "lname"}, {Name: "email"}, {Name: "ssn"}, {Name: "dob"}, {Name: "phone"},
				{Path: "$[*].card", Key: "02"},
			},
		},
	})
	// The fraud team gets plaintext; the warehouse loads protected bodies only.
	fle.GrantDecrypt(awsiam.NewRole(stack, jsii.String("Fraud"), &awsiam.RoleProps{AssumedBy: awsiam.NewAccountRootPrincipal()}))
	fle.GrantReadProtected(awsiam.NewRole(stack, jsii.String("Warehouse"), &awsiam.RoleProps{AssumedBy: awsiam.NewAccountRootPrincipal()}))

	app.Synth(nil)
	fmt.Println(*fle.EdgeFunction.Stack().Region())
	// Output:
	// us-east-1
}
