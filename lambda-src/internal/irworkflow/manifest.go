package irworkflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/securestacks/securestacks/internal/incident"
)

// Manifest is the chain-of-custody record, the last artifact of a case
// (manifest.json): every artifact with its key, version ID and SHA-256,
// the snapshots, when each step ran and how it ended, and who started the
// case. Its own version ID and SHA-256 are in the case record and the
// notification.
type Manifest struct {
	SchemaVersion int             `json:"schemaVersion"`
	CaseID        string          `json:"caseId"`
	InstanceID    string          `json:"instanceId"`
	StartedBy     incident.Caller `json:"startedBy"`
	Reason        string          `json:"reason,omitempty"`
	StartedAt     time.Time       `json:"startedAt"`
	ContainedAt   *time.Time      `json:"containedAt,omitempty"`
	GeneratedAt   time.Time       `json:"generatedAt"`
	Bucket        string          `json:"bucket"`
	Refusal       string          `json:"refusal,omitempty"`
	Artifacts     []Artifact      `json:"artifacts"`
	Snapshots     []Snapshot      `json:"snapshots"`
	Steps         []StepRecord    `json:"steps"`
	FailedSteps   []string        `json:"failedSteps"`
	Saved         Saved           `json:"saved"`
}

// BuildManifest is the manifest of c as of now.
func BuildManifest(c *Case, bucket string, now time.Time) Manifest {
	m := Manifest{
		SchemaVersion: 1, CaseID: c.CaseID, InstanceID: c.InstanceID, StartedBy: c.StartedBy, Reason: c.Reason,
		StartedAt: c.StartedAt, ContainedAt: c.ContainedAt, GeneratedAt: now, Bucket: bucket, Refusal: c.Refusal,
		Artifacts: append([]Artifact{}, c.Artifacts...), Snapshots: append([]Snapshot{}, c.Snapshots...),
		Steps: append([]StepRecord{}, c.Steps...), FailedSteps: []string{}, Saved: c.Saved,
	}
	for _, f := range c.Failed() {
		m.FailedSteps = append(m.FailedSteps, f.Name)
	}
	return m
}

func (w *Workflow) manifest(ctx context.Context, c *Case) (string, error) {
	// The manifest records its own step as running: it cannot hold its own hash.
	c.setRecord(StepRecord{Name: incident.StepManifest, Started: w.now(), Outcome: "running"})
	body, err := json.MarshalIndent(BuildManifest(c, w.Config.Bucket, w.now()), "", "  ")
	if err != nil {
		return "", fmt.Errorf("encoding the manifest: %w", err)
	}
	a, err := w.putEvidence(ctx, c, incident.StepManifest, "manifest.json", "application/json", body)
	if err != nil {
		return "", err
	}
	c.Manifest = &a
	if err := w.notify(ctx, c); err != nil {
		return "manifest " + a.Key + " version " + a.VersionID, err
	}
	return fmt.Sprintf("manifest %s version %s sha256 %s; notified", a.Key, a.VersionID, a.SHA256), nil
}

// Notification is the text sent to the topic.
func Notification(c *Case) (subject, message string) {
	failed := c.Failed()
	state := "contained"
	switch {
	case c.Refusal != "":
		state = "refused"
	case c.ContainedAt == nil:
		state = "NOT contained"
	}
	subject = fmt.Sprintf("Incident response %s: %s %s", c.CaseID, c.InstanceID, state)
	if len(failed) > 0 {
		subject += fmt.Sprintf(", %d steps failed", len(failed))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Case %s, instance %s: %s.\n", c.CaseID, c.InstanceID, state)
	if c.Refusal != "" {
		fmt.Fprintf(&b, "Refused: %s\n", c.Refusal)
	}
	fmt.Fprintf(&b, "Started by %s %s at %s.\n", c.StartedBy.Kind, firstNonEmpty(c.StartedBy.ARN, c.StartedBy.FindingID), c.StartedAt.Format(time.RFC3339))
	if len(failed) > 0 {
		b.WriteString("Failed steps:\n")
		for _, f := range failed {
			fmt.Fprintf(&b, "  - %s: %s\n", f.Name, f.Error)
		}
	}
	b.WriteString("Steps:\n")
	for _, r := range c.Steps {
		if r.Name == incident.StepManifest {
			continue
		}
		fmt.Fprintf(&b, "  %-12s %-8s %s\n", r.Name, r.Outcome, firstNonEmpty(r.Error, r.Detail))
	}
	if c.Manifest != nil {
		fmt.Fprintf(&b, "Manifest: s3://%s (version %s, sha256 %s)\n", c.Manifest.Key, c.Manifest.VersionID, c.Manifest.SHA256)
	}
	b.WriteString("Release with: securestacks ir release --case-id " + c.CaseID + "\n")
	if len(subject) > 99 {
		subject = subject[:99]
	}
	return subject, b.String()
}

func (w *Workflow) notify(ctx context.Context, c *Case) error {
	if w.Publish == nil || w.Config.TopicARN == "" {
		return errors.New("no notification topic")
	}
	subject, message := Notification(c)
	cctx, cancel := w.call(ctx)
	defer cancel()
	if _, err := w.Publish.Publish(cctx, &sns.PublishInput{TopicArn: aws.String(w.Config.TopicARN), Subject: aws.String(subject), Message: aws.String(message)}); err != nil {
		return fmt.Errorf("sns:Publish: %w", err)
	}
	return nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// ErrNotReleasable is returned for a case that release must not touch.
var ErrNotReleasable = errors.New("case cannot be released")

// Release restores what containment saved: every interface's original
// groups and the original instance profile, and removes the quarantine tag.
// Termination protection stays on, and the instance is not put back into
// its Auto Scaling group or target groups: returning a suspect instance to
// service is the responders' decision. It is the only code that restores.
func (w *Workflow) Release(ctx context.Context, caseID, by string) (*Case, error) {
	c, err := w.Store.Load(ctx, caseID)
	if err != nil {
		return nil, fmt.Errorf("loading case %s: %w", caseID, err)
	}
	if c.Status == StatusReleased {
		return c, nil
	}
	if _, ran := c.Record(incident.StepManifest); !ran && c.Refusal == "" {
		return nil, fmt.Errorf("%w: case %s is still running", ErrNotReleasable, caseID)
	}
	var problems []string
	for _, it := range c.Saved.Interfaces {
		cctx, cancel := w.call(ctx)
		_, err := w.ModifyNetworkInterfaceAttribute.ModifyNetworkInterfaceAttribute(cctx, &ec2.ModifyNetworkInterfaceAttributeInput{
			NetworkInterfaceId: aws.String(it.ID), Groups: it.Groups,
		})
		cancel()
		if err != nil {
			problems = append(problems, it.ID+": "+err.Error())
		}
	}
	if c.Saved.ProfileARN != "" {
		cctx, cancel := w.call(ctx)
		_, err := w.AssociateIamInstanceProfile.AssociateIamInstanceProfile(cctx, &ec2.AssociateIamInstanceProfileInput{
			InstanceId: aws.String(c.InstanceID), IamInstanceProfile: &ec2types.IamInstanceProfileSpecification{Arn: aws.String(c.Saved.ProfileARN)},
		})
		cancel()
		if err != nil {
			problems = append(problems, "profile "+c.Saved.ProfileARN+": "+err.Error())
		}
	}
	cctx, cancel := w.call(ctx)
	_, err = w.DeleteTags.DeleteTags(cctx, &ec2.DeleteTagsInput{Resources: []string{c.InstanceID}, Tags: []ec2types.Tag{{Key: aws.String(incident.TagQuarantine)}}})
	cancel()
	if err != nil {
		problems = append(problems, "quarantine tag: "+err.Error())
	}
	if len(problems) > 0 {
		// The case stays open: release can be repeated.
		return c, fmt.Errorf("release of %s incomplete: %s", caseID, strings.Join(problems, "; "))
	}
	t := w.now()
	c.Status, c.ReleasedAt, c.ReleasedBy = StatusReleased, &t, by
	if err := w.Store.Save(ctx, c); err != nil {
		return c, fmt.Errorf("saving case %s: %w", caseID, err)
	}
	return c, nil
}
