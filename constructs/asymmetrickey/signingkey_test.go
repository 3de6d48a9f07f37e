package asymmetrickey_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/asymmetrickey"
)

const rootPrincipal = `{"AWS":{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":iam::",{"Ref":"AWS::AccountId"},":root"]]}}`

func TestSigningKeyDefaults(t *testing.T) {
	// GIVEN a SigningKey with no props
	stack := newStack()
	s := asymmetrickey.NewSigningKey(stack, "SigningKey", nil)
	tp, _ := synth(t, stack)
	keyID, signer, verifier := id(stack, s.Key), id(stack, s.SignerRole), id(stack, s.OfflineVerifierRole)

	// THEN the key is an RSA_4096 SIGN_VERIFY key, never rotated, retained, with a 30-day window
	key := tp.Resources[keyID]
	if key.Type != "AWS::KMS::Key" || key.Properties["KeySpec"] != "RSA_4096" || key.Properties["KeyUsage"] != "SIGN_VERIFY" ||
		key.Properties["EnableKeyRotation"] != false || key.Properties["PendingWindowInDays"] != 30.0 || key.DeletionPolicy != "Retain" {
		t.Errorf("key: %s, DeletionPolicy %s", js(key.Properties), key.DeletionPolicy)
	}
	// AND its alias is derived from the stack name and the id
	if a := tp.props(t, id(stack, s.Alias)); a["AliasName"] != "alias/KeysTest/SigningKey" || js(a["TargetKeyId"]) != keyArn(keyID) {
		t.Errorf("alias: %s", js(a))
	}
	// AND the signer may only sign (and describe) this key, the verifier only download its public key
	want := map[string]statement{
		signer:   {Sid: "SignWithTheKey", Effect: "Allow", Action: []string{"kms:DescribeKey", "kms:Sign"}, Resource: []string{keyArn(keyID)}},
		verifier: {Sid: "DownloadThePublicKey", Effect: "Allow", Action: []string{"kms:DescribeKey", "kms:GetPublicKey"}, Resource: []string{keyArn(keyID)}},
	}
	for role, w := range want {
		got := tp.policyOf(t, role)
		if len(got) != 1 || !reflect.DeepEqual(got[0], w) {
			t.Errorf("role %s policy: %+v, want only %+v", role, got, w)
		}
		// AND both roles trust this account by default
		trust := statements(t, tp.props(t, role)["AssumeRolePolicyDocument"])
		if len(trust) != 1 || js(trust[0].Principal) != rootPrincipal || !reflect.DeepEqual(trust[0].Action, []string{"sts:AssumeRole"}) {
			t.Errorf("role %s trust: %+v", role, trust)
		}
	}
	// AND the key policy: administration to the account, no grants but for AWS services, use only to the two roles
	ks := statements(t, key.Properties["KeyPolicy"])
	wantKey := []statement{
		{Effect: "Allow", Principal: jsonValue(rootPrincipal), Action: []string{"kms:*"}, Resource: []string{"*"}},
		denyGrants,
		{Sid: "Allow use of the key pair for digital signing", Effect: "Allow", Principal: jsonValue(`{"AWS":` + keyArn(signer) + `}`),
			Action: []string{"kms:DescribeKey", "kms:Sign"}, Resource: []string{"*"}},
		{Sid: "Allow plaintext download of the public portion of the key pair", Effect: "Allow", Principal: jsonValue(`{"AWS":` + keyArn(verifier) + `}`),
			Action: []string{"kms:DescribeKey", "kms:GetPublicKey"}, Resource: []string{"*"}},
	}
	if js(ks) != js(wantKey) {
		t.Errorf("key policy:\n%s\nwant:\n%s", js(ks), js(wantKey))
	}
}

func jsonValue(s string) any {
	var v any
	if err := jsonUnmarshal(s, &v); err != nil {
		panic(err)
	}
	return v
}

func TestSigningKeyAcceptsEveryKMSSigningSpec(t *testing.T) {
	for _, spec := range asymmetrickey.SigningKeySpecs {
		t.Run(string(spec), func(t *testing.T) {
			// GIVEN a signing key spec WHEN a SigningKey is made with it
			stack := newStack()
			s := asymmetrickey.NewSigningKey(stack, "Key", &asymmetrickey.SigningKeyProps{KeyProps: &awskms.KeyProps{KeySpec: spec}})
			tp, _ := synth(t, stack)
			// THEN the key has that spec and SIGN_VERIFY usage
			p := tp.props(t, id(stack, s.Key))
			if p["KeySpec"] != string(spec) || p["KeyUsage"] != "SIGN_VERIFY" {
				t.Errorf("%s", js(p))
			}
		})
	}
	if len(asymmetrickey.SigningKeySpecs) != 7 {
		t.Errorf("%d signing specs, want RSA_2048/3072/4096, ECC_NIST_P256/P384/P521, ECC_SECG_P256K1", len(asymmetrickey.SigningKeySpecs))
	}
}

func TestSigningKeyRejectsInvalidProps(t *testing.T) {
	cases := []struct {
		name  string
		props *asymmetrickey.SigningKeyProps
		want  string
	}{
		{"symmetric spec", &asymmetrickey.SigningKeyProps{KeyProps: &awskms.KeyProps{KeySpec: awskms.KeySpec_SYMMETRIC_DEFAULT}},
			"asymmetrickey: SigningKey KeyProps.KeySpec: KMS keys with usage SIGN_VERIFY take one of RSA_2048, RSA_3072, RSA_4096, ECC_NIST_P256, ECC_NIST_P384, ECC_NIST_P521, ECC_SECG_P256K1, got SYMMETRIC_DEFAULT"},
		{"HMAC spec", &asymmetrickey.SigningKeyProps{KeyProps: &awskms.KeyProps{KeySpec: awskms.KeySpec_HMAC_256}}, "got HMAC_256"},
		{"encryption usage", &asymmetrickey.SigningKeyProps{KeyProps: &awskms.KeyProps{KeyUsage: awskms.KeyUsage_ENCRYPT_DECRYPT}},
			"asymmetrickey: SigningKey KeyProps.KeyUsage: expected SIGN_VERIFY (or unset), got ENCRYPT_DECRYPT"},
		{"rotation", &asymmetrickey.SigningKeyProps{KeyProps: &awskms.KeyProps{EnableKeyRotation: jsii.Bool(true)}}, "KMS cannot rotate asymmetric keys"},
		{"alias in KeyProps", &asymmetrickey.SigningKeyProps{KeyProps: &awskms.KeyProps{Alias: jsii.String("x")}}, "KeyProps.Alias conflicts with Alias"},
		{"bad alias", &asymmetrickey.SigningKeyProps{Alias: jsii.String("has space")}, `SigningKey Alias: expected letters, digits, /, _ or - after alias/ (and not alias/aws/), got "alias/has space"`},
		{"AWS alias", &asymmetrickey.SigningKeyProps{Alias: jsii.String("alias/aws/mine")}, "and not alias/aws/"},
		{"publication key", &asymmetrickey.SigningKeyProps{Publication: &asymmetrickey.PublicationProps{Key: awskms.Key_FromKeyArn(newStack(), jsii.String("K"), jsii.String("arn:aws:kms:eu-west-2:111122223333:key/x"))}},
			"SigningKey Publication.Key: the SigningKey publishes its own key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// GIVEN props KMS or the construct cannot honour WHEN the key is made THEN it panics with one clear line
			msg := mustPanic(t, func() { asymmetrickey.NewSigningKey(newStack(), "Key", tc.props) })
			if !strings.Contains(msg, tc.want) || !strings.HasPrefix(msg, "asymmetrickey: ") || strings.Contains(msg, "\n") {
				t.Errorf("panic %q, want %q", msg, tc.want)
			}
		})
	}
}

func TestSigningKeyPropsVariants(t *testing.T) {
	// GIVEN the seed's alias, a signer trusted by ARN, another account as extra verifier and the Verify grant
	stack := newStack()
	s := asymmetrickey.NewSigningKey(stack, "Key", &asymmetrickey.SigningKeyProps{
		Alias:          jsii.String("sample-sign-verify-key"),
		SignerTrust:    awsiam.NewArnPrincipal(jsii.String("arn:aws:iam::111122223333:role/ci-release")),
		ExtraVerifiers: []awsiam.IPrincipal{awsiam.NewAccountPrincipal(jsii.String("444455556666"))},
		GrantVerify:    true,
		KeyProps:       &awskms.KeyProps{KeySpec: awskms.KeySpec_ECC_NIST_P256, RemovalPolicy: awscdk.RemovalPolicy_DESTROY, PendingWindow: awscdk.Duration_Days(jsii.Number(7))},
	})
	tp, _ := synth(t, stack)
	keyID := id(stack, s.Key)
	// THEN the alias is the seed's
	if a := tp.props(t, id(stack, s.Alias)); a["AliasName"] != "alias/sample-sign-verify-key" {
		t.Errorf("alias %v", a["AliasName"])
	}
	// AND the user's removal policy and window win over the defaults
	if k := tp.Resources[keyID]; k.DeletionPolicy != "Delete" || k.Properties["PendingWindowInDays"] != 7.0 {
		t.Errorf("key: %s %s", k.DeletionPolicy, js(k.Properties["PendingWindowInDays"]))
	}
	// AND the signer role trusts exactly that ARN
	trust := statements(t, tp.props(t, id(stack, s.SignerRole))["AssumeRolePolicyDocument"])
	if js(trust[0].Principal) != `{"AWS":"arn:aws:iam::111122223333:role/ci-release"}` {
		t.Errorf("trust %s", js(trust[0].Principal))
	}
	// AND the verifier may also ask KMS to verify
	if got := tp.policyOf(t, id(stack, s.OfflineVerifierRole)); !reflect.DeepEqual(got[0].Action, []string{"kms:DescribeKey", "kms:GetPublicKey", "kms:Verify"}) {
		t.Errorf("verifier actions %v", got[0].Action)
	}
	// AND the other account may download the public key (and verify) through the key policy, nothing more
	ks := statements(t, tp.Resources[keyID].Properties["KeyPolicy"])
	last := ks[len(ks)-1]
	wantPrincipal := `{"AWS":{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":iam::444455556666:root"]]}}`
	if last.Sid != "Allow other verifiers to download the public portion of the key pair" || js(last.Principal) != wantPrincipal ||
		!reflect.DeepEqual(last.Action, []string{"kms:DescribeKey", "kms:GetPublicKey", "kms:Verify"}) {
		t.Errorf("extra verifier statement %+v", last)
	}
	for _, st := range ks {
		for _, a := range st.Action {
			if a == "kms:*" && js(st.Principal) != rootPrincipal {
				t.Errorf("kms:* granted to %s", js(st.Principal))
			}
		}
	}
}
