package defaults

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
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
