package main_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/appstream/types"

	main "github.com/securestacks/securestacks/lambda-src/appstream-session-validator"
)

func TestParseSession(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		want      main.Session
		wantField string // "" with wantErr: a whole-document error
		wantErr   bool
	}{
		{
			name: "as the session script writes it",
			in:   `{"user":"alice","sessionId":"` + sessionID + `","stackName":"S","fleetName":"F","authType":"custom"}`,
			want: main.Session{User: "alice", SessionID: sessionID, StackName: "S", FleetName: "F", AuthType: "custom"},
		},
		{
			name: "with a UTF-8 byte-order mark and unknown fields",
			in:   "\xEF\xBB\xBF" + `{"user":"CORP\\alice","sessionId":"abc-1","written":"2026-03-01T10:00:00Z","version":2}`,
			want: main.Session{User: `CORP\alice`, SessionID: "abc-1"},
		},
		{name: "empty file", in: "", wantErr: true},
		{name: "JSON null", in: "null", wantField: "user", wantErr: true},
		{name: "array", in: `[{"user":"a","sessionId":"b"}]`, wantErr: true},
		{name: "two objects", in: `{"user":"alice","sessionId":"a"}{"user":"bob","sessionId":"b"}`, wantErr: true},
		{name: "trailing garbage", in: `{"user":"alice","sessionId":"a"} x`, wantErr: true},
		{name: "user missing", in: `{"sessionId":"a"}`, wantField: "user", wantErr: true},
		{name: "user not a string", in: `{"user":42,"sessionId":"a"}`, wantField: "user", wantErr: true},
		{name: "user with a newline", in: `{"user":"alice\nforged log line","sessionId":"a"}`, wantField: "user", wantErr: true},
		{name: "user too long", in: `{"user":"` + strings.Repeat("a", 257) + `","sessionId":"a"}`, wantField: "user", wantErr: true},
		{name: "sessionId missing", in: `{"user":"alice"}`, wantField: "sessionId", wantErr: true},
		{name: "sessionId with a slash", in: `{"user":"alice","sessionId":"../x"}`, wantField: "sessionId", wantErr: true},
		{name: "unknown authType", in: `{"user":"alice","sessionId":"a","authType":"root"}`, wantField: "authType", wantErr: true},
		{name: "invalid UTF-8", in: "{\"user\":\"al\xffice\",\"sessionId\":\"a\"}", wantErr: true},
		{name: "UTF-16 as Windows PowerShell's Out-File writes", in: "\xFF\xFE{\x00}\x00", wantErr: true},
		{name: "oversized", in: `{"user":"alice","sessionId":"a","pad":"` + strings.Repeat("x", main.MaxSessionFileBytes) + `"}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN the bytes of a session.json WHEN they are parsed
			got, err := main.ParseSession([]byte(tt.in))

			// THEN a good file yields its claims and a bad one a one-line error naming the field
			if !tt.wantErr {
				if err != nil || got != tt.want {
					t.Fatalf("ParseSession = %+v, %v; want %+v", got, err, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("ParseSession = %+v, want an error", got)
			}
			if strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), "forged") {
				t.Errorf("error %q must be one line without the file's values", err)
			}
			if tt.wantField != "" {
				var fe *main.FieldError
				if !errors.As(err, &fe) || fe.Field != tt.wantField {
					t.Errorf("error = %v, want a FieldError for %q", err, tt.wantField)
				}
			}
		})
	}
}

func TestParseSessionKey(t *testing.T) {
	hash := main.UserFolderHash("alice")
	const stack = "Sandbox-DataSandbox-Stack"
	tests := []struct {
		key      string
		wantAuth types.AuthenticationType // "" means rejected
	}{
		{"user/custom/" + hash + "/" + stack + "/session.json", types.AuthenticationTypeApi},
		{"user/federated/" + hash + "/" + stack + "/session.json", types.AuthenticationTypeSaml},
		{"user/userpool/" + hash + "/" + stack + "/session.json", types.AuthenticationTypeUserpool},
		{"user/custom/" + strings.ToUpper(hash) + "/" + stack + "/session.json", types.AuthenticationTypeApi},
		// Another sandbox's session in the same home folder is not this validator's.
		{"user/custom/" + hash + "/Prod-DataSandbox-Stack/session.json", ""},
		{"user/custom/" + hash + "/session.json", ""},
		{"user/other/" + hash + "/" + stack + "/session.json", ""},
		{"user/custom/" + hash[:63] + "/" + stack + "/session.json", ""},
		{"user/custom/" + hash + "/sub/" + stack + "/session.json", ""},
		{"user/custom/" + hash + "/" + stack + "/session.json.bak", ""},
		{"users/custom/" + hash + "/" + stack + "/session.json", ""},
		{"session.json", ""},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			// GIVEN an object key WHEN it is parsed as this stack's home-folder session.json key
			f, err := main.ParseSessionKey(tt.key, stack)
			// THEN only the AppStream layout with this stack's folder is accepted, with the
			// type's authentication, the lower-case hash and the user's folder
			if tt.wantAuth == "" {
				if err == nil {
					t.Fatalf("ParseSessionKey(%q) = %+v, want an error", tt.key, f)
				}
				return
			}
			if err != nil || f.AuthenticationType != tt.wantAuth || f.Hash != hash || f.Dir != strings.Join(strings.Split(tt.key, "/")[:3], "/") {
				t.Errorf("ParseSessionKey(%q) = %+v, %v", tt.key, f, err)
			}
		})
	}
}

func TestUserFolderHashMatchesTheAppStreamExample(t *testing.T) {
	// GIVEN the user id of the AppStream developer guide's streaming-URL example
	// WHEN its folder hash is computed
	got := main.UserFolderHash("testuser@mydomain.com")
	// THEN it is the folder name the guide shows
	if want := "a0bcb1da11f480d9b5b3e90f91243143eac04cfccfbdc777e740fab628a1cd13"; got != want {
		t.Errorf("UserFolderHash = %s, want %s", got, want)
	}
}

func TestReplyKey(t *testing.T) {
	for key, want := range map[string]string{
		"user/custom/abc/session.json": "user/custom/abc/session_url.txt",
		"a/session.json":               "a/session_url.txt",
		"session.json":                 "",
		"/session.json":                "",
		"user/custom/abc/other.json":   "",
	} {
		// GIVEN an object key WHEN the reply key is derived THEN it sits next to session.json only
		if got := main.ReplyKey(key); got != want {
			t.Errorf("ReplyKey(%q) = %q, want %q", key, got, want)
		}
	}
}

func TestEMFLine(t *testing.T) {
	// GIVEN an EMF emitter on a buffer with one dimension and a fixed clock
	var buf bytes.Buffer
	e := &main.EMF{W: &buf, Namespace: "securestacks/AppStreamSandbox", Dimensions: map[string]string{"AppStreamStack": "S"},
		Now: func() time.Time { return time.UnixMilli(1700000000000) }}

	// WHEN it counts a spoof attempt
	e.Count(main.MetricSpoofAttempts)

	// THEN one JSON line declares the metric in the embedded metric format
	var doc struct {
		AWS struct {
			Timestamp         int64
			CloudWatchMetrics []struct {
				Namespace  string
				Dimensions [][]string
				Metrics    []struct{ Name, Unit string }
			}
		} `json:"_aws"`
		Stack         string  `json:"AppStreamStack"`
		SpoofAttempts float64 `json:"SpoofAttempts"`
	}
	if strings.Count(buf.String(), "\n") != 1 {
		t.Fatalf("want exactly one line, got %q", buf.String())
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	m := doc.AWS.CloudWatchMetrics
	if doc.AWS.Timestamp != 1700000000000 || len(m) != 1 || m[0].Namespace != "securestacks/AppStreamSandbox" ||
		len(m[0].Dimensions) != 1 || len(m[0].Dimensions[0]) != 1 || m[0].Dimensions[0][0] != "AppStreamStack" ||
		len(m[0].Metrics) != 1 || m[0].Metrics[0].Name != "SpoofAttempts" || m[0].Metrics[0].Unit != "Count" ||
		doc.Stack != "S" || doc.SpoofAttempts != 1 {
		t.Errorf("EMF document = %+v", doc)
	}
}

// FuzzParseSession checks that no input panics ParseSession, that whatever it accepts satisfies
// the documented limits, and that an accepted session survives a round trip through JSON.
func FuzzParseSession(f *testing.F) {
	f.Add([]byte(`{"user":"alice","sessionId":"` + sessionID + `","stackName":"S","fleetName":"F","authType":"custom"}`))
	f.Add([]byte("\xEF\xBB\xBF" + `{"user":"CORP\\alice","sessionId":"a","authType":"SAML"}`))
	f.Add([]byte(`{"user":"alice","sessionId":"a"} {}`))
	f.Add([]byte(`{"user":{"nested":1},"sessionId":"a"}`))
	f.Add([]byte(`null`))
	f.Add([]byte("\xFF\xFE{\x00}\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := main.ParseSession(b)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		if len(b) > main.MaxSessionFileBytes {
			t.Fatalf("accepted %d bytes", len(b))
		}
		if s.User == "" || len(s.User) > 256 || !utf8.ValidString(s.User) || strings.ContainsAny(s.User, "\n\r\x00") {
			t.Fatalf("accepted user %q", s.User)
		}
		if s.SessionID == "" || len(s.SessionID) > 128 || strings.ContainsAny(s.SessionID, "/\\.") {
			t.Fatalf("accepted sessionId %q", s.SessionID)
		}
		if s.AuthType != "" && s.AuthenticationType() == "" {
			t.Fatalf("accepted authType %q without an authentication type", s.AuthType)
		}
		again, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if s2, err := main.ParseSession(again); err != nil || s2 != s {
			t.Fatalf("round trip of %+v gave %+v, %v", s, s2, err)
		}
	})
}
