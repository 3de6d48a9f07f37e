package main_test

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/securestacks/securestacks/internal/appstreamaudit"
	"github.com/securestacks/securestacks/internal/appstreamaudit/audittest"
	"github.com/securestacks/securestacks/internal/appstreamhome"
)

func TestAppStreamAuditFromDir(t *testing.T) {
	// GIVEN one sandbox day of CloudTrail log files and usage reports, as synced from S3
	dir := t.TempDir()
	if err := audittest.WriteTree(dir); err != nil {
		t.Fatal(err)
	}
	aliceFolder := "user/custom/" + appstreamhome.UserHash("alice") + "/"
	cases := []struct {
		name     string
		args     []string
		wantIDs  []string
		wantCode int
	}{
		// The post's three questions.
		{"who touched this object", []string{"--object", "s3://" + audittest.HomeBucket + "/" + aliceFolder + audittest.Stack + "/session.json"},
			[]string{"00000004"}, 1},
		{"everything user U did between T1 and T2", []string{"--user", "alice", "--from", "2026-12-03T10:00:00Z", "--to", "2026-12-03T12:10:00Z"},
			[]string{"00000004", "00000009", "0000000e"}, 1},
		{"everything in a home folder, by date", []string{"--object", audittest.HomeBucket + "/" + aliceFolder + "*", "--from", "2026-12-03", "--to", "2026-12-04"},
			[]string{"00000004", "00000005", "00000007", "0000000f", "00000010"}, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// WHEN the audit runs with the question's filters
			code, out, errOut := cli(t, append([]string{"appstream", "audit", "--from-dir", dir}, c.args...)...)
			// THEN stdout holds one JSON object per action with the fields the issue names
			if code != c.wantCode {
				t.Fatalf("exit %d, want %d (the testdata holds unparseable records): %s", code, c.wantCode, errOut)
			}
			var ids []string
			for line := range strings.Lines(out) {
				var a map[string]any
				if err := json.Unmarshal([]byte(line), &a); err != nil {
					t.Fatalf("not one JSON object per line: %q", line)
				}
				for _, k := range []string{"user", "sessionId", "instanceIp", "eventTime", "operation", "bucket", "key", "eventId"} {
					if _, ok := a[k]; !ok {
						t.Errorf("action without %q: %s", k, line)
					}
				}
				ids = append(ids, strings.SplitN(a["eventId"].(string), "-", 2)[0])
			}
			if !slices.Equal(ids, c.wantIDs) {
				t.Errorf("event ids %v, want %v", ids, c.wantIDs)
			}
			// AND every unparseable record is on stderr with its file and position
			if n := strings.Count(errOut, "unparseable: "); n != 3 || !strings.Contains(errOut, "_a1B2c3D4e5F6g7H8.json.gz: record 12 (byte ") ||
				!strings.Contains(errOut, "daily-session-report-2026-12-03.csv: line 8: ") {
				t.Errorf("stderr does not report the 3 bad records with file and position:\n%s", errOut)
			}
		})
	}
}

func TestAppStreamAuditTable(t *testing.T) {
	dir := t.TempDir()
	if err := audittest.WriteTree(dir); err != nil {
		t.Fatal(err)
	}
	_, out, _ := cli(t, "appstream", "audit", "--from-dir", dir, "--output", "table", "--user", "bob")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "TIME") || !strings.Contains(lines[1], "bob") ||
		!strings.Contains(lines[1], "(another user's home folder)") {
		t.Errorf("table:\n%s", out)
	}
}

func TestAppStreamAuditUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "expected --from-dir DIR, or --bucket and --reports-bucket"},
		{[]string{"--from-dir", "/nonexistent"}, "--from-dir: expected a directory"},
		{[]string{"--from-dir", ".", "--bucket", "b"}, "not both"},
		{[]string{"--from-dir", ".", "--object", "nokey"}, "--object: expected s3://BUCKET/KEY"},
		{[]string{"--from-dir", ".", "--from", "yesterday"}, "--from: expected an RFC 3339 time"},
		{[]string{"--from-dir", ".", "--from", "2026-12-04", "--to", "2026-12-03"}, "--to: expected a time after --from"},
		{[]string{"--from-dir", ".", "--output", "xml"}, "--output: expected json or table"},
		{[]string{"--from-dir", ".", "--skew", "-1s"}, "--skew: expected 0s to 1h"},
	} {
		code, _, errOut := cli(t, append([]string{"appstream", "audit"}, c.args...)...)
		if code != 2 || !strings.Contains(errOut, c.want) || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line with %q", c.args, code, errOut, c.want)
		}
	}
}

// fakeS3 serves ListObjectsV2 and GetObject for path-style requests from objects, which maps
// "bucket/key" to the body.
func fakeS3(t *testing.T, objects map[string][]byte) string {
	t.Helper()
	type content struct {
		Key string `xml:"Key"`
	}
	type listResult struct {
		XMLName  xml.Name  `xml:"ListBucketResult"`
		Name     string    `xml:"Name"`
		Prefix   string    `xml:"Prefix"`
		Contents []content `xml:"Contents"`
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		if key == "" && r.URL.Query().Get("list-type") == "2" {
			res := listResult{Name: bucket, Prefix: r.URL.Query().Get("prefix")}
			for k := range objects {
				if b, k, _ := strings.Cut(k, "/"); b == bucket && strings.HasPrefix(k, res.Prefix) {
					res.Contents = append(res.Contents, content{Key: k})
				}
			}
			w.Header().Set("Content-Type", "application/xml")
			_ = xml.NewEncoder(w).Encode(res)
			return
		}
		body, ok := objects[bucket+"/"+key]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`<Error><Code>NoSuchKey</Code></Error>`))
			return
		}
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestAppStreamAuditFromS3(t *testing.T) {
	// GIVEN the trail bucket and AppStream's report bucket behind an S3 endpoint
	objects := map[string][]byte{}
	for name, b := range audittest.CloudTrailJSON() {
		objects["trail-bucket/AWSLogs/123456789012/CloudTrail/eu-west-1/2026/12/03/"+name+".gz"] = audittest.Gzip(b)
	}
	for name, b := range audittest.Reports() {
		objects["appstream-logs-eu-west-1-123456789012-abcd1234/"+name] = b
	}
	endpoint := fakeS3(t, objects)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_REGION", "eu-west-1")
	// WHEN the audit reads them with --bucket/--prefix and --reports-bucket
	code, out, errOut := cli(t, "appstream", "audit", "--endpoint-url", endpoint,
		"--bucket", "trail-bucket", "--prefix", "AWSLogs/123456789012/CloudTrail/",
		"--reports-bucket", "appstream-logs-eu-west-1-123456789012-abcd1234", "--user", "bob")
	// THEN bob's write into alice's folder is found, as from a directory
	if code != 1 || strings.Count(out, "\n") != 1 || !strings.Contains(out, `"user":"bob"`) || !strings.Contains(out, `"foreignHomeFolder":true`) {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, out, errOut)
	}
	if !strings.Contains(errOut, "s3://trail-bucket/AWSLogs/123456789012/CloudTrail/eu-west-1/2026/12/03/") {
		t.Errorf("errors do not name the S3 object: %s", errOut)
	}
	var a appstreamaudit.Action
	if err := json.Unmarshal([]byte(out), &a); err != nil || a.SessionID == "" || a.File == "" {
		t.Errorf("action %+v: %v", a, err)
	}
}
