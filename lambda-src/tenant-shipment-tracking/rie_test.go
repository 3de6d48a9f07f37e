package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/securestacks/securestacks/internal/testenv"
)

// fakeAWS answers STS AssumeRole (query protocol) and DynamoDB GetItem (JSON
// 1.0) on loopback, and records what each call carried.
type fakeAWS struct {
	t  *testing.T
	mu sync.Mutex
	// assumeRole holds the form of each AssumeRole; getItem the credential
	// (access key ID) each GetItem was signed with.
	assumeRole []url.Values
	getItem    []string
}

const tenantKeyID = "ASIATENANTSESSION"

func (f *fakeAWS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Header.Get("X-Amz-Target") == "DynamoDB_20120810.GetItem" {
		auth := r.Header.Get("Authorization")
		_, cred, _ := strings.Cut(auth, "Credential=")
		key, _, _ := strings.Cut(cred, "/")
		f.getItem = append(f.getItem, key)
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		_, _ = io.WriteString(w, `{"Item":{"TenantID":{"S":"yellow"},"ShipmentID":{"S":"s-1"},"Status":{"S":"IN_TRANSIT"}}}`)
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil || form.Get("Action") != "AssumeRole" {
		f.t.Errorf("unexpected call %s %s", r.URL, body)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	f.assumeRole = append(f.assumeRole, form)
	w.Header().Set("Content-Type", "text/xml")
	_, _ = io.WriteString(w, `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>`+
		`<Credentials><AccessKeyId>`+tenantKeyID+`</AccessKeyId><SecretAccessKey>secret</SecretAccessKey>`+
		`<SessionToken>token</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials>`+
		`<AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/access/yellow</Arn><AssumedRoleId>AROA:yellow</AssumedRoleId></AssumedRoleUser>`+
		`</AssumeRoleResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></AssumeRoleResponse>`)
}

// TestBootstrapUnderRIE runs the production build under the Lambda runtime
// interface emulator, with STS and DynamoDB faked on loopback through the
// SDK's standard AWS_ENDPOINT_URL_<SERVICE> variables: the read is signed
// with the tenant session's key, never the function's, and the session was
// opened with the tenant tag and a tenant@request session name.
func TestBootstrapUnderRIE(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the bootstrap and starts the RIE")
	}
	fake := &fakeAWS{t: t}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	bootstrap := testenv.BuildBootstrap(t, "./lambda-src/tenant-shipment-tracking")
	endpoint := testenv.StartRIE(t, bootstrap,
		TableEnv+"=Shipments", BucketEnv+"=docs",
		AccessRoleEnv+"=arn:aws:iam::123456789012:role/access",
		"AWS_ENDPOINT_URL_STS="+srv.URL, "AWS_ENDPOINT_URL_DYNAMODB="+srv.URL,
		"AWS_ACCESS_KEY_ID=AKIAFUNCTIONROLE", "AWS_SECRET_ACCESS_KEY=function-secret", "AWS_SESSION_TOKEN=",
		"AWS_PROFILE=", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true",
	)
	event, err := os.ReadFile("testdata/own_shipment.json")
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		var resp struct {
			StatusCode int    `json:"statusCode"`
			Body       string `json:"body"`
		}
		out := testenv.Invoke(t, endpoint, event)
		if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode != 200 || !strings.Contains(resp.Body, "IN_TRANSIT") {
			t.Fatalf("response %s", out)
		}
	}
	cross, err := os.ReadFile("testdata/cross_tenant_path.json")
	if err != nil {
		t.Fatal(err)
	}
	if out := testenv.Invoke(t, endpoint, cross); !strings.Contains(string(out), `"statusCode":403`) {
		t.Errorf("cross-tenant request: %s", out)
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if len(fake.assumeRole) != 1 {
		t.Fatalf("%d AssumeRole calls for two requests of one tenant, want 1", len(fake.assumeRole))
	}
	form := fake.assumeRole[0]
	if form.Get("Tags.member.1.Key") != "TenantID" || form.Get("Tags.member.1.Value") != "yellow" || form.Get("Tags.member.2.Key") != "" ||
		!strings.HasPrefix(form.Get("RoleSessionName"), "yellow@") || form.Get("RoleArn") != "arn:aws:iam::123456789012:role/access" {
		t.Errorf("AssumeRole form %v", form)
	}
	if strings.Join(fake.getItem, ",") != tenantKeyID+","+tenantKeyID {
		t.Errorf("GetItem signed with %v, want the tenant session's key %s each time", fake.getItem, tenantKeyID)
	}
}
