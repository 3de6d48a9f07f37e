package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func irEnv(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

func TestIrRespondSignsForExecuteAPI(t *testing.T) {
	// GIVEN an API on loopback that answers like ir-api
	irEnv(t)
	var got *http.Request
	var body map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &body)
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"caseId":"c-1","executionArn":"arn:aws:states:eu-west-1:111122223333:execution:sm:c-1"}`)
	}))
	defer srv.Close()
	var stdout, stderr bytes.Buffer
	// WHEN a case is started
	code := run([]string{"ir", "respond", "--api-url", srv.URL + "/v1/", "--region", "eu-west-1", "--instance-id", "i-0123456789abcdef0", "--reason", "GuardDuty said so"}, &stdout, &stderr)
	// THEN the request is a SigV4-signed POST /v1/cases for execute-api, and the case is printed
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if got.Method != http.MethodPost || got.URL.Path != "/v1/cases" {
		t.Errorf("%s %s", got.Method, got.URL.Path)
	}
	if a := got.Header.Get("Authorization"); !strings.HasPrefix(a, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/") || !strings.Contains(a, "/eu-west-1/execute-api/aws4_request") {
		t.Errorf("Authorization %q", a)
	}
	if body["instanceId"] != "i-0123456789abcdef0" || body["reason"] != "GuardDuty said so" || body["dryRun"] != nil {
		t.Errorf("body %v", body)
	}
	if !strings.Contains(stdout.String(), "started case c-1") {
		t.Errorf("stdout %q", stdout.String())
	}
}

func TestIrDryRunAndErrors(t *testing.T) {
	irEnv(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req map[string]any
		_ = json.NewDecoder(r.Body).Decode(&req)
		switch {
		case r.URL.Path == "/cases" && req["dryRun"] == true:
			io.WriteString(w, `{"caseId":"c-2","dryRun":true,"plan":["metadata: x","isolate: y (2 interfaces)"]}`)
		case r.URL.Path == "/cases/c-9/release":
			w.WriteHeader(http.StatusConflict)
			io.WriteString(w, `{"error":"case cannot be released: case c-9 is still running"}`)
		default:
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `{"Message":"User is not authorized"}`)
		}
	}))
	defer srv.Close()
	var stdout, stderr bytes.Buffer
	if code := run([]string{"ir", "respond", "--api-url", srv.URL, "--region", "eu-west-1", "--instance-id", "i-0123456789abcdef0", "--dry-run"}, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "isolate: y (2 interfaces)") {
		t.Errorf("dry run: exit %d, %q %q", code, stdout.String(), stderr.String())
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"ir", "respond", "--api-url", srv.URL, "--instance-id", "i-12"}, 2, `securestacks ir respond: --instance-id "i-12": expected i- followed by 8 or 17 lower-case hexadecimal digits`},
		{[]string{"ir", "status", "--api-url", srv.URL, "--case-id", "a/b"}, 2, `securestacks ir status: --case-id "a/b": expected 1 to 64 letters, digits, - or _`},
		{[]string{"ir", "release", "--api-url", srv.URL, "--region", "eu-west-1", "--case-id", "c-9"}, 1, "securestacks ir release: HTTP 409: case cannot be released: case c-9 is still running"},
		{[]string{"ir", "status", "--api-url", srv.URL, "--region", "eu-west-1", "--case-id", "c-1"}, 1, "securestacks ir status: HTTP 403: User is not authorized"},
	} {
		stdout.Reset()
		stderr.Reset()
		code := run(tc.args, &stdout, &stderr)
		if code != tc.code || strings.TrimSpace(stderr.String()) != tc.want {
			t.Errorf("%v: exit %d, stderr %q, want %d %q", tc.args, code, stderr.String(), tc.code, tc.want)
		}
	}
}
