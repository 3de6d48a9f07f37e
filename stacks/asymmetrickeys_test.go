package stacks_test

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/internal/nag"
	"github.com/securestacks/securestacks/stacks"
)

func keysProps(name, account, region string, section *stacks.AsymmetricKeysConfig) *stacks.SystemProps {
	p := &stacks.SystemProps{Config: stacks.Environment{Name: name, Account: account, Region: region, AsymmetricKeys: section}}
	p.StackName = jsii.String(stacks.Environment{Name: name}.StackPrefix() + "-AsymmetricKeys")
	if account != "" {
		p.Env = &awscdk.Environment{Account: jsii.String(account), Region: jsii.String(region)}
	}
	return p
}

type keysTemplate struct {
	Resources map[string]struct {
		Type       string         `json:"Type"`
		Properties map[string]any `json:"Properties"`
	} `json:"Resources"`
	Outputs map[string]map[string]any `json:"Outputs"`
}

func (k keysTemplate) ofType(typ string) []map[string]any {
	var out []map[string]any
	for _, r := range k.Resources {
		if r.Type == typ {
			out = append(out, r.Properties)
		}
	}
	return out
}

func TestAsymmetricKeysStack(t *testing.T) {
	// GIVEN one app with the sandbox stack (all defaults) and a prod stack with every setting
	app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{"aws:cdk:bundling-stacks": []any{}}})
	sandbox := stacks.NewAsymmetricKeysStack(app, "Sandbox-AsymmetricKeys", keysProps("sandbox", "", "", nil))
	prod := stacks.NewAsymmetricKeysStack(app, "Prod-AsymmetricKeys", keysProps("prod", "123456789012", "eu-west-1", &stacks.AsymmetricKeysConfig{
		SigningKeySpec:    "ECC_NIST_P256",
		SigningAlias:      "prod/release-signing",
		EncryptionKeySpec: "RSA_4096",
		EncryptionAlias:   "prod/fle",
		SignerTrust:       "arn:aws:iam::123456789012:role/release-pipeline",
		DecryptorTrust:    "210987654321",
		ExtraVerifiers:    []string{"444455556666", "arn:aws:iam::777788889999:role/auditor"},
		GrantVerify:       true,
	}))
	nag.ApplyPacks(app)

	cases := []struct {
		name                        string
		stack                       awscdk.Stack
		signSpec, encSpec           string
		signAlias, encAlias         string
		signerTrust, decryptorTrust string
		extraVerifierPrincipals     int
		paramPrefix                 string
	}{
		{"sandbox defaults: the seed's keys", sandbox, "RSA_4096", "RSA_2048", "alias/sample-sign-verify-key", "alias/field-level-encryption-key",
			`"arn:",{"Ref":"AWS::Partition"},":iam::",{"Ref":"AWS::AccountId"},":root"`, `"arn:",{"Ref":"AWS::Partition"},":iam::",{"Ref":"AWS::AccountId"},":root"`, 0,
			"/securestacks/Sandbox-AsymmetricKeys/"},
		{"prod: every setting", prod, "ECC_NIST_P256", "RSA_4096", "alias/prod/release-signing", "alias/prod/fle",
			`"arn:aws:iam::123456789012:role/release-pipeline"`, `"arn:",{"Ref":"AWS::Partition"},":iam::210987654321:root"`, 2,
			"/securestacks/Prod-AsymmetricKeys/"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// WHEN the stack is synthesized
			raw := assertions.Template_FromStack(tc.stack, nil)
			b, _ := json.Marshal(raw.ToJSON())
			var tp keysTemplate
			if err := json.Unmarshal(b, &tp); err != nil {
				t.Fatal(err)
			}
			// THEN it is nag-clean
			if errs := nag.Errors(tc.stack); len(errs) > 0 {
				t.Fatalf("cdk-nag errors:\n%s", strings.Join(errs, "\n"))
			}
			// AND it holds one signing and one encryption key with the configured specs, and the
			// HMAC key that authorizes decrypt-function requests
			var specs []string
			for _, k := range tp.ofType("AWS::KMS::Key") {
				if k["KeyUsage"] != nil {
					specs = append(specs, fmt.Sprint(k["KeyUsage"], " ", k["KeySpec"]))
				}
			}
			sort.Strings(specs)
			if want := []string{"ENCRYPT_DECRYPT " + tc.encSpec, "GENERATE_VERIFY_MAC HMAC_256", "SIGN_VERIFY " + tc.signSpec}; fmt.Sprint(specs) != fmt.Sprint(want) {
				t.Errorf("asymmetric keys %v, want %v", specs, want)
			}
			// AND the aliases and outputs name them
			var aliases []string
			for _, a := range tp.ofType("AWS::KMS::Alias") {
				aliases = append(aliases, fmt.Sprint(a["AliasName"]))
			}
			sort.Strings(aliases)
			if want := []string{tc.signAlias, tc.encAlias}; fmt.Sprint(aliases) != fmt.Sprint(keysSorted(want)) {
				t.Errorf("aliases %v, want %v", aliases, want)
			}
			if tp.Outputs["SigningKeyAlias"]["Value"] != tc.signAlias || tp.Outputs["EncryptionKeyAlias"]["Value"] != tc.encAlias {
				t.Errorf("alias outputs %v %v", tp.Outputs["SigningKeyAlias"], tp.Outputs["EncryptionKeyAlias"])
			}
			var outs []string
			for k := range tp.Outputs {
				outs = append(outs, k)
			}
			sort.Strings(outs)
			want := []string{"DecryptFunctionName", "DecryptInvokeKeyArn", "DecryptorRoleArn", "EncryptionKeyAlias", "EncryptionKeyArn", "EncryptionPublicKeyParameter",
				"EncryptionPublicKeyPemObject", "EncryptorRoleArn", "OfflineVerifierRoleArn", "PublicKeyBucketName", "SignerRoleArn",
				"SigningKeyAlias", "SigningKeyArn", "SigningPublicKeyParameter", "SigningPublicKeyPemObject"}
			if fmt.Sprint(outs) != fmt.Sprint(want) {
				t.Errorf("outputs %v\nwant %v", outs, want)
			}
			if tp.Outputs["SigningPublicKeyParameter"]["Value"] != tc.paramPrefix+"signing-key/public-key" ||
				tp.Outputs["EncryptionPublicKeyParameter"]["Value"] != tc.paramPrefix+"encryption-key/public-key" {
				t.Errorf("parameter outputs %v %v", tp.Outputs["SigningPublicKeyParameter"], tp.Outputs["EncryptionPublicKeyParameter"])
			}
			// AND both keys publish to the one bucket the stack has (plus its access-log bucket)
			if n := len(tp.ofType("AWS::S3::Bucket")); n != 2 {
				t.Errorf("%d buckets, want the public-key bucket and its access-log bucket", n)
			}
			crs := tp.ofType("Custom::KmsPublicKey")
			if len(crs) != 2 || keysJSON(crs[0]["BucketName"]) != keysJSON(crs[1]["BucketName"]) {
				t.Errorf("publications %s", keysJSON(crs))
			}
			// AND the roles trust what the section says
			all := keysJSON(tp.ofType("AWS::IAM::Role"))
			for _, trust := range []string{tc.signerTrust, tc.decryptorTrust} {
				if !strings.Contains(all, trust) {
					t.Errorf("no role trusts %s", trust)
				}
			}
			// AND extra verifiers appear in the signing key policy only
			keys := keysJSON(tp.ofType("AWS::KMS::Key"))
			if got := strings.Count(keys, "Allow other verifiers to download"); (got > 0) != (tc.extraVerifierPrincipals > 0) {
				t.Errorf("extra verifier statements: %d", got)
			}
			if tc.extraVerifierPrincipals > 0 && (!strings.Contains(keys, ":iam::444455556666:root") || !strings.Contains(keys, "arn:aws:iam::777788889999:role/auditor") || !strings.Contains(keys, "kms:Verify")) {
				t.Errorf("extra verifiers missing from the key policy")
			}
		})
	}
}

func keysSorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

func keysJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestAsymmetricKeysConfigErrorsNameTheKey(t *testing.T) {
	cases := []struct {
		name    string
		section map[string]any
		want    string
	}{
		{"symmetric signing spec", map[string]any{"signingKeySpec": "SYMMETRIC_DEFAULT"},
			`config: environments.prod.asymmetricKeys.signingKeySpec: expected one of RSA_2048, RSA_3072, RSA_4096, ECC_NIST_P256, ECC_NIST_P384, ECC_NIST_P521, ECC_SECG_P256K1, got "SYMMETRIC_DEFAULT"`},
		{"ECC encryption spec", map[string]any{"encryptionKeySpec": "ECC_NIST_P256"},
			`config: environments.prod.asymmetricKeys.encryptionKeySpec: expected one of RSA_2048, RSA_3072, RSA_4096, got "ECC_NIST_P256"`},
		{"alias with prefix", map[string]any{"signingAlias": "alias/x"}, `environments.prod.asymmetricKeys.signingAlias: expected an alias name without alias/`},
		{"one alias for both", map[string]any{"signingAlias": "k", "encryptionAlias": "k"}, `environments.prod.asymmetricKeys.encryptionAlias: expected an alias other than signingAlias`},
		{"bad trust", map[string]any{"signerTrust": "root"}, `environments.prod.asymmetricKeys.signerTrust: expected a 12-digit account id or an IAM role or user ARN, got "root"`},
		{"bad extra verifier", map[string]any{"extraVerifiers": []any{"444455556666", "12345"}}, `environments.prod.asymmetricKeys.extraVerifiers[1]: expected a 12-digit account id`},
		{"unknown key", map[string]any{"signingSpec": "RSA_2048"}, `config: environments.prod.asymmetricKeys.signingSpec: unknown key: expected one of decryptorTrust, encryptionAlias,`},
		{"wrong type", map[string]any{"grantVerify": "yes"}, `config: environments.prod.asymmetricKeys.grantVerify: expected true or false`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// GIVEN an environment whose asymmetricKeys section has one defect
			cfg, err := stacks.LoadConfig(map[string]any{"prod": map[string]any{"account": "123456789012", "region": "eu-west-1", "asymmetricKeys": tc.section}})
			// WHEN it is loaded and, if that passes, the stack is built
			if err == nil {
				func() {
					defer func() {
						if r := recover(); r != nil {
							err = fmt.Errorf("%v", r)
						}
					}()
					app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{"aws:cdk:bundling-stacks": []any{}}})
					stacks.NewAsymmetricKeysStack(app, "Prod-AsymmetricKeys", &stacks.SystemProps{Config: cfg.Environments["prod"]})
				}()
			}
			// THEN one line names the key and what was expected
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}
