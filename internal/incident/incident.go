// Package incident is the contract of the EC2 incident-response system
// between the construct that builds the state machine
// (constructs/incidentresponse), the Lambda tasks that run it
// (lambda-src/ir-api, lambda-src/ir-evidence, lambda-src/ir-contain) and the
// CLI (securestacks ir): the step names and their order, the request and case
// shapes, the evidence key layout and the input checks. It links no AWS SDK.
package incident

import (
	"fmt"
	"regexp"
	"time"
)

// Phase groups steps: every Collect step runs, succeeds or is recorded as
// failed before the first Contain step changes the instance.
type Phase string

// Phases in workflow order.
const (
	PhaseCollect Phase = "collect"
	PhaseContain Phase = "contain"
	PhaseReport  Phase = "report"
)

// Lambda tasks that run steps: evidence steps write to the evidence bucket,
// containment steps change the instance and its Auto Scaling group and
// target groups. Two binaries keep each under the Lambda size limit.
const (
	FunctionEvidence = "evidence"
	FunctionContain  = "contain"
)

// Step names.
const (
	StepMetadata    = "metadata"
	StepConsole     = "console"
	StepSnapshots   = "snapshots"
	StepProtect     = "protect"
	StepProfile     = "profile"
	StepAutoScaling = "autoscaling"
	StepTargets     = "targets"
	StepIsolate     = "isolate"
	StepTag         = "tag"
	StepForensics   = "forensics"
	StepManifest    = "manifest"
)

// Step is one task of the state machine.
type Step struct {
	Name     string
	Phase    Phase
	Function string
	// Doc is the state's comment in the state machine.
	Doc string
}

// Steps is the workflow in the order the state machine runs it. Forensics
// runs after the instance lost its profile, its Auto Scaling group and its
// load balancers, and before the network isolation, as in the seed post:
// the containment group has no rules, so once it is in place the Systems
// Manager agent cannot reach its endpoints. The forensics timeout bounds how
// long the instance keeps its network.
var Steps = []Step{
	{StepMetadata, PhaseCollect, FunctionEvidence, "Instance, interfaces, security groups, volumes and tags as JSON in the evidence bucket"},
	{StepConsole, PhaseCollect, FunctionEvidence, "Console screenshot and console output in the evidence bucket"},
	{StepSnapshots, PhaseCollect, FunctionEvidence, "Crash-consistent snapshots of every EBS volume, tagged with the case ID"},
	{StepProtect, PhaseContain, FunctionContain, "Termination protection on, shutdown behaviour stop"},
	{StepProfile, PhaseContain, FunctionContain, "Instance profile disassociated and saved in the case"},
	{StepAutoScaling, PhaseContain, FunctionContain, "Auto Scaling group: standby, else detach, so the group does not replace the instance"},
	{StepTargets, PhaseContain, FunctionContain, "Deregistered from every target group it is registered in"},
	{StepForensics, PhaseContain, FunctionEvidence, "Systems Manager managed instances: forensic profile, collection commands, profile removed"},
	{StepIsolate, PhaseContain, FunctionContain, "Every interface: original groups saved, all-access group, then the containment group"},
	{StepTag, PhaseContain, FunctionContain, "Quarantine tag with the case ID"},
	{StepManifest, PhaseReport, FunctionEvidence, "Chain-of-custody manifest, the case's last artifact, and the notification"},
}

// Tag keys the workflow writes on the instance and the snapshots.
const (
	// TagCase carries the case ID on the snapshots and on the quarantined instance.
	TagCase = "securestacks:ir-case"
	// TagQuarantine is "true" on a quarantined instance.
	TagQuarantine = "securestacks:ir-quarantine"
	// TagGroupRole marks the security groups the workflow creates per VPC:
	// GroupRoleAllAccess or GroupRoleContainment.
	TagGroupRole = "securestacks:ir-group"
	// TagDeployment scopes those groups to one deployment (the state machine's stack).
	TagDeployment = "securestacks:ir-deployment"
)

// Security group roles (TagGroupRole values).
const (
	GroupRoleAllAccess   = "all-access"
	GroupRoleContainment = "containment"
)

var (
	instanceIDPattern = regexp.MustCompile(`^i-([0-9a-f]{8}|[0-9a-f]{17})$`)
	// caseIDPattern fits a Step Functions execution name (1-80 characters
	// of letters, digits, - and _), which is the case ID.
	caseIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
)

// CheckInstanceID returns a one-line error unless id is an EC2 instance ID
// (i- and 8 or 17 lower-case hexadecimal digits).
func CheckInstanceID(id string) error {
	if !instanceIDPattern.MatchString(id) {
		return fmt.Errorf("instanceId %q: expected i- followed by 8 or 17 lower-case hexadecimal digits", id)
	}
	return nil
}

// CheckCaseID returns a one-line error unless id is 1 to 64 letters,
// digits, - or _.
func CheckCaseID(id string) error {
	if !caseIDPattern.MatchString(id) {
		return fmt.Errorf("caseId %q: expected 1 to 64 letters, digits, - or _", id)
	}
	return nil
}

// NewCaseID names a case that its caller did not name: the UTC start time
// and the instance ID, so a listing of the evidence bucket sorts by time.
func NewCaseID(instanceID string, now time.Time) string {
	return now.UTC().Format("20060102T150405Z") + "-" + instanceID
}

// Request starts a case (POST /cases) or plans one (DryRun).
type Request struct {
	InstanceID string `json:"instanceId"`
	CaseID     string `json:"caseId,omitempty"`
	DryRun     bool   `json:"dryRun,omitempty"`
	Reason     string `json:"reason,omitempty"`
}

// Check validates the request with one line per problem.
func (r Request) Check() error {
	if err := CheckInstanceID(r.InstanceID); err != nil {
		return err
	}
	if r.CaseID != "" {
		if err := CheckCaseID(r.CaseID); err != nil {
			return err
		}
	}
	if len(r.Reason) > 1024 {
		return fmt.Errorf("reason: expected at most 1024 characters, got %d", len(r.Reason))
	}
	return nil
}

// Caller is who started a case: an IAM principal through the API (from the
// request context API Gateway signs) or a GuardDuty finding.
type Caller struct {
	// Kind is "iam" or "guardduty".
	Kind      string `json:"kind"`
	ARN       string `json:"arn,omitempty"`
	AccountID string `json:"accountId,omitempty"`
	SourceIP  string `json:"sourceIp,omitempty"`
	UserAgent string `json:"userAgent,omitempty"`
	RequestID string `json:"requestId,omitempty"`
	FindingID string `json:"findingId,omitempty"`
	// FindingType and Severity describe the finding that started the case.
	FindingType string  `json:"findingType,omitempty"`
	Severity    float64 `json:"severity,omitempty"`
}

// Response answers POST /cases.
type Response struct {
	CaseID string `json:"caseId"`
	// Joined is true when the instance already had an open case: the request
	// joined it and started nothing.
	Joined       bool     `json:"joined,omitempty"`
	ExecutionArn string   `json:"executionArn,omitempty"`
	DryRun       bool     `json:"dryRun,omitempty"`
	Plan         []string `json:"plan,omitempty"`
}

// EvidencePrefix is where a case's artifacts live in the evidence bucket.
func EvidencePrefix(caseID string) string { return "cases/" + caseID + "/" }

// Environment variables of the Lambda tasks, set by the construct.
const (
	EnvBucket             = "IR_BUCKET"
	EnvKMSKeyARN          = "IR_KMS_KEY_ARN"
	EnvBucketOwner        = "IR_BUCKET_OWNER"
	EnvTopicARN           = "IR_TOPIC_ARN"
	EnvTable              = "IR_TABLE"
	EnvDeployment         = "IR_DEPLOYMENT"
	EnvProtectedTagKey    = "IR_PROTECTED_TAG_KEY"
	EnvProtectedTagValue  = "IR_PROTECTED_TAG_VALUE"
	EnvForensicProfileARN = "IR_FORENSIC_PROFILE_ARN"
	EnvForensicTimeout    = "IR_FORENSIC_TIMEOUT_SECONDS"
	EnvStateMachineARN    = "IR_STATE_MACHINE_ARN"
)

// CaughtPrefix prefixes the state field where the state machine's Catch of
// a step puts the error ("caught_metadata": {"Error": ..., "Cause": ...}),
// so the next step knows which step failed and records it.
const CaughtPrefix = "caught_"
