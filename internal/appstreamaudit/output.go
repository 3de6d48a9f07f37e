package appstreamaudit

import (
	"bufio"
	"encoding/json/v2"
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

// NewJSONWriter writes JSON Lines: one object per action per line.
func NewJSONWriter(w io.Writer) Writer {
	return &jsonWriter{w: bufio.NewWriterSize(w, 64<<10)}
}

type jsonWriter struct{ w *bufio.Writer }

func (j *jsonWriter) Write(a *Action) error {
	if err := json.MarshalWrite(j.w, a); err != nil {
		return err
	}
	return j.w.WriteByte('\n')
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
