package asymmetrickey

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/customresources"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/gofunction"
	"github.com/securestacks/securestacks/constructs/internal/customresource"
	"github.com/securestacks/securestacks/constructs/internal/defaults"
	"github.com/securestacks/securestacks/internal/nag"
)

// PublicKeyHandlerEntry is the Go import path of the publication custom
// resource's handler, built by GoFunction in the app's module.
const PublicKeyHandlerEntry = "github.com/securestacks/securestacks/lambda-src/kms-public-key"

// PublicKeyResourceType is the CloudFormation type of Publication.Resource.
const PublicKeyResourceType = "Custom::KmsPublicKey"

// Object names the publication writes under ObjectKeyPrefix.
const (
	DERObjectName = "public-key.der"
	PEMObjectName = "public-key.pem"
)

// PublicationProps configures a Publication.
type PublicationProps struct {
	// Key is the asymmetric KMS key whose public half is published. Required
	// for NewPublication; SigningKey and EncryptionKey set it to their own
	// key, and a different Key there panics.
	Key awskms.IKey
	// ExistingBucket receives the DER and PEM objects. Default: a new bucket
	// from the secure defaults (versioned, TLS only, public access blocked,
	// server access logs), encrypted with SSE-S3 so that readers need no KMS
	// permission. Conflicts with BucketProps.
	ExistingBucket awss3.IBucket
	// BucketProps override the defaults of the new bucket (a value set here
	// wins, except TLS and public-access settings, which are forced; an
	// Encryption or EncryptionKey set here replaces SSE-S3, and then readers
	// need kms:Decrypt, which GrantRead adds). Conflicts with ExistingBucket.
	BucketProps *awss3.BucketProps
	// ObjectKeyPrefix is prepended to DERObjectName and PEMObjectName: empty
	// or ending in "/". Default "public-keys/<stack name>/<unique id>/".
	ObjectKeyPrefix *string
	// ParameterName is the SSM String parameter that receives the PEM, such
	// as "/keys/signing". Default
	// "/securestacks/public-keys/<stack name>/<unique id>". Must be a
	// literal, because the publisher's IAM policy names it.
	ParameterName *string
	// RemovalPolicy decides what deleting the publication does to the
	// copies: RETAIN (default) leaves them, so signatures stay verifiable
	// after the stack is gone; DESTROY deletes them. Other values panic.
	RemovalPolicy awscdk.RemovalPolicy
	// LogsKey encrypts the log groups of the publisher's functions. Default:
	// a new key from defaults.LogsKey.
	LogsKey awskms.IKey
}

// Publication copies a KMS key's public half, on every deploy that creates or
// changes it, to S3 as DER and PEM and to an SSM String parameter as PEM.
type Publication struct {
	constructs.Construct
	// Bucket holds the DER and PEM objects: ExistingBucket or the new bucket.
	Bucket awss3.IBucket
	// DERObjectKey and PEMObjectKey are the objects' keys in Bucket.
	DERObjectKey *string
	PEMObjectKey *string
	// ParameterName and ParameterArn name the SSM parameter holding the PEM.
	ParameterName *string
	ParameterArn  *string
	// Function is the kms-public-key handler; FunctionRole its role, whose
	// only permissions are FunctionPolicy.
	Function       *gofunction.GoFunction
	FunctionRole   awsiam.Role
	FunctionPolicy awsiam.ManagedPolicy
	// LogsKey encrypts the log groups of Function and Provider:
	// PublicationProps.LogsKey or the key made for them.
	LogsKey awskms.IKey
	// Provider is the CDK provider framework in front of Function.
	Provider customresources.Provider
	// Resource is the custom resource. Its attributes: KeyArn, KeySpec,
	// DerObjectKey, PemObjectKey, ParameterName, PublicKeySha256.
	Resource awscdk.CustomResource
}

var (
	parameterNameRe = regexp.MustCompile(`^/?[A-Za-z0-9_.\-/]{1,1000}$`)
	objectPrefixRe  = regexp.MustCompile(`^([A-Za-z0-9!_.*'()/-]{0,900}/)?$`)
)

// NewPublication defines a Publication at scope/id. props.Key is required.
func NewPublication(scope constructs.Construct, id string, props *PublicationProps) *Publication {
	if props == nil || props.Key == nil {
		panic("asymmetrickey: Publication needs Key, the KMS key whose public half it publishes")
	}
	p := &Publication{}
	constructs.NewConstruct_Override(p, scope, jsii.String(id))
	stack := awscdk.Stack_Of(p)
	uid := *awscdk.Names_UniqueId(p)

	if props.ExistingBucket != nil && props.BucketProps != nil {
		panic("asymmetrickey: Publication: ExistingBucket conflicts with BucketProps; set one")
	}
	removal := props.RemovalPolicy
	switch removal {
	case "":
		removal = awscdk.RemovalPolicy_RETAIN
	case awscdk.RemovalPolicy_RETAIN, awscdk.RemovalPolicy_DESTROY:
	default:
		panic(fmt.Sprintf("asymmetrickey: Publication RemovalPolicy: expected RETAIN or DESTROY, got %s", removal))
	}
	prefix := "public-keys/" + *stack.StackName() + "/" + uid + "/"
	if props.ObjectKeyPrefix != nil {
		prefix = *props.ObjectKeyPrefix
		if !*awscdk.Token_IsUnresolved(jsii.String(prefix)) && !objectPrefixRe.MatchString(prefix) {
			panic(fmt.Sprintf("asymmetrickey: Publication ObjectKeyPrefix: expected empty or a key prefix ending in /, got %q", prefix))
		}
	}
	param := "/securestacks/public-keys/" + *stack.StackName() + "/" + uid
	if props.ParameterName != nil {
		param = *props.ParameterName
		if *awscdk.Token_IsUnresolved(jsii.String(param)) || !parameterNameRe.MatchString(param) {
			panic(fmt.Sprintf("asymmetrickey: Publication ParameterName: expected a literal SSM parameter name such as /keys/signing, got %q", param))
		}
	}

	if props.ExistingBucket != nil {
		p.Bucket = props.ExistingBucket
	} else {
		p.Bucket = newPublicKeyBucket(p, props.BucketProps)
	}
	p.DERObjectKey = jsii.String(prefix + DERObjectName)
	p.PEMObjectKey = jsii.String(prefix + PEMObjectName)
	p.ParameterName = jsii.String(param)
	p.ParameterArn = stack.FormatArn(&awscdk.ArnComponents{
		Service:      jsii.String("ssm"),
		Resource:     jsii.String("parameter"),
		ResourceName: jsii.String(strings.TrimPrefix(param, "/")),
	})

	logsKey := props.LogsKey
	if logsKey == nil {
		logsKey = defaults.LogsKey(p, "LogsKey")
	}
	p.LogsKey = logsKey
	logGroup := defaults.LogGroup(p, "FunctionLogGroup", &awslogs.LogGroupProps{EncryptionKey: logsKey})

	objectArns := []*string{p.Bucket.ArnForObjects(p.DERObjectKey), p.Bucket.ArnForObjects(p.PEMObjectKey)}
	objectActions := []string{"s3:PutObject"}
	paramActions := []string{"ssm:PutParameter"}
	if removal == awscdk.RemovalPolicy_DESTROY {
		objectActions = append(objectActions, "s3:DeleteObject")
		paramActions = append(paramActions, "ssm:DeleteParameter")
	}
	statements := []awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("ReadThePublicKey"),
			Actions:   jsii.Strings("kms:GetPublicKey"),
			Resources: jsii.Strings(*props.Key.KeyArn()),
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("WriteTheKeyObjects"),
			Actions:   jsii.Strings(objectActions...),
			Resources: &objectArns,
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("WriteTheKeyParameter"),
			Actions:   jsii.Strings(paramActions...),
			Resources: jsii.Strings(*p.ParameterArn),
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("Logs"),
			Actions:   jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"),
			Resources: jsii.Strings(*logGroup.LogGroupArn()),
		}),
	}
	if bucketKey := p.Bucket.EncryptionKey(); bucketKey != nil {
		// SSE-KMS: S3 asks KMS for a data key on the writer's behalf.
		statements = append(statements, awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("EncryptTheKeyObjects"),
			Actions:   jsii.Strings("kms:GenerateDataKey"),
			Resources: jsii.Strings(*bucketKey.KeyArn()),
		}))
	}
	p.FunctionRole = awsiam.NewRole(p, jsii.String("FunctionRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("Publishes the public half of a KMS asymmetric key to S3 and SSM"),
	})
	p.FunctionPolicy = awsiam.NewManagedPolicy(p, jsii.String("FunctionPolicy"), &awsiam.ManagedPolicyProps{
		Description: jsii.String("Read one KMS public key and write its published copies"),
		Roles:       &[]awsiam.IRole{p.FunctionRole},
		Statements:  &statements,
	})
	p.Function = gofunction.NewGoFunction(p, "Function", &gofunction.GoFunctionProps{
		Entry: jsii.String(PublicKeyHandlerEntry),
		FunctionProps: &awslambda.FunctionProps{
			Description: jsii.String("Publishes a KMS public key to S3 and SSM (custom resource)"),
			// The managed policy above is the whole of the role's permissions.
			Role:       p.FunctionRole.WithoutPolicyUpdates(nil),
			LogGroup:   logGroup,
			Timeout:    awscdk.Duration_Minutes(jsii.Number(2)),
			MemorySize: jsii.Number(128),
			// A deploy-time function: traces would need an X-Ray grant on "*" for no insight.
			Tracing: awslambda.Tracing_DISABLED,
		},
	})
	p.Function.Node().AddDependency(p.FunctionPolicy)
	customresource.SuppressHandler(p.Function, "Calls only the KMS, S3 and SSM public APIs and reaches no VPC resource; a VPC would add endpoints or NAT and no isolation")

	p.Provider = customresource.NewProvider(p, "Provider", p.Function, logsKey)

	removalProp := "retain"
	if removal == awscdk.RemovalPolicy_DESTROY {
		removalProp = "destroy"
	}
	p.Resource = awscdk.NewCustomResource(p, jsii.String("Resource"), &awscdk.CustomResourceProps{
		ServiceToken: p.Provider.ServiceToken(),
		ResourceType: jsii.String(PublicKeyResourceType),
		Properties: &map[string]any{
			"KeyId":           props.Key.KeyArn(),
			"BucketName":      p.Bucket.BucketName(),
			"ObjectKeyPrefix": prefix,
			"ParameterName":   param,
			"RemovalPolicy":   removalProp,
		},
	})
	p.Resource.Node().AddDependency(p.FunctionPolicy)
	return p
}

// newPublicKeyBucket is defaults.Bucket with SSE-S3 unless bp chooses an
// encryption: a public key is no secret, and under SSE-KMS every verifier
// would need kms:Decrypt on the bucket's key, the KMS access the
// publication exists to avoid.
func newPublicKeyBucket(p *Publication, bp *awss3.BucketProps) awss3.Bucket {
	var props awss3.BucketProps
	if bp != nil {
		props = *bp
	}
	sseS3 := props.Encryption == "" && props.EncryptionKey == nil
	if sseS3 {
		props.Encryption = awss3.BucketEncryption_S3_MANAGED
		// S3 Bucket Keys apply to SSE-KMS only.
		props.BucketKeyEnabled = jsii.Bool(false)
	}
	b := defaults.Bucket(p, "Bucket", &props)
	if sseS3 {
		const reason = "The bucket holds only public keys, which are no secret: SSE-S3 lets verifiers read them with s3:GetObject alone, where SSE-KMS would make every verifier need kms:Decrypt, the KMS access publishing exists to avoid"
		nag.Suppress(b,
			nag.Rule{ID: "NIST.800.53.R5-S3DefaultEncryptionKMS", Reason: reason},
			nag.Rule{ID: "HIPAA.Security-S3DefaultEncryptionKMS", Reason: reason},
		)
	}
	return b
}

// GrantRead lets grantee read the published copies: s3:GetObject on the two
// objects and ssm:GetParameter on the parameter, plus kms:Decrypt on the
// bucket's key only for an SSE-KMS bucket you chose (the default bucket is
// SSE-S3). No KMS permission on the published
// key itself is involved: that is the point of publishing it.
func (p *Publication) GrantRead(grantee awsiam.IGrantable) awsiam.Grant {
	grant := awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee:      grantee,
		Actions:      jsii.Strings("s3:GetObject"),
		ResourceArns: &[]*string{p.Bucket.ArnForObjects(p.DERObjectKey), p.Bucket.ArnForObjects(p.PEMObjectKey)},
	})
	grant = grant.Combine(awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee:      grantee,
		Actions:      jsii.Strings("ssm:GetParameter"),
		ResourceArns: &[]*string{p.ParameterArn},
	}))
	if key := p.Bucket.EncryptionKey(); key != nil {
		grant = grant.Combine(awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
			Grantee:      grantee,
			Actions:      jsii.Strings("kms:Decrypt"),
			ResourceArns: &[]*string{key.KeyArn()},
		}))
	}
	return grant
}
