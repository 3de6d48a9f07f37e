package appstreamaudit_test

import (
	"encoding/json/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/securestacks/securestacks/internal/appstreamaudit"
)

func TestCorrelatorWindows(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	ip := netip.MustParseAddr("10.20.0.10")
	sess := func(id, user, addr string, start, end time.Duration) appstreamaudit.Session {
		s := appstreamaudit.Session{ID: id, User: user, InstanceIP: netip.MustParseAddr(addr), Start: t0.Add(start)}
		if end != 0 {
			s.End = t0.Add(end)
		}
		return s
	}
	cases := []struct {
		name     string
		sessions []appstreamaudit.Session
		skew     time.Duration
		at       time.Duration
		ip       netip.Addr
		user     string
		session  string
		match    appstreamaudit.Match
	}{
		{"inside the window", []appstreamaudit.Session{sess("s1", "alice", "10.20.0.10", 0, time.Hour)}, 0, 30 * time.Minute, ip, "alice", "s1", appstreamaudit.MatchSession},
		{"at the exact end", []appstreamaudit.Session{sess("s1", "alice", "10.20.0.10", 0, time.Hour)}, 0, time.Hour, ip, "alice", "s1", appstreamaudit.MatchSession},
		{"skew after the end", []appstreamaudit.Session{sess("s1", "alice", "10.20.0.10", 0, time.Hour)}, 5 * time.Second, time.Hour + 5*time.Second, ip, "alice", "s1", appstreamaudit.MatchWithinSkew},
		{"beyond the skew", []appstreamaudit.Session{sess("s1", "alice", "10.20.0.10", 0, time.Hour)}, 5 * time.Second, time.Hour + 6*time.Second, ip, "", "", appstreamaudit.MatchNoSession},
		{"skew before the start", []appstreamaudit.Session{sess("s1", "alice", "10.20.0.10", 0, time.Hour)}, 5 * time.Second, -4 * time.Second, ip, "alice", "s1", appstreamaudit.MatchWithinSkew},
		{"another instance IP", []appstreamaudit.Session{sess("s1", "alice", "10.20.0.11", 0, time.Hour)}, 0, time.Minute, ip, "", "", appstreamaudit.MatchNoSession},
		{"open-ended session (no end time in the report)", []appstreamaudit.Session{sess("s1", "alice", "10.20.0.10", 0, 0)}, 0, 48 * time.Hour, ip, "alice", "s1", appstreamaudit.MatchSession},
		{"an exact match wins over a match within skew", []appstreamaudit.Session{
			sess("s1", "alice", "10.20.0.10", 0, time.Hour), sess("s2", "erin", "10.20.0.10", time.Hour+3*time.Second, 2*time.Hour)},
			10 * time.Second, time.Hour + 4*time.Second, ip, "erin", "s2", appstreamaudit.MatchSession},
		{"two users at one IP at once: ambiguous, no user", []appstreamaudit.Session{
			sess("s1", "carol", "10.20.0.10", 0, time.Hour), sess("s2", "dave", "10.20.0.10", 10*time.Minute, 40*time.Minute)},
			0, 15 * time.Minute, ip, "", "", appstreamaudit.MatchAmbiguous},
		{"two sessions of one user at one IP: the user is known, the session is not", []appstreamaudit.Session{
			sess("s1", "alice", "10.20.0.10", 0, time.Hour), sess("s2", "alice", "10.20.0.10", 10*time.Minute, 40*time.Minute)},
			0, 15 * time.Minute, ip, "alice", "", appstreamaudit.MatchAmbiguous},
		{"several sessions of one user, told apart by time", []appstreamaudit.Session{
			sess("s1", "alice", "10.20.0.10", 0, time.Hour), sess("s2", "alice", "10.20.0.10", 2*time.Hour, 3*time.Hour)},
			0, 150 * time.Minute, ip, "alice", "s2", appstreamaudit.MatchSession},
		{"IPv4-mapped IPv6 source address", []appstreamaudit.Session{sess("s1", "alice", "10.20.0.10", 0, time.Hour)}, 0, time.Minute,
			netip.MustParseAddr("::ffff:10.20.0.10").Unmap(), "alice", "s1", appstreamaudit.MatchSession},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x := appstreamaudit.NewIndex()
			for _, s := range c.sessions {
				x.AddSession(s)
			}
			corr := appstreamaudit.Correlator{Index: x, Skew: c.skew}
			a, ok := corr.Correlate(appstreamaudit.Record{EventTime: t0.Add(c.at), EventID: "e", EventSource: appstreamaudit.SourceS3,
				EventName: "GetObject", SourceIP: c.ip, Bucket: "b", Key: "k"}, "f")
			if !ok {
				t.Fatal("no action")
			}
			if a.User != c.user || a.SessionID != c.session || a.Match != c.match {
				t.Errorf("got user %q session %q match %q; want %q %q %q", a.User, a.SessionID, a.Match, c.user, c.session, c.match)
			}
		})
	}
}

func TestCorrelatorLogins(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	x := appstreamaudit.NewIndex()
	x.AddSession(appstreamaudit.Session{ID: "late", User: "alice", InstanceIP: netip.MustParseAddr("10.20.0.9"), Start: t0.Add(20 * time.Minute)})
	x.AddSession(appstreamaudit.Session{ID: "s1", User: "alice", InstanceIP: netip.MustParseAddr("10.20.0.10"), Start: t0.Add(2 * time.Minute)})
	corr := appstreamaudit.Correlator{Index: x}
	login := func(errorCode string) appstreamaudit.Record {
		return appstreamaudit.Record{EventTime: t0, EventID: "e", EventSource: appstreamaudit.SourceAppStream,
			EventName: appstreamaudit.EventCreateStreamingURL, UserID: "alice", ErrorCode: errorCode}
	}
	a, ok := corr.Correlate(login(""), "f")
	if !ok || a.Match != appstreamaudit.MatchLogin || a.User != "alice" || a.SessionID != "s1" || a.InstanceIP != "10.20.0.10" {
		t.Errorf("login: %+v", a)
	}
	if _, ok := corr.Correlate(login("AccessDeniedException"), "f"); ok {
		t.Error("a failed CreateStreamingURL is not a login")
	}
}

func TestJSONWriterMatchesMarshal(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 10, 0, 0, 123000000, time.UTC)
	for _, a := range []appstreamaudit.Action{
		{EventTime: t0, Operation: "PutObject", Match: appstreamaudit.MatchNoSession},
		{User: "alice", AuthenticationType: "CUSTOM", SessionID: "s1", InstanceIP: "10.20.0.10", EventTime: t0, Operation: "PutObject",
			EventSource: "s3.amazonaws.com", Bucket: "b", Key: "user/custom/x/\"quoted\"\n<tag>&\u2028é", EventID: "e", RequestID: "r",
			ErrorCode: "AccessDenied", Match: appstreamaudit.MatchSession, ForeignHomeFolder: true, File: "f.json.gz"},
		{EventTime: t0, Match: appstreamaudit.MatchAmbiguous, Candidates: []appstreamaudit.Candidate{{User: "carol", SessionID: "s4"}, {User: "dave", SessionID: "s5"}}},
	} {
		want, err := json.Marshal(&a)
		if err != nil {
			t.Fatal(err)
		}
		got, err := appstreamaudit.AppendJSON(nil, &a)
		if err != nil || string(got) != string(want) {
			t.Errorf("AppendJSON\n%s\nwant json.Marshal\n%s (%v)", got, want, err)
		}
	}
}
