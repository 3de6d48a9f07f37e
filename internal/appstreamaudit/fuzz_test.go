package appstreamaudit_test

import (
	"bytes"
	"encoding/json/jsontext"
	"encoding/json/v2"
	"testing"

	"github.com/securestacks/securestacks/internal/appstreamaudit"
	"github.com/securestacks/securestacks/internal/appstreamaudit/audittest"
)

// FuzzReadCloudTrail: whatever the input, the reader neither panics nor loses a record: every
// record it counts is either handed on or reported, and a file it cannot finish is reported.
func FuzzReadCloudTrail(f *testing.F) {
	// One seed per testdata record: the fuzzer mutates small inputs far faster than one log
	// file of them all.
	for _, b := range audittest.CloudTrailJSON() {
		var file struct{ Records []jsontext.Value }
		if err := json.Unmarshal(b, &file); err != nil {
			f.Fatal(err)
		}
		for _, r := range file.Records {
			r.Compact()
			f.Add(append(append([]byte(`{"Records":[`), r...), "]}"...))
		}
	}
	f.Add([]byte(`{"Records":[]}`))
	f.Add([]byte(`{"Records":[{"eventID":"a","eventTime":"2026-12-03T10:00:00Z","eventSource":"s3.amazonaws.com","requestParameters":{"key":1}}]}`))
	f.Add([]byte(`{"Records":[1,"x",null,{}]}`))
	f.Add([]byte(`{"Records":[{"eventID":"a"`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var good, badRecords, badFiles int64
		n := appstreamaudit.ReadCloudTrail(bytes.NewReader(b), "f.json", func(appstreamaudit.Record) { good++ }, func(e *appstreamaudit.ParseError) {
			if e.File != "f.json" {
				t.Fatalf("error without the file: %v", e)
			}
			if e.Record > 0 {
				badRecords++
			} else {
				badFiles++
			}
		})
		if good+badRecords != n {
			t.Fatalf("read %d records, handed on %d and reported %d", n, good, badRecords)
		}
		if badFiles > 1 {
			t.Fatalf("%d file errors, want at most 1", badFiles)
		}
	})
}

// FuzzReadUsageReport: every data row is a session, an application or a reported error.
func FuzzReadUsageReport(f *testing.F) {
	for _, b := range audittest.Reports() {
		f.Add(b)
	}
	f.Add([]byte("user_session_id,application_name\n\"a,b\",\"x\"\"y\"\n\"unterminated\n"))
	f.Add([]byte("\xEF\xBB\xBFuser_session_id,user_id\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var good, bad int64
		headerBad := false
		kind, rows := appstreamaudit.ReadUsageReport(bytes.NewReader(b), "r.csv",
			func(appstreamaudit.Session) { good++ }, func(appstreamaudit.Application) { good++ },
			func(e *appstreamaudit.ParseError) {
				if e.Record == 1 && good+bad == 0 && kindUnknown(e) {
					headerBad = true
					return
				}
				bad++
			})
		if headerBad {
			if kind != 0 || rows != 0 || good != 0 {
				t.Fatalf("bad header, yet kind %d, %d rows, %d good", kind, rows, good)
			}
			return
		}
		if good+bad != rows {
			t.Fatalf("%d rows, %d handed on, %d reported", rows, good, bad)
		}
	})
}

func kindUnknown(e *appstreamaudit.ParseError) bool {
	return bytes.Contains([]byte(e.Err.Error()), []byte("header"))
}
