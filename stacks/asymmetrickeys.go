package stacks

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/asymmetrickey"
)

// Defaults of the "asymmetricKeys" section: the seed posts' keys.
const (
	DefaultSigningKeySpec    = "RSA_4096"
	DefaultSigningAlias      = "sample-sign-verify-key"
	DefaultEncryptionKeySpec = "RSA_2048"
	DefaultEncryptionAlias   = "field-level-encryption-key"
)

// AsymmetricKeysConfig is the "asymmetricKeys" section of an environment. A
// missing section means every default. Aliases are per account and region:
// two environments that share both need different aliases.
type AsymmetricKeysConfig struct {
	// SigningKeySpec is one of RSA_2048, RSA_3072, RSA_4096, ECC_NIST_P256,
	// ECC_NIST_P384, ECC_NIST_P521, ECC_SECG_P256K1. Default RSA_4096.
	SigningKeySpec string `json:"signingKeySpec,omitempty"`
	// SigningAlias names the signing key, without "alias/". Default
	// "sample-sign-verify-key".
	SigningAlias string `json:"signingAlias,omitempty"`
	// EncryptionKeySpec is RSA_2048, RSA_3072 or RSA_4096. Default RSA_2048.
	EncryptionKeySpec string `json:"encryptionKeySpec,omitempty"`
	// EncryptionAlias names the field-encryption key, without "alias/".
	// Default "field-level-encryption-key".
	EncryptionAlias string `json:"encryptionAlias,omitempty"`
	// SignerTrust, VerifierTrust, EncryptorTrust and DecryptorTrust say who
	// may assume SignerRole, OfflineVerifierRole, EncryptorRole and
	// DecryptorRole: a 12-digit account id or an IAM role or user ARN.
	// Default: this environment's account.
	SignerTrust    string `json:"signerTrust,omitempty"`
	VerifierTrust  string `json:"verifierTrust,omitempty"`
	EncryptorTrust string `json:"encryptorTrust,omitempty"`
	DecryptorTrust string `json:"decryptorTrust,omitempty"`
	// ExtraVerifiers may download the signing public key straight from KMS:
	// account ids or IAM ARNs, in this or other accounts. Default: none.
	ExtraVerifiers []string `json:"extraVerifiers,omitempty"`
	// GrantVerify also lets the verifiers call kms:Verify. Default false.
	GrantVerify bool `json:"grantVerify,omitempty"`
	// FieldEncryption puts CloudFront, the Lambda@Edge encrypter and a
	// storing origin in front of the field-encryption key. Default: off.
	FieldEncryption *FieldEncryptionConfig `json:"fieldEncryption,omitempty"`
}

var (
	keyAliasRe  = regexp.MustCompile(`^[A-Za-z0-9/_-]{1,250}$`)
	principalRe = regexp.MustCompile(`^([0-9]{12}|arn:aws[a-z-]*:iam::[0-9]{12}:(root|(role|user)/[A-Za-z0-9+=,.@_/-]{1,512}))$`)
)

// validate checks the section; key is its dotted path, such as
// "environments.prod.asymmetricKeys". A nil section is valid.
func (c *AsymmetricKeysConfig) validate(key string) error {
	if c == nil {
		return nil
	}
	spec := func(field, v string, specs []awskms.KeySpec) error {
		if v == "" || slices.Contains(specs, awskms.KeySpec(v)) {
			return nil
		}
		names := make([]string, len(specs))
		for i, s := range specs {
			names[i] = string(s)
		}
		return errorf(key+"."+field, "expected one of %s, got %q", strings.Join(names, ", "), v)
	}
	if err := spec("signingKeySpec", c.SigningKeySpec, asymmetrickey.SigningKeySpecs); err != nil {
		return err
	}
	if err := spec("encryptionKeySpec", c.EncryptionKeySpec, asymmetrickey.EncryptionKeySpecs); err != nil {
		return err
	}
	for field, v := range map[string]string{"signingAlias": c.SigningAlias, "encryptionAlias": c.EncryptionAlias} {
		if v != "" && (!keyAliasRe.MatchString(v) || strings.HasPrefix(v, "alias/") || strings.HasPrefix(v, "aws/")) {
			return errorf(key+"."+field, "expected an alias name without alias/ (letters, digits, /, _ and -, not starting with aws/), got %q", v)
		}
	}
	if c.SigningAlias != "" && c.SigningAlias == c.EncryptionAlias {
		return errorf(key+".encryptionAlias", "expected an alias other than signingAlias, got %q for both", c.EncryptionAlias)
	}
	trusts := []struct{ field, v string }{
		{"signerTrust", c.SignerTrust}, {"verifierTrust", c.VerifierTrust},
		{"encryptorTrust", c.EncryptorTrust}, {"decryptorTrust", c.DecryptorTrust},
	}
	for i, v := range c.ExtraVerifiers {
		trusts = append(trusts, struct{ field, v string }{fmt.Sprintf("extraVerifiers[%d]", i), v})
		if v == "" {
			return errorf(key+fmt.Sprintf(".extraVerifiers[%d]", i), "expected a 12-digit account id or an IAM role or user ARN, got an empty string")
		}
	}
	for _, tr := range trusts {
		if tr.v != "" && !principalRe.MatchString(tr.v) {
			return errorf(key+"."+tr.field, "expected a 12-digit account id or an IAM role or user ARN, got %q", tr.v)
		}
	}
	return c.FieldEncryption.validate(key + ".fieldEncryption")
}

// withDefaults returns the section with every unset key at its default.
func (c *AsymmetricKeysConfig) withDefaults() AsymmetricKeysConfig {
	var out AsymmetricKeysConfig
	if c != nil {
		out = *c
	}
	if out.SigningKeySpec == "" {
		out.SigningKeySpec = DefaultSigningKeySpec
	}
	if out.SigningAlias == "" {
		out.SigningAlias = DefaultSigningAlias
	}
	if out.EncryptionKeySpec == "" {
		out.EncryptionKeySpec = DefaultEncryptionKeySpec
	}
	if out.EncryptionAlias == "" {
		out.EncryptionAlias = DefaultEncryptionAlias
	}
	return out
}

// principal turns a validated trust setting into a principal; "" is nil,
// which the construct reads as this account.
func principal(v string) awsiam.IPrincipal {
	switch {
	case v == "":
		return nil
	case !strings.HasPrefix(v, "arn:"):
		return awsiam.NewAccountPrincipal(jsii.String(v))
	}
	return awsiam.NewArnPrincipal(jsii.String(v))
}

// NewAsymmetricKeysStack builds <Env>-AsymmetricKeys: the seed's signing key
// (RSA_4096, alias sample-sign-verify-key) with SignerRole and
// OfflineVerifierRole, and a field-level encryption key (RSA_2048) with
// EncryptorRole, DecryptorRole and the decrypt Lambda. Both public keys are
// published to one bucket and to SSM parameters under
// /securestacks/<stack name>/. With a fieldEncryption section it adds the
// seed's edge system in front of the encryption key (constructs/
// fieldencryption): its edge function lives in us-east-1, in a support
// stack CDK adds when the environment is in another region. An invalid section panics with one line, which
// BuildApp turns into an error.
func NewAsymmetricKeysStack(scope constructs.Construct, id string, props *SystemProps) awscdk.Stack {
	if props == nil {
		props = &SystemProps{}
	}
	section := props.Config.AsymmetricKeys
	if err := section.validate("environments." + props.Config.Name + ".asymmetricKeys"); err != nil {
		panic(err.Error())
	}
	cfg := section.withDefaults()
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)

	paramPrefix := "/securestacks/" + *stack.StackName() + "/"

	var extra []awsiam.IPrincipal
	for _, v := range cfg.ExtraVerifiers {
		extra = append(extra, principal(v))
	}
	signing := asymmetrickey.NewSigningKey(stack, "SigningKey", &asymmetrickey.SigningKeyProps{
		KeyProps:       &awskms.KeyProps{KeySpec: awskms.KeySpec(cfg.SigningKeySpec)},
		Alias:          jsii.String(cfg.SigningAlias),
		SignerTrust:    principal(cfg.SignerTrust),
		VerifierTrust:  principal(cfg.VerifierTrust),
		ExtraVerifiers: extra,
		GrantVerify:    cfg.GrantVerify,
		// The signing key's publication makes the bucket and the logs key both keys use.
		Publication: &asymmetrickey.PublicationProps{
			ObjectKeyPrefix: jsii.String("signing-key/"),
			ParameterName:   jsii.String(paramPrefix + "signing-key/public-key"),
		},
	})
	bucket, logsKey := signing.Publication.Bucket, signing.Publication.LogsKey
	fields := asymmetrickey.NewEncryptionKey(stack, "EncryptionKey", &asymmetrickey.EncryptionKeyProps{
		KeyProps:       &awskms.KeyProps{KeySpec: awskms.KeySpec(cfg.EncryptionKeySpec)},
		Alias:          jsii.String(cfg.EncryptionAlias),
		EncryptorTrust: principal(cfg.EncryptorTrust),
		DecryptorTrust: principal(cfg.DecryptorTrust),
		LogsKey:        logsKey,
		Publication: &asymmetrickey.PublicationProps{
			ExistingBucket:  bucket,
			ObjectKeyPrefix: jsii.String("encryption-key/"),
			ParameterName:   jsii.String(paramPrefix + "encryption-key/public-key"),
			LogsKey:         logsKey,
		},
	})

	if cfg.FieldEncryption != nil {
		addFieldEncryption(stack, fields, cfg.FieldEncryption)
	}

	outputs := []struct {
		name, description string
		value             *string
	}{
		{"SigningKeyArn", "ARN of the signing key (kms sign/verify --key-id)", signing.Key.KeyArn()},
		{"SigningKeyAlias", "Alias of the signing key", signing.AliasName},
		{"SignerRoleArn", "Role that may call kms:Sign on the signing key", signing.SignerRole.RoleArn()},
		{"OfflineVerifierRoleArn", "Role that may download the signing public key", signing.OfflineVerifierRole.RoleArn()},
		{"SigningPublicKeyParameter", "SSM parameter holding the signing public key (PEM)", signing.Publication.ParameterName},
		{"SigningPublicKeyPemObject", "S3 key of the signing public key (PEM) in PublicKeyBucketName", signing.Publication.PEMObjectKey},
		{"EncryptionKeyArn", "ARN of the field-level encryption key (fle decrypt --key-id)", fields.Key.KeyArn()},
		{"EncryptionKeyAlias", "Alias of the field-level encryption key", fields.AliasName},
		{"EncryptorRoleArn", "Role that may download the encryption public key", fields.EncryptorRole.RoleArn()},
		{"DecryptorRoleArn", "Role that may call kms:Decrypt with RSAES_OAEP_SHA_256", fields.DecryptorRole.RoleArn()},
		{"DecryptFunctionName", "Field-level decryption Lambda (each request needs an fle.Authorization: kms:GenerateMac under DecryptInvokeKeyArn)", fields.DecryptFunction.FunctionName()},
		{"DecryptInvokeKeyArn", "HMAC key whose GenerateMac authorizes decrypt-function requests", fields.InvokeKey.KeyArn()},
		{"EncryptionPublicKeyParameter", "SSM parameter holding the encryption public key (PEM)", fields.Publication.ParameterName},
		{"EncryptionPublicKeyPemObject", "S3 key of the encryption public key (PEM) in PublicKeyBucketName", fields.Publication.PEMObjectKey},
		{"PublicKeyBucketName", "Bucket holding both public keys as DER and PEM", bucket.BucketName()},
	}
	for _, o := range outputs {
		awscdk.NewCfnOutput(stack, jsii.String(o.name), &awscdk.CfnOutputProps{Description: jsii.String(o.description), Value: o.value})
	}
	return stack
}
