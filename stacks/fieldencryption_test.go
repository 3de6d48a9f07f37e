package stacks_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/internal/nag"
	"github.com/securestacks/securestacks/stacks"
)

// pinnedFieldEncryption is the pinned test environment's section.
func pinnedFieldEncryption(t *testing.T) *stacks.FieldEncryptionConfig {
	t.Helper()
	b, err := os.ReadFile("../testdata/pinned.context.json")
	if err != nil {
		t.Fatal(err)
	}
	var ctx struct {
		Environments map[string]struct {
			AsymmetricKeys stacks.AsymmetricKeysConfig `json:"asymmetricKeys"`
		} `json:"environments"`
	}
	if err := json.Unmarshal(b, &ctx); err != nil {
		t.Fatal(err)
	}
	fe := ctx.Environments["pinned"].AsymmetricKeys.FieldEncryption
	if fe == nil {
		t.Fatal("the pinned environment has no asymmetricKeys.fieldEncryption: the gates would not see it")
	}
	return fe
}

func TestFieldEncryptionExtendsAsymmetricKeys(t *testing.T) {
	fe := pinnedFieldEncryption(t)
	for name, env := range map[string][2]string{"pinned": {"123456789012", "eu-west-1"}, "agnostic": {"", ""}} {
		t.Run(name, func(t *testing.T) {
			// GIVEN the AsymmetricKeys stack with fieldEncryption on
			app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{"aws:cdk:bundling-stacks": []any{}}})
			nag.ApplyPacks(app)
			stack := stacks.NewAsymmetricKeysStack(app, "Test-AsymmetricKeys", keysProps("test", env[0], env[1], &stacks.AsymmetricKeysConfig{FieldEncryption: fe}))
			tmpl := assertions.Template_FromStack(stack, nil)
			// THEN it holds the distribution with the edge encrypter and the origin
			tmpl.ResourceCountIs(jsii.String("AWS::CloudFront::Distribution"), jsii.Number(1))
			tmpl.HasOutput(jsii.String("FieldEncryptionUrl"), map[string]any{})
			// THEN the edge function's decrypt side is the stack's encryption key's function
			tmpl.ResourceCountIs(jsii.String("AWS::Lambda::Url"), jsii.Number(1))
			// THEN every stack of the app is nag clean (the us-east-1 support stack included)
			for _, c := range *app.Node().Children() {
				if s, ok := c.(awscdk.Stack); ok {
					if errs := nag.Errors(s); len(errs) > 0 {
						t.Fatalf("nag %s:\n%s", *s.StackName(), strings.Join(errs, "\n"))
					}
				}
			}
		})
	}
}

func TestFieldEncryptionConfigErrorsNameTheKey(t *testing.T) {
	pem := pinnedFieldEncryption(t).PublicKeyPem
	cases := map[string]struct {
		section map[string]any
		want    string
	}{
		"no key":     {map[string]any{}, "config: environments.prod.asymmetricKeys.fieldEncryption.publicKeyPem: expected the PEM public key of the encryption key"},
		"bad key":    {map[string]any{"publicKeyPem": "x"}, "config: environments.prod.asymmetricKeys.fieldEncryption.publicKeyPem: expected a PEM PUBLIC KEY"},
		"bad path":   {map[string]any{"publicKeyPem": pem, "paths": []any{"$.ok", "ssn"}}, `config: environments.prod.asymmetricKeys.fieldEncryption.paths[1]: expected $ then .name, ["name"], [*] or [N] segments, got "ssn"`},
		"bad method": {map[string]any{"publicKeyPem": pem, "methods": []any{"post"}}, `config: environments.prod.asymmetricKeys.fieldEncryption.methods[0]: expected an upper-case HTTP method such as POST, got "post"`},
		"empty name": {map[string]any{"publicKeyPem": pem, "fields": []any{""}}, "config: environments.prod.asymmetricKeys.fieldEncryption.fields[0]: expected a field name, got an empty string"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := stacks.LoadConfig(map[string]any{"prod": map[string]any{
				"account": "123456789012", "region": "eu-west-1",
				"asymmetricKeys": map[string]any{"fieldEncryption": c.section},
			}})
			if err == nil || !strings.HasPrefix(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("%v\nwant prefix %s", err, c.want)
			}
		})
	}
}
