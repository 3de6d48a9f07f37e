package irworkflow

import (
	"time"

	"github.com/securestacks/securestacks/internal/incident"
)

// Case statuses.
const (
	StatusOpen     = "open"
	StatusRefused  = "refused"
	StatusReleased = "released"
)

// Step outcomes.
const (
	OutcomeOK      = "ok"
	OutcomeFailed  = "failed"
	OutcomeSkipped = "skipped"
)

// Case is the record of one case: who started it, what each step did, the
// artifacts, and the state that release restores.
type Case struct {
	CaseID     string          `json:"caseId"`
	InstanceID string          `json:"instanceId"`
	Status     string          `json:"status"`
	Reason     string          `json:"reason,omitempty"`
	StartedBy  incident.Caller `json:"startedBy"`
	StartedAt  time.Time       `json:"startedAt"`
	// ExecutionArn is the state machine execution that runs the case.
	ExecutionArn string `json:"executionArn,omitempty"`
	// Refusal says why the workflow changes nothing (a protected tag, a
	// terminated instance); empty for a case that proceeds.
	Refusal   string       `json:"refusal,omitempty"`
	Steps     []StepRecord `json:"steps,omitempty"`
	Artifacts []Artifact   `json:"artifacts,omitempty"`
	Snapshots []Snapshot   `json:"snapshots,omitempty"`
	Instance  *Facts       `json:"instance,omitempty"`
	Saved     Saved        `json:"saved"`
	// ContainedAt is when the last interface reached the containment group.
	ContainedAt *time.Time `json:"containedAt,omitempty"`
	Manifest    *Artifact  `json:"manifest,omitempty"`
	ReleasedAt  *time.Time `json:"releasedAt,omitempty"`
	ReleasedBy  string     `json:"releasedBy,omitempty"`
}

// StepRecord is when a step ran and how it ended.
type StepRecord struct {
	Name    string    `json:"name"`
	Started time.Time `json:"started"`
	Ended   time.Time `json:"ended"`
	Outcome string    `json:"outcome"`
	// Detail says what was done or skipped; Error why it failed.
	Detail string `json:"detail,omitempty"`
	Error  string `json:"error,omitempty"`
}

// Artifact is one object the case wrote to the evidence bucket.
type Artifact struct {
	Key       string `json:"key"`
	VersionID string `json:"versionId,omitempty"`
	SHA256    string `json:"sha256"`
	Size      int    `json:"size"`
	Step      string `json:"step"`
}

// Snapshot is one EBS snapshot of the case.
type Snapshot struct {
	SnapshotID string `json:"snapshotId"`
	VolumeID   string `json:"volumeId"`
}

// Facts is what the metadata step learnt about the instance, for the steps
// after it.
type Facts struct {
	State      string      `json:"state"`
	Platform   string      `json:"platform,omitempty"`
	Interfaces []Interface `json:"interfaces,omitempty"`
	// EBSVolumes are the attached EBS volume IDs; an instance-store-only
	// instance has none.
	EBSVolumes  []string          `json:"ebsVolumes,omitempty"`
	RootDevice  string            `json:"rootDeviceType,omitempty"`
	SSMManaged  bool              `json:"ssmManaged"`
	SSMPlatform string            `json:"ssmPlatform,omitempty"`
	Tags        map[string]string `json:"tags,omitempty"`
	VpcID       string            `json:"vpcId,omitempty"`
}

// Interface is one network interface and its security groups.
type Interface struct {
	ID     string   `json:"id"`
	VpcID  string   `json:"vpcId"`
	Groups []string `json:"groups"`
}

// Saved is what release restores, and what it deliberately does not
// (Auto Scaling and target groups are recorded for the responders: putting
// a suspect instance back into service is their decision).
type Saved struct {
	Interfaces       []Interface    `json:"interfaces,omitempty"`
	ProfileARN       string         `json:"profileArn,omitempty"`
	AutoScalingGroup string         `json:"autoScalingGroup,omitempty"`
	AutoScaling      string         `json:"autoScalingAction,omitempty"`
	Targets          []Registration `json:"targets,omitempty"`
	// ContainmentGroups maps a VPC to the containment group used there.
	ContainmentGroups map[string]string `json:"containmentGroups,omitempty"`
}

// Registration is one target-group registration the targets step removed.
type Registration struct {
	TargetGroupARN   string `json:"targetGroupArn"`
	Port             int32  `json:"port,omitempty"`
	AvailabilityZone string `json:"availabilityZone,omitempty"`
}

// Record returns the record of step, if it ran.
func (c *Case) Record(step string) (StepRecord, bool) {
	for _, r := range c.Steps {
		if r.Name == step {
			return r, true
		}
	}
	return StepRecord{}, false
}

// setRecord replaces the record of r.Name: a step that Step Functions
// retries leaves one record.
func (c *Case) setRecord(r StepRecord) {
	for i := range c.Steps {
		if c.Steps[i].Name == r.Name {
			c.Steps[i] = r
			return
		}
	}
	c.Steps = append(c.Steps, r)
}

func (c *Case) addArtifact(a Artifact) {
	for i := range c.Artifacts {
		if c.Artifacts[i].Key == a.Key {
			c.Artifacts[i] = a
			return
		}
	}
	c.Artifacts = append(c.Artifacts, a)
}

// Failed lists the steps that failed, in order.
func (c *Case) Failed() []StepRecord {
	var out []StepRecord
	for _, r := range c.Steps {
		if r.Outcome == OutcomeFailed {
			out = append(out, r)
		}
	}
	return out
}
