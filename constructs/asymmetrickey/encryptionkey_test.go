package asymmetrickey_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/asymmetrickey"
)

const oaepOnly = `{"StringEquals":{"kms:EncryptionAlgorithm":"RSAES_OAEP_SHA_256"}}`

func TestEncryptionKeyDefaults(t *testing.T) {
	// GIVEN an EncryptionKey with no props
	stack := newStack()
	e := asymmetrickey.NewEncryptionKey(stack, "FieldKey", nil)
	tp, _ := synth(t, stack)
	keyID := id(stack, e.Key)
	enc, dec, fn := id(stack, e.EncryptorRole), id(stack, e.DecryptorRole), id(stack, e.DecryptFunctionRole)

	// THEN the key is an RSA_2048 ENCRYPT_DECRYPT key, never rotated, retained
	key := tp.Resources[keyID]
	if key.Properties["KeySpec"] != "RSA_2048" || key.Properties["KeyUsage"] != "ENCRYPT_DECRYPT" || key.Properties["EnableKeyRotation"] != false || key.DeletionPolicy != "Retain" {
		t.Errorf("key: %s %s", js(key.Properties), key.DeletionPolicy)
	}
	// AND the encryptor may only download the public key
	if got := tp.policyOf(t, enc); js(got) != js([]statement{{Sid: "DownloadThePublicKey", Effect: "Allow", Action: []string{"kms:GetPublicKey"}, Resource: []string{keyArn(keyID)}}}) {
		t.Errorf("encryptor policy %s", js(got))
	}
	// AND the decryptor may only decrypt, and only with RSAES_OAEP_SHA_256
	wantDecrypt := statement{Sid: "DecryptWithRsaesOaepSha256", Effect: "Allow", Action: []string{"kms:Decrypt"}, Resource: []string{keyArn(keyID)}, Condition: jsonValue(oaepOnly)}
	if got := tp.policyOf(t, dec); js(got) != js([]statement{wantDecrypt}) {
		t.Errorf("decryptor policy %s", js(got))
	}
	// AND the decrypt function's role has that same decrypt grant, kms:VerifyMac (HMAC_SHA_256)
	// on the invoke key, and only its logs and traces
	invokeKeyID := id(stack, e.InvokeKey)
	fnPolicy := tp.policyOf(t, fn)
	wantVerify := statement{Sid: "VerifyRequestAuthorizations", Effect: "Allow", Action: []string{"kms:VerifyMac"}, Resource: []string{keyArn(invokeKeyID)},
		Condition: jsonValue(`{"StringEquals":{"kms:MacAlgorithm":"HMAC_SHA_256"}}`)}
	if len(fnPolicy) != 4 || js(fnPolicy[0]) != js(wantDecrypt) || js(fnPolicy[1]) != js(wantVerify) || !reflect.DeepEqual(fnPolicy[2].Action, []string{"logs:CreateLogStream", "logs:PutLogEvents"}) ||
		!reflect.DeepEqual(fnPolicy[3].Action, []string{"xray:PutTelemetryRecords", "xray:PutTraceSegments"}) {
		t.Errorf("decrypt function policy %s", js(fnPolicy))
	}
	if strings.Contains(js(fnPolicy[2].Resource), "*") {
		t.Errorf("logs grant beyond the function's log group: %v", fnPolicy[2].Resource)
	}
	// AND the invoke key is an HMAC_256 GENERATE_VERIFY_MAC key
	if ik := tp.Resources[invokeKeyID].Properties; ik["KeySpec"] != "HMAC_256" || ik["KeyUsage"] != "GENERATE_VERIFY_MAC" {
		t.Errorf("invoke key %s", js(ik))
	}
	// AND the key policy: administration to the account, download to the encryptor, OAEP-only decrypt to the two decryptors
	ks := statements(t, key.Properties["KeyPolicy"])
	wantKey := []statement{
		{Effect: "Allow", Principal: jsonValue(rootPrincipal), Action: []string{"kms:*"}, Resource: []string{"*"}},
		denyGrants,
		{Sid: "Allow plaintext download of the public key for encryption", Effect: "Allow", Principal: jsonValue(`{"AWS":` + keyArn(enc) + `}`),
			Action: []string{"kms:GetPublicKey"}, Resource: []string{"*"}},
		{Sid: "Allow decryption with RSAES_OAEP_SHA_256 only", Effect: "Allow", Principal: jsonValue(`{"AWS":[` + keyArn(dec) + `,` + keyArn(fn) + `]}`),
			Action: []string{"kms:Decrypt"}, Resource: []string{"*"}, Condition: jsonValue(oaepOnly)},
	}
	if js(ks) != js(wantKey) {
		t.Errorf("key policy:\n%s\nwant:\n%s", js(ks), js(wantKey))
	}
	// AND the decrypt function is a Go function on arm64 that knows the key
	f := tp.props(t, id(stack, e.DecryptFunction))
	if f["Runtime"] != "provided.al2023" || js(f["Architectures"]) != `["arm64"]` || js(f["Environment"]) != `{"Variables":{"INVOKE_KEY_ID":`+keyArn(invokeKeyID)+`,"KEY_ID":`+keyArn(keyID)+`}}` {
		t.Errorf("function %s %s %s", f["Runtime"], js(f["Architectures"]), js(f["Environment"]))
	}
	// AND no resource policy lets anyone invoke it (the function itself refuses every request
	// without an authorization only kms:GenerateMac on the invoke key can make; see
	// lambda-src/fle-decrypt, TestOnlyAnAuthorizedRequestGetsAnythingDecrypted)
	for _, r := range tp.Resources {
		if r.Type == "AWS::Lambda::Permission" && strings.Contains(js(r.Properties), id(stack, e.DecryptFunction)) {
			t.Errorf("unexpected invoke permission %s", js(r.Properties))
		}
	}
}

func TestGrantDecryptIsInvokeAndGenerateMac(t *testing.T) {
	// GIVEN an app role granted decryption through the function
	stack := newStack()
	e := asymmetrickey.NewEncryptionKey(stack, "FieldKey", nil)
	app := awsiam.NewRole(stack, jsii.String("App"), &awsiam.RoleProps{AssumedBy: awsiam.NewAccountRootPrincipal()})
	e.GrantDecrypt(app)
	tp, _ := synth(t, stack)
	// THEN it may invoke the function and compute authorizations with the invoke key, and
	// nothing else: no kms:Decrypt on the field key
	var actions []string
	for _, r := range tp.Resources {
		if r.Type == "AWS::IAM::Policy" && strings.Contains(js(r.Properties["Roles"]), id(stack, app)) {
			for _, st := range statements(t, r.Properties["PolicyDocument"]) {
				actions = append(actions, st.Action...)
				if strings.Contains(js(st.Resource), id(stack, e.Key)) {
					t.Errorf("grant touches the field key: %+v", st)
				}
			}
		}
	}
	if js(actions) != `["lambda:InvokeFunction","kms:GenerateMac"]` {
		t.Errorf("actions %v", actions)
	}
	// AND without the function there is nothing to grant
	s := newStack()
	k := asymmetrickey.NewEncryptionKey(s, "K", &asymmetrickey.EncryptionKeyProps{NoDecryptFunction: true})
	if msg := mustPanic(t, func() { k.GrantDecrypt(awsiam.NewAccountRootPrincipal()) }); !strings.Contains(msg, "GrantDecrypt conflicts with NoDecryptFunction") {
		t.Errorf("panic %q", msg)
	}
}

func TestEncryptionKeySpecsAndConflicts(t *testing.T) {
	for _, spec := range asymmetrickey.EncryptionKeySpecs {
		t.Run(string(spec), func(t *testing.T) {
			// GIVEN an RSA spec WHEN an EncryptionKey is made THEN the key has it
			stack := newStack()
			e := asymmetrickey.NewEncryptionKey(stack, "K", &asymmetrickey.EncryptionKeyProps{KeyProps: &awskms.KeyProps{KeySpec: spec}, NoDecryptFunction: true})
			tp, _ := synth(t, stack)
			if p := tp.props(t, id(stack, e.Key)); p["KeySpec"] != string(spec) || p["KeyUsage"] != "ENCRYPT_DECRYPT" {
				t.Errorf("%s", js(p))
			}
			if e.DecryptFunction != nil {
				t.Error("NoDecryptFunction still made a function")
			}
		})
	}
	cases := []struct {
		name  string
		props *asymmetrickey.EncryptionKeyProps
		want  string
	}{
		{"ECC cannot encrypt", &asymmetrickey.EncryptionKeyProps{KeyProps: &awskms.KeyProps{KeySpec: awskms.KeySpec_ECC_NIST_P256}},
			"asymmetrickey: EncryptionKey KeyProps.KeySpec: KMS keys with usage ENCRYPT_DECRYPT take one of RSA_2048, RSA_3072, RSA_4096, got ECC_NIST_P256"},
		{"signing usage", &asymmetrickey.EncryptionKeyProps{KeyProps: &awskms.KeyProps{KeyUsage: awskms.KeyUsage_SIGN_VERIFY}}, "expected ENCRYPT_DECRYPT (or unset), got SIGN_VERIFY"},
		{"function props without function", &asymmetrickey.EncryptionKeyProps{NoDecryptFunction: true, DecryptFunctionProps: &awslambda.FunctionProps{}},
			"asymmetrickey: EncryptionKey DecryptFunctionProps conflicts with NoDecryptFunction"},
		//lint:ignore SA1019 the deprecated field is what the construct must reject
		{"log retention of the function's own", &asymmetrickey.EncryptionKeyProps{DecryptFunctionProps: &awslambda.FunctionProps{LogRetention: awslogs.RetentionDays_ONE_YEAR}},
			"asymmetrickey: EncryptionKey DecryptFunctionProps.LogGroup and LogRetention must be unset"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// GIVEN invalid props WHEN the key is made THEN one clear line
			msg := mustPanic(t, func() { asymmetrickey.NewEncryptionKey(newStack(), "K", tc.props) })
			if !strings.Contains(msg, tc.want) {
				t.Errorf("panic %q, want %q", msg, tc.want)
			}
		})
	}
}

func TestEncryptionKeyDecryptFunctionPropsMerge(t *testing.T) {
	// GIVEN user settings for the decrypt function, including an attempt to set KEY_ID
	stack := newStack()
	e := asymmetrickey.NewEncryptionKey(stack, "K", &asymmetrickey.EncryptionKeyProps{DecryptFunctionProps: &awslambda.FunctionProps{
		MemorySize:  jsii.Number(512),
		Environment: &map[string]*string{"CONCURRENCY": jsii.String("4"), "KEY_ID": jsii.String("alias/other")},
	}})
	tp, _ := synth(t, stack)
	f := tp.props(t, id(stack, e.DecryptFunction))
	// THEN the user's memory and variables apply, but KEY_ID and INVOKE_KEY_ID are forced to this construct's keys
	if f["MemorySize"] != 512.0 || js(f["Environment"]) != `{"Variables":{"CONCURRENCY":"4","INVOKE_KEY_ID":`+keyArn(id(stack, e.InvokeKey))+`,"KEY_ID":`+keyArn(id(stack, e.Key))+`}}` {
		t.Errorf("%v %s", f["MemorySize"], js(f["Environment"]))
	}
	if f["Timeout"] != 30.0 {
		t.Errorf("default timeout lost: %v", f["Timeout"])
	}
}

func TestMarkerKeysAreDecryptedByTheDecryptFunctionOnly(t *testing.T) {
	// GIVEN a card key whose markers (#02#) the field key's decrypt function reads
	stack := newStack()
	cards := asymmetrickey.NewEncryptionKey(stack, "Cards", &asymmetrickey.EncryptionKeyProps{NoDecryptFunction: true})
	fields := asymmetrickey.NewEncryptionKey(stack, "Fields", &asymmetrickey.EncryptionKeyProps{MarkerKeys: map[string]awskms.IKey{"02": cards.Key}})
	tp, _ := synth(t, stack)
	// THEN the function's environment names the key for 02
	fn := tp.props(t, id(stack, fields.DecryptFunction))
	env := js(fn["Environment"])
	if !strings.Contains(env, `"MARKER_KEYS":{"Fn::Join":["",["02=",`+keyArn(id(stack, cards.Key))+`]]}`) {
		t.Fatalf("environment %s", env)
	}
	// THEN its role may decrypt with the card key, RSAES_OAEP_SHA_256 only
	found := false
	for _, st := range tp.policyOf(t, id(stack, fields.DecryptFunctionRole)) {
		if st.Sid == "DecryptMarker02WithRsaesOaepSha256" {
			found = len(st.Resource) == 1 && st.Resource[0] == keyArn(id(stack, cards.Key)) && strings.Contains(js(st.Condition), "RSAES_OAEP_SHA_256")
		}
	}
	if !found {
		t.Fatal("no kms:Decrypt on the card key")
	}
	// THEN bad ids and NoDecryptFunction panic with one line
	for idv, want := range map[string]string{
		"01": `asymmetrickey: EncryptionKey MarkerKeys["01"]: expected a two-digit key id other than 00, 01 (Key's own) and 10`,
		"10": `asymmetrickey: EncryptionKey MarkerKeys["10"]: expected a two-digit key id other than 00, 01 (Key's own) and 10`,
	} {
		if got := mustPanic(t, func() {
			asymmetrickey.NewEncryptionKey(stack, "Bad"+idv, &asymmetrickey.EncryptionKeyProps{MarkerKeys: map[string]awskms.IKey{idv: cards.Key}})
		}); got != want {
			t.Errorf("%s: %s", idv, got)
		}
	}
	if got := mustPanic(t, func() {
		asymmetrickey.NewEncryptionKey(stack, "BadNoFn", &asymmetrickey.EncryptionKeyProps{NoDecryptFunction: true, MarkerKeys: map[string]awskms.IKey{"02": cards.Key}})
	}); got != "asymmetrickey: EncryptionKey MarkerKeys conflicts with NoDecryptFunction: only the decrypt function reads markers" {
		t.Error(got)
	}
}
