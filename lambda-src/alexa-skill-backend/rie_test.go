package main_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/securestacks/securestacks/internal/testenv"
)

// fakeSSM answers GetParameter for one parameter on loopback, in the AWS JSON 1.1 protocol
// the SSM client speaks, and counts the reads.
type fakeSSM struct {
	t     *testing.T
	name  string
	value string

	mu    sync.Mutex
	reads int
}

func (f *fakeSSM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var in struct{ Name string }
	if target := r.Header.Get("X-Amz-Target"); target != "AmazonSSM.GetParameter" || json.Unmarshal(body, &in) != nil {
		f.t.Errorf("unexpected SSM call %q: %s", target, body)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.reads++
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	if in.Name != f.name {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"__type":"ParameterNotFound","message":"no such parameter"}`)
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"Parameter": map[string]any{
		"Name": f.name, "Type": "String", "Value": f.value, "Version": 1, "DataType": "text",
	}})
}

// TestBootstrapUnderRIE runs the production build of the backend under the Lambda runtime
// interface emulator. The skill-id parameter is read through the real SDK code path; the
// standard AWS_ENDPOINT_URL_SSM variable points it at a fake on loopback, so no request
// leaves the machine and the binary carries no test-only switch.
func TestBootstrapUnderRIE(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the bootstrap and starts the RIE")
	}
	// GIVEN the built bootstrap under the RIE, and an SSM parameter holding the skill id
	const paramName = "/securestacks/alexa-skill/Sandbox-AlexaSkill/Skill/skill-id"
	ssmFake := &fakeSSM{t: t, name: paramName, value: testSkillID}
	srv := httptest.NewServer(ssmFake)
	t.Cleanup(srv.Close)
	bootstrap := testenv.BuildBootstrap(t, "./lambda-src/alexa-skill-backend")
	url := testenv.StartRIE(t, bootstrap,
		"SKILL_ID_PARAMETER="+paramName,
		"AWS_ENDPOINT_URL_SSM="+srv.URL,
		"AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
		"AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		"AWS_SESSION_TOKEN=",
		"AWS_PROFILE=",
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_EC2_METADATA_DISABLED=true",
	)

	// WHEN a LaunchRequest envelope is invoked over HTTP, twice
	var answers []answer
	for range 2 {
		out := testenv.Invoke(t, url, load(t, "launch.json"))
		var a answer
		if err := json.Unmarshal(out, &a); err != nil {
			t.Fatalf("response is not JSON: %s", out)
		}
		answers = append(answers, a)
	}

	// THEN both answers tell the request's time in UTC, and the parameter was read once
	for _, a := range answers {
		if a.Version != "1.0" || a.Response.OutputSpeech == nil || a.Response.OutputSpeech.Text != "It is 3:04 PM U.T.C." ||
			a.Response.ShouldEndSession == nil || !*a.Response.ShouldEndSession {
			t.Fatalf("unexpected answer %+v", a)
		}
	}
	ssmFake.mu.Lock()
	defer ssmFake.mu.Unlock()
	if ssmFake.reads != 1 {
		t.Fatalf("GetParameter read %d times, want 1 (cached)", ssmFake.reads)
	}
}
