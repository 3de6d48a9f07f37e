package asymmetrickey

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// SigningKeyProps configures a SigningKey. A nil *SigningKeyProps means all
// defaults.
type SigningKeyProps struct {
	// KeyProps override the key defaults: KeySpec RSA_4096 (any of
	// SigningKeySpecs), RemovalPolicy RETAIN, PendingWindow
	// DefaultPendingWindowDays, a description. Forced: KeyUsage SIGN_VERIFY
	// and no rotation (KMS cannot rotate asymmetric keys). Conflicts (panic):
	// another KeySpec or KeyUsage, EnableKeyRotation true, RotationPeriod,
	// and Alias (use the Alias field).
	KeyProps *awskms.KeyProps
	// Alias names the key, with or without the "alias/" prefix, such as the
	// seed's "sample-sign-verify-key". Default "alias/<stack name>/<id>".
	Alias *string
	// SignerTrust is who may assume SignerRole. Default: this account
	// (awsiam.NewAccountRootPrincipal), so IAM decides who in it may.
	SignerTrust awsiam.IPrincipal
	// VerifierTrust is who may assume OfflineVerifierRole. Default: this
	// account.
	VerifierTrust awsiam.IPrincipal
	// ExtraVerifiers may download the public key (kms:GetPublicKey and
	// kms:DescribeKey) through the key policy, without a role: principals
	// of this or other accounts, e.g. awsiam.NewAccountPrincipal("444455556666").
	// Default: none.
	ExtraVerifiers []awsiam.IPrincipal
	// GrantVerify also allows OfflineVerifierRole and ExtraVerifiers
	// kms:Verify, for verifiers that prefer asking KMS to checking offline.
	// Default false: verification is offline, with the public key.
	GrantVerify bool
	// Publication configures where the public key is published (bucket,
	// object prefix, parameter, removal policy). Default: see
	// PublicationProps. Its Key must be left unset.
	Publication *PublicationProps
}

// SigningKey is a KMS SIGN_VERIFY key whose private half signs only for
// SignerRole and whose public half anyone trusted may verify with offline.
type SigningKey struct {
	constructs.Construct
	// Key is the KMS key (KeyUsage SIGN_VERIFY). Its key policy gives
	// administration (kms:*) to the account, as CDK's default, and use only
	// to the roles below and ExtraVerifiers.
	Key awskms.Key
	// Alias is the key's alias.
	Alias awskms.Alias
	// AliasName is the alias's name, "alias/..." (a literal, unlike
	// Alias.AliasName(), which may be a reference).
	AliasName *string
	// SignerRole may call kms:Sign and kms:DescribeKey on Key, nothing else.
	SignerRole awsiam.Role
	// SignerPolicy is SignerRole's only policy.
	SignerPolicy awsiam.ManagedPolicy
	// OfflineVerifierRole may call kms:GetPublicKey and kms:DescribeKey on
	// Key (and kms:Verify with GrantVerify), nothing else.
	OfflineVerifierRole awsiam.Role
	// OfflineVerifierPolicy is OfflineVerifierRole's only policy.
	OfflineVerifierPolicy awsiam.ManagedPolicy
	// Publication publishes the public key to S3 and SSM.
	Publication *Publication
}

// NewSigningKey defines a SigningKey at scope/id.
func NewSigningKey(scope constructs.Construct, id string, props *SigningKeyProps) *SigningKey {
	if props == nil {
		props = &SigningKeyProps{}
	}
	s := &SigningKey{}
	constructs.NewConstruct_Override(s, scope, jsii.String(id))
	s.Key, s.Alias, s.AliasName = newAsymmetricKey(s, keySettings{
		kind:        "SigningKey",
		usage:       awskms.KeyUsage_SIGN_VERIFY,
		specs:       SigningKeySpecs,
		defaultSpec: awskms.KeySpec_RSA_4096,
		description: "Digital signatures; verifiers check them offline with the published public key",
	}, props.KeyProps, props.Alias)

	arn := s.Key.KeyArn()
	verify := []string{"kms:GetPublicKey", "kms:DescribeKey"}
	if props.GrantVerify {
		verify = append(verify, "kms:Verify")
	}
	s.SignerRole, s.SignerPolicy = newRole(s, "SignerRole", props.SignerTrust, "Signs with one KMS key: kms:Sign only",
		allow("SignWithTheKey", arn, nil, nil, "kms:Sign", "kms:DescribeKey"))
	s.OfflineVerifierRole, s.OfflineVerifierPolicy = newRole(s, "OfflineVerifierRole", props.VerifierTrust,
		"Downloads one KMS public key to verify signatures offline",
		allow("DownloadThePublicKey", arn, nil, nil, verify...))

	// The seed's key policy statements, so that use rests on the key policy
	// as well as on IAM.
	all := jsii.String("*")
	s.Key.AddToResourcePolicy(allow("Allow use of the key pair for digital signing", all,
		[]awsiam.IPrincipal{s.SignerRole}, nil, "kms:Sign", "kms:DescribeKey"), jsii.Bool(false))
	s.Key.AddToResourcePolicy(allow("Allow plaintext download of the public portion of the key pair", all,
		[]awsiam.IPrincipal{s.OfflineVerifierRole}, nil, verify...), jsii.Bool(false))
	if len(props.ExtraVerifiers) > 0 {
		s.Key.AddToResourcePolicy(allow("Allow other verifiers to download the public portion of the key pair", all,
			props.ExtraVerifiers, nil, verify...), jsii.Bool(false))
	}

	s.Publication = publicationFor(s, "SigningKey", s.Key, props.Publication)
	return s
}

// GrantPublicKeyRead lets grantee read the published public key from S3 and
// SSM (see Publication.GrantRead): offline verification without any KMS
// permission on Key.
func (s *SigningKey) GrantPublicKeyRead(grantee awsiam.IGrantable) awsiam.Grant {
	return s.Publication.GrantRead(grantee)
}
