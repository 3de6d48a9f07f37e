package irworkflow_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/securestacks/securestacks/internal/incident"
	"github.com/securestacks/securestacks/lambda-src/internal/irworkflow"
	"github.com/securestacks/securestacks/lambda-src/internal/irworkflow/irfake"
)

const instanceID = "i-0123456789abcdef0"

var testConfig = irworkflow.Config{
	Bucket: "evidence", KMSKeyARN: "arn:aws:kms:eu-west-1:111122223333:key/1", TopicARN: "arn:aws:sns:eu-west-1:111122223333:ir",
	Deployment: "Test-IncidentResponse", ProtectedTagKey: "ir:protected",
	ForensicProfileARN: "arn:aws:iam::111122223333:instance-profile/forensic", ForensicTimeout: time.Minute,
}

// newCase stores an open case for the fake's instance and returns a
// workflow over the fake with a clock that moves one second per reading.
func newCase(t testing.TB, cloud *irfake.Cloud) (*irworkflow.Workflow, *irfake.Store) {
	t.Helper()
	store := irfake.NewStore()
	start := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	if _, _, err := store.Open(context.Background(), &irworkflow.Case{CaseID: "case-1", InstanceID: cloud.InstanceID, Status: irworkflow.StatusOpen,
		StartedAt: start, StartedBy: incident.Caller{Kind: "iam", ARN: "arn:aws:iam::111122223333:role/responder"}}); err != nil {
		t.Fatal(err)
	}
	w := cloud.Wire(testConfig, store)
	tick := start
	w.Now = func() time.Time { tick = tick.Add(time.Second); return tick }
	return w, store
}

func run(t testing.TB, w *irworkflow.Workflow, store *irfake.Store) *irworkflow.Case {
	t.Helper()
	if err := w.RunAll(context.Background(), "case-1"); err != nil {
		t.Fatal(err)
	}
	c, err := store.Load(context.Background(), "case-1")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func outcome(t *testing.T, c *irworkflow.Case, step string) irworkflow.StepRecord {
	t.Helper()
	r, ok := c.Record(step)
	if !ok {
		t.Fatalf("step %s has no record", step)
	}
	return r
}

// firstMutation is the index of the first call that changes the instance;
// lastEvidence that of the last collect-phase call before it.
func assertCollectBeforeChange(t *testing.T, ops []string) {
	t.Helper()
	first := slices.IndexFunc(ops, func(op string) bool { return irfake.Mutating[op] })
	if first < 0 {
		return
	}
	for _, op := range []string{"ec2:GetConsoleScreenshot", "ec2:GetConsoleOutput", "ec2:CreateSnapshots"} {
		if i := slices.Index(ops, op); i > first {
			t.Errorf("%s (call %d) after the first mutating call %s (call %d)", op, i, ops[first], first)
		}
	}
}

func TestFullCaseCollectsThenContains(t *testing.T) {
	// GIVEN a managed instance with 2 interfaces, 3 volumes, a profile, an
	// Auto Scaling group and two target groups
	cloud := irfake.New(instanceID, 2, 3).InAutoScaling("web-asg").InTargetGroups("arn:tg/a", "arn:tg/b")
	cloud.SSMOnline = true
	original := [][]string{cloud.Interfaces[0].Groups, cloud.Interfaces[1].Groups}
	w, store := newCase(t, cloud)

	// WHEN the case runs
	c := run(t, w, store)

	// THEN every step succeeded
	for _, s := range incident.Steps {
		if r := outcome(t, c, s.Name); r.Outcome != irworkflow.OutcomeOK {
			t.Errorf("%s: %s %s %s", s.Name, r.Outcome, r.Detail, r.Error)
		}
	}
	ops := cloud.Ops()
	assertCollectBeforeChange(t, ops)
	// AND every volume has a snapshot tagged with the case
	if len(c.Snapshots) != 3 {
		t.Errorf("snapshots %v, want 3", c.Snapshots)
	}
	// AND each interface went to the all-access group, then the containment group
	var swaps []string
	for _, k := range cloud.Calls {
		if k.Op == "ec2:ModifyNetworkInterfaceAttribute" {
			swaps = append(swaps, k.Arg)
		}
	}
	containment := c.Saved.ContainmentGroups["vpc-1"]
	if len(swaps) != 4 {
		t.Fatalf("interface swaps %v, want 4", swaps)
	}
	for i, it := range cloud.Interfaces {
		open := strings.TrimPrefix(swaps[2*i], it.ID+"=")
		if open == swaps[2*i] || open == containment || swaps[2*i+1] != it.ID+"="+containment {
			t.Errorf("interface %s: swaps %v, want all-access then %s", it.ID, swaps[2*i:2*i+2], containment)
		}
		if !slices.Equal(it.Groups, []string{containment}) {
			t.Errorf("interface %s ends in %v", it.ID, it.Groups)
		}
		if !slices.Equal(c.Saved.Interfaces[i].Groups, original[i]) {
			t.Errorf("saved groups of %s: %v, want %v", it.ID, c.Saved.Interfaces[i].Groups, original[i])
		}
	}
	// AND the all-access group is gone and the containment group has no rules
	for id, g := range cloud.Groups {
		if strings.Contains(*g.GroupName, "all-access") {
			t.Errorf("all-access group %s left behind", id)
		}
	}
	if g := cloud.Groups[containment]; len(g.IpPermissions)+len(g.IpPermissionsEgress) != 0 {
		t.Errorf("containment group has rules: %+v", g)
	}
	// AND the profile was disassociated and saved, the forensic one detached again
	if cloud.Association() != "" || c.Saved.ProfileARN != "arn:aws:iam::111122223333:instance-profile/web" {
		t.Errorf("profile now %q, saved %q", cloud.Association(), c.Saved.ProfileARN)
	}
	// AND the group holds the instance in standby; the target groups dropped it
	if cloud.ASGState != "Standby" || c.Saved.AutoScaling != "standby" {
		t.Errorf("auto scaling %q, saved %q", cloud.ASGState, c.Saved.AutoScaling)
	}
	for _, tg := range []string{"arn:tg/a", "arn:tg/b"} {
		if cloud.Registered(tg) {
			t.Errorf("still registered in %s", tg)
		}
	}
	if !cloud.TerminationProt || cloud.Shutdown != "stop" || cloud.Tags[incident.TagQuarantine] != "true" || cloud.Tags[incident.TagCase] != "case-1" {
		t.Errorf("protection %v, shutdown %q, tags %v", cloud.TerminationProt, cloud.Shutdown, cloud.Tags)
	}
	if c.ContainedAt == nil {
		t.Error("no containment time")
	}
	// AND the manifest is the last object, and lists every other artifact with its hash
	assertManifest(t, cloud, c)
	if len(cloud.Published) != 1 || !strings.Contains(cloud.Published[0], "contained") {
		t.Errorf("notifications %q", cloud.Published)
	}
}

func assertManifest(t *testing.T, cloud *irfake.Cloud, c *irworkflow.Case) irworkflow.Manifest {
	t.Helper()
	var puts []string
	for _, k := range cloud.Calls {
		if k.Op == "s3:PutObject" {
			puts = append(puts, k.Arg)
		}
	}
	if len(puts) == 0 || puts[len(puts)-1] != "cases/case-1/manifest.json" {
		t.Fatalf("evidence writes %v: the manifest is not last", puts)
	}
	var m irworkflow.Manifest
	if err := json.Unmarshal(cloud.Objects["cases/case-1/manifest.json"], &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Artifacts) != len(puts)-1 {
		t.Errorf("manifest lists %d artifacts, %d were written before it", len(m.Artifacts), len(puts)-1)
	}
	for _, a := range m.Artifacts {
		sum := sha256.Sum256(cloud.Objects[a.Key])
		if a.SHA256 != hex.EncodeToString(sum[:]) || a.VersionID == "" {
			t.Errorf("artifact %s: sha256 %s version %q", a.Key, a.SHA256, a.VersionID)
		}
	}
	if m.StartedBy.ARN != "arn:aws:iam::111122223333:role/responder" {
		t.Errorf("started by %+v", m.StartedBy)
	}
	for _, s := range m.Steps {
		if s.Started.IsZero() {
			t.Errorf("step %s without a start time", s.Name)
		}
	}
	if c.Manifest == nil || c.Manifest.Key != "cases/case-1/manifest.json" {
		t.Errorf("case manifest %+v", c.Manifest)
	}
	return m
}

func TestCases(t *testing.T) {
	tests := []struct {
		name  string
		given func(*irfake.Cloud)
		then  func(*testing.T, *irfake.Cloud, *irworkflow.Case)
	}{
		{"no SSM agent", func(c *irfake.Cloud) { c.SSMOnline = false }, func(t *testing.T, cloud *irfake.Cloud, c *irworkflow.Case) {
			if r := outcome(t, c, incident.StepForensics); r.Outcome != irworkflow.OutcomeSkipped {
				t.Errorf("forensics %+v", r)
			}
			if slices.Contains(cloud.Ops(), "ssm:SendCommand") || slices.Contains(cloud.Ops(), "ec2:AssociateIamInstanceProfile") {
				t.Errorf("forensics ran: %v", cloud.Ops())
			}
			if c.ContainedAt == nil {
				t.Error("not contained")
			}
		}},
		{"instance store only", func(c *irfake.Cloud) { c.Volumes = nil }, func(t *testing.T, cloud *irfake.Cloud, c *irworkflow.Case) {
			if r := outcome(t, c, incident.StepSnapshots); r.Outcome != irworkflow.OutcomeSkipped {
				t.Errorf("snapshots %+v", r)
			}
			if slices.Contains(cloud.Ops(), "ec2:CreateSnapshots") {
				t.Error("CreateSnapshots called for an instance-store instance")
			}
			if c.ContainedAt == nil {
				t.Error("not contained")
			}
		}},
		{"terminated", func(c *irfake.Cloud) { c.State = "terminated" }, func(t *testing.T, cloud *irfake.Cloud, c *irworkflow.Case) {
			if n := cloud.MutatingCalls(); n != 0 {
				t.Errorf("%d mutating calls on a terminated instance: %v", n, cloud.Ops())
			}
			if !strings.Contains(c.Refusal, "is terminated") || outcome(t, c, incident.StepIsolate).Outcome != irworkflow.OutcomeSkipped {
				t.Errorf("refusal %q", c.Refusal)
			}
			if len(cloud.Published) != 1 || !strings.Contains(cloud.Published[0], "refused") {
				t.Errorf("notification %q", cloud.Published)
			}
		}},
		{"protected tag", func(c *irfake.Cloud) { c.Tags["ir:protected"] = "yes" }, func(t *testing.T, cloud *irfake.Cloud, c *irworkflow.Case) {
			if n := cloud.MutatingCalls(); n != 0 {
				t.Errorf("%d mutating calls on a protected instance: %v", n, cloud.Ops())
			}
			if c.Refusal != "instance i-0123456789abcdef0 carries the protected tag ir:protected=yes: refused" {
				t.Errorf("refusal %q", c.Refusal)
			}
		}},
		{"failing screenshot", func(c *irfake.Cloud) { c.Fail["ec2:GetConsoleScreenshot"] = irfake.APIError("UnsupportedOperation") }, func(t *testing.T, cloud *irfake.Cloud, c *irworkflow.Case) {
			r := outcome(t, c, incident.StepConsole)
			if r.Outcome != irworkflow.OutcomeFailed || !strings.Contains(r.Error, "screenshot") || !strings.Contains(r.Detail, "console output") {
				t.Errorf("console %+v", r)
			}
			if c.ContainedAt == nil {
				t.Error("containment did not go on")
			}
			assertCollectBeforeChange(t, cloud.Ops())
			m := assertManifest(t, cloud, c)
			if !slices.Equal(m.FailedSteps, []string{incident.StepConsole}) {
				t.Errorf("failed steps %v", m.FailedSteps)
			}
			if len(cloud.Published) != 1 || !strings.Contains(cloud.Published[0], "console: screenshot") {
				t.Errorf("notification %q", cloud.Published)
			}
		}},
		{"standby refused: detach", func(c *irfake.Cloud) { c.InAutoScaling("asg"); c.StandbyFails = true }, func(t *testing.T, cloud *irfake.Cloud, c *irworkflow.Case) {
			if c.Saved.AutoScaling != "detached" || cloud.AutoScaling != "" {
				t.Errorf("auto scaling saved %q, group now %q", c.Saved.AutoScaling, cloud.AutoScaling)
			}
		}},
		{"failing interface swap", func(c *irfake.Cloud) {
			c.Fail["ec2:ModifyNetworkInterfaceAttribute"] = irfake.APIError("UnauthorizedOperation")
		}, func(t *testing.T, cloud *irfake.Cloud, c *irworkflow.Case) {
			if c.ContainedAt != nil || outcome(t, c, incident.StepIsolate).Outcome != irworkflow.OutcomeFailed {
				t.Errorf("contained at %v", c.ContainedAt)
			}
			if outcome(t, c, incident.StepTag).Outcome != irworkflow.OutcomeOK {
				t.Error("tag step did not go on")
			}
			if len(cloud.Published) != 1 || !strings.Contains(cloud.Published[0], "NOT contained") {
				t.Errorf("notification %q", cloud.Published)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN
			cloud := irfake.New(instanceID, 2, 2)
			cloud.SSMOnline = true
			tt.given(cloud)
			w, store := newCase(t, cloud)
			// WHEN
			c := run(t, w, store)
			// THEN
			tt.then(t, cloud, c)
		})
	}
}

func TestAlreadyQuarantinedIsIdempotent(t *testing.T) {
	// GIVEN a case that ran to the end
	cloud := irfake.New(instanceID, 2, 1)
	w, store := newCase(t, cloud)
	first := run(t, w, store)
	before := len(cloud.Calls)
	// WHEN every step runs again (a retried execution)
	second := run(t, w, store)
	// THEN no interface moves again and the saved groups are still the originals
	for _, k := range cloud.Calls[before:] {
		if k.Op == "ec2:ModifyNetworkInterfaceAttribute" || k.Op == "ec2:CreateSecurityGroup" || k.Op == "ec2:CreateSnapshots" {
			t.Errorf("second run called %s %s", k.Op, k.Arg)
		}
	}
	if !slices.EqualFunc(first.Saved.Interfaces, second.Saved.Interfaces, func(a, b irworkflow.Interface) bool { return slices.Equal(a.Groups, b.Groups) }) {
		t.Errorf("saved groups changed: %v -> %v", first.Saved.Interfaces, second.Saved.Interfaces)
	}
	if second.Saved.ProfileARN != first.Saved.ProfileARN || len(second.Snapshots) != len(first.Snapshots) {
		t.Errorf("saved state changed: %+v", second.Saved)
	}
}

func TestCaughtFailureIsRecorded(t *testing.T) {
	// GIVEN a step the state machine caught after its task timed out
	cloud := irfake.New(instanceID, 1, 1)
	w, store := newCase(t, cloud)
	// WHEN the next step runs with it
	if err := w.Run(context.Background(), incident.StepConsole, "case-1", &irworkflow.Caught{Step: incident.StepMetadata, Error: "States.Timeout", Cause: "task timed out"}); err != nil {
		t.Fatal(err)
	}
	// THEN the case records the failure
	c, _ := store.Load(context.Background(), "case-1")
	if r := outcome(t, c, incident.StepMetadata); r.Outcome != irworkflow.OutcomeFailed || r.Error != "States.Timeout: task timed out" {
		t.Errorf("metadata %+v", r)
	}
}

func TestUnknownStepAndMissingCase(t *testing.T) {
	cloud := irfake.New(instanceID, 1, 1)
	w, _ := newCase(t, cloud)
	if err := w.Run(context.Background(), "reboot", "case-1", nil); !errors.Is(err, irworkflow.ErrUnknownStep) {
		t.Errorf("unknown step: %v", err)
	}
	if err := w.Run(context.Background(), incident.StepMetadata, "nope", nil); !errors.Is(err, irfake.ErrNotFound) {
		t.Errorf("missing case: %v", err)
	}
}

func TestReleaseRestoresGroupsAndProfile(t *testing.T) {
	// GIVEN a contained instance
	cloud := irfake.New(instanceID, 2, 1)
	original := [][]string{cloud.Interfaces[0].Groups, cloud.Interfaces[1].Groups}
	w, store := newCase(t, cloud)
	c := run(t, w, store)
	// THEN the workflow itself never restored anything
	for _, k := range cloud.Calls {
		if k.Op == "ec2:AssociateIamInstanceProfile" && k.Arg == c.Saved.ProfileARN {
			t.Error("the workflow re-associated the original profile")
		}
	}
	// WHEN the case is released
	released, err := w.Release(context.Background(), "case-1", "arn:aws:iam::111122223333:role/lead")
	if err != nil {
		t.Fatal(err)
	}
	// THEN the interfaces have their groups back, the profile is back, the tag gone
	for i, it := range cloud.Interfaces {
		if !slices.Equal(it.Groups, original[i]) {
			t.Errorf("%s groups %v, want %v", it.ID, it.Groups, original[i])
		}
	}
	if cloud.Association() != c.Saved.ProfileARN || cloud.Tags[incident.TagQuarantine] != "" {
		t.Errorf("profile %q, tags %v", cloud.Association(), cloud.Tags)
	}
	if released.Status != irworkflow.StatusReleased || released.ReleasedBy != "arn:aws:iam::111122223333:role/lead" {
		t.Errorf("released %+v", released)
	}
}

func TestReleaseRefusesARunningCase(t *testing.T) {
	cloud := irfake.New(instanceID, 1, 1)
	w, _ := newCase(t, cloud)
	if err := w.Run(context.Background(), incident.StepMetadata, "case-1", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Release(context.Background(), "case-1", "x"); !errors.Is(err, irworkflow.ErrNotReleasable) {
		t.Errorf("release of a running case: %v", err)
	}
	if n := cloud.MutatingCalls(); n != 0 {
		t.Errorf("%d mutating calls", n)
	}
}

func TestHandleTaskRecordsTheCaughtStep(t *testing.T) {
	// GIVEN the state after the Catch of the snapshots task
	cloud := irfake.New(instanceID, 1, 1)
	w, store := newCase(t, cloud)
	var in irworkflow.TaskInput
	if err := json.Unmarshal([]byte(`{"step":"protect","state":{"caseId":"case-1","caught_snapshots":{"Error":"Lambda.Unknown","Cause":"out of memory"}}}`), &in); err != nil {
		t.Fatal(err)
	}
	// WHEN the protect task runs
	out, err := w.HandleTask(context.Background(), in)
	// THEN it answers the case ID, ran, and recorded the failure of snapshots
	if err != nil || out.CaseID != "case-1" {
		t.Fatalf("out %+v, err %v", out, err)
	}
	c, _ := store.Load(context.Background(), "case-1")
	if r := outcome(t, c, incident.StepSnapshots); r.Outcome != irworkflow.OutcomeFailed || !strings.Contains(r.Error, "out of memory") {
		t.Errorf("snapshots %+v", r)
	}
	if outcome(t, c, incident.StepProtect).Outcome != irworkflow.OutcomeOK {
		t.Error("protect did not run")
	}
	if _, err := w.HandleTask(context.Background(), irworkflow.TaskInput{Step: "protect"}); !errors.Is(err, irworkflow.ErrBadTask) {
		t.Errorf("no case ID: %v", err)
	}
}

func TestContainmentGroupCreatedByAnotherCaseMeanwhile(t *testing.T) {
	// GIVEN another case that creates the containment group between this
	// case's look and its create
	cloud := irfake.New(instanceID, 1, 1)
	cloud.RaceGroup = func(c *irfake.Cloud) {
		_, _ = c.CreateSecurityGroup(context.Background(), &ec2.CreateSecurityGroupInput{
			GroupName: aws.String("securestacks-ir-containment-" + testConfig.Deployment), VpcId: aws.String("vpc-1"),
			TagSpecifications: []ec2types.TagSpecification{{Tags: []ec2types.Tag{
				{Key: aws.String(incident.TagGroupRole), Value: aws.String(incident.GroupRoleContainment)},
				{Key: aws.String(incident.TagDeployment), Value: aws.String(testConfig.Deployment)},
			}}},
		})
	}
	w, store := newCase(t, cloud)
	// WHEN the case runs
	c := run(t, w, store)
	// THEN it uses that group and is contained
	if r := outcome(t, c, incident.StepIsolate); r.Outcome != irworkflow.OutcomeOK || c.ContainedAt == nil {
		t.Fatalf("isolate %+v", r)
	}
	if g := cloud.Interfaces[0].Groups; len(g) != 1 || g[0] != c.Saved.ContainmentGroups["vpc-1"] {
		t.Errorf("interface in %v, containment %s", g, c.Saved.ContainmentGroups["vpc-1"])
	}
}
