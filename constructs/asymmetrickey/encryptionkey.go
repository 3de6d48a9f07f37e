package asymmetrickey

import (
	"fmt"
	"maps"
	"regexp"
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/gofunction"
	"github.com/securestacks/securestacks/constructs/internal/defaults"
	"github.com/securestacks/securestacks/internal/nag"
)

// DecryptHandlerEntry is the Go import path of the field-level decryption
// Lambda, built by GoFunction in the app's module.
const DecryptHandlerEntry = "github.com/securestacks/securestacks/lambda-src/fle-decrypt"

// markerKeyIDRe is a MarkerKeys id: two digits other than 00, 01 and 10
// (internal/fle.CheckKeyID, minus Key's own 01).
var markerKeyIDRe = regexp.MustCompile(`^(0[2-9]|1[1-9]|[2-9][0-9])$`)

// EncryptionAlgorithm is the only algorithm the decrypting principals may
// use: the one field-level encryption encrypts with.
const EncryptionAlgorithm = "RSAES_OAEP_SHA_256"

// EncryptionKeyProps configures an EncryptionKey. A nil *EncryptionKeyProps
// means all defaults.
type EncryptionKeyProps struct {
	// KeyProps override the key defaults: KeySpec RSA_2048 (or RSA_3072,
	// RSA_4096), RemovalPolicy RETAIN, PendingWindow
	// DefaultPendingWindowDays, a description. Forced: KeyUsage
	// ENCRYPT_DECRYPT and no rotation. Conflicts (panic): another KeySpec or
	// KeyUsage, EnableKeyRotation true, RotationPeriod, and Alias (use the
	// Alias field).
	KeyProps *awskms.KeyProps
	// Alias names the key, with or without "alias/". Default
	// "alias/<stack name>/<id>".
	Alias *string
	// EncryptorTrust is who may assume EncryptorRole. Default: this account.
	EncryptorTrust awsiam.IPrincipal
	// DecryptorTrust is who may assume DecryptorRole. Default: this account.
	DecryptorTrust awsiam.IPrincipal
	// NoDecryptFunction leaves out DecryptFunction, for apps that decrypt
	// elsewhere through DecryptorRole. Default false: the function is created.
	NoDecryptFunction bool
	// DecryptFunctionProps override the decrypt function's settings
	// (memory, timeout, ...). Forced: Role, LogGroup, Environment KEY_ID and
	// INVOKE_KEY_ID.
	// Default: 256 MB, 30 s. Conflicts (panic): NoDecryptFunction, and
	// LogGroup or LogRetention set (the role may write only to the
	// construct's log group).
	DecryptFunctionProps *awslambda.FunctionProps
	// MarkerKeys are more RSA ENCRYPT_DECRYPT keys that DecryptFunction
	// decrypts, each for the markers of its key id ("02" for
	// "#02#...#10#"; two digits other than 00 and 10; 01 is Key): per-field or
	// per-class keys, and the old key after a rotation. The function's role
	// gets kms:Decrypt (RSAES_OAEP_SHA_256 only) on each; their key policies
	// must let IAM policies grant it (the CDK default). Default none.
	// Conflicts (panic): NoDecryptFunction, and key id 01 or a malformed id.
	MarkerKeys map[string]awskms.IKey
	// LogsKey encrypts the log groups of this construct's functions.
	// Default: a new key from defaults.LogsKey (one per function group).
	LogsKey awskms.IKey
	// Publication configures where the public key is published. Its Key must
	// be left unset.
	Publication *PublicationProps
}

// EncryptionKey is a KMS RSA ENCRYPT_DECRYPT key for field-level encryption:
// anyone trusted encrypts with the public key, only DecryptorRole and
// DecryptFunction decrypt, and only with RSAES_OAEP_SHA_256.
type EncryptionKey struct {
	constructs.Construct
	// Key is the KMS key (KeyUsage ENCRYPT_DECRYPT).
	Key awskms.Key
	// Alias is the key's alias.
	Alias awskms.Alias
	// AliasName is the alias's name, "alias/..." (a literal, unlike
	// Alias.AliasName(), which may be a reference).
	AliasName *string
	// EncryptorRole may call kms:GetPublicKey on Key, nothing else.
	EncryptorRole   awsiam.Role
	EncryptorPolicy awsiam.ManagedPolicy
	// DecryptorRole may call kms:Decrypt on Key when kms:EncryptionAlgorithm
	// is RSAES_OAEP_SHA_256, nothing else.
	DecryptorRole   awsiam.Role
	DecryptorPolicy awsiam.ManagedPolicy
	// DecryptFunction is the fle-decrypt Lambda (nil with NoDecryptFunction);
	// DecryptFunctionRole its role, with the same decrypt permission as
	// DecryptorRole plus kms:VerifyMac on InvokeKey, its logs and traces.
	// It decrypts nothing for a caller until GrantDecrypt(principal): every
	// request must carry an fle.Authorization, a MAC that only a principal
	// allowed kms:GenerateMac on InvokeKey can compute. Invocation alone is
	// not the guard: any principal of the account whose IAM policy allows
	// lambda:InvokeFunction can invoke it, whatever its resource policy says.
	DecryptFunction       *gofunction.GoFunction
	DecryptFunctionRole   awsiam.Role
	DecryptFunctionPolicy awsiam.ManagedPolicy
	// InvokeKey is the HMAC_256 key (GENERATE_VERIFY_MAC) whose MACs
	// authorize decrypt requests; nil with NoDecryptFunction.
	InvokeKey awskms.Key
	// Publication publishes the public key to S3 and SSM.
	Publication *Publication
	// MarkerKeys are the props' MarkerKeys: the keys DecryptFunction
	// decrypts for other marker key ids.
	MarkerKeys map[string]awskms.IKey
}

// NewEncryptionKey defines an EncryptionKey at scope/id.
func NewEncryptionKey(scope constructs.Construct, id string, props *EncryptionKeyProps) *EncryptionKey {
	if props == nil {
		props = &EncryptionKeyProps{}
	}
	if props.NoDecryptFunction && len(props.MarkerKeys) > 0 {
		panic("asymmetrickey: EncryptionKey MarkerKeys conflicts with NoDecryptFunction: only the decrypt function reads markers")
	}
	for id := range props.MarkerKeys {
		if !markerKeyIDRe.MatchString(id) {
			panic(fmt.Sprintf("asymmetrickey: EncryptionKey MarkerKeys[%q]: expected a two-digit key id other than 00, 01 (Key's own) and 10", id))
		}
	}
	if props.NoDecryptFunction && props.DecryptFunctionProps != nil {
		panic("asymmetrickey: EncryptionKey DecryptFunctionProps conflicts with NoDecryptFunction; set one")
	}
	//lint:ignore SA1019 the deprecated field must still be rejected when a caller sets it
	if fp := props.DecryptFunctionProps; fp != nil && (fp.LogGroup != nil || fp.LogRetention != "") {
		// The function's role may write only to the log group made here.
		panic("asymmetrickey: EncryptionKey DecryptFunctionProps.LogGroup and LogRetention must be unset: the construct creates the decrypt function's encrypted log group")
	}
	e := &EncryptionKey{MarkerKeys: maps.Clone(props.MarkerKeys)}
	constructs.NewConstruct_Override(e, scope, jsii.String(id))
	e.Key, e.Alias, e.AliasName = newAsymmetricKey(e, keySettings{
		kind:        "EncryptionKey",
		usage:       awskms.KeyUsage_ENCRYPT_DECRYPT,
		specs:       EncryptionKeySpecs,
		defaultSpec: awskms.KeySpec_RSA_2048,
		description: "Field-level encryption: encrypt with the published public key, decrypt in KMS with RSAES_OAEP_SHA_256",
	}, props.KeyProps, props.Alias)

	arn := e.Key.KeyArn()
	oaepOnly := map[string]any{"StringEquals": map[string]any{"kms:EncryptionAlgorithm": EncryptionAlgorithm}}
	e.EncryptorRole, e.EncryptorPolicy = newRole(e, "EncryptorRole", props.EncryptorTrust,
		"Downloads one KMS public key to encrypt fields",
		allow("DownloadThePublicKey", arn, nil, nil, "kms:GetPublicKey"))
	e.DecryptorRole, e.DecryptorPolicy = newRole(e, "DecryptorRole", props.DecryptorTrust,
		"Decrypts fields with one KMS key, RSAES_OAEP_SHA_256 only",
		allow("DecryptWithRsaesOaepSha256", arn, nil, oaepOnly, "kms:Decrypt"))

	decryptors := []awsiam.IPrincipal{e.DecryptorRole}
	if !props.NoDecryptFunction {
		e.newDecryptFunction(props, oaepOnly)
		decryptors = append(decryptors, e.DecryptFunctionRole)
	}
	all := jsii.String("*")
	e.Key.AddToResourcePolicy(allow("Allow plaintext download of the public key for encryption", all,
		[]awsiam.IPrincipal{e.EncryptorRole}, nil, "kms:GetPublicKey"), jsii.Bool(false))
	e.Key.AddToResourcePolicy(allow("Allow decryption with RSAES_OAEP_SHA_256 only", all,
		decryptors, oaepOnly, "kms:Decrypt"), jsii.Bool(false))

	e.Publication = publicationFor(e, "EncryptionKey", e.Key, props.Publication)
	return e
}

func (e *EncryptionKey) newDecryptFunction(props *EncryptionKeyProps, oaepOnly map[string]any) {
	logsKey := props.LogsKey
	if logsKey == nil {
		logsKey = defaults.LogsKey(e, "DecryptFunctionLogsKey")
	}
	logGroup := defaults.LogGroup(e, "DecryptFunctionLogGroup", &awslogs.LogGroupProps{EncryptionKey: logsKey})
	e.InvokeKey = defaults.Key(e, "DecryptInvokeKey", &awskms.KeyProps{
		Description: jsii.String("Authorizes field-level decryption requests: callers GenerateMac, the decrypt function VerifyMac"),
		KeySpec:     awskms.KeySpec_HMAC_256,
		KeyUsage:    awskms.KeyUsage_GENERATE_VERIFY_MAC,
		// Its MACs authorize requests for minutes; losing it loses nothing.
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
		PendingWindow: awscdk.Duration_Days(jsii.Number(7)),
	})
	const noRotation = "KMS does not rotate HMAC keys automatically; the key only authorizes requests for minutes, so replacing it is a deploy with no data to re-encrypt"
	nag.Suppress(e.InvokeKey, nag.Rule{ID: "AwsSolutions-KMS5", Reason: noRotation})
	// fle.MacAlgorithm (not imported: constructs link no AWS SDK).
	hmacOnly := map[string]any{"StringEquals": map[string]any{"kms:MacAlgorithm": "HMAC_SHA_256"}}
	ids := slices.Sorted(maps.Keys(props.MarkerKeys))
	markerStatements := make([]awsiam.PolicyStatement, 0, len(ids))
	markerEnv := make([]*string, 0, len(ids))
	for _, id := range ids {
		arn := props.MarkerKeys[id].KeyArn()
		markerStatements = append(markerStatements, allow("DecryptMarker"+id+"WithRsaesOaepSha256", arn, nil, oaepOnly, "kms:Decrypt"))
		markerEnv = append(markerEnv, awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String(id + "="), arn}))
	}
	e.DecryptFunctionRole, e.DecryptFunctionPolicy = newRole(e, "DecryptFunctionRole",
		awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		"Field-level decryption Lambda: decrypts with its KMS keys, RSAES_OAEP_SHA_256 only, for authorized requests",
		slices.Concat([]awsiam.PolicyStatement{
			allow("DecryptWithRsaesOaepSha256", e.Key.KeyArn(), nil, oaepOnly, "kms:Decrypt")}, markerStatements, []awsiam.PolicyStatement{
			allow("VerifyRequestAuthorizations", e.InvokeKey.KeyArn(), nil, hmacOnly, "kms:VerifyMac"),
			allow("Logs", logGroup.LogGroupArn(), nil, nil, "logs:CreateLogStream", "logs:PutLogEvents"),
			allow("Traces", jsii.String("*"), nil, nil, "xray:PutTraceSegments", "xray:PutTelemetryRecords"),
		})...,
	)
	nag.Suppress(e.DecryptFunctionPolicy,
		nag.Rule{ID: "AwsSolutions-IAM5", Reason: "X-Ray PutTraceSegments and PutTelemetryRecords support no resource-level permissions, so the tracing grant must name *",
			AppliesTo: []string{"Resource::*"}},
	)

	fp := awslambda.FunctionProps{}
	if props.DecryptFunctionProps != nil {
		fp = *props.DecryptFunctionProps
	}
	if fp.Description == nil {
		fp.Description = jsii.String("Field-level decryption through KMS (#01#...#10# markers)")
	}
	if fp.MemorySize == nil {
		fp.MemorySize = jsii.Number(256)
	}
	if fp.Timeout == nil {
		fp.Timeout = awscdk.Duration_Seconds(jsii.Number(30))
	}
	fp.LogGroup = logGroup
	env := map[string]*string{}
	if fp.Environment != nil {
		for k, v := range *fp.Environment {
			env[k] = v
		}
	}
	env["KEY_ID"] = e.Key.KeyArn()
	env["INVOKE_KEY_ID"] = e.InvokeKey.KeyArn()
	if len(markerEnv) > 0 {
		env["MARKER_KEYS"] = awscdk.Fn_Join(jsii.String(","), &markerEnv)
	}
	fp.Environment = &env
	// The managed policy is the whole of the role's permissions.
	fp.Role = e.DecryptFunctionRole.WithoutPolicyUpdates(nil)
	e.DecryptFunction = gofunction.NewGoFunction(e, "DecryptFunction", &gofunction.GoFunctionProps{
		Entry:         jsii.String(DecryptHandlerEntry),
		FunctionProps: &fp,
	})
	e.DecryptFunction.Node().AddDependency(e.DecryptFunctionPolicy)
	const sync = "Callers invoke the decrypt function synchronously and need its answer"
	nag.Suppress(e.DecryptFunction, slices.Concat(
		nag.NISTAndHIPAA("LambdaConcurrency", sync+"; the app that grants invocation sizes its concurrency, and reserving it here would take it from the account pool"),
		nag.NISTAndHIPAA("LambdaDLQ", sync+"; a dead-letter queue applies to asynchronous invocations only"),
		nag.NISTAndHIPAA("LambdaInsideVPC", "Calls only the KMS public API and reaches no VPC resource; a VPC would add endpoints or NAT and no isolation"),
	)...)
}

// GrantDecrypt lets grantee have fields decrypted by DecryptFunction:
// lambda:InvokeFunction on it and kms:GenerateMac on InvokeKey, with which
// the caller signs fle.AuthorizationMessage for each request. Panics with
// NoDecryptFunction.
func (e *EncryptionKey) GrantDecrypt(grantee awsiam.IGrantable) awsiam.Grant {
	if e.DecryptFunction == nil {
		panic("asymmetrickey: EncryptionKey GrantDecrypt conflicts with NoDecryptFunction: there is no decrypt function; grant DecryptorRole instead")
	}
	return e.DecryptFunction.GrantInvoke(grantee).Combine(e.InvokeKey.GrantGenerateMac(grantee))
}

// GrantPublicKeyRead lets grantee read the published public key from S3 and
// SSM (see Publication.GrantRead), to encrypt fields without any KMS
// permission on Key.
func (e *EncryptionKey) GrantPublicKeyRead(grantee awsiam.IGrantable) awsiam.Grant {
	return e.Publication.GrantRead(grantee)
}
