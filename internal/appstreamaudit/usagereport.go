package appstreamaudit

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"
)

// Session is one row of an AppStream sessions report.
type Session struct {
	ID string
	// User is user_id, the id within the authentication type (the streaming-URL user id, the
	// SAML NameID, the user-pool e-mail).
	User string
	// AuthenticationType is CUSTOM, SAML or USERPOOL.
	AuthenticationType string
	Stack, Fleet       string
	// InstanceIP is eni_private_ip_address, the address CloudTrail records as sourceIPAddress
	// for the instance's requests through the VPC endpoints.
	InstanceIP netip.Addr
	Start      time.Time
	// End is zero for a session the report shows without an end time: it is open-ended.
	End time.Time
	// Applications are the application_name values the applications report lists for the
	// session.
	Applications []string

	userHash string // appstreamhome.UserHash(User), set by Index.AddSession
}

// The sessions report columns the audit needs, as AppStream names them
// (https://docs.aws.amazon.com/appstream2/latest/developerguide/usage-reports-fields-sessions-reports.html).
// Other columns are ignored, wherever they are, so that columns AWS adds do not break the reader.
const (
	ColSessionID  = "user_session_id"
	ColUserID     = "user_id"
	ColAuthType   = "authentication_type"
	ColStack      = "stack_name"
	ColFleet      = "fleet_name"
	ColInstanceIP = "eni_private_ip_address"
	ColStart      = "session_start_time"
	ColEnd        = "session_end_time"
	// ColApplication is the applications report's column besides user_session_id
	// (https://docs.aws.amazon.com/appstream2/latest/developerguide/usage-reports-fields-applications-reports.html).
	ColApplication = "application_name"
)

// ReportKind tells the two usage reports apart by their header.
type ReportKind int

const (
	// SessionsReport has one row per streaming session.
	SessionsReport ReportKind = iota + 1
	// ApplicationsReport has one row per application launch.
	ApplicationsReport
)

// Application is one row of the applications report.
type Application struct {
	SessionID string
	Name      string
}

var sessionColumns = []string{ColSessionID, ColUserID, ColAuthType, ColStack, ColFleet, ColInstanceIP, ColStart, ColEnd}

// ReadUsageReport streams one usage-report CSV. It tells a sessions report from an applications
// report by the header and sends each good row to sessions or apps; each row that cannot be
// read goes to bad with its line number, and reading goes on. A header that is neither report's
// is one error for the whole file. It returns the kind (0 when unknown) and the number of data
// rows read, bad ones included.
func ReadUsageReport(r io.Reader, file string, sessions func(Session), apps func(Application), bad func(*ParseError)) (ReportKind, int64) {
	cr := csv.NewReader(bufio.NewReaderSize(stripBOM(r), 64<<10))
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = errors.New("empty file")
		}
		bad(&ParseError{File: file, Record: 1, Offset: -1, Err: fmt.Errorf("expected a usage report header: %w", err)})
		return 0, 0
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(h)] = i
	}
	kind := SessionsReport
	want := sessionColumns
	if _, ok := col[ColApplication]; ok {
		kind, want = ApplicationsReport, []string{ColSessionID, ColApplication}
	}
	var missing []string
	idx := make([]int, len(want))
	for i, name := range want {
		j, ok := col[name]
		if !ok {
			missing = append(missing, name)
		}
		idx[i] = j
	}
	if len(missing) > 0 {
		bad(&ParseError{File: file, Record: 1, Offset: -1, Err: fmt.Errorf(
			"expected an AppStream sessions or applications report header; missing column(s) %s", strings.Join(missing, ", "))})
		return 0, 0
	}
	width := 0
	for _, j := range idx {
		width = max(width, j+1)
	}
	var rows int64
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return kind, rows
		}
		rows++
		if err != nil {
			if pe, ok := errors.AsType[*csv.ParseError](err); ok {
				line := pe.StartLine
				// The reader has consumed the broken record and goes on with the next one.
				bad(&ParseError{File: file, Record: int64(line), Offset: -1, Err: pe.Err})
				continue
			}
			bad(&ParseError{File: file, Record: rows + 1, Offset: -1, Err: err})
			return kind, rows
		}
		line, _ := cr.FieldPos(0)
		if len(rec) < width {
			bad(&ParseError{File: file, Record: int64(line), Offset: -1, Err: fmt.Errorf("expected %d columns as in the header, got %d", len(header), len(rec))})
			continue
		}
		if kind == ApplicationsReport {
			a := Application{SessionID: rec[idx[0]], Name: rec[idx[1]]}
			if a.SessionID == "" {
				bad(&ParseError{File: file, Record: int64(line), Offset: -1, Err: errors.New(ColSessionID + ": expected the session id (empty)")})
				continue
			}
			apps(a)
			continue
		}
		s, err := parseSession(rec, idx)
		if err != nil {
			bad(&ParseError{File: file, Record: int64(line), Offset: -1, Err: err})
			continue
		}
		sessions(s)
	}
}

func parseSession(rec []string, idx []int) (Session, error) {
	s := Session{
		ID: rec[idx[0]], User: rec[idx[1]], AuthenticationType: rec[idx[2]],
		Stack: rec[idx[3]], Fleet: rec[idx[4]],
	}
	switch {
	case s.ID == "":
		return Session{}, errors.New(ColSessionID + ": expected the session id (empty)")
	case s.User == "":
		return Session{}, errors.New(ColUserID + ": expected the user id (empty)")
	}
	ip, err := netip.ParseAddr(strings.TrimSpace(rec[idx[5]]))
	if err != nil {
		return Session{}, fmt.Errorf("%s: expected the instance's IP address, got %q", ColInstanceIP, truncate(rec[idx[5]], 40))
	}
	s.InstanceIP = ip.Unmap()
	if s.Start, err = parseReportTime(rec[idx[6]]); err != nil || s.Start.IsZero() {
		return Session{}, fmt.Errorf("%s: expected an ISO 8601 UTC time such as 2026-12-03T16:13:56Z, got %q", ColStart, truncate(rec[idx[6]], 40))
	}
	if s.End, err = parseReportTime(rec[idx[7]]); err != nil {
		return Session{}, fmt.Errorf("%s: expected an ISO 8601 UTC time or nothing, got %q", ColEnd, truncate(rec[idx[7]], 40))
	}
	if !s.End.IsZero() && s.End.Before(s.Start) {
		return Session{}, fmt.Errorf("%s: expected a time after %s", ColEnd, ColStart)
	}
	return s, nil
}

// reportTimeLayouts are the ISO 8601 forms the reports use: RFC 3339 (fractional seconds
// optional), and the same with a space for the T, which Athena and spreadsheets write back.
var reportTimeLayouts = []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999"}

// parseReportTime parses an ISO 8601 time; a time without zone is UTC, as the report documents.
// An empty field is the zero time.
func parseReportTime(v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, nil
	}
	var err error
	for _, layout := range reportTimeLayouts {
		var t time.Time
		if t, err = time.Parse(layout, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, err
}

// stripBOM drops a UTF-8 byte-order mark, which spreadsheet exports add.
func stripBOM(r io.Reader) io.Reader {
	br := bufio.NewReader(r)
	if b, err := br.Peek(3); err == nil && string(b) == "\xEF\xBB\xBF" {
		_, _ = br.Discard(3)
	}
	return br
}
