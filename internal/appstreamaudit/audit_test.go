package appstreamaudit_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/securestacks/securestacks/internal/appstreamaudit"
	"github.com/securestacks/securestacks/internal/appstreamaudit/audittest"
	"github.com/securestacks/securestacks/internal/appstreamhome"
)

const (
	homeBucket = audittest.HomeBucket
	stack      = audittest.Stack
)

func eventID(n int) string {
	return []string{"", "00000001", "00000002", "00000003", "00000004", "00000005", "00000006", "00000007", "00000008",
		"00000009", "0000000a", "0000000b", "0000000c", "0000000d", "0000000e", "0000000f", "00000010"}[n] + "-5c1e-4b6e-9f2a-3d4c5b6a7e8f"
}

func session(n int) string { return "3f0e7a2c-1b4d-4e8f-9a6b-0c1d2e3f4a0" + string(rune('0'+n)) }

type run struct {
	actions map[string]appstreamaudit.Action
	order   []string
	errs    []string
	stats   appstreamaudit.Stats
}

func audit(t *testing.T, filter appstreamaudit.Filter) run {
	t.Helper()
	dir := t.TempDir()
	if err := audittest.WriteTree(dir); err != nil {
		t.Fatal(err)
	}
	r := run{actions: map[string]appstreamaudit.Action{}}
	st, err := appstreamaudit.Run(context.Background(), []appstreamaudit.Source{appstreamaudit.DirSource(dir)},
		appstreamaudit.Correlator{}, filter,
		func(a *appstreamaudit.Action) error {
			r.actions[a.EventID] = *a
			r.order = append(r.order, a.EventID)
			return nil
		},
		func(e *appstreamaudit.ParseError) { r.errs = append(r.errs, strings.TrimPrefix(e.Error(), dir+"/")) })
	if err != nil {
		t.Fatal(err)
	}
	r.stats = st
	return r
}

func TestRunCorrelatesTheTestdata(t *testing.T) {
	// GIVEN the real-shaped trail and usage reports of one sandbox day
	// WHEN the audit runs without filters
	r := audit(t, appstreamaudit.Filter{})

	// THEN each action is tied to the session the post's three records point at
	cases := []struct {
		name      string
		event     int
		user      string
		session   string
		match     appstreamaudit.Match
		foreign   bool
		operation string
	}{
		{"streaming URL login names the user and the session that follows", 1, "alice", session(1), appstreamaudit.MatchLogin, false, "CreateStreamingURL"},
		{"SAML login names the federated subject", 2, "carol@example.com", session(4), appstreamaudit.MatchLogin, false, "AssumeRoleWithSAML"},
		{"3 s before the report's start: within the clock-skew tolerance", 3, "alice", session(1), appstreamaudit.MatchWithinSkew, false, "GetObject"},
		{"session.json in the user's own folder", 4, "alice", session(1), appstreamaudit.MatchSession, false, "PutObject"},
		{"the validator Lambda's reply: no session has its IP", 5, "", "", appstreamaudit.MatchNoSession, false, "PutObject"},
		{"two users behind one IP are not merged", 6, "", "", appstreamaudit.MatchAmbiguous, false, "GetObject"},
		{"bob writes into alice's home folder", 7, "bob", session(2), appstreamaudit.MatchSession, true, "PutObject"},
		{"missing report row: the event is kept, without a user", 8, "", "", appstreamaudit.MatchNoSession, false, "PutObject"},
		{"a non-S3 call from the instance IP is an action too", 9, "alice", session(1), appstreamaudit.MatchSession, false, "DescribeNotebookInstance"},
		{"after dave's session ended, the shared IP is carol's alone", 11, "carol@example.com", session(4), appstreamaudit.MatchSession, false, "PutObject"},
		{"between alice's end and erin's start, within skew of both: ambiguous", 14, "", "", appstreamaudit.MatchAmbiguous, false, "GetObject"},
		{"alice's second session, on another instance", 15, "alice", session(3), appstreamaudit.MatchSession, false, "PutObject"},
		{"a denied call is an action with its error code", 16, "alice", session(3), appstreamaudit.MatchSession, false, "PutObject"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, ok := r.actions[eventID(c.event)]
			if !ok {
				t.Fatalf("record %d: no action", c.event)
			}
			if a.User != c.user || a.SessionID != c.session || a.Match != c.match || a.ForeignHomeFolder != c.foreign || a.Operation != c.operation {
				t.Errorf("record %d: got user %q session %q match %q foreign %v op %q; want %q %q %q %v %q",
					c.event, a.User, a.SessionID, a.Match, a.ForeignHomeFolder, a.Operation, c.user, c.session, c.match, c.foreign, c.operation)
			}
			if a.File == "" || !strings.HasSuffix(a.File, ".json.gz") {
				t.Errorf("record %d: file %q, want the log file", c.event, a.File)
			}
		})
	}
	t.Run("ambiguous actions list every candidate", func(t *testing.T) {
		got := r.actions[eventID(6)].Candidates
		want := []appstreamaudit.Candidate{{User: "carol@example.com", SessionID: session(4)}, {User: "dave@example.com", SessionID: session(5)}}
		if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
			t.Errorf("candidates %v, want %v", got, want)
		}
	})
	t.Run("the S3 action carries bucket, key, instance IP and request id", func(t *testing.T) {
		a := r.actions[eventID(4)]
		wantKey := "user/custom/" + appstreamhome.UserHash("alice") + "/" + stack + "/session.json"
		if a.Bucket != homeBucket || a.Key != wantKey || a.InstanceIP != "10.20.0.10" || a.RequestID != "EXAMPLE00000004" ||
			!a.EventTime.Equal(time.Date(2026, 12, 3, 10, 1, 0, 0, time.UTC)) {
			t.Errorf("got %+v", a)
		}
		if a := r.actions[eventID(16)]; a.ErrorCode != "AccessDenied" {
			t.Errorf("error code %q, want AccessDenied", a.ErrorCode)
		}
	})
	t.Run("not an action: a management call from outside the fleet", func(t *testing.T) {
		if _, ok := r.actions[eventID(10)]; ok {
			t.Error("ListBuckets from an admin IP became an action")
		}
	})
	t.Run("every bad record and report row is reported with file and position", func(t *testing.T) {
		want := []string{
			"reports/sessions/schedule=DAILY/year=2026/month=12/day=03/daily-session-report-2026-12-03.csv: line 8: eni_private_ip_address: expected the instance's IP address",
			"trail/AWSLogs/123456789012/CloudTrail/eu-west-1/2026/12/03/123456789012_CloudTrail_eu-west-1_20261203T1015Z_a1B2c3D4e5F6g7H8.json.gz: record 12 (byte ",
			"_a1B2c3D4e5F6g7H8.json.gz: record 13 (byte ",
		}
		if len(r.errs) != 3 {
			t.Fatalf("errors %q, want 3", r.errs)
		}
		for i, w := range want {
			if !strings.Contains(r.errs[i], w) {
				t.Errorf("error %d: %q, want it to contain %q", i, r.errs[i], w)
			}
		}
		if !strings.Contains(r.errs[1], "eventTime: expected an RFC 3339 time") || !strings.Contains(r.errs[2], "requestParameters/key: expected a JSON string") {
			t.Errorf("errors do not say what was expected: %q", r.errs[1:])
		}
	})
	t.Run("stats", func(t *testing.T) {
		st := r.stats
		if st.Files != 3 || st.Skipped != 1 || st.Sessions != 6 || st.Records != 16 || st.Actions != 13 || st.Emitted != 13 || st.Errors != 3 {
			t.Errorf("stats %+v", st)
		}
	})
	t.Run("actions come in file order", func(t *testing.T) {
		if r.order[0] != eventID(1) || r.order[len(r.order)-1] != eventID(16) {
			t.Errorf("order %v", r.order)
		}
	})
}

func TestRunFilters(t *testing.T) {
	alice := "user/custom/" + appstreamhome.UserHash("alice") + "/"
	cases := []struct {
		name   string
		filter appstreamaudit.Filter
		want   []int
	}{
		{"--user: the user's own actions and the ambiguous ones that may be theirs", appstreamaudit.Filter{User: "dave@example.com"}, []int{6}},
		{"--user alice between T1 and T2", appstreamaudit.Filter{User: "alice", From: time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC), To: time.Date(2026, 12, 3, 12, 10, 0, 0, time.UTC)},
			[]int{4, 9, 14}},
		{"--object: who touched this object", appstreamaudit.Filter{Bucket: homeBucket, Key: alice + stack + "/session.json"}, []int{4}},
		{"--object with a * prefix: everything in alice's folder", appstreamaudit.Filter{Bucket: homeBucket, Key: alice + "*"}, []int{4, 5, 7, 15, 16}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := audit(t, c.filter)
			var want []string
			for _, n := range c.want {
				want = append(want, eventID(n))
			}
			if strings.Join(r.order, ",") != strings.Join(want, ",") {
				t.Errorf("got %v, want %v", r.order, want)
			}
		})
	}
}
