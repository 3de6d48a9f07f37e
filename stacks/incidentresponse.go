package stacks

import (
	"regexp"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/incidentresponse"
)

// IncidentResponseConfig is the "incidentResponse" section of an
// environment. A missing section means every default: a new evidence bucket
// (Object Lock GOVERNANCE, 365 days), an API nobody may call yet, no
// GuardDuty rule. Nothing runs, and nothing costs, until a case starts.
type IncidentResponseConfig struct {
	// Invokers are the IAM role or user ARNs allowed to call the API (and
	// so the CLI). Default: none.
	Invokers []string `json:"invokers,omitempty"`
	// ObjectLockMode is GOVERNANCE (default) or COMPLIANCE.
	ObjectLockMode string `json:"objectLockMode,omitempty"`
	// ObjectLockDays is the default retention of each evidence object
	// version, 1 to 36500. Default 365.
	ObjectLockDays int `json:"objectLockDays,omitempty"`
	// GuardDutyMinSeverity, 1 to 10, turns on the GuardDuty rule: EC2
	// findings of at least this severity start a case. Default: off.
	GuardDutyMinSeverity *float64 `json:"guardDutyMinSeverity,omitempty"`
	// ProtectedTagKey and ProtectedTagValue mark instances that cases refuse.
	// Default key securestacks:ir-protected, any value.
	ProtectedTagKey   string `json:"protectedTagKey,omitempty"`
	ProtectedTagValue string `json:"protectedTagValue,omitempty"`
	// ForensicTimeoutSeconds bounds the Systems Manager forensic commands,
	// 30 to 840. Default 180.
	ForensicTimeoutSeconds int `json:"forensicTimeoutSeconds,omitempty"`
	// ApiAccessLogs turns on the API's access logs; the account's API
	// Gateway settings must name a CloudWatch Logs role in the Region first.
	// Default off.
	ApiAccessLogs bool `json:"apiAccessLogs,omitempty"`
	// EvidenceBucketName, EvidenceKeyArn and EvidenceAccount name an
	// evidence bucket and its KMS key in another (security) account; all
	// three or none. Default: a bucket in this stack.
	EvidenceBucketName string `json:"evidenceBucketName,omitempty"`
	EvidenceKeyArn     string `json:"evidenceKeyArn,omitempty"`
	EvidenceAccount    string `json:"evidenceAccount,omitempty"`
}

var (
	irPrincipalRe = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/[A-Za-z0-9+=,.@/_-]+$`)
	irBucketRe    = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	irKeyArnRe    = regexp.MustCompile(`^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[0-9a-f-]{36}$`)
)

func (c *IncidentResponseConfig) validate(key string) error {
	if c == nil {
		return nil
	}
	for i, a := range c.Invokers {
		if !irPrincipalRe.MatchString(a) {
			return errorf(key+".invokers", "entry %d: expected an IAM role or user ARN such as arn:aws:iam::111122223333:role/Responder, got %q", i, a)
		}
	}
	if m := c.ObjectLockMode; m != "" && m != incidentresponse.ObjectLockGovernance && m != incidentresponse.ObjectLockCompliance {
		return errorf(key+".objectLockMode", "expected GOVERNANCE or COMPLIANCE, got %q", m)
	}
	if d := c.ObjectLockDays; d != 0 && (d < 1 || d > 36500) {
		return errorf(key+".objectLockDays", "expected 1 to 36500 days, got %d", d)
	}
	if s := c.GuardDutyMinSeverity; s != nil && (*s < 1 || *s > 10) {
		return errorf(key+".guardDutyMinSeverity", "expected 1 to 10, got %v", *s)
	}
	if t := c.ForensicTimeoutSeconds; t != 0 && (t < 30 || t > 840) {
		return errorf(key+".forensicTimeoutSeconds", "expected 30 to 840 seconds, got %d", t)
	}
	set := 0
	for _, v := range []string{c.EvidenceBucketName, c.EvidenceKeyArn, c.EvidenceAccount} {
		if v != "" {
			set++
		}
	}
	switch {
	case set != 0 && set != 3:
		return errorf(key+".evidenceBucketName", "expected evidenceBucketName, evidenceKeyArn and evidenceAccount together, or none")
	case set == 3 && !irBucketRe.MatchString(c.EvidenceBucketName):
		return errorf(key+".evidenceBucketName", "expected an S3 bucket name, got %q", c.EvidenceBucketName)
	case set == 3 && !irKeyArnRe.MatchString(c.EvidenceKeyArn):
		return errorf(key+".evidenceKeyArn", "expected a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>), got %q", c.EvidenceKeyArn)
	case set == 3 && !accountRe.MatchString(c.EvidenceAccount):
		return errorf(key+".evidenceAccount", "expected a 12-digit AWS account id, got %q", c.EvidenceAccount)
	}
	return nil
}

// NewIncidentResponseStack builds <Env>-IncidentResponse: the EC2
// incident-response system of constructs/incidentresponse.
func NewIncidentResponseStack(scope constructs.Construct, id string, props *SystemProps) awscdk.Stack {
	if props == nil {
		props = &SystemProps{}
	}
	c := props.Config.IncidentResponse
	if err := c.validate("environments." + props.Config.Name + ".incidentResponse"); err != nil {
		panic(err.Error())
	}
	if c == nil {
		c = &IncidentResponseConfig{}
	}
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	p := &incidentresponse.IncidentResponseProps{GuardDutyMinSeverity: c.GuardDutyMinSeverity, ApiAccessLogs: jsii.Bool(c.ApiAccessLogs)}
	for _, a := range c.Invokers {
		p.Invokers = append(p.Invokers, jsii.String(a))
	}
	if c.ObjectLockMode != "" {
		p.ObjectLockMode = jsii.String(c.ObjectLockMode)
	}
	if c.ObjectLockDays != 0 {
		p.ObjectLockRetention = awscdk.Duration_Days(jsii.Number(c.ObjectLockDays))
	}
	if c.ProtectedTagKey != "" {
		p.ProtectedTagKey = jsii.String(c.ProtectedTagKey)
	}
	if c.ProtectedTagValue != "" {
		p.ProtectedTagValue = jsii.String(c.ProtectedTagValue)
	}
	if c.ForensicTimeoutSeconds != 0 {
		p.ForensicTimeout = awscdk.Duration_Seconds(jsii.Number(c.ForensicTimeoutSeconds))
	}
	if c.EvidenceBucketName != "" {
		p.ExistingEvidenceBucket = awss3.Bucket_FromBucketAttributes(stack, jsii.String("EvidenceBucket"), &awss3.BucketAttributes{
			BucketName: jsii.String(c.EvidenceBucketName), Account: jsii.String(c.EvidenceAccount),
		})
		p.ExistingEvidenceKey = awskms.Key_FromKeyArn(stack, jsii.String("EvidenceKey"), jsii.String(c.EvidenceKeyArn))
		p.EvidenceBucketAccount = jsii.String(c.EvidenceAccount)
	}
	ir := incidentresponse.NewIncidentResponse(stack, "IncidentResponse", p)
	awscdk.NewCfnOutput(stack, jsii.String("ApiUrl"), &awscdk.CfnOutputProps{
		Description: jsii.String("Incident-response API (IAM authorization): securestacks ir --api-url"), Value: ir.Api.Url(),
	})
	awscdk.NewCfnOutput(stack, jsii.String("EvidenceBucketName"), &awscdk.CfnOutputProps{Value: ir.EvidenceBucket.BucketName()})
	awscdk.NewCfnOutput(stack, jsii.String("StateMachineArn"), &awscdk.CfnOutputProps{Value: ir.StateMachine.StateMachineArn()})
	awscdk.NewCfnOutput(stack, jsii.String("TopicArn"), &awscdk.CfnOutputProps{Value: ir.Topic.TopicArn()})
	return stack
}
