package main_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/securestacks/securestacks/internal/testenv"
)

// fakeAWS answers, on loopback, the S3 object calls (REST XML, path-style) and Security Hub
// BatchImportFindings (REST JSON) the function makes, and records them.
type fakeAWS struct {
	t *testing.T

	mu       sync.Mutex
	objects  map[string][]byte
	sse      map[string]string
	imported []map[string]any
	calls    int
}

func (f *fakeAWS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	body, _ := io.ReadAll(r.Body)
	switch {
	case r.URL.Path == "/findings/import" && r.Method == http.MethodPost:
		f.calls++
		var in struct{ Findings []map[string]any }
		if err := json.Unmarshal(body, &in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.imported = append(f.imported, in.Findings...)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"FailedCount": 0, "SuccessCount": len(in.Findings), "FailedFindings": []any{}})
	case r.Method == http.MethodPut:
		f.objects[r.URL.Path] = body
		f.sse[r.URL.Path] = r.Header.Get("X-Amz-Server-Side-Encryption") + " " + r.Header.Get("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id")
		w.Header().Set("ETag", `"0"`)
	case r.Method == http.MethodGet:
		b, ok := f.objects[r.URL.Path]
		if !ok {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>`)
			return
		}
		_, _ = w.Write(b)
	default:
		f.t.Errorf("unexpected call %s %s", r.Method, r.URL)
		w.WriteHeader(http.StatusBadRequest)
	}
}

// TestBootstrapUnderRIE runs the production build of asff-ingest under the Lambda runtime
// interface emulator, with the real SDK clients pointed at a fake on loopback through the
// standard AWS_ENDPOINT_URL_* variables: main.go's wiring, the S3 request encoding and the
// Security Hub request encoding of real findings are what is tested.
func TestBootstrapUnderRIE(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the bootstrap and starts the RIE")
	}
	// GIVEN the built bootstrap under the RIE, with S3 and Security Hub faked on loopback
	fake := &fakeAWS{t: t, objects: map[string][]byte{}, sse: map[string]string{}}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	bootstrap := testenv.BuildBootstrap(t, "./lambda-src/asff-ingest")
	url := testenv.StartRIE(t, bootstrap,
		"AWS_ENDPOINT_URL_S3="+srv.URL, "AWS_ENDPOINT_URL_SECURITYHUB="+srv.URL,
		"AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=fake-secret-for-loopback", "AWS_SESSION_TOKEN=",
		"REPORT_BUCKET=reports-bucket", "REPORT_KEY_ARN=arn:aws:kms:eu-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
		"PARTITION=aws", "ACCOUNT_ID=123456789012", "URL_SUFFIX=amazonaws.com",
	)

	// WHEN a scan build sends its Trivy report
	out := testenv.Invoke(t, url, event(t, "trivy.json"))

	// THEN the counts per severity come back, the raw envelope is stored with SSE-KMS first,
	// and the six findings reach Security Hub in one call, as ASFF
	var res struct {
		ReportKey string         `json:"reportKey"`
		Findings  int            `json:"findings"`
		Imported  int            `json:"imported"`
		Counts    map[string]int `json:"counts"`
	}
	if err := json.Unmarshal(out, &res); err != nil || res.Findings != 6 || res.Imported != 6 || res.Counts["CRITICAL"] != 1 || res.Counts["HIGH"] != 3 {
		t.Fatalf("response %s (%v)", out, err)
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	stored := "/reports-bucket/" + res.ReportKey
	if _, ok := fake.objects[stored]; !ok {
		t.Errorf("raw envelope not stored at %s; objects %v", stored, keysOf(fake.objects))
	}
	if !strings.HasPrefix(fake.sse[stored], "aws:kms arn:aws:kms:") {
		t.Errorf("envelope stored without SSE-KMS: %q", fake.sse[stored])
	}
	if fake.calls != 1 || len(fake.imported) != 6 {
		t.Fatalf("%d calls, %d findings", fake.calls, len(fake.imported))
	}
	f := fake.imported[0]
	if f["SchemaVersion"] != "2018-10-08" || f["ProductArn"] != "arn:aws:securityhub:eu-west-2:123456789012:product/123456789012/default" ||
		f["RecordState"] != "ACTIVE" || !strings.HasPrefix(f["SourceUrl"].(string), "https://reports-bucket.s3.eu-west-2.amazonaws.com/reports/trivy/") {
		t.Errorf("finding as sent: %v", f)
	}
}
