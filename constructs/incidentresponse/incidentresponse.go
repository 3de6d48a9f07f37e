// Package incidentresponse is the EC2 incident-response system: one
// authenticated call (the API, the CLI, or a GuardDuty finding) preserves
// the evidence of a suspect instance and isolates it, through a Step
// Functions state machine whose Go Lambda tasks collect before they change
// anything (lambda-src/internal/irworkflow).
package incidentresponse

import (
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/gofunction"
	"github.com/securestacks/securestacks/constructs/internal/defaults"
	"github.com/securestacks/securestacks/internal/incident"
	"github.com/securestacks/securestacks/internal/nag"
)

// Handler import paths.
const (
	APIEntry      = "github.com/securestacks/securestacks/lambda-src/ir-api"
	EvidenceEntry = "github.com/securestacks/securestacks/lambda-src/ir-evidence"
	ContainEntry  = "github.com/securestacks/securestacks/lambda-src/ir-contain"
)

// IncidentResponse is the evidence store, the triggers and the workflow.
type IncidentResponse struct {
	constructs.Construct
	// EvidenceBucket holds the artifacts under cases/<case ID>/.
	EvidenceBucket awss3.IBucket
	// EvidenceKey encrypts the evidence.
	EvidenceKey awskms.IKey
	// Key encrypts the logs: the stack's shared logs key. The case table and
	// the topic use their services' AWS managed keys.
	Key awskms.Key
	// Cases is the case table (one record per case, one lock per instance),
	// encrypted with the AWS managed DynamoDB key.
	Cases awsdynamodb.Table
	// Topic receives one notification per case.
	Topic awssns.ITopic
	// StateMachine runs a case.
	StateMachine awsstepfunctions.StateMachine
	// Api is the IAM-authorized REST API: POST /cases, GET /cases/{caseId},
	// POST /cases/{caseId}/release.
	Api awsapigateway.RestApi
	// ApiFunction, EvidenceFunction and ContainFunction are the Lambda
	// functions (ir-api, ir-evidence, ir-contain).
	ApiFunction, EvidenceFunction, ContainFunction *gofunction.GoFunction
	// ForensicRole is the role of the instance profile attached for the
	// forensic commands; ForensicProfile that profile.
	ForensicRole    awsiam.Role
	ForensicProfile awsiam.InstanceProfile
	// FindingRule is the GuardDuty rule; nil unless GuardDutyMinSeverity is set.
	FindingRule awsevents.Rule
}

// NewIncidentResponse builds the system. Invalid props panic with one line
// prefixed "incidentresponse:".
func NewIncidentResponse(scope constructs.Construct, id string, props *IncidentResponseProps) *IncidentResponse {
	if props == nil {
		props = &IncidentResponseProps{}
	}
	if err := props.Validate(); err != nil {
		panic(err.Error())
	}
	ir := &IncidentResponse{}
	constructs.NewConstruct_Override(ir, scope, jsii.String(id))
	stack := awscdk.Stack_Of(ir)
	deployment := *stack.StackName()
	protectedKey := DefaultProtectedTagKey
	if props.ProtectedTagKey != nil {
		protectedKey = *props.ProtectedTagKey
	}

	ir.Key = defaults.SharedLogsKey(ir)
	ir.newEvidenceStore(props)
	ir.Cases = awsdynamodb.NewTable(ir, jsii.String("Cases"), &awsdynamodb.TableProps{
		PartitionKey: &awsdynamodb.Attribute{Name: jsii.String("pk"), Type: awsdynamodb.AttributeType_STRING},
		BillingMode:  awsdynamodb.BillingMode_PAY_PER_REQUEST,
		// The AWS managed key: its key policy lets every principal of the
		// account that may use the table use it through DynamoDB.
		Encryption:                       awsdynamodb.TableEncryption_AWS_MANAGED,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: jsii.Bool(true)},
		DeletionProtection:               jsii.Bool(true),
		RemovalPolicy:                    awscdk.RemovalPolicy_RETAIN,
	})
	nag.Suppress(ir.Cases, nag.NISTAndHIPAA("DynamoDBInBackupPlan",
		"The case table has point-in-time recovery; the durable record of each case is its manifest in the Object Lock evidence bucket, so a Backup plan (and its vault) would add cost and nothing to recover")...)
	if props.ExistingTopic != nil {
		ir.Topic = props.ExistingTopic
	} else {
		// The AWS managed key of SNS: only the evidence function publishes,
		// which that key allows without a grant, and email subscribers need none.
		ir.Topic = awssns.NewTopic(ir, jsii.String("Topic"), &awssns.TopicProps{
			MasterKey: awskms.Alias_FromAliasName(ir, jsii.String("SnsKey"), jsii.String("alias/aws/sns")), EnforceSSL: jsii.Bool(true),
		})
	}
	ir.newForensicProfile()

	env := map[string]*string{
		incident.EnvBucket:             ir.EvidenceBucket.BucketName(),
		incident.EnvKMSKeyARN:          ir.EvidenceKey.KeyArn(),
		incident.EnvBucketOwner:        bucketOwner(props, stack),
		incident.EnvTopicARN:           ir.Topic.TopicArn(),
		incident.EnvTable:              ir.Cases.TableName(),
		incident.EnvDeployment:         jsii.String(deployment),
		incident.EnvProtectedTagKey:    jsii.String(protectedKey),
		incident.EnvForensicProfileARN: ir.ForensicProfile.InstanceProfileArn(),
	}
	if props.ProtectedTagValue != nil {
		env[incident.EnvProtectedTagValue] = props.ProtectedTagValue
	}
	timeout := awscdk.Duration_Seconds(jsii.Number(DefaultForensicTimeoutSeconds))
	if props.ForensicTimeout != nil {
		timeout = props.ForensicTimeout
	}
	env[incident.EnvForensicTimeout] = jsii.String(strconv.Itoa(int(*timeout.ToSeconds(nil))))

	ir.EvidenceFunction = ir.newFunction("EvidenceFunction", EvidenceEntry, "Incident response: evidence steps",
		awscdk.Duration_Seconds(jsii.Number(*timeout.ToSeconds(nil)+60)), env)
	ir.ContainFunction = ir.newFunction("ContainFunction", ContainEntry, "Incident response: containment steps",
		awscdk.Duration_Seconds(jsii.Number(120)), env)
	ir.grantEvidence(protectedKey, props.ProtectedTagValue)
	ir.grantContain(protectedKey, props.ProtectedTagValue, deployment)

	ir.newStateMachine()

	apiEnv := map[string]*string{incident.EnvStateMachineARN: ir.StateMachine.StateMachineArn()}
	for k, v := range env {
		apiEnv[k] = v
	}
	if props.GuardDutyMinSeverity != nil {
		apiEnv["IR_MIN_SEVERITY"] = jsii.String(strconv.FormatFloat(*props.GuardDutyMinSeverity, 'f', -1, 64))
	}
	ir.ApiFunction = ir.newFunction("ApiFunction", APIEntry, "Incident response: API and GuardDuty findings",
		awscdk.Duration_Seconds(jsii.Number(29)), apiEnv)
	ir.grantAPI(protectedKey, props.ProtectedTagValue)
	ir.newAPI(props.Invokers, props.ApiAccessLogs != nil && *props.ApiAccessLogs)
	if props.GuardDutyMinSeverity != nil {
		ir.FindingRule = awsevents.NewRule(ir, jsii.String("GuardDutyFindings"), &awsevents.RuleProps{
			Description:  jsii.String("GuardDuty EC2 findings that start an incident-response case"),
			EventPattern: FindingPattern(*props.GuardDutyMinSeverity),
			Targets:      &[]awsevents.IRuleTarget{awseventstargets.NewLambdaFunction(ir.ApiFunction, &awseventstargets.LambdaFunctionProps{RetryAttempts: jsii.Number(4)})},
		})
	}
	// API Gateway and EventBridge invoke the API function with SourceArn
	// only; SourceAccount as well keeps the permissions to this account
	// (Control Tower lambda_function_public_access_prohibited_check).
	for _, c := range *ir.Node().FindAll(constructs.ConstructOrder_PREORDER) {
		if p, ok := c.(awslambda.CfnPermission); ok {
			p.AddPropertyOverride(jsii.String("SourceAccount"), stack.Account())
		}
	}
	return ir
}

// FindingPattern matches GuardDuty findings about an EC2 instance with a
// severity of at least minSeverity
// (https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_findings_eventbridge.html).
func FindingPattern(minSeverity float64) *awsevents.EventPattern {
	return &awsevents.EventPattern{
		Source:     jsii.Strings("aws.guardduty"),
		DetailType: jsii.Strings("GuardDuty Finding"),
		Detail: &map[string]any{
			"resource": map[string]any{"resourceType": []any{"Instance"}},
			"severity": []any{map[string]any{"numeric": []any{">=", minSeverity}}},
		},
	}
}

func bucketOwner(props *IncidentResponseProps, stack awscdk.Stack) *string {
	if props.EvidenceBucketAccount != nil {
		return props.EvidenceBucketAccount
	}
	return stack.Account()
}

func (ir *IncidentResponse) newEvidenceStore(props *IncidentResponseProps) {
	if props.ExistingEvidenceBucket != nil {
		ir.EvidenceBucket, ir.EvidenceKey = props.ExistingEvidenceBucket, props.ExistingEvidenceKey
		return
	}
	bp := awss3.BucketProps{}
	if props.EvidenceBucketProps != nil {
		bp = *props.EvidenceBucketProps
	}
	days := awscdk.Duration_Days(jsii.Number(DefaultObjectLockDays))
	if props.ObjectLockRetention != nil {
		days = props.ObjectLockRetention
	}
	retention := awss3.ObjectLockRetention_Governance(days)
	if props.ObjectLockMode != nil && *props.ObjectLockMode == ObjectLockCompliance {
		retention = awss3.ObjectLockRetention_Compliance(days)
	}
	// Required: Object Lock with a default retention, and versions kept
	// (the default noncurrent-version expiry would delete locked evidence
	// as soon as the lock ends; evidence stays until someone decides).
	bp.ObjectLockEnabled = jsii.Bool(true)
	bp.ObjectLockDefaultRetention = retention
	bp.Versioned = jsii.Bool(true)
	if bp.LifecycleRules == nil {
		bp.LifecycleRules = &[]*awss3.LifecycleRule{{
			Id: jsii.String("abort-incomplete-uploads"), AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(7)),
		}}
	}
	bucket := defaults.Bucket(ir, "Evidence", &bp)
	bucket.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("DenyEvidenceDeletion"),
		Effect:     awsiam.Effect_DENY,
		Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
		Actions:    jsii.Strings("s3:DeleteObject", "s3:DeleteObjectVersion", "s3:BypassGovernanceRetention"),
		Resources:  jsii.Strings(*bucket.ArnForObjects(jsii.String("*"))),
	}))
	ir.EvidenceBucket, ir.EvidenceKey = bucket, bucket.EncryptionKey()
}

// newForensicProfile is the minimal profile of the forensic commands: the
// Systems Manager agent's channel and writing its output into the case's
// forensics/ prefix.
func (ir *IncidentResponse) newForensicProfile() {
	ir.ForensicRole = awsiam.NewRole(ir, jsii.String("ForensicRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("ec2.amazonaws.com"), nil),
		Description: jsii.String("Attached to a contained instance only while the forensic commands run"),
	})
	ir.ForensicRole.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: jsii.String("SystemsManagerAgent"),
		Actions: jsii.Strings("ssm:UpdateInstanceInformation", "ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
			"ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel", "ec2messages:AcknowledgeMessage", "ec2messages:DeleteMessage",
			"ec2messages:FailMessage", "ec2messages:GetEndpoint", "ec2messages:GetMessages", "ec2messages:SendReply"),
		Resources: jsii.Strings("*"),
	}))
	ir.ForensicRole.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("ForensicOutput"),
		Actions:   jsii.Strings("s3:PutObject"),
		Resources: jsii.Strings(*ir.EvidenceBucket.ArnForObjects(jsii.String("cases/*/forensics/*"))),
	}))
	ir.ForensicRole.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("EncryptForensicOutput"),
		Actions:   jsii.Strings("kms:GenerateDataKey"),
		Resources: jsii.Strings(*ir.EvidenceKey.KeyArn()),
	}))
	ir.ForensicProfile = awsiam.NewInstanceProfile(ir, jsii.String("ForensicProfile"), &awsiam.InstanceProfileProps{Role: ir.ForensicRole})
	suppressForensicRole(ir.ForensicRole)
}

func (ir *IncidentResponse) newFunction(id, entry, description string, timeout awscdk.Duration, env map[string]*string) *gofunction.GoFunction {
	fn := gofunction.NewGoFunction(ir, id, &gofunction.GoFunctionProps{
		Entry: jsii.String(entry),
		FunctionProps: &awslambda.FunctionProps{
			Description: jsii.String(description),
			Timeout:     timeout,
			MemorySize:  jsii.Number(256),
			Environment: &env,
			LogGroup:    defaults.LogGroup(ir, id+"LogGroup", nil),
		},
	})
	suppressFunction(fn)
	return fn
}

// GrantInvoke lets grantee call the API (execute-api:Invoke on every
// method) through its identity policy. The API's resource policy still
// denies every principal that is not in IncidentResponseProps.Invokers.
func (ir *IncidentResponse) GrantInvoke(grantee awsiam.IGrantable) awsiam.Grant {
	return awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee:      grantee,
		Actions:      jsii.Strings("execute-api:Invoke"),
		ResourceArns: jsii.Strings(*ir.Api.ArnForExecuteApi(nil, nil, nil)),
	})
}
