package appstreamaudit

import (
	"bufio"
	"encoding/json/jsontext"
	"fmt"
	"io"
	"strings"
	"time"
)

// Writer writes actions as they come; Flush after the last one.
type Writer interface {
	Write(a *Action) error
	Flush() error
}

// NewJSONWriter writes JSON Lines: one object per action per line, exactly as
// encoding/json/v2 marshals an Action (a test holds the two equal), written by hand because
// reflection took a fifth of the audit's time.
func NewJSONWriter(w io.Writer) Writer {
	return &jsonWriter{w: bufio.NewWriterSize(w, 64<<10)}
}

type jsonWriter struct {
	w   *bufio.Writer
	buf []byte
}

func (j *jsonWriter) Write(a *Action) error {
	b, err := AppendJSON(j.buf[:0], a)
	if err != nil {
		return err
	}
	j.buf = append(b, '\n')
	_, err = j.w.Write(j.buf)
	return err
}

// AppendJSON appends a as one JSON object, as json.Marshal writes it.
func AppendJSON(b []byte, a *Action) ([]byte, error) {
	var err error
	str := func(name, v string, omitEmpty bool) {
		if err != nil || (omitEmpty && v == "") {
			return
		}
		if len(b) > 0 && b[len(b)-1] != '{' && b[len(b)-1] != '[' {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, '"', ':')
		b, err = jsontext.AppendQuote(b, v)
	}
	b = append(b, '{')
	str("user", a.User, false)
	str("authenticationType", a.AuthenticationType, true)
	str("sessionId", a.SessionID, false)
	str("instanceIp", a.InstanceIP, false)
	b = append(b, `,"eventTime":"`...)
	b = a.EventTime.AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	str("operation", a.Operation, false)
	str("eventSource", a.EventSource, false)
	str("bucket", a.Bucket, false)
	str("key", a.Key, false)
	str("eventId", a.EventID, false)
	str("requestId", a.RequestID, true)
	str("errorCode", a.ErrorCode, true)
	str("match", string(a.Match), false)
	if len(a.Candidates) > 0 {
		b = append(b, `,"candidates":[`...)
		for i, c := range a.Candidates {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '{')
			str("user", c.User, false)
			str("sessionId", c.SessionID, false)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if a.ForeignHomeFolder {
		b = append(b, `,"foreignHomeFolder":true`...)
	}
	str("file", a.File, false)
	b = append(b, '}')
	return b, err
}

func (j *jsonWriter) Flush() error { return j.w.Flush() }

// NewTableWriter writes one line per action in fixed-width columns, so that it streams (an
// aligning writer would hold every row until the end). Long values widen their column for that
// row only; the object, which is the longest, is last.
func NewTableWriter(w io.Writer) Writer {
	return &tableWriter{w: bufio.NewWriterSize(w, 64<<10)}
}

type tableWriter struct {
	w      *bufio.Writer
	header bool
}

var tableColumns = []struct {
	name  string
	width int
}{{"TIME", 20}, {"USER", 20}, {"SESSION", 36}, {"INSTANCE IP", 15}, {"OPERATION", 18}, {"MATCH", 19}, {"EVENT ID", 36}, {"OBJECT", 0}}

func (t *tableWriter) Write(a *Action) error {
	if !t.header {
		t.header = true
		names := make([]string, len(tableColumns))
		for i, c := range tableColumns {
			names[i] = c.name
		}
		t.row(names)
	}
	user, session := a.User, a.SessionID
	if a.Match == MatchAmbiguous {
		var users, sessions []string
		for _, c := range a.Candidates {
			users, sessions = append(users, c.User), append(sessions, c.SessionID)
		}
		if user == "" {
			user = strings.Join(users, "|")
		}
		session = strings.Join(sessions, "|")
	}
	object := ""
	if a.Bucket != "" {
		object = "s3://" + a.Bucket + "/" + a.Key
	}
	if a.ForeignHomeFolder {
		object += " (another user's home folder)"
	}
	if a.ErrorCode != "" {
		object += " [" + a.ErrorCode + "]"
	}
	t.row([]string{a.EventTime.Format(time.RFC3339), dash(user), dash(session), dash(a.InstanceIP), a.Operation, string(a.Match), a.EventID, object})
	return nil
}

func (t *tableWriter) row(cells []string) {
	for i, c := range cells {
		// Terminal control characters in a user name or key must not reach the terminal.
		c = strings.Map(func(r rune) rune {
			if r < 0x20 || r == 0x7f {
				return '?'
			}
			return r
		}, c)
		if i == len(cells)-1 {
			t.w.WriteString(c)
			break
		}
		fmt.Fprintf(t.w, "%-*s  ", tableColumns[i].width, c)
	}
	t.w.WriteByte('\n')
}

func (t *tableWriter) Flush() error { return t.w.Flush() }

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
