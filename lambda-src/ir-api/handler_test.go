package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/securestacks/securestacks/internal/incident"
	"github.com/securestacks/securestacks/lambda-src/internal/irsfn"
	"github.com/securestacks/securestacks/lambda-src/internal/irworkflow"
	"github.com/securestacks/securestacks/lambda-src/internal/irworkflow/irfake"
)

const instanceID = "i-0123456789abcdef0"

type starter struct {
	mu    sync.Mutex
	names []string
	err   error
}

func (s *starter) StartExecution(_ context.Context, in *irsfn.StartExecutionInput) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return "", s.err
	}
	s.names = append(s.names, in.Name)
	return "arn:aws:states:eu-west-1:111122223333:execution:ir:" + in.Name, nil
}

func newAPI(cloud *irfake.Cloud) (*API, *irfake.Store, *starter) {
	store := irfake.NewStore()
	st := &starter{}
	cfg := irworkflow.Config{Bucket: "evidence", Deployment: "Test", ProtectedTagKey: "ir:protected"}
	w := cloud.Wire(cfg, store)
	return &API{Config: cfg, Cases: store, DescribeInstances: cloud, StartExecution: st, Releaser: w,
		StateMachineARN: "arn:aws:states:eu-west-1:111122223333:stateMachine:ir", MinSeverity: 7,
		Now: func() time.Time { return time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC) }}, store, st
}

func post(a *API, body string) events.APIGatewayProxyResponse {
	req := events.APIGatewayProxyRequest{HTTPMethod: http.MethodPost, Resource: "/cases", Body: body}
	req.RequestContext.Identity.UserArn = "arn:aws:sts::111122223333:assumed-role/Responder/alice"
	return a.HTTP(context.Background(), req)
}

func TestRespondRefusesWithOneLine(t *testing.T) {
	tests := []struct {
		name, body, tag string
		status          int
		want            string
	}{
		{"malformed instance ID", `{"instanceId":"i-123"}`, "", http.StatusBadRequest, `instanceId \"i-123\": expected i- followed by 8 or 17 lower-case hexadecimal digits`},
		{"not JSON", `instanceId=i-1`, "", http.StatusBadRequest, "body: expected JSON"},
		{"protected tag", `{"instanceId":"` + instanceID + `"}`, "ir:protected", http.StatusUnprocessableEntity, "carries the protected tag ir:protected=yes: refused"},
		{"unknown instance", `{"instanceId":"i-0000000000000000f"}`, "", http.StatusNotFound, "instance i-0000000000000000f not found"},
		{"bad case ID", `{"instanceId":"` + instanceID + `","caseId":"a b"}`, "", http.StatusBadRequest, `caseId \"a b\"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cloud := irfake.New(instanceID, 1, 1)
			if tt.tag != "" {
				cloud.Tags[tt.tag] = "yes"
			}
			a, _, st := newAPI(cloud)
			resp := post(a, tt.body)
			if resp.StatusCode != tt.status || !strings.Contains(resp.Body, tt.want) || strings.Contains(resp.Body, "\\n") {
				t.Errorf("%d %s, want %d with %s", resp.StatusCode, resp.Body, tt.status, tt.want)
			}
			if len(st.names) != 0 || cloud.MutatingCalls() != 0 {
				t.Errorf("started %v, %d mutating calls", st.names, cloud.MutatingCalls())
			}
		})
	}
}

func TestConcurrentRequestsJoinOneCase(t *testing.T) {
	// GIVEN eight requests for the same instance at once
	cloud := irfake.New(instanceID, 1, 1)
	a, _, st := newAPI(cloud)
	var wg sync.WaitGroup
	resps := make([]incident.Response, 8)
	for i := range resps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := post(a, `{"instanceId":"`+instanceID+`"}`)
			_ = json.Unmarshal([]byte(r.Body), &resps[i])
		}()
	}
	wg.Wait()
	// THEN one execution started, and every answer names its case
	if len(st.names) != 1 {
		t.Fatalf("executions %v, want 1", st.names)
	}
	joined := 0
	for _, r := range resps {
		if r.CaseID != st.names[0] {
			t.Errorf("answer %+v names another case than %s", r, st.names[0])
		}
		if r.Joined {
			joined++
		}
	}
	if joined != 7 {
		t.Errorf("%d joined, want 7", joined)
	}
}

func TestFailedStartFreesTheInstance(t *testing.T) {
	cloud := irfake.New(instanceID, 1, 1)
	a, store, st := newAPI(cloud)
	st.err = irfake.APIError("ThrottlingException")
	if r := post(a, `{"instanceId":"`+instanceID+`"}`); r.StatusCode != http.StatusBadGateway {
		t.Fatalf("%d %s", r.StatusCode, r.Body)
	}
	if _, locked := store.Locks[instanceID]; locked {
		t.Error("the instance stays locked after a failed start")
	}
}

func TestDryRunChangesNothing(t *testing.T) {
	cloud := irfake.New(instanceID, 2, 3)
	a, store, st := newAPI(cloud)
	r := post(a, `{"instanceId":"`+instanceID+`","dryRun":true}`)
	var resp incident.Response
	_ = json.Unmarshal([]byte(r.Body), &resp)
	if r.StatusCode != http.StatusOK || !resp.DryRun || len(resp.Plan) != len(incident.Steps) || !strings.Contains(strings.Join(resp.Plan, "\n"), "(3 volumes)") {
		t.Errorf("%d %s", r.StatusCode, r.Body)
	}
	if len(st.names) != 0 || len(store.Locks) != 0 || cloud.MutatingCalls() != 0 {
		t.Errorf("dry run started %v, locks %v", st.names, store.Locks)
	}
}

func TestReleaseThroughTheAPI(t *testing.T) {
	// GIVEN a case that ran to the end
	cloud := irfake.New(instanceID, 1, 1)
	original := cloud.Interfaces[0].Groups
	a, store, st := newAPI(cloud)
	if r := post(a, `{"instanceId":"`+instanceID+`"}`); r.StatusCode != http.StatusAccepted {
		t.Fatalf("%d %s", r.StatusCode, r.Body)
	}
	if err := a.Releaser.RunAll(context.Background(), st.names[0]); err != nil {
		t.Fatal(err)
	}
	// WHEN it is released
	req := events.APIGatewayProxyRequest{HTTPMethod: http.MethodPost, Resource: "/cases/{caseId}/release", PathParameters: map[string]string{"caseId": st.names[0]}}
	req.RequestContext.Identity.UserArn = "arn:aws:sts::111122223333:assumed-role/Lead/bob"
	r := a.HTTP(context.Background(), req)
	// THEN the groups are back and a new request opens a new case
	if r.StatusCode != http.StatusOK || cloud.Interfaces[0].Groups[0] != original[0] {
		t.Fatalf("%d %s, groups %v", r.StatusCode, r.Body, cloud.Interfaces[0].Groups)
	}
	if _, locked := store.Locks[instanceID]; locked {
		t.Error("still locked after release")
	}
	status := a.HTTP(context.Background(), events.APIGatewayProxyRequest{HTTPMethod: http.MethodGet, Resource: "/cases/{caseId}", PathParameters: map[string]string{"caseId": st.names[0]}})
	if !strings.Contains(status.Body, `"status":"released"`) || !strings.Contains(status.Body, "Lead/bob") {
		t.Errorf("status %s", status.Body)
	}
}

func TestGuardDutyFindingStartsACase(t *testing.T) {
	raw, err := os.ReadFile("testdata/guardduty-ec2-finding.json")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("above the threshold", func(t *testing.T) {
		a, store, st := newAPI(irfake.New(instanceID, 1, 1))
		if _, err := a.Handle(context.Background(), raw); err != nil {
			t.Fatal(err)
		}
		if len(st.names) != 1 {
			t.Fatalf("executions %v", st.names)
		}
		c, _ := store.Load(context.Background(), st.names[0])
		if c.StartedBy.Kind != "guardduty" || c.StartedBy.FindingID != "16afba5c5c43e07c9e3e5e2e544e95df" || c.StartedBy.Severity != 8 {
			t.Errorf("started by %+v", c.StartedBy)
		}
	})
	t.Run("below the threshold", func(t *testing.T) {
		a, _, st := newAPI(irfake.New(instanceID, 1, 1))
		a.MinSeverity = 8.5
		if _, err := a.Handle(context.Background(), raw); err != nil {
			t.Fatal(err)
		}
		if len(st.names) != 0 {
			t.Errorf("executions %v", st.names)
		}
	})
}
