package fieldencryption

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscertificatemanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudfront"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudfront/experimental"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudfrontorigins"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/asymmetrickey"
	"github.com/securestacks/securestacks/constructs/gofunction"
	"github.com/securestacks/securestacks/constructs/internal/defaults"
	"github.com/securestacks/securestacks/internal/nag"
)

// StoreHandlerEntry is the Go import path of the origin handler, built by
// GoFunction in the app's module.
const StoreHandlerEntry = "github.com/securestacks/securestacks/lambda-src/fieldencryption-store"

//go:embed edge/index.js
var edgeSource []byte

// EdgeRuntime is the edge function's runtime, the Node.js the tests run
// (npm node 24). Lambda@Edge "supports the latest versions of Node.js and
// Python runtimes", x86_64 only:
// https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-at-edge-function-restrictions.html
// A function, not a variable: a jsii call at package init would start the
// jsii runtime before an app could choose its working directory.
func EdgeRuntime() awslambda.Runtime { return awslambda.Runtime_NODEJS_24_X() }

// FieldEncryptionProps configures a FieldEncryption. Edge and EncryptionKey
// are required.
type FieldEncryptionProps struct {
	// EncryptionKey is the KMS key of key id 01 and the one decryption path:
	// its DecryptFunction (each request authorized by a MAC under its
	// InvokeKey) and DecryptorRole. Required. Edge.Keys["01"] must be its
	// public key (see the README's two-phase deploy).
	EncryptionKey *asymmetrickey.EncryptionKey
	// Edge is the edge encrypter's configuration, embedded in its bundle at
	// synth: the public keys by key id and the field rules. Required.
	Edge EdgeConfig
	// Certificate and DomainNames give the distribution your own names, which
	// lets it enforce TLSv1.2_2021 (MinimumProtocolVersion). Default: the
	// *.cloudfront.net name and certificate, whose TLS policy CloudFront
	// fixes. The certificate must be in us-east-1.
	Certificate awscertificatemanager.ICertificate
	DomainNames []*string
	// WebAclId attaches a WAF web ACL (scope CLOUDFRONT, in us-east-1): its
	// ARN. Default none.
	WebAclId *string
	// StoreFunctionProps override the origin function's settings. Forced:
	// Environment BUCKET and KMS_KEY_ID. Default 256 MB, 10 s.
	StoreFunctionProps *awslambda.FunctionProps
	// ExistingLogBucket receives the distribution's standard access logs.
	// Default: a new bucket (ACLs enabled, which CloudFront standard logging
	// requires).
	ExistingLogBucket awss3.IBucket
}

// FieldEncryption is the seed's system: CloudFront, a Lambda@Edge encrypter
// on the origin-request event with IncludeBody, and an origin that stores
// the protected body. Plaintext comes back only through EncryptionKey.
type FieldEncryption struct {
	constructs.Construct
	// Distribution is HTTPS only, with access logs, caching disabled and the
	// edge encrypter on origin request.
	Distribution awscloudfront.Distribution
	// EdgeFunction is the encrypter (in us-east-1); EdgeVersion the version
	// the distribution runs.
	EdgeFunction awslambda.IFunction
	EdgeVersion  awslambda.IVersion
	// StoreFunction is the origin; StoreFunctionUrl its URL (AuthType
	// AWS_IAM), which only this distribution may invoke, through OAC.
	StoreFunction    *gofunction.GoFunction
	StoreFunctionUrl awslambda.FunctionUrl
	// Bucket holds the protected bodies under BucketKey (SSE-KMS).
	Bucket    awss3.Bucket
	BucketKey awskms.IKey
	// LogBucket receives the distribution's access logs.
	LogBucket awss3.IBucket
	// EncryptionKey is the props' key.
	EncryptionKey *asymmetrickey.EncryptionKey
}

// NewFieldEncryption defines a FieldEncryption at scope/id. Missing or
// invalid props panic with one line prefixed "fieldencryption:".
//
// When the stack's region is a concrete region, the edge function is a
// CDK experimental.EdgeFunction: in us-east-1 itself, or elsewhere in a
// support stack CDK adds in us-east-1. In an environment-agnostic stack it is
// a plain function of the same stack, so that template deploys in us-east-1
// only (CloudFront refuses an edge function from another region).
func NewFieldEncryption(scope constructs.Construct, id string, props *FieldEncryptionProps) *FieldEncryption {
	if props == nil || props.EncryptionKey == nil {
		panic("fieldencryption: EncryptionKey is required: the KMS key of marker 01 and its decrypt function")
	}
	if props.EncryptionKey.DecryptFunction == nil {
		panic("fieldencryption: EncryptionKey must have its DecryptFunction (NoDecryptFunction unset): it is the authorized decryption path")
	}
	if err := props.Edge.Validate(); err != nil {
		panic(oneLine(err))
	}
	for id := range props.Edge.Keys {
		if _, ok := props.EncryptionKey.MarkerKeys[id]; id != DefaultKeyID && !ok {
			panic(fmt.Sprintf("fieldencryption: Edge.Keys[%s]: no KMS key decrypts marker #%s#: add its key to the EncryptionKey's MarkerKeys", id, id))
		}
	}
	if (props.Certificate == nil) != (len(props.DomainNames) == 0) {
		panic("fieldencryption: Certificate and DomainNames go together: set both or neither")
	}
	f := &FieldEncryption{EncryptionKey: props.EncryptionKey}
	constructs.NewConstruct_Override(f, scope, jsii.String(id))

	f.Bucket = defaults.Bucket(f, "ProtectedBodies", nil)
	f.BucketKey = f.Bucket.EncryptionKey()
	f.newStore(props)
	f.newEdge(props)
	f.newDistribution(props)
	return f
}

func (f *FieldEncryption) newStore(props *FieldEncryptionProps) {
	fp := awslambda.FunctionProps{}
	if props.StoreFunctionProps != nil {
		fp = *props.StoreFunctionProps
	}
	if fp.Description == nil {
		fp.Description = jsii.String("Field-encryption origin: stores bodies the edge encrypter protected, SSE-KMS")
	}
	if fp.MemorySize == nil {
		fp.MemorySize = jsii.Number(256)
	}
	if fp.Timeout == nil {
		fp.Timeout = awscdk.Duration_Seconds(jsii.Number(10))
	}
	env := map[string]*string{}
	if fp.Environment != nil {
		for k, v := range *fp.Environment {
			env[k] = v
		}
	}
	env["BUCKET"] = f.Bucket.BucketName()
	env["KMS_KEY_ID"] = f.BucketKey.KeyArn()
	fp.Environment = &env
	f.StoreFunction = gofunction.NewGoFunction(f, "StoreFunction", &gofunction.GoFunctionProps{
		Entry:         jsii.String(StoreHandlerEntry),
		FunctionProps: &fp,
	})
	// Write only, and only under records/: the origin never reads a body back.
	// SSE-KMS PutObject needs kms:GenerateDataKey on the bucket key (with
	// S3 Bucket Keys too): https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html
	f.StoreFunction.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: jsii.String("StoreProtectedBodies"), Actions: jsii.Strings("s3:PutObject"),
		Resources: jsii.Strings(*f.Bucket.ArnForObjects(jsii.String("records/*"))),
	}))
	f.StoreFunction.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: jsii.String("EncryptProtectedBodies"), Actions: jsii.Strings("kms:GenerateDataKey"),
		Resources: jsii.Strings(*f.BucketKey.KeyArn()),
	}))
	nag.SuppressTree(f.StoreFunction.Role(), nag.Rule{ID: "AwsSolutions-IAM5",
		Reason:    "Each request is a new object named by its request id, so the origin may put any object under records/ and nothing else",
		AppliesTo: []string{"Resource::<" + *awscdk.Stack_Of(f).GetLogicalId(f.Bucket.Node().DefaultChild().(awscdk.CfnElement)) + ".Arn>/records/*"}})
	f.StoreFunctionUrl = f.StoreFunction.AddFunctionUrl(&awslambda.FunctionUrlOptions{AuthType: awslambda.FunctionUrlAuthType_AWS_IAM})
	const behindCloudFront = "The origin answers only CloudFront, synchronously"
	nag.Suppress(f.StoreFunction, slices.Concat(
		nag.NISTAndHIPAA("LambdaConcurrency", behindCloudFront+"; the distribution and WAF bound the request rate, and reserving concurrency would take it from the account pool"),
		nag.NISTAndHIPAA("LambdaDLQ", behindCloudFront+"; a dead-letter queue applies to asynchronous invocations only"),
		nag.NISTAndHIPAA("LambdaInsideVPC", "Calls only the S3 and KMS public APIs and reaches no VPC resource; a VPC would add endpoints or NAT and no isolation"),
	)...)
}

// edgeBundle writes index.js and config.json into a directory named by their
// hash, so the same configuration always makes the same asset.
func edgeBundle(cfg EdgeConfig) string {
	config, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		panic("fieldencryption: edge config: " + err.Error())
	}
	sum := sha256.Sum256(append(append([]byte{}, edgeSource...), config...))
	dir := filepath.Join(os.TempDir(), "securestacks-fieldencryption-edge-"+hex.EncodeToString(sum[:8]))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		panic("fieldencryption: edge bundle: " + err.Error())
	}
	for name, b := range map[string][]byte{"index.js": edgeSource, "config.json": config} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			panic("fieldencryption: edge bundle: " + err.Error())
		}
	}
	return dir
}

func (f *FieldEncryption) newEdge(props *FieldEncryptionProps) {
	code := awslambda.Code_FromAsset(jsii.String(edgeBundle(props.Edge)), nil)
	const description = "Field-level encryption at the edge (origin request, include body): RSA-OAEP SHA-256 markers #<key id>#...#10#"
	stack := awscdk.Stack_Of(f)
	if *awscdk.Token_IsUnresolved(stack.Region()) {
		// Environment-agnostic: the whole template goes to us-east-1.
		fn := awslambda.NewFunction(f, jsii.String("EdgeFunction"), &awslambda.FunctionProps{
			Runtime: EdgeRuntime(), Handler: jsii.String("index.handler"), Code: code,
			Architecture: awslambda.Architecture_X86_64(),
			MemorySize:   jsii.Number(256), Timeout: awscdk.Duration_Seconds(jsii.Number(5)),
			Description: jsii.String(description),
			Role:        edgeRole(f),
		})
		fn.Node().AddDependency(fn.Role())
		f.EdgeFunction, f.EdgeVersion = fn, fn.CurrentVersion()
	} else {
		fn := experimental.NewEdgeFunction(f, jsii.String("EdgeFunction"), &experimental.EdgeFunctionProps{
			Runtime: EdgeRuntime(), Handler: jsii.String("index.handler"), Code: code,
			Architecture: awslambda.Architecture_X86_64(),
			MemorySize:   jsii.Number(256), Timeout: awscdk.Duration_Seconds(jsii.Number(5)),
			Description: jsii.String(description),
		})
		f.EdgeFunction, f.EdgeVersion = fn, fn.CurrentVersion()
		// The function itself lives in CDK's us-east-1 support stack.
		suppressEdge(fn.Lambda())
		return
	}
	suppressEdge(f.EdgeFunction)
}

// suppressEdge suppresses, on an edge function and its CDK role, what
// Lambda@Edge itself rules out.
func suppressEdge(fn constructs.IConstruct) {
	const edge = "Lambda@Edge"
	nag.SuppressTree(fn, slices.Concat(
		nag.NISTAndHIPAA("LambdaConcurrency", edge+" functions cannot have reserved concurrency; CloudFront scales them per edge location"),
		nag.NISTAndHIPAA("LambdaDLQ", edge+" runs synchronously on origin request and has no dead-letter queue"),
		nag.NISTAndHIPAA("LambdaInsideVPC", edge+" functions cannot be in a VPC; the function calls nothing, it only encrypts with embedded public keys"),
		// CDK makes a us-east-1 log group for the function when the app sets
		// @aws-cdk/aws-lambda:useCdkManagedLogGroup.
		nag.NISTAndHIPAA("CloudWatchLogGroupEncrypted", edge+" writes into /aws/lambda/us-east-1.<function> groups it creates itself in every region where it runs; a key here would cover only the us-east-1 copy"),
		[]nag.Rule{
			{ID: "AwsSolutions-IAM4", Reason: edge + " writes logs in every region where it runs, into groups it names itself; the basic execution policy is CDK's EdgeFunction role and grants logs only",
				AppliesTo: []string{"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"}},
			{ID: "AwsSolutions-IAM5", Reason: edge + " writes /aws/lambda/us-east-1.<function> log groups in every region where it runs, so the log resource must be a wildcard over regions",
				AppliesTo: []string{"Resource::arn:<AWS::Partition>:logs:*:<AWS::AccountId>:log-group:/aws/lambda/us-east-1.*"}},
		},
	)...)
}

// edgeRole is the role of an edge function in an environment-agnostic stack:
// Lambda and Lambda@Edge may assume it, and it may only write its logs.
func edgeRole(scope constructs.Construct) awsiam.Role {
	role := awsiam.NewRole(scope, jsii.String("EdgeFunctionRole"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewCompositePrincipal(
			awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
			awsiam.NewServicePrincipal(jsii.String("edgelambda.amazonaws.com"), nil)),
		Description: jsii.String("Lambda@Edge field encrypter: writes its own logs, nothing else"),
	})
	policy := awsiam.NewManagedPolicy(scope, jsii.String("EdgeFunctionPolicy"), &awsiam.ManagedPolicyProps{
		Description: jsii.String("Lambda@Edge field encrypter: its own logs in every region where it runs"),
		Roles:       &[]awsiam.IRole{role},
		Statements: &[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions: jsii.Strings("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"),
			Resources: jsii.Strings(fmt.Sprintf("arn:%s:logs:*:%s:log-group:/aws/lambda/us-east-1.*",
				*awscdk.Aws_PARTITION(), *awscdk.Aws_ACCOUNT_ID())),
		})},
	})
	nag.Suppress(policy, nag.Rule{ID: "AwsSolutions-IAM5",
		Reason:    "Lambda@Edge writes /aws/lambda/us-east-1.<function> log groups in every region where it runs, so the log resource must be a wildcard over regions",
		AppliesTo: []string{"Resource::arn:<AWS::Partition>:logs:*:<AWS::AccountId>:log-group:/aws/lambda/us-east-1.*"}})
	return role
}

func (f *FieldEncryption) newDistribution(props *FieldEncryptionProps) {
	f.LogBucket = props.ExistingLogBucket
	if f.LogBucket == nil {
		f.LogBucket = defaults.CloudFrontLogsBucket(f, "AccessLogs")
	}
	origin := awscloudfrontorigins.FunctionUrlOrigin_WithOriginAccessControl(f.StoreFunctionUrl, &awscloudfrontorigins.FunctionUrlOriginWithOACProps{
		ReadTimeout: awscdk.Duration_Seconds(jsii.Number(15)),
	})
	dp := &awscloudfront.DistributionProps{
		Comment: jsii.String("Field-level encryption at the edge"),
		DefaultBehavior: &awscloudfront.BehaviorOptions{
			Origin:               origin,
			ViewerProtocolPolicy: awscloudfront.ViewerProtocolPolicy_HTTPS_ONLY,
			AllowedMethods:       awscloudfront.AllowedMethods_ALLOW_ALL(),
			CachePolicy:          awscloudfront.CachePolicy_CACHING_DISABLED(),
			// OAC signs for the function URL's own host, so the viewer's Host must not pass.
			OriginRequestPolicy: awscloudfront.OriginRequestPolicy_ALL_VIEWER_EXCEPT_HOST_HEADER(),
			EdgeLambdas: &[]*awscloudfront.EdgeLambda{{
				EventType:       awscloudfront.LambdaEdgeEventType_ORIGIN_REQUEST,
				FunctionVersion: f.EdgeVersion,
				IncludeBody:     jsii.Bool(true),
			}},
		},
		EnableLogging: jsii.Bool(true),
		LogBucket:     f.LogBucket,
		LogFilePrefix: jsii.String("cloudfront/"),
		HttpVersion:   awscloudfront.HttpVersion_HTTP2_AND_3,
		WebAclId:      props.WebAclId,
	}
	if props.Certificate != nil {
		dp.Certificate = props.Certificate
		dp.DomainNames = &props.DomainNames
		dp.MinimumProtocolVersion = awscloudfront.SecurityPolicyProtocol_TLS_V1_2_2021
	}
	f.Distribution = awscloudfront.NewDistribution(f, jsii.String("Distribution"), dp)
	var rules []nag.Rule
	if props.Certificate == nil {
		const defaultCert = "Without Certificate the distribution uses the *.cloudfront.net certificate, whose security policy CloudFront fixes; setting Certificate and DomainNames enforces TLSv1.2_2021"
		rules = append(rules, nag.Rule{ID: "AwsSolutions-CFR4", Reason: defaultCert})
	}
	if props.WebAclId == nil {
		const noWAF = "WAF is opt-in (WebAclId): a web ACL costs a fixed monthly fee, and the edge function already refuses every body it cannot protect"
		rules = append(rules, nag.Rule{ID: "AwsSolutions-CFR2", Reason: noWAF})
	}
	rules = append(rules,
		nag.Rule{ID: "AwsSolutions-CFR1", Reason: "Geo restriction is a business decision of the app; field-level encryption does not depend on the viewer's country"},
	)
	nag.Suppress(f.Distribution, rules...)
}

// GrantReadProtected lets grantee read stored bodies: s3:GetObject on the
// bucket and kms:Decrypt on BucketKey. What it reads is still protected:
// plaintext fields need GrantDecrypt.
func (f *FieldEncryption) GrantReadProtected(grantee awsiam.IGrantable) awsiam.Grant {
	return f.Bucket.GrantRead(grantee, jsii.String("records/*"))
}

// GrantDecrypt lets grantee have fields decrypted: EncryptionKey.GrantDecrypt
// (invoke its decrypt function and GenerateMac under its invoke key).
func (f *FieldEncryption) GrantDecrypt(grantee awsiam.IGrantable) awsiam.Grant {
	return f.EncryptionKey.GrantDecrypt(grantee)
}

func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", "; ") }
