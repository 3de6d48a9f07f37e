package defaults

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// AllowCloudTrail adds to key the key-policy statements CloudTrail's documentation requires
// for the trail named trailName in scope's stack
// (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html):
// encrypt (GenerateDataKey* for this account's trail encryption context), describe the key,
// and, because our buckets use an S3 Bucket Key, decrypt; each limited to that trail by
// aws:SourceArn. It returns the trail's ARN.
func AllowCloudTrail(scope constructs.Construct, key awskms.IKey, trailName string) *string {
	stack := awscdk.Stack_Of(scope)
	trailArn := stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String("cloudtrail"), Resource: jsii.String("trail"), ResourceName: jsii.String(trailName)})
	thisTrail := map[string]any{"aws:SourceArn": trailArn}
	cloudtrail := &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudtrail.amazonaws.com"), nil)}
	for _, st := range []*awsiam.PolicyStatementProps{
		{
			Sid: jsii.String("AllowCloudTrailToEncryptLogs"), Principals: cloudtrail,
			Actions: jsii.Strings("kms:GenerateDataKey*"), Resources: jsii.Strings("*"),
			Conditions: &map[string]any{
				"StringEquals": thisTrail,
				"StringLike": map[string]any{"kms:EncryptionContext:aws:cloudtrail:arn": stack.FormatArn(&awscdk.ArnComponents{
					Service: jsii.String("cloudtrail"), Region: jsii.String("*"), Resource: jsii.String("trail"), ResourceName: jsii.String("*"),
				})},
			},
		},
		{
			Sid: jsii.String("AllowCloudTrailToDescribeKey"), Principals: cloudtrail,
			Actions: jsii.Strings("kms:DescribeKey"), Resources: jsii.Strings("*"),
			Conditions: &map[string]any{"StringEquals": thisTrail},
		},
		{
			Sid: jsii.String("AllowCloudTrailToDecryptForBucketKey"), Principals: cloudtrail,
			Actions: jsii.Strings("kms:Decrypt"), Resources: jsii.Strings("*"),
			Conditions: &map[string]any{"StringEquals": thisTrail},
		},
	} {
		key.AddToResourcePolicy(awsiam.NewPolicyStatement(st), jsii.Bool(true))
	}
	return trailArn
}

// CloudTrailBucket creates a trail's log bucket (Bucket with props) with the bucket policy
// CloudTrail's documentation requires ("Amazon S3 bucket policy for CloudTrail",
// https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-s3-bucket-policy-for-cloudtrail.html):
// s3:GetBucketAcl on the bucket and s3:PutObject under AWSLogs/<account>/ with
// bucket-owner-full-control, both limited to the trail by aws:SourceArn, as that page
// recommends. It returns the bucket and a reference to it for TrailProps.Bucket: given the
// bucket itself, the CDK Trail adds its own statements, which lack aws:SourceArn. Make the
// trail depend on bucket.Policy(), so that CloudTrail finds the policy when it is created.
func CloudTrailBucket(scope constructs.Construct, id string, props *awss3.BucketProps, trailArn *string) (awss3.Bucket, awss3.IBucket) {
	stack := awscdk.Stack_Of(scope)
	bucket := Bucket(scope, id, props)
	cloudtrail := &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudtrail.amazonaws.com"), nil)}
	bucket.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: jsii.String("AWSCloudTrailAclCheck"), Principals: cloudtrail,
		Actions: jsii.Strings("s3:GetBucketAcl"), Resources: jsii.Strings(*bucket.BucketArn()),
		Conditions: &map[string]any{"StringEquals": map[string]any{"aws:SourceArn": trailArn}},
	}))
	bucket.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: jsii.String("AWSCloudTrailWrite"), Principals: cloudtrail,
		Actions:   jsii.Strings("s3:PutObject"),
		Resources: jsii.Strings(*bucket.ArnForObjects(jsii.String("AWSLogs/" + *stack.Account() + "/*"))),
		Conditions: &map[string]any{"StringEquals": map[string]any{
			"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": trailArn,
		}},
	}))
	ref := awss3.Bucket_FromBucketAttributes(scope, jsii.String(id+"Ref"), &awss3.BucketAttributes{
		BucketArn: bucket.BucketArn(), BucketName: bucket.BucketName(),
	})
	return bucket, ref
}
