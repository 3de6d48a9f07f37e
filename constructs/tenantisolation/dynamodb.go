package tenantisolation

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
)

// TableReadActions are the item reads GrantTableRead allows. Transactions
// need no action of their own: TransactGetItems is authorized as GetItem on
// each item, with dynamodb:LeadingKeys
// (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html).
var TableReadActions = []string{"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"}

// TableWriteActions are the item writes GrantTableReadWrite adds.
// TransactWriteItems is authorized as PutItem, UpdateItem, DeleteItem and
// ConditionCheckItem on each item, so it is covered too.
var TableWriteActions = []string{"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
	"dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem"}

// leadingKeys limits a statement to the items whose partition key is the
// session's tenant ID. ForAllValues alone is true when the request has no
// leading keys at all (as for Scan), so the Null condition requires them
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html).
func leadingKeys() map[string]any {
	return map[string]any{
		"ForAllValues:StringEquals": map[string]any{"dynamodb:LeadingKeys": []any{TenantVariable}},
		"Null":                      map[string]any{"dynamodb:LeadingKeys": "false"},
	}
}

// GrantTableRead lets AccessRole read the items of a pooled table whose
// partition key (a string attribute) is the session's tenant ID:
// TableReadActions, on the table only (no index: an index's partition key is
// another attribute). Scan and PartiQL are never granted: a Scan carries no
// leading keys, and a PartiQL statement without the partition key becomes a
// full-table scan. Attributes are not limited (dynamodb:Attributes,
// dynamodb:Select): a tenant owns whole items. When the table has a
// customer-managed key, AccessRole may use it only through DynamoDB.
func (t *TenantIsolation) GrantTableRead(table awsdynamodb.ITable) awsiam.Grant {
	t.grantTableKey(table.EncryptionKey(), false)
	return t.grant(TableReadActions, []string{*table.TableArn()}, leadingKeys())
}

// GrantTableReadWrite adds TableWriteActions, under the same leading-key
// condition, to GrantTableRead. A write can neither create nor change an
// item of another tenant: PutItem, UpdateItem, DeleteItem and every item of a
// BatchWriteItem or a transaction carry their partition key in
// dynamodb:LeadingKeys. It returns the write grant.
func (t *TenantIsolation) GrantTableReadWrite(table awsdynamodb.ITable) awsiam.Grant {
	t.GrantTableRead(table)
	t.grantTableKey(table.EncryptionKey(), true)
	return t.grant(TableWriteActions, []string{*table.TableArn()}, leadingKeys())
}

// grantTableKey lets AccessRole use a table's customer-managed key through
// DynamoDB only (kms:ViaService), as CDK's Table.grant* would without the
// condition.
func (t *TenantIsolation) grantTableKey(key awskms.IKey, write bool) {
	if key == nil {
		return
	}
	actions := []string{"kms:Decrypt", "kms:DescribeKey"}
	if write {
		actions = []string{"kms:Encrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*"}
	}
	t.grant(actions, []string{*key.KeyArn()}, map[string]any{
		"StringEquals": map[string]any{"kms:ViaService": viaService("dynamodb")},
	})
}

// viaService is the kms:ViaService value of a service in this stack's Region
// (https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service).
func viaService(service string) string {
	return service + "." + *awscdk.Aws_REGION() + "." + *awscdk.Aws_URL_SUFFIX()
}
