package appstreamaudit

import (
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/securestacks/securestacks/internal/appstreamhome"
)

// Match says how an action was tied to a session.
type Match string

const (
	// MatchSession: exactly one session had the source IP at the event time.
	MatchSession Match = "session"
	// MatchWithinSkew: no session had the IP at the exact time, and exactly one had it within
	// the clock-skew tolerance of its start or end.
	MatchWithinSkew Match = "session-within-skew"
	// MatchAmbiguous: several sessions had the IP at that time (a multi-session instance, or
	// users behind one NAT address). They are listed as candidates and never merged.
	MatchAmbiguous Match = "ambiguous"
	// MatchNoSession: no session in the usage reports had the IP then (a caller outside the
	// fleet, such as the validator Lambda, or a report not delivered yet).
	MatchNoSession Match = "no-session"
	// MatchLogin: a login event; the session is the user's first session that started within
	// the login window after it.
	MatchLogin Match = "login"
)

// Candidate is one of several sessions an ambiguous action may belong to.
type Candidate struct {
	User      string `json:"user"`
	SessionID string `json:"sessionId"`
}

// Action is one correlated action: what the audit prints.
type Action struct {
	// User is the session's user, or the login's; "" when the action is ambiguous between users
	// or has no session.
	User               string    `json:"user"`
	AuthenticationType string    `json:"authenticationType,omitempty"`
	SessionID          string    `json:"sessionId"`
	InstanceIP         string    `json:"instanceIp"`
	EventTime          time.Time `json:"eventTime"`
	// Operation is the CloudTrail eventName, such as PutObject.
	Operation   string `json:"operation"`
	EventSource string `json:"eventSource"`
	Bucket      string `json:"bucket"`
	Key         string `json:"key"`
	// EventID is the CloudTrail eventID; RequestID its requestID, which for S3 is the
	// x-amz-request-id the session validator logs with a denial.
	EventID   string `json:"eventId"`
	RequestID string `json:"requestId,omitempty"`
	ErrorCode string `json:"errorCode,omitempty"`
	Match     Match  `json:"match"`
	// Candidates are the sessions of an ambiguous action.
	Candidates []Candidate `json:"candidates,omitempty"`
	// ForeignHomeFolder is true when Key is in an AppStream home folder whose user hash is not
	// the hash of User: the session wrote to, or read from, someone else's home folder.
	ForeignHomeFolder bool `json:"foreignHomeFolder,omitzero"`
	// File is the CloudTrail log file the record came from.
	File string `json:"file"`
}

// Index holds the sessions of the usage reports by instance IP.
type Index struct {
	byIP  map[netip.Addr][]*Session
	byID  map[string]*Session
	byUsr map[string][]*Session
	// apps holds application names read before their session row.
	apps map[string][]string
}

// NewIndex returns an empty index.
func NewIndex() *Index {
	return &Index{byIP: map[netip.Addr][]*Session{}, byID: map[string]*Session{}, byUsr: map[string][]*Session{}, apps: map[string][]string{}}
}

// AddSession adds one sessions-report row. A session id seen before (the same session in two
// reports) keeps its first row.
func (x *Index) AddSession(s Session) {
	if _, dup := x.byID[s.ID]; dup {
		return
	}
	p := &s
	p.userHash = appstreamhome.UserHash(s.User)
	p.Applications = append(p.Applications, x.apps[s.ID]...)
	delete(x.apps, s.ID)
	x.byID[s.ID] = p
	x.byIP[s.InstanceIP] = append(x.byIP[s.InstanceIP], p)
	x.byUsr[s.User] = append(x.byUsr[s.User], p)
}

// AddApplication adds one applications-report row to its session.
func (x *Index) AddApplication(a Application) {
	if s, ok := x.byID[a.SessionID]; ok {
		s.Applications = append(s.Applications, a.Name)
		return
	}
	x.apps[a.SessionID] = append(x.apps[a.SessionID], a.Name)
}

// Len is the number of sessions.
func (x *Index) Len() int { return len(x.byID) }

// Session returns the session with id.
func (x *Index) Session(id string) (*Session, bool) {
	s, ok := x.byID[id]
	return s, ok
}

// Correlator ties CloudTrail records to sessions.
type Correlator struct {
	Index *Index
	// Skew widens each session's window by this much on both sides, for clocks that disagree
	// by a few seconds: a record a little before the report's start or after its end still
	// matches, but only when no session matches exactly. Default DefaultSkew.
	Skew time.Duration
	// LoginWindow is how long after a login its session may start. Default DefaultLoginWindow.
	LoginWindow time.Duration
}

// Defaults of Correlator.
const (
	DefaultSkew        = 10 * time.Second
	DefaultLoginWindow = 10 * time.Minute
)

// Correlate turns one record into an action. ok is false for a record that is not an action:
// neither an S3 object event, nor a login, nor any other call from a session's instance IP.
func (c *Correlator) Correlate(r Record, file string) (a Action, ok bool) {
	a = Action{
		EventTime: r.EventTime, Operation: r.EventName, EventSource: r.EventSource,
		Bucket: r.Bucket, Key: r.Key, EventID: r.EventID, RequestID: r.RequestID, ErrorCode: r.ErrorCode,
		File: file,
	}
	if r.SourceIP.IsValid() {
		a.InstanceIP = r.SourceIP.String()
	}
	if user := loginUser(r); user != "" {
		a.User, a.Match = user, MatchLogin
		if s := c.sessionAfterLogin(user, r.EventTime); s != nil {
			a.SessionID, a.InstanceIP, a.AuthenticationType = s.ID, s.InstanceIP.String(), s.AuthenticationType
		}
		return a, true
	}
	var userHash string
	exact, near := c.sessions(r.SourceIP, r.EventTime)
	candidates := exact
	a.Match = MatchSession
	if len(exact) == 0 {
		candidates, a.Match = near, MatchWithinSkew
	}
	switch {
	case len(candidates) == 0:
		if r.EventSource != SourceS3 || r.Bucket == "" {
			return Action{}, false
		}
		a.Match = MatchNoSession
	case len(candidates) == 1:
		s := candidates[0]
		a.User, a.SessionID, a.AuthenticationType = s.User, s.ID, s.AuthenticationType
		userHash = s.userHash
	default:
		a.Match = MatchAmbiguous
		users := map[string]bool{}
		for _, s := range candidates {
			a.Candidates = append(a.Candidates, Candidate{User: s.User, SessionID: s.ID})
			users[s.User] = true
		}
		if len(users) == 1 {
			// Several sessions of one user: the user is known, the session is not.
			a.User, userHash = candidates[0].User, candidates[0].userHash
		}
	}
	if a.User != "" && r.Key != "" {
		if f, inFolder := appstreamhome.ParseKey(r.Key); inFolder && f.Hash != userHash {
			a.ForeignHomeFolder = true
		}
	}
	return a, true
}

// sessions returns the sessions that had ip at t exactly, and those that had it within the
// skew tolerance.
func (c *Correlator) sessions(ip netip.Addr, t time.Time) (exact, near []*Session) {
	if !ip.IsValid() || c.Index == nil {
		return nil, nil
	}
	skew := c.Skew
	if skew == 0 {
		skew = DefaultSkew
	}
	for _, s := range c.Index.byIP[ip] {
		switch {
		case within(t, s.Start, s.End, 0):
			exact = append(exact, s)
		case within(t, s.Start, s.End, skew):
			near = append(near, s)
		}
	}
	return exact, near
}

func within(t, start, end time.Time, skew time.Duration) bool {
	if t.Before(start.Add(-skew)) {
		return false
	}
	return end.IsZero() || !t.After(end.Add(skew))
}

// sessionAfterLogin is the user's earliest session that started from skew before t to
// LoginWindow after it.
func (c *Correlator) sessionAfterLogin(user string, t time.Time) *Session {
	if c.Index == nil {
		return nil
	}
	window, skew := c.LoginWindow, c.Skew
	if window == 0 {
		window = DefaultLoginWindow
	}
	if skew == 0 {
		skew = DefaultSkew
	}
	var best *Session
	for _, s := range c.Index.byUsr[user] {
		if s.Start.Before(t.Add(-skew)) || s.Start.After(t.Add(window)) {
			continue
		}
		if best == nil || s.Start.Before(best.Start) {
			best = s
		}
	}
	return best
}

// loginUser is the AppStream user a login record names: CreateStreamingURL's userId or the SAML
// subject of AssumeRoleWithSAML; "" for any other record, and for a failed call.
func loginUser(r Record) string {
	if r.ErrorCode != "" {
		return ""
	}
	switch {
	case r.EventSource == SourceAppStream && r.EventName == EventCreateStreamingURL:
		return r.UserID
	case r.EventSource == SourceSTS && r.EventName == EventAssumeRoleWithSAML:
		return r.SAMLSubject
	}
	return ""
}

// Filter selects actions. Zero fields select everything.
type Filter struct {
	// User keeps the actions of this user, including ambiguous ones that list a session of
	// the user among the candidates.
	User string
	// Bucket and Key keep the actions on this object; a Key ending in "*" is a prefix.
	Bucket, Key string
	// From and To keep actions with From <= eventTime < To.
	From, To time.Time
}

// Keep reports whether a passes the filter.
func (f Filter) Keep(a *Action) bool {
	if !f.From.IsZero() && a.EventTime.Before(f.From) {
		return false
	}
	if !f.To.IsZero() && !a.EventTime.Before(f.To) {
		return false
	}
	if f.Bucket != "" && a.Bucket != f.Bucket {
		return false
	}
	if f.Key != "" {
		if prefix, ok := strings.CutSuffix(f.Key, "*"); ok {
			if !strings.HasPrefix(a.Key, prefix) {
				return false
			}
		} else if a.Key != f.Key {
			return false
		}
	}
	if f.User != "" && a.User != f.User {
		return slices.ContainsFunc(a.Candidates, func(c Candidate) bool { return c.User == f.User })
	}
	return true
}
