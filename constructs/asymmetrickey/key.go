package asymmetrickey

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

	"github.com/securestacks/securestacks/constructs/internal/defaults"
)

// SigningKeySpecs are the key specs a SigningKey accepts: every KMS RSA and
// ECC signing spec.
var SigningKeySpecs = []awskms.KeySpec{
	awskms.KeySpec_RSA_2048, awskms.KeySpec_RSA_3072, awskms.KeySpec_RSA_4096,
	awskms.KeySpec_ECC_NIST_P256, awskms.KeySpec_ECC_NIST_P384, awskms.KeySpec_ECC_NIST_P521,
	awskms.KeySpec_ECC_SECG_P256K1,
}

// EncryptionKeySpecs are the key specs an EncryptionKey accepts: the KMS RSA
// specs, all of which support RSAES_OAEP_SHA_256.
var EncryptionKeySpecs = []awskms.KeySpec{awskms.KeySpec_RSA_2048, awskms.KeySpec_RSA_3072, awskms.KeySpec_RSA_4096}

// DefaultPendingWindowDays is the waiting period before KMS deletes a key
// scheduled for deletion: the maximum, because nothing signed or encrypted
// under a deleted key can be verified or decrypted again.
const DefaultPendingWindowDays = 30

var aliasRe = regexp.MustCompile(`^alias/[A-Za-z0-9/_-]{1,250}$`)

// keySettings is what differs between the signing and the encryption key.
type keySettings struct {
	kind        string // "SigningKey" or "EncryptionKey", for messages
	usage       awskms.KeyUsage
	specs       []awskms.KeySpec
	defaultSpec awskms.KeySpec
	description string
}

// newAsymmetricKey merges defaults, the user's KeyProps and the forced values,
// validates the spec and creates the key and its alias.
func newAsymmetricKey(scope constructs.Construct, s keySettings, props *awskms.KeyProps, alias *string) (awskms.Key, awskms.Alias, *string) {
	p := awskms.KeyProps{}
	if props != nil {
		p = *props
	}
	if p.Alias != nil {
		panic(fmt.Sprintf("asymmetrickey: %s KeyProps.Alias conflicts with Alias; set Alias", s.kind))
	}
	if p.KeyUsage != "" && p.KeyUsage != s.usage {
		panic(fmt.Sprintf("asymmetrickey: %s KeyProps.KeyUsage: expected %s (or unset), got %s", s.kind, s.usage, p.KeyUsage))
	}
	if p.KeySpec == "" {
		p.KeySpec = s.defaultSpec
	}
	if !slices.Contains(s.specs, p.KeySpec) {
		names := make([]string, len(s.specs))
		for i, k := range s.specs {
			names[i] = string(k)
		}
		panic(fmt.Sprintf("asymmetrickey: %s KeyProps.KeySpec: KMS keys with usage %s take one of %s, got %s", s.kind, s.usage, strings.Join(names, ", "), p.KeySpec))
	}
	if p.EnableKeyRotation != nil && *p.EnableKeyRotation {
		panic(fmt.Sprintf("asymmetrickey: %s KeyProps.EnableKeyRotation: KMS cannot rotate asymmetric keys; leave it unset", s.kind))
	}
	if p.RotationPeriod != nil {
		panic(fmt.Sprintf("asymmetrickey: %s KeyProps.RotationPeriod: KMS cannot rotate asymmetric keys; leave it unset", s.kind))
	}
	p.KeyUsage = s.usage
	p.EnableKeyRotation = jsii.Bool(false)
	if p.Description == nil {
		p.Description = jsii.String(s.description)
	}
	if p.PendingWindow == nil {
		p.PendingWindow = awscdk.Duration_Days(jsii.Number(DefaultPendingWindowDays))
	}
	// defaults.Key adds RemovalPolicy RETAIN where unset.
	key := defaults.Key(scope, "Key", &p)

	name := ""
	if alias != nil {
		name = *alias
		if !strings.HasPrefix(name, "alias/") {
			name = "alias/" + name
		}
	} else {
		stack := awscdk.Stack_Of(scope)
		name = "alias/" + *stack.StackName() + "/" + *scope.Node().Id()
	}
	if !*awscdk.Token_IsUnresolved(jsii.String(name)) && (!aliasRe.MatchString(name) || strings.HasPrefix(name, "alias/aws/")) {
		panic(fmt.Sprintf("asymmetrickey: %s Alias: expected letters, digits, /, _ or - after alias/ (and not alias/aws/), got %q", s.kind, name))
	}
	a := awskms.NewAlias(scope, jsii.String("Alias"), &awskms.AliasProps{AliasName: jsii.String(name), TargetKey: key})
	return key, a, jsii.String(name)
}

// newRole creates a role trusted by trust (default: this account) whose only
// permissions are one managed policy with statements.
func newRole(scope constructs.Construct, id string, trust awsiam.IPrincipal, description string, statements ...awsiam.PolicyStatement) (awsiam.Role, awsiam.ManagedPolicy) {
	if trust == nil {
		trust = awsiam.NewAccountRootPrincipal()
	}
	role := awsiam.NewRole(scope, jsii.String(id), &awsiam.RoleProps{AssumedBy: trust, Description: jsii.String(description)})
	policy := awsiam.NewManagedPolicy(scope, jsii.String(id+"Policy"), &awsiam.ManagedPolicyProps{
		Description: jsii.String(description),
		Roles:       &[]awsiam.IRole{role},
		Statements:  &statements,
	})
	return role, policy
}

// allow is a statement for one key: in an identity policy the resource is
// the key's ARN; in the key policy it is "*", which there means this key.
func allow(sid string, resource *string, principals []awsiam.IPrincipal, conditions map[string]any, actions ...string) awsiam.PolicyStatement {
	p := &awsiam.PolicyStatementProps{
		Sid:       jsii.String(sid),
		Actions:   jsii.Strings(actions...),
		Resources: jsii.Strings(*resource),
	}
	if len(principals) > 0 {
		p.Principals = &principals
	}
	if conditions != nil {
		p.Conditions = &conditions
	}
	return awsiam.NewPolicyStatement(p)
}

// publicationFor applies the key to the user's publication props.
func publicationFor(scope constructs.Construct, kind string, key awskms.IKey, props *PublicationProps) *Publication {
	p := PublicationProps{}
	if props != nil {
		p = *props
	}
	if p.Key != nil {
		panic(fmt.Sprintf("asymmetrickey: %s Publication.Key: the %s publishes its own key; leave Key unset", kind, kind))
	}
	p.Key = key
	return NewPublication(scope, "Publication", &p)
}
