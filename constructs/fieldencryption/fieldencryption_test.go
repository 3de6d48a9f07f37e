package fieldencryption_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/asymmetrickey"
	"github.com/securestacks/securestacks/constructs/fieldencryption"
)

func TestOnlyTheNamedPrincipalsGetPlaintext(t *testing.T) {
	// GIVEN the system, an analyst granted decryption and an app granted the protected bodies only
	_, stack := newStack(&awscdk.Environment{Account: jsii.String("123456789012"), Region: jsii.String("us-east-1")})
	f := newSystem(stack)
	analyst := awsiam.NewRole(stack, jsii.String("Analyst"), &awsiam.RoleProps{AssumedBy: awsiam.NewAccountRootPrincipal()})
	reader := awsiam.NewRole(stack, jsii.String("Reader"), &awsiam.RoleProps{AssumedBy: awsiam.NewAccountRootPrincipal()})
	f.GrantDecrypt(analyst)
	f.GrantReadProtected(reader)
	tmpl := assertions.Template_FromStack(stack, nil)
	rsaKey := *stack.GetLogicalId(f.EncryptionKey.Key.Node().DefaultChild().(awscdk.CfnElement))
	decryptRole := *stack.GetLogicalId(f.EncryptionKey.DecryptFunctionRole.Node().DefaultChild().(awscdk.CfnElement))
	decryptorRole := *stack.GetLogicalId(f.EncryptionKey.DecryptorRole.Node().DefaultChild().(awscdk.CfnElement))

	// THEN the RSA key's policy lets only the decrypt function and DecryptorRole call kms:Decrypt
	keys := resources(t, tmpl, "AWS::KMS::Key")
	policy := js(keys[rsaKey]["KeyPolicy"])
	for _, st := range strings.Split(policy, `"Sid"`) {
		if !strings.Contains(st, `"kms:Decrypt"`) {
			continue
		}
		if strings.Contains(st, `"Allow"`) && (!strings.Contains(st, decryptRole) || !strings.Contains(st, decryptorRole) || !strings.Contains(st, "RSAES_OAEP_SHA_256")) {
			t.Errorf("a key policy statement allows kms:Decrypt beyond the decrypt roles: %s", st)
		}
	}
	// THEN no identity policy but the decrypt roles' names the RSA key with kms:Decrypt
	for id, p := range resources(t, tmpl, "AWS::IAM::Policy") {
		doc := js(p["PolicyDocument"])
		if strings.Contains(doc, rsaKey) && strings.Contains(doc, "kms:Decrypt") {
			t.Errorf("policy %s decrypts with the RSA key: %s", id, doc)
		}
	}
	for id, p := range resources(t, tmpl, "AWS::IAM::ManagedPolicy") {
		doc := js(p["PolicyDocument"])
		if strings.Contains(doc, rsaKey) && strings.Contains(doc, "kms:Decrypt") && !strings.Contains(js(p["Roles"]), decryptRole) && !strings.Contains(js(p["Roles"]), decryptorRole) {
			t.Errorf("managed policy %s decrypts with the RSA key: %s", id, doc)
		}
	}
	// THEN the analyst gets plaintext only through the decrypt function: invoke + GenerateMac on its invoke key
	analystID := *stack.GetLogicalId(analyst.Node().DefaultChild().(awscdk.CfnElement))
	readerID := *stack.GetLogicalId(reader.Node().DefaultChild().(awscdk.CfnElement))
	var analystDoc, readerDoc string
	for _, p := range resources(t, tmpl, "AWS::IAM::Policy") {
		switch roles := js(p["Roles"]); {
		case strings.Contains(roles, analystID):
			analystDoc = js(p["PolicyDocument"])
		case strings.Contains(roles, readerID):
			readerDoc = js(p["PolicyDocument"])
		}
	}
	if !strings.Contains(analystDoc, "lambda:InvokeFunction") || !strings.Contains(analystDoc, "kms:GenerateMac") || strings.Contains(analystDoc, "kms:Decrypt") {
		t.Errorf("analyst: %s", analystDoc)
	}
	// THEN the reader reads stored bodies, whose fields stay encrypted: no decrypt function, no MAC
	if !strings.Contains(readerDoc, "s3:GetObject") || strings.Contains(readerDoc, "lambda:InvokeFunction") || strings.Contains(readerDoc, "GenerateMac") || strings.Contains(readerDoc, rsaKey) {
		t.Errorf("reader: %s", readerDoc)
	}
	// THEN the origin may only put objects: no read, no RSA key
	storeRole := *stack.GetLogicalId(f.StoreFunction.Role().Node().DefaultChild().(awscdk.CfnElement))
	for _, p := range resources(t, tmpl, "AWS::IAM::Policy") {
		if doc := js(p["PolicyDocument"]); strings.Contains(js(p["Roles"]), storeRole) && (strings.Contains(doc, "s3:GetObject") || strings.Contains(doc, rsaKey) || !strings.Contains(doc, "s3:PutObject")) {
			t.Errorf("origin role: %s", doc)
		}
	}
}

func TestPropsAreValidated(t *testing.T) {
	_, stack := newStack(nil)
	key := asymmetrickey.NewEncryptionKey(stack, "K", nil)
	noFn := asymmetrickey.NewEncryptionKey(stack, "K2", &asymmetrickey.EncryptionKeyProps{NoDecryptFunction: true})
	cases := map[string]struct {
		props *fieldencryption.FieldEncryptionProps
		want  string
	}{
		"nil":           {nil, "fieldencryption: EncryptionKey is required: the KMS key of marker 01 and its decrypt function"},
		"no function":   {&fieldencryption.FieldEncryptionProps{EncryptionKey: noFn, Edge: seedConfig()}, "fieldencryption: EncryptionKey must have its DecryptFunction"},
		"empty edge":    {&fieldencryption.FieldEncryptionProps{EncryptionKey: key}, "fieldencryption: Keys: expected at least the public key of key id 01; fieldencryption: Fields: expected at least one field name or path"},
		"half a domain": {&fieldencryption.FieldEncryptionProps{EncryptionKey: key, Edge: seedConfig(), DomainNames: []*string{jsii.String("x.example.com")}}, "fieldencryption: Certificate and DomainNames go together"},
		"bad key and rules": {&fieldencryption.FieldEncryptionProps{EncryptionKey: key, Edge: fieldencryption.EdgeConfig{
			Keys:    map[string]string{"01": "not a key", "10": pubPEM(key01)},
			Fields:  []fieldencryption.EdgeField{{Name: "a", Path: "$.a"}, {Path: "$.a..b"}, {Name: "c", Key: "02"}},
			Methods: []string{"post"}, ContentTypes: []string{"text/plain"},
		}}, "fieldencryption: Keys[01]: expected a PEM PUBLIC KEY (SubjectPublicKeyInfo, as kms GetPublicKey returns); fieldencryption: Keys[10]: expected a two-digit key id other than 00 and 10; " +
			"fieldencryption: Fields[0]: expected exactly one of Name or Path; fieldencryption: Fields[1].Path: expected $ then .name, [\"name\"], [*] or [N] segments, got \"$.a..b\"; " +
			"fieldencryption: Fields[2].Key: expected one of 01, 10, got \"02\"; fieldencryption: Methods[0]: expected an upper-case HTTP method such as POST, got \"post\"; " +
			"fieldencryption: ContentTypes[0]: expected application/json, a +json type or application/x-www-form-urlencoded, got \"text/plain\""},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			msg := mustPanic(t, func() { fieldencryption.NewFieldEncryption(stack, "F"+strings.ReplaceAll(name, " ", ""), c.props) })
			if !strings.HasPrefix(msg, c.want) || strings.Contains(msg, "\n") {
				t.Fatalf("%q\nwant prefix %q", msg, c.want)
			}
		})
	}
}
