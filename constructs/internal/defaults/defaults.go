// Package defaults holds the secure defaults every securestacks construct
// starts from: KMS keys with rotation, encrypted, versioned, TLS-only buckets
// with access logs, and encrypted log groups with retention.
//
// Each function merges in the same order: our secure defaults, then the
// caller's props (a caller value wins where the caller set one), then the
// values a construct requires (encryption, TLS, public-access block), which
// always win.
package defaults

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/internal/nag"
)

// LogRetention is the default retention of every log group: one year, the
// shortest period the NIST 800-53 R5 and HIPAA packs accept.
const LogRetention = awslogs.RetentionDays_ONE_YEAR

// Key returns a KMS key (symmetric unless KeySpec says otherwise). Defaults:
// rotation on for symmetric keys, removal policy RETAIN (data encrypted under
// a deleted key is lost), pending window 30 days. Always: a key-policy
// statement that lets only AWS services create grants (CT.KMS.PR.3).
func Key(scope constructs.Construct, id string, props *awskms.KeyProps) awskms.Key {
	p := awskms.KeyProps{}
	if props != nil {
		p = *props
	}
	if p.EnableKeyRotation == nil && (p.KeySpec == "" || p.KeySpec == awskms.KeySpec_SYMMETRIC_DEFAULT) {
		p.EnableKeyRotation = jsii.Bool(true)
	}
	if p.RemovalPolicy == "" {
		p.RemovalPolicy = awscdk.RemovalPolicy_RETAIN
	}
	if p.PendingWindow == nil {
		p.PendingWindow = awscdk.Duration_Days(jsii.Number(30))
	}
	key := awskms.NewKey(scope, jsii.String(id), &p)
	// Grants delegate key use outside the key policy; only AWS services
	// acting for AWS resources (EBS, Lambda environment encryption, ...) may
	// create them. This is Control Tower control CT.KMS.PR.3.
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("DenyGrantsExceptForAWSServices"),
		Effect:     awsiam.Effect_DENY,
		Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
		Actions:    jsii.Strings("kms:CreateGrant"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{
			"BoolIfExists": map[string]any{
				"kms:GrantIsForAWSResource": "false",
				"aws:PrincipalIsAWSService": "false",
			},
		},
	}), jsii.Bool(false))
	return key
}

// LogsKey returns a KMS key that CloudWatch Logs in this stack's region may use
// to encrypt log groups of this account.
func LogsKey(scope constructs.Construct, id string) awskms.Key {
	key := Key(scope, id, &awskms.KeyProps{Description: jsii.String("Encrypts CloudWatch Logs log groups")})
	stack := awscdk.Stack_Of(scope)
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("AllowCloudWatchLogs"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("logs."+*stack.Region()+"."+*stack.UrlSuffix()), nil)},
		// No kms:Describe*: DescribeKey carries no encryption context, so under
		// this condition it would never be granted
		// (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awskeymanagementservice.html).
		Actions:   jsii.Strings("kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*"),
		Resources: jsii.Strings("*"),
		Conditions: &map[string]any{
			"ArnLike": map[string]any{
				"kms:EncryptionContext:aws:logs:arn": "arn:" + *stack.Partition() + ":logs:" + *stack.Region() + ":" + *stack.Account() + ":log-group:*",
			},
		},
	}), jsii.Bool(true))
	return key
}

// sharedLogsKeyID is the id, directly under the stack, of the one logs key a
// stack's log groups share (one key per stack, not one per function).
const sharedLogsKeyID = "SecurestacksLogsKey"

// SharedLogsKey returns the stack's shared LogsKey, creating it on first use.
func SharedLogsKey(scope constructs.Construct) awskms.Key {
	stack := awscdk.Stack_Of(scope)
	if existing := stack.Node().TryFindChild(jsii.String(sharedLogsKeyID)); existing != nil {
		return existing.(awskms.Key)
	}
	return LogsKey(stack, sharedLogsKeyID)
}

// LogGroup returns a log group. Defaults: retention LogRetention, removal
// policy RETAIN, and encryption with the stack's SharedLogsKey when
// EncryptionKey is nil.
func LogGroup(scope constructs.Construct, id string, props *awslogs.LogGroupProps) awslogs.LogGroup {
	p := awslogs.LogGroupProps{}
	if props != nil {
		p = *props
	}
	if p.Retention == "" {
		p.Retention = LogRetention
	}
	if p.RemovalPolicy == "" {
		p.RemovalPolicy = awscdk.RemovalPolicy_RETAIN
	}
	if p.EncryptionKey == nil {
		p.EncryptionKey = SharedLogsKey(scope)
	}
	return awslogs.NewLogGroup(scope, jsii.String(id), &p)
}

// Bucket returns an S3 bucket. Defaults: SSE-KMS with a new key (bucket keys
// on), versioning, EventBridge notifications (native property), noncurrent versions expiring
// after 90 days, and server access logs to a new AccessLogsBucket. Always:
// public access blocked, TLS enforced, objects owned by the bucket owner, and
// Object Lock available (no default retention) unless the caller says false.
func Bucket(scope constructs.Construct, id string, props *awss3.BucketProps) awss3.Bucket {
	p := awss3.BucketProps{}
	if props != nil {
		p = *props
	}
	if p.EncryptionKey == nil && p.Encryption == "" {
		p.EncryptionKey = Key(scope, id+"Key", &awskms.KeyProps{Description: jsii.String("Encrypts the objects of bucket " + id)})
	}
	if p.Encryption == "" {
		p.Encryption = awss3.BucketEncryption_KMS
	}
	if p.BucketKeyEnabled == nil {
		p.BucketKeyEnabled = jsii.Bool(true)
	}
	if p.Versioned == nil {
		p.Versioned = jsii.Bool(true)
	}
	if p.LifecycleRules == nil {
		p.LifecycleRules = &[]*awss3.LifecycleRule{{
			Id:                                  jsii.String("expire-noncurrent-versions"),
			NoncurrentVersionExpiration:         awscdk.Duration_Days(jsii.Number(90)),
			AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(7)),
		}}
	}
	if p.RemovalPolicy == "" {
		p.RemovalPolicy = awscdk.RemovalPolicy_RETAIN
	}
	logs, prefix := p.ServerAccessLogsBucket, p.ServerAccessLogsPrefix
	if logs == nil {
		logs = AccessLogsBucket(scope, id+"AccessLogs")
	}
	if prefix == nil {
		prefix = jsii.String(id + "/")
	}
	// Wired below rather than through the L2 prop: the L2 grants log delivery
	// by ACL or by bucket policy depending on a feature flag of the consuming
	// app, and the ACL path fails on a bucket-owner-enforced target.
	p.ServerAccessLogsBucket, p.ServerAccessLogsPrefix = nil, nil
	forceBucketSecurity(&p)
	b := awss3.NewBucket(scope, jsii.String(id), &p)
	enableAccessLogs(b, logs, prefix)
	enableEventBridge(b)
	nag.Suppress(b, nag.Rule{
		ID:     "NIST.800.53.R5-S3BucketReplicationEnabled",
		Reason: "Cross-region replication is an organisation-level disaster-recovery decision; the bucket is versioned and RETAINed so no object is lost on stack deletion",
	}, nag.Rule{
		ID:     "HIPAA.Security-S3BucketReplicationEnabled",
		Reason: "Cross-region replication is an organisation-level disaster-recovery decision; the bucket is versioned and RETAINed so no object is lost on stack deletion",
	})
	return b
}

// AccessLogsBucket returns the target bucket for S3 server access logs. S3
// log delivery supports only SSE-S3 on the target, so it is SSE-S3, not KMS.
// Defaults: versioned, logs expire after 365 days, RETAIN. Always: public
// access blocked and TLS enforced.
func AccessLogsBucket(scope constructs.Construct, id string) awss3.Bucket {
	return logsTarget(scope, id, awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED)
}

// CloudFrontLogsBucket is AccessLogsBucket for CloudFront standard logs,
// which CloudFront delivers with an object ACL: ACLs stay enabled
// (ObjectWriter ownership), or delivery fails.
// https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/standard-logging-legacy-s3.html
func CloudFrontLogsBucket(scope constructs.Construct, id string) awss3.Bucket {
	return logsTarget(scope, id, awss3.ObjectOwnership_OBJECT_WRITER)
}

func logsTarget(scope constructs.Construct, id string, ownership awss3.ObjectOwnership) awss3.Bucket {
	p := awss3.BucketProps{
		Encryption:    awss3.BucketEncryption_S3_MANAGED,
		Versioned:     jsii.Bool(true),
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id:                          jsii.String("expire-access-logs"),
			Expiration:                  awscdk.Duration_Days(jsii.Number(365)),
			NoncurrentVersionExpiration: awscdk.Duration_Days(jsii.Number(30)),
		}},
	}
	forceBucketSecurity(&p)
	p.ObjectOwnership = ownership
	b := awss3.NewBucket(scope, jsii.String(id), &p)
	enableEventBridge(b)
	const isTarget = "This bucket is the server access log target; logging it into itself would loop and logging it elsewhere only moves the question"
	const sseS3 = "S3 server access log delivery supports only SSE-S3 on the target bucket, so SSE-KMS is not possible here"
	const replication = "Cross-region replication of access logs is an organisation-level decision; the bucket is versioned and RETAINed"
	nag.Suppress(b,
		nag.Rule{ID: "AwsSolutions-S1", Reason: isTarget},
		nag.Rule{ID: "NIST.800.53.R5-S3BucketLoggingEnabled", Reason: isTarget},
		nag.Rule{ID: "HIPAA.Security-S3BucketLoggingEnabled", Reason: isTarget},
		nag.Rule{ID: "NIST.800.53.R5-S3DefaultEncryptionKMS", Reason: sseS3},
		nag.Rule{ID: "HIPAA.Security-S3DefaultEncryptionKMS", Reason: sseS3},
		nag.Rule{ID: "NIST.800.53.R5-S3BucketReplicationEnabled", Reason: replication},
		nag.Rule{ID: "HIPAA.Security-S3BucketReplicationEnabled", Reason: replication},
	)
	return b
}

// enableAccessLogs sends b's server access logs to logs under prefix, and
// lets the S3 logging service write there only for b, from this account.
func enableAccessLogs(b awss3.Bucket, logs awss3.IBucket, prefix *string) {
	b.Node().DefaultChild().(awss3.CfnBucket).SetLoggingConfiguration(&awss3.CfnBucket_LoggingConfigurationProperty{
		DestinationBucketName: logs.BucketName(),
		LogFilePrefix:         prefix,
	})
	logs.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("S3ServerAccessLogs" + *b.Node().Addr()),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("logging.s3.amazonaws.com"), nil)},
		Actions:    jsii.Strings("s3:PutObject"),
		Resources:  jsii.Strings(*logs.ArnForObjects(jsii.String(*prefix + "*"))),
		Conditions: &map[string]any{
			"ArnLike":      map[string]any{"aws:SourceArn": b.BucketArn()},
			"StringEquals": map[string]any{"aws:SourceAccount": awscdk.Stack_Of(b).Account()},
		},
	}))
}

// enableEventBridge sends the bucket's events to EventBridge through the
// native CloudFormation property. The L2's EventBridgeEnabled prop would add
// a Node.js custom-resource Lambda to every stack for the same result.
func enableEventBridge(b awss3.Bucket) {
	b.Node().DefaultChild().(awss3.CfnBucket).AddPropertyOverride(
		jsii.String("NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled"), true)
}

func forceBucketSecurity(p *awss3.BucketProps) {
	// Object Lock with no default retention changes nothing until someone
	// places a hold or a retention on an object version, but it can only be
	// turned on, never off: enabling it up front keeps that option open for
	// evidence buckets (Control Tower CT.S3.PR.9).
	if p.ObjectLockEnabled == nil {
		p.ObjectLockEnabled = jsii.Bool(true)
	}
	p.BlockPublicAccess = awss3.BlockPublicAccess_BLOCK_ALL()
	p.EnforceSSL = jsii.Bool(true)
	p.MinimumTLSVersion = jsii.Number(1.2)
	p.ObjectOwnership = awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED
	p.PublicReadAccess = jsii.Bool(false)
}
