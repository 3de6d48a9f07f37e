// Package irworkflow runs the steps of an EC2 incident-response case
// (internal/incident.Steps) over narrow per-operation interfaces: the
// state machine of constructs/incidentresponse invokes one step at a time,
// and each step loads the case record, does its calls, records its outcome
// and saves the record.
//
// A step that fails is recorded and returns no error, so the state machine
// goes on to the next step: containment proceeds where it safely can, and
// the manifest and the notification list what failed. Only a case record
// that cannot be loaded or saved is an error (the state machine retries it).
package irworkflow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/securestacks/securestacks/internal/incident"
	"github.com/securestacks/securestacks/lambda-src/internal/awsretry"
)

// Config is the deployment's settings for the workflow.
type Config struct {
	// Bucket is the evidence bucket; KMSKeyARN its key (objects are written
	// with SSE-KMS under it); BucketOwner the account that owns the bucket
	// (sent as the expected bucket owner, so a renamed or re-created bucket
	// in another account never receives evidence).
	Bucket      string
	KMSKeyARN   string
	BucketOwner string
	// TopicARN receives the notification of each case.
	TopicARN string
	// Deployment tags the containment groups the workflow creates, so that
	// several deployments in one account keep their own.
	Deployment string
	// ProtectedTagKey (and ProtectedTagValue, empty for any value) marks
	// instances the workflow refuses.
	ProtectedTagKey   string
	ProtectedTagValue string
	// ForensicProfileARN is the instance profile attached for the forensic
	// commands; empty skips forensics.
	ForensicProfileARN string
	// LinuxCommands and WindowsCommands are the forensic commands.
	LinuxCommands   []string
	WindowsCommands []string
	// ForensicTimeout bounds the forensic commands and the wait for them.
	ForensicTimeout time.Duration
	// PollInterval is the wait between two looks at the forensic command.
	PollInterval time.Duration
	// CallTimeout bounds every AWS call.
	CallTimeout time.Duration
}

// DefaultLinuxCommands collect volatile state that snapshots do not hold,
// reading only.
var DefaultLinuxCommands = []string{
	"date -u", "uname -a", "uptime", "who -a", "last -n 100",
	"ps auxwwf", "ss -tanupe", "ip addr", "ip route", "ip neigh",
	"lsmod", "cat /proc/mounts", "df -h",
	"ls -la /tmp /var/tmp /dev/shm",
	"for u in $(cut -d: -f1 /etc/passwd); do crontab -l -u \"$u\" 2>/dev/null | sed \"s/^/$u: /\"; done",
	"systemctl list-units --type=service --state=running --no-pager",
	"find /etc /usr/bin /usr/sbin /tmp /var/tmp /dev/shm -xdev -type f -mtime -2 2>/dev/null | head -n 2000",
}

// DefaultWindowsCommands are the Windows counterparts.
var DefaultWindowsCommands = []string{
	"Get-Date -AsUTC", "Get-ComputerInfo | Out-String -Width 200",
	"Get-Process | Select-Object Id,ProcessName,Path,StartTime | Format-Table -AutoSize | Out-String -Width 300",
	"Get-NetTCPConnection | Format-Table -AutoSize | Out-String -Width 300",
	"Get-LocalUser | Format-Table | Out-String", "Get-ScheduledTask | Format-Table | Out-String -Width 300",
	"Get-Service | Where-Object Status -eq Running | Format-Table | Out-String -Width 300",
}

// Workflow runs steps. Each field is one AWS operation; a nil field means
// the binary that runs the workflow does not run the steps that need it.
type Workflow struct {
	Config Config
	Store  Store

	DescribeInstances                      DescribeInstancesAPI
	DescribeSecurityGroups                 DescribeSecurityGroupsAPI
	GetConsoleScreenshot                   GetConsoleScreenshotAPI
	GetConsoleOutput                       GetConsoleOutputAPI
	CreateSnapshots                        CreateSnapshotsAPI
	ModifyInstanceAttribute                ModifyInstanceAttributeAPI
	DescribeIamInstanceProfileAssociations DescribeIamInstanceProfileAssociationsAPI
	DisassociateIamInstanceProfile         DisassociateIamInstanceProfileAPI
	AssociateIamInstanceProfile            AssociateIamInstanceProfileAPI
	ModifyNetworkInterfaceAttribute        ModifyNetworkInterfaceAttributeAPI
	CreateSecurityGroup                    CreateSecurityGroupAPI
	AuthorizeSecurityGroupIngress          AuthorizeSecurityGroupIngressAPI
	AuthorizeSecurityGroupEgress           AuthorizeSecurityGroupEgressAPI
	RevokeSecurityGroupEgress              RevokeSecurityGroupEgressAPI
	DeleteSecurityGroup                    DeleteSecurityGroupAPI
	CreateTags                             CreateTagsAPI
	DeleteTags                             DeleteTagsAPI
	AutoScaling                            AutoScaling
	TargetGroups                           TargetGroups
	PutObject                              PutObjectAPI
	Publish                                PublishAPI
	SSM                                    SSM

	Logger *slog.Logger
	// Now is the clock. Default: time.Now.
	Now func() time.Time
	// Sleep waits between polls. Default: a timer that honours ctx.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Caught is a step failure the state machine caught (a task that timed out
// or crashed): the next step records it before it runs.
type Caught struct {
	Step  string `json:"step"`
	Error string `json:"Error,omitempty"`
	Cause string `json:"Cause,omitempty"`
}

// errSkip ends a step as skipped, with the reason as detail.
type errSkip struct{ reason string }

func (e errSkip) Error() string { return e.reason }

func skip(format string, args ...any) error { return errSkip{fmt.Sprintf(format, args...)} }

// stepFunc does one step and returns what it did.
type stepFunc func(w *Workflow, ctx context.Context, c *Case) (detail string, err error)

var stepFuncs = map[string]stepFunc{
	incident.StepMetadata:    (*Workflow).metadata,
	incident.StepConsole:     (*Workflow).console,
	incident.StepSnapshots:   (*Workflow).snapshots,
	incident.StepProtect:     (*Workflow).protect,
	incident.StepProfile:     (*Workflow).profile,
	incident.StepAutoScaling: (*Workflow).autoScaling,
	incident.StepTargets:     (*Workflow).targets,
	incident.StepForensics:   (*Workflow).forensics,
	incident.StepIsolate:     (*Workflow).isolate,
	incident.StepTag:         (*Workflow).tag,
	incident.StepManifest:    (*Workflow).manifest,
}

// ErrUnknownStep is returned for a step name that is not in incident.Steps.
var ErrUnknownStep = errors.New("unknown step")

// Run does step for the case: it loads the record, records a failure the
// state machine caught, runs the step unless the case is refused, records
// the outcome and saves the record.
func (w *Workflow) Run(ctx context.Context, step, caseID string, caught *Caught) error {
	fn, ok := stepFuncs[step]
	if !ok {
		return fmt.Errorf("%w %q", ErrUnknownStep, step)
	}
	c, err := w.Store.Load(ctx, caseID)
	if err != nil {
		return fmt.Errorf("loading case %s: %w", caseID, err)
	}
	if caught != nil && caught.Step != "" {
		if _, ran := c.Record(caught.Step); !ran || caught.Step != step {
			now := w.now()
			c.setRecord(StepRecord{Name: caught.Step, Started: now, Ended: now, Outcome: OutcomeFailed,
				Error: oneLine(caught.Error + ": " + caught.Cause)})
		}
	}
	rec := StepRecord{Name: step, Started: w.now()}
	switch {
	case c.Refusal != "" && step != incident.StepManifest:
		rec.Outcome, rec.Detail = OutcomeSkipped, c.Refusal
	default:
		detail, err := fn(w, ctx, c)
		var s errSkip
		switch {
		case errors.As(err, &s):
			rec.Outcome, rec.Detail = OutcomeSkipped, s.reason
		case err != nil:
			rec.Outcome, rec.Detail, rec.Error = OutcomeFailed, detail, oneLine(err.Error())
		default:
			rec.Outcome, rec.Detail = OutcomeOK, detail
		}
	}
	rec.Ended = w.now()
	c.setRecord(rec)
	w.logger().Info("step", slog.String("case", c.CaseID), slog.String("step", step),
		slog.String("outcome", rec.Outcome), slog.String("error", rec.Error))
	if err := w.Store.Save(ctx, c); err != nil {
		return fmt.Errorf("saving case %s after %s: %w", caseID, step, err)
	}
	return nil
}

// RunAll runs every step in order, as the state machine does.
func (w *Workflow) RunAll(ctx context.Context, caseID string) error {
	for _, s := range incident.Steps {
		if err := w.Run(ctx, s.Name, caseID, nil); err != nil {
			return err
		}
	}
	return nil
}

func (w *Workflow) now() time.Time {
	if w.Now != nil {
		return w.Now().UTC()
	}
	return time.Now().UTC()
}

func (w *Workflow) logger() *slog.Logger {
	if w.Logger != nil {
		return w.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (w *Workflow) sleep(ctx context.Context, d time.Duration) error {
	if w.Sleep != nil {
		return w.Sleep(ctx, d)
	}
	return awsretry.Sleep(ctx, d)
}

// call bounds one AWS call.
func (w *Workflow) call(ctx context.Context) (context.Context, context.CancelFunc) {
	d := w.Config.CallTimeout
	if d <= 0 {
		d = 20 * time.Second
	}
	return context.WithTimeout(ctx, d)
}

func oneLine(s string) string {
	b := []rune(s)
	for i, r := range b {
		if r == '\n' || r == '\r' || r == '\t' {
			b[i] = ' '
		}
	}
	if len(b) > 500 {
		b = append(b[:497], '.', '.', '.')
	}
	return string(b)
}

// Refusal is why a case must not touch the instance (a protected tag, an
// instance that no longer runs), or "" when it may. The API refuses with it
// before it starts a case; the metadata step checks again, for an instance
// tagged or terminated in between.
func Refusal(cfg Config, instanceID, state string, tags map[string]string) string {
	if cfg.ProtectedTagKey != "" {
		if v, ok := tags[cfg.ProtectedTagKey]; ok && (cfg.ProtectedTagValue == "" || v == cfg.ProtectedTagValue) {
			return fmt.Sprintf("instance %s carries the protected tag %s=%s: refused", instanceID, cfg.ProtectedTagKey, v)
		}
	}
	switch state {
	case "terminated", "shutting-down":
		return fmt.Sprintf("instance %s is %s: there is nothing to contain", instanceID, state)
	}
	return ""
}
