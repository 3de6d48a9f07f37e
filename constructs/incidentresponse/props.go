package incidentresponse

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
)

// Object Lock modes (IncidentResponseProps.ObjectLockMode).
const (
	ObjectLockGovernance = "GOVERNANCE"
	ObjectLockCompliance = "COMPLIANCE"
)

// Defaults.
const (
	// DefaultObjectLockDays is the default retention of every evidence object version.
	DefaultObjectLockDays = 365
	// DefaultProtectedTagKey marks instances a case refuses.
	DefaultProtectedTagKey = "securestacks:ir-protected"
	// DefaultForensicTimeoutSeconds bounds the forensic commands.
	DefaultForensicTimeoutSeconds = 180
)

// IncidentResponseProps configures IncidentResponse. Nil props mean every
// default: a new evidence bucket in this account (KMS, versioning, Object
// Lock GOVERNANCE for 365 days), no API caller, no GuardDuty rule, a new
// topic.
type IncidentResponseProps struct {
	// EvidenceBucketProps overrides our evidence bucket defaults
	// (defaults.Bucket). Conflicts with ExistingEvidenceBucket.
	EvidenceBucketProps *awss3.BucketProps
	// ExistingEvidenceBucket is a bucket you bring, for example in a
	// security account (awss3.Bucket_FromBucketAttributes with its Account).
	// It must have versioning and Object Lock on, and a policy that lets the
	// evidence role and the forensic role put objects under cases/ (see the
	// README). Needs ExistingEvidenceKey and EvidenceBucketAccount.
	ExistingEvidenceBucket awss3.IBucket
	// ExistingEvidenceKey is the KMS key of ExistingEvidenceBucket; its key
	// policy must let the two roles call kms:GenerateDataKey.
	ExistingEvidenceKey awskms.IKey
	// EvidenceBucketAccount is the account that owns ExistingEvidenceBucket:
	// every put names it as the expected bucket owner.
	EvidenceBucketAccount *string
	// ObjectLockMode is GOVERNANCE (default) or COMPLIANCE. In COMPLIANCE mode
	// nobody, the root user included, can delete an object version before
	// its retention ends, nor the bucket.
	ObjectLockMode *string
	// ObjectLockRetention is the default retention of each object version.
	// Default: DefaultObjectLockDays days.
	ObjectLockRetention awscdk.Duration
	// Invokers are the IAM principal ARNs (roles, users) that may call the
	// API; every other principal is denied by the API's resource policy,
	// whatever its own policies say. Default: none.
	Invokers []*string
	// ProtectedTagKey (and ProtectedTagValue, nil for any value) marks
	// instances that cases refuse. The response roles cannot change an
	// instance that carries it either. Default: DefaultProtectedTagKey.
	ProtectedTagKey   *string
	ProtectedTagValue *string
	// GuardDutyMinSeverity, when set, adds an EventBridge rule that starts a
	// case for every GuardDuty EC2 finding of at least this severity (1-10).
	// Default: no rule.
	GuardDutyMinSeverity *float64
	// ForensicTimeout bounds the Systems Manager forensic commands (30 s to
	// 14 min). Default: DefaultForensicTimeoutSeconds.
	ForensicTimeout awscdk.Duration
	// ApiAccessLogs turns on the API stage's access logs (JSON, KMS). API
	// Gateway refuses a stage with access logs until the account's API Gateway
	// settings name a CloudWatch Logs role for the Region (an account-wide
	// setting no stack of ours owns), so they are off by default; ir-api logs
	// every request with the caller's ARN and request ID either way.
	// (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html)
	ApiAccessLogs *bool
	// ExistingTopic receives the case notifications. Default: a new topic
	// encrypted with the stack's key.
	ExistingTopic awssns.ITopic
}

var arnPattern = regexp.MustCompile(`^arn:aws[a-z-]*:(iam|sts)::[0-9]{12}:[A-Za-z0-9+=,.@/_-]+$`)

// Validate returns every problem of the props, one per line.
func (p *IncidentResponseProps) Validate() error {
	if p == nil {
		return nil
	}
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if p.ExistingEvidenceBucket != nil && p.EvidenceBucketProps != nil {
		add("EvidenceBucketProps and ExistingEvidenceBucket are both set: expected at most one")
	}
	if p.ExistingEvidenceBucket != nil && (p.ExistingEvidenceKey == nil || p.EvidenceBucketAccount == nil) {
		add("ExistingEvidenceBucket needs ExistingEvidenceKey and EvidenceBucketAccount")
	}
	if p.ExistingEvidenceBucket == nil && (p.ExistingEvidenceKey != nil || p.EvidenceBucketAccount != nil) {
		add("ExistingEvidenceKey and EvidenceBucketAccount apply only with ExistingEvidenceBucket")
	}
	if p.EvidenceBucketAccount != nil && !regexp.MustCompile(`^[0-9]{12}$`).MatchString(*p.EvidenceBucketAccount) {
		add("EvidenceBucketAccount %q: expected 12 digits", *p.EvidenceBucketAccount)
	}
	if m := p.ObjectLockMode; m != nil && *m != ObjectLockGovernance && *m != ObjectLockCompliance {
		add("ObjectLockMode %q: expected GOVERNANCE or COMPLIANCE", *m)
	}
	for i, a := range p.Invokers {
		if a == nil || !arnPattern.MatchString(*a) {
			add("Invokers[%d]: expected an IAM role or user ARN", i)
		}
	}
	if s := p.GuardDutyMinSeverity; s != nil && (*s < 1 || *s > 10) {
		add("GuardDutyMinSeverity %v: expected 1 to 10", *s)
	}
	if p.ProtectedTagKey != nil && (*p.ProtectedTagKey == "" || strings.HasPrefix(*p.ProtectedTagKey, "aws:")) {
		add("ProtectedTagKey %q: expected a tag key not starting with aws:", *p.ProtectedTagKey)
	}
	if len(problems) > 0 {
		return fmt.Errorf("incidentresponse: %s", strings.Join(problems, "; "))
	}
	return nil
}
