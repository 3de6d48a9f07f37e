package tenantisolation

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/internal/defaults"
)

// TenantPrefix is the key prefix of a tenant's objects: the tenant ID and a
// slash. The seed post's ${aws:PrincipalTag/TenantID}* (no delimiter) would
// let tenant "ab" read tenant "abc"'s objects; the slash, which no tenant ID
// can hold, makes the prefix match one tenant.
func TenantPrefix(tenantID string) string { return tenantID + "/" }

// BucketReadActions and BucketWriteActions are what the bucket grants allow
// on the tenant's prefix.
var (
	BucketReadActions  = []string{"s3:GetObject"}
	BucketWriteActions = []string{"s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"}
)

// encryptedPut limits s3:PutObject to requests that name a KMS key.
var encryptedPut = map[string]any{
	"StringEquals": map[string]any{"s3:x-amz-server-side-encryption": "aws:kms"},
	"Null":         map[string]any{"s3:x-amz-server-side-encryption-aws-kms-key-id": "false"},
}

// GrantBucketRead lets AccessRole read the objects under
// TenantPrefix(<session's tenant>) of bucket, and list that prefix only
// (s3:ListBucket with s3:prefix). Objects encrypted with a tenant key also
// need GrantTenantKeysDecrypt.
func (t *TenantIsolation) GrantBucketRead(bucket awss3.IBucket) awsiam.Grant {
	t.grant([]string{"s3:ListBucket"}, []string{*bucket.BucketArn()}, map[string]any{
		"StringLike": map[string]any{"s3:prefix": TenantVariable + "/*"},
	})
	return t.grant(BucketReadActions, []string{tenantObjects(bucket)}, nil)
}

// GrantBucketReadWrite adds BucketWriteActions on the tenant's prefix to
// GrantBucketRead. A PutObject must name a KMS key
// (x-amz-server-side-encryption aws:kms and a key ID): with
// GrantTenantKeysEncryptDecrypt that can only be the tenant's own key, so
// no object of a tenant is written under the bucket's default key. It returns
// the write grant.
func (t *TenantIsolation) GrantBucketReadWrite(bucket awss3.IBucket) awsiam.Grant {
	t.GrantBucketRead(bucket)
	t.grant(BucketWriteActions[1:], []string{tenantObjects(bucket)}, nil)
	return t.grant(BucketWriteActions[:1], []string{tenantObjects(bucket)}, encryptedPut)
}

func tenantObjects(bucket awss3.IBucket) string {
	return *bucket.ArnForObjects(jsii.String(TenantVariable + "/*"))
}

// GrantTenantKeysDecrypt lets AccessRole decrypt with the KMS keys tagged
// TenantID=<session's tenant>, through S3 only (kms:ViaService), as GetObject
// of an SSE-KMS object needs
// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html).
func (t *TenantIsolation) GrantTenantKeysDecrypt() awsiam.Grant {
	return t.grantTenantKeys("kms:Decrypt")
}

// GrantTenantKeysEncryptDecrypt adds kms:GenerateDataKey (PutObject) to
// GrantTenantKeysDecrypt, under the same conditions.
func (t *TenantIsolation) GrantTenantKeysEncryptDecrypt() awsiam.Grant {
	return t.grantTenantKeys("kms:Decrypt", "kms:GenerateDataKey")
}

func (t *TenantIsolation) grantTenantKeys(actions ...string) awsiam.Grant {
	keys := "arn:" + *awscdk.Aws_PARTITION() + ":kms:" + *awscdk.Aws_REGION() + ":" + *awscdk.Aws_ACCOUNT_ID() + ":key/*"
	return t.grant(actions, []string{keys}, map[string]any{
		"StringEquals": map[string]any{
			"aws:ResourceTag/" + TenantTagKey: TenantVariable,
			"kms:ViaService":                  viaService("s3"),
		},
	})
}

// TenantKeyProps configures NewTenantKey.
type TenantKeyProps struct {
	// TenantID is the tenant the key belongs to (TenantIDPattern). Required.
	TenantID string
	// KeyProps override the key defaults: symmetric, rotation on,
	// RemovalPolicy RETAIN, pending window 30 days, a description naming the
	// tenant. Forced: the TenantID tag.
	KeyProps *awskms.KeyProps
}

// NewTenantKey onboards one tenant's KMS key: a symmetric key tagged
// TenantID=props.TenantID, whose key policy leaves use to IAM (the account),
// so GrantTenantKeys* reach it by its tag. An invalid tenant ID panics with a
// one-line message. Anyone allowed kms:TagResource on it can move it to
// another tenant: keep that permission with administrators.
func NewTenantKey(scope constructs.Construct, id string, props *TenantKeyProps) awskms.Key {
	if props == nil {
		props = &TenantKeyProps{}
	}
	if err := ValidateTenantID(props.TenantID); err != nil {
		panic("tenantisolation: TenantKeyProps.TenantID: " + err.Error())
	}
	p := awskms.KeyProps{}
	if props.KeyProps != nil {
		p = *props.KeyProps
	}
	if p.Description == nil {
		p.Description = jsii.String("Encrypts the S3 objects of tenant " + props.TenantID)
	}
	key := defaults.Key(scope, id, &p)
	awscdk.Tags_Of(key).Add(jsii.String(TenantTagKey), jsii.String(props.TenantID), nil)
	return key
}
