package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/securestacks/securestacks/internal/incident"
	"github.com/securestacks/securestacks/lambda-src/internal/irsfn"
	"github.com/securestacks/securestacks/lambda-src/internal/irworkflow"
)

// StartExecutionAPI is states:StartExecution.
type StartExecutionAPI interface {
	StartExecution(ctx context.Context, in *irsfn.StartExecutionInput) (string, error)
}

// DescribeExecutionAPI is states:DescribeExecution.
type DescribeExecutionAPI interface {
	DescribeExecution(ctx context.Context, in *irsfn.DescribeExecutionInput) (*irsfn.Execution, error)
}

// API answers the REST API (POST /cases, GET /cases/{caseId},
// POST /cases/{caseId}/release) and the GuardDuty findings rule.
type API struct {
	Config            irworkflow.Config
	Cases             irworkflow.Cases
	DescribeInstances irworkflow.DescribeInstancesAPI
	StartExecution    StartExecutionAPI
	DescribeExecution DescribeExecutionAPI
	// Releaser restores released cases (its Store is Cases).
	Releaser        *irworkflow.Workflow
	StateMachineARN string
	// MinSeverity is the lowest GuardDuty severity that starts a case.
	MinSeverity float64
	Logger      *slog.Logger
	Now         func() time.Time
}

// Handle dispatches on the event's shape: an EventBridge event has a
// detail-type, an API Gateway proxy request an httpMethod.
func (a *API) Handle(ctx context.Context, raw json.RawMessage) (any, error) {
	var probe struct {
		DetailType string `json:"detail-type"`
		HTTPMethod string `json:"httpMethod"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, fmt.Errorf("event: %w", err)
	}
	switch {
	case probe.DetailType != "":
		var ev events.CloudWatchEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, fmt.Errorf("event: %w", err)
		}
		return a.Finding(ctx, ev)
	case probe.HTTPMethod != "":
		var req events.APIGatewayProxyRequest
		if err := json.Unmarshal(raw, &req); err != nil {
			return nil, fmt.Errorf("request: %w", err)
		}
		return a.HTTP(ctx, req), nil
	}
	return nil, errors.New("event is neither an API Gateway request nor an EventBridge event")
}

// httpError is an answer with a status and a one-line message.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func fail(status int, format string, args ...any) error {
	return &httpError{status, fmt.Sprintf(format, args...)}
}

// HTTP answers one API request.
func (a *API) HTTP(ctx context.Context, req events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	caller := incident.Caller{Kind: "iam", ARN: req.RequestContext.Identity.UserArn, AccountID: req.RequestContext.Identity.AccountID,
		SourceIP: req.RequestContext.Identity.SourceIP, UserAgent: req.RequestContext.Identity.UserAgent, RequestID: req.RequestContext.RequestID}
	var body any
	status := http.StatusOK
	var err error
	caseID := req.PathParameters["caseId"]
	switch {
	case req.HTTPMethod == http.MethodPost && req.Resource == "/cases":
		var r incident.Request
		if e := json.Unmarshal([]byte(req.Body), &r); e != nil {
			err = fail(http.StatusBadRequest, "body: expected JSON {\"instanceId\": \"i-...\"}: %v", e)
			break
		}
		var resp incident.Response
		if resp, err = a.Respond(ctx, r, caller); err == nil {
			body = resp
			if !resp.Joined && !resp.DryRun {
				status = http.StatusAccepted
			}
		}
	case req.HTTPMethod == http.MethodGet && req.Resource == "/cases/{caseId}":
		body, err = a.Status(ctx, caseID)
	case req.HTTPMethod == http.MethodPost && req.Resource == "/cases/{caseId}/release":
		body, err = a.Release(ctx, caseID, caller.ARN)
	default:
		err = fail(http.StatusNotFound, "no route %s %s", req.HTTPMethod, req.Resource)
	}
	if err != nil {
		var he *httpError
		if !errors.As(err, &he) {
			a.logger().Error("request failed", "error", err.Error(), "request_id", caller.RequestID)
			he = &httpError{http.StatusBadGateway, err.Error()}
		}
		status, body = he.status, map[string]string{"error": strings.ReplaceAll(he.msg, "\n", " ")}
	}
	b, _ := json.Marshal(body)
	return events.APIGatewayProxyResponse{StatusCode: status, Body: string(b), Headers: map[string]string{"Content-Type": "application/json"}}
}

// Respond checks the request and the instance, then starts a case, joins
// the instance's open case, or (dry run) says what a case would do.
func (a *API) Respond(ctx context.Context, r incident.Request, caller incident.Caller) (incident.Response, error) {
	if err := r.Check(); err != nil {
		return incident.Response{}, fail(http.StatusBadRequest, "%v", err)
	}
	cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	out, err := a.DescribeInstances.DescribeInstances(cctx, &ec2.DescribeInstancesInput{InstanceIds: []string{r.InstanceID}})
	cancel()
	if err != nil {
		if strings.Contains(err.Error(), "InvalidInstanceID") {
			return incident.Response{}, fail(http.StatusNotFound, "instance %s not found", r.InstanceID)
		}
		return incident.Response{}, fmt.Errorf("ec2:DescribeInstances: %w", err)
	}
	var facts *irworkflow.Facts
	for _, res := range out.Reservations {
		for _, i := range res.Instances {
			if aws.ToString(i.InstanceId) == r.InstanceID {
				facts = irworkflow.FactsOf(i)
			}
		}
	}
	if facts == nil {
		return incident.Response{}, fail(http.StatusNotFound, "instance %s not found", r.InstanceID)
	}
	if why := irworkflow.Refusal(a.Config, r.InstanceID, facts.State, facts.Tags); why != "" {
		return incident.Response{}, fail(http.StatusUnprocessableEntity, "%s", why)
	}
	caseID := r.CaseID
	if caseID == "" {
		caseID = incident.NewCaseID(r.InstanceID, a.now())
	}
	if r.DryRun {
		return incident.Response{CaseID: caseID, DryRun: true, Plan: Plan(facts)}, nil
	}
	c := &irworkflow.Case{CaseID: caseID, InstanceID: r.InstanceID, Status: irworkflow.StatusOpen, Reason: r.Reason, StartedBy: caller, StartedAt: a.now()}
	id, created, err := a.Cases.Open(ctx, c)
	if err != nil {
		return incident.Response{}, err
	}
	if !created {
		a.logger().Info("joined open case", "case", id, "instance", r.InstanceID, "caller", caller.ARN+caller.FindingID)
		return incident.Response{CaseID: id, Joined: true}, nil
	}
	input, _ := json.Marshal(map[string]string{"caseId": caseID})
	cctx, cancel = context.WithTimeout(ctx, 20*time.Second)
	arn, err := a.StartExecution.StartExecution(cctx, &irsfn.StartExecutionInput{StateMachineArn: a.StateMachineARN, Name: caseID, Input: string(input)})
	cancel()
	if err != nil {
		// Nothing ran: free the instance for the next request.
		_ = a.Cases.Close(context.WithoutCancel(ctx), r.InstanceID, caseID)
		return incident.Response{}, fmt.Errorf("states:StartExecution: %w", err)
	}
	c.ExecutionArn = arn
	if err := a.Cases.Save(ctx, c); err != nil {
		a.logger().Warn("execution ARN not saved", "case", caseID, "error", err.Error())
	}
	a.logger().Info("case started", "case", caseID, "instance", r.InstanceID, "caller", caller.ARN+caller.FindingID)
	return incident.Response{CaseID: caseID, ExecutionArn: arn}, nil
}

// Plan says what a case would do to the instance, step by step.
func Plan(f *irworkflow.Facts) []string {
	var plan []string
	for _, s := range incident.Steps {
		line := s.Name + ": " + s.Doc
		switch s.Name {
		case incident.StepSnapshots:
			if len(f.EBSVolumes) == 0 {
				line = s.Name + ": skipped, no EBS volumes (instance store only)"
			} else {
				line += fmt.Sprintf(" (%d volumes)", len(f.EBSVolumes))
			}
		case incident.StepIsolate:
			line += fmt.Sprintf(" (%d interfaces)", len(f.Interfaces))
		}
		plan = append(plan, line)
	}
	return plan
}

// StatusView is GET /cases/{caseId}.
type StatusView struct {
	*irworkflow.Case
	ExecutionStatus string   `json:"executionStatus,omitempty"`
	FailedSteps     []string `json:"failedSteps"`
}

// Status reports a case and its execution.
func (a *API) Status(ctx context.Context, caseID string) (*StatusView, error) {
	if err := incident.CheckCaseID(caseID); err != nil {
		return nil, fail(http.StatusBadRequest, "%v", err)
	}
	c, err := a.Cases.Load(ctx, caseID)
	if err != nil {
		if strings.Contains(err.Error(), "not found") {
			return nil, fail(http.StatusNotFound, "case %s not found", caseID)
		}
		return nil, err
	}
	v := &StatusView{Case: c, FailedSteps: []string{}}
	for _, f := range c.Failed() {
		v.FailedSteps = append(v.FailedSteps, f.Name)
	}
	if c.ExecutionArn != "" && a.DescribeExecution != nil {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		ex, err := a.DescribeExecution.DescribeExecution(cctx, &irsfn.DescribeExecutionInput{ExecutionArn: c.ExecutionArn})
		cancel()
		if err == nil {
			v.ExecutionStatus = ex.Status
		}
	}
	return v, nil
}

// Release restores a finished case and closes it.
func (a *API) Release(ctx context.Context, caseID, by string) (*irworkflow.Case, error) {
	if err := incident.CheckCaseID(caseID); err != nil {
		return nil, fail(http.StatusBadRequest, "%v", err)
	}
	c, err := a.Releaser.Release(ctx, caseID, by)
	switch {
	case errors.Is(err, irworkflow.ErrNotReleasable):
		return nil, fail(http.StatusConflict, "%v", err)
	case err != nil && c == nil && strings.Contains(err.Error(), "not found"):
		return nil, fail(http.StatusNotFound, "case %s not found", caseID)
	case err != nil:
		return nil, err
	}
	if err := a.Cases.Close(ctx, c.InstanceID, caseID); err != nil {
		return nil, err
	}
	a.logger().Info("case released", "case", caseID, "by", by)
	return c, nil
}

// guardDutyDetail is the part of a GuardDuty finding the rule target reads
// (https://docs.aws.amazon.com/guardduty/latest/APIReference/API_Finding.html).
type guardDutyDetail struct {
	ID        string  `json:"id"`
	AccountID string  `json:"accountId"`
	Type      string  `json:"type"`
	Title     string  `json:"title"`
	Severity  float64 `json:"severity"`
	Resource  struct {
		ResourceType    string `json:"resourceType"`
		InstanceDetails struct {
			InstanceID string `json:"instanceId"`
		} `json:"instanceDetails"`
	} `json:"resource"`
}

// Finding starts (or joins) a case for a GuardDuty EC2 finding at or above
// MinSeverity. Anything else is logged and ignored: EventBridge must not
// retry a finding the deployment chose not to act on.
func (a *API) Finding(ctx context.Context, ev events.CloudWatchEvent) (*incident.Response, error) {
	var d guardDutyDetail
	if err := json.Unmarshal(ev.Detail, &d); err != nil {
		return nil, fmt.Errorf("finding detail: %w", err)
	}
	if ev.Source != "aws.guardduty" || d.Resource.ResourceType != "Instance" || d.Severity < a.MinSeverity {
		a.logger().Info("finding ignored", "finding", d.ID, "type", d.Type, "severity", d.Severity)
		return nil, nil
	}
	caller := incident.Caller{Kind: "guardduty", FindingID: d.ID, FindingType: d.Type, Severity: d.Severity, AccountID: d.AccountID, RequestID: ev.ID}
	resp, err := a.Respond(ctx, incident.Request{InstanceID: d.Resource.InstanceDetails.InstanceID, Reason: d.Type + ": " + d.Title}, caller)
	var he *httpError
	if errors.As(err, &he) {
		// A refused or malformed finding is final: log it, do not retry.
		a.logger().Warn("finding refused", "finding", d.ID, "reason", he.msg)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &resp, nil
}

func (a *API) now() time.Time {
	if a.Now != nil {
		return a.Now().UTC()
	}
	return time.Now().UTC()
}

func (a *API) logger() *slog.Logger {
	if a.Logger != nil {
		return a.Logger
	}
	return slog.New(slog.DiscardHandler)
}
