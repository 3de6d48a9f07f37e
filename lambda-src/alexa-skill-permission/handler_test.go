package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"

	main "github.com/securestacks/securestacks/lambda-src/alexa-skill-permission"
	"github.com/securestacks/securestacks/lambda-src/internal/cfnresponse"
)

const (
	fnA      = "arn:aws:lambda:eu-west-1:123456789012:function:Backend-A"
	fnB      = "arn:aws:lambda:eu-west-1:123456789012:function:Backend-B"
	skill1   = "amzn1.ask.skill.11111111-1111-1111-1111-111111111111"
	skill2   = "amzn1.ask.skill.22222222-2222-2222-2222-222222222222"
	param    = "/securestacks/alexa-skill/Sandbox-AlexaSkill/SkillA1B2C3D4/skill-id"
	stackId  = "arn:aws:cloudformation:eu-west-1:123456789012:stack/Sandbox-AlexaSkill/0a1b2c3d"
	cfnPerm  = "Sandbox-AlexaSkill-SkillUnscopedPermission-ABCDEF123456"
	physical = "SkillScopedPermission-0123456789abcdef"
)

// Function-type fakes, one per SDK operation.
type (
	getPolicyFunc        func(context.Context, *lambda.GetPolicyInput, ...func(*lambda.Options)) (*lambda.GetPolicyOutput, error)
	addPermissionFunc    func(context.Context, *lambda.AddPermissionInput, ...func(*lambda.Options)) (*lambda.AddPermissionOutput, error)
	removePermissionFunc func(context.Context, *lambda.RemovePermissionInput, ...func(*lambda.Options)) (*lambda.RemovePermissionOutput, error)
	putParameterFunc     func(context.Context, *ssm.PutParameterInput, ...func(*ssm.Options)) (*ssm.PutParameterOutput, error)
	deleteParameterFunc  func(context.Context, *ssm.DeleteParameterInput, ...func(*ssm.Options)) (*ssm.DeleteParameterOutput, error)
)

func (f getPolicyFunc) GetPolicy(ctx context.Context, in *lambda.GetPolicyInput, o ...func(*lambda.Options)) (*lambda.GetPolicyOutput, error) {
	return f(ctx, in, o...)
}
func (f addPermissionFunc) AddPermission(ctx context.Context, in *lambda.AddPermissionInput, o ...func(*lambda.Options)) (*lambda.AddPermissionOutput, error) {
	return f(ctx, in, o...)
}
func (f removePermissionFunc) RemovePermission(ctx context.Context, in *lambda.RemovePermissionInput, o ...func(*lambda.Options)) (*lambda.RemovePermissionOutput, error) {
	return f(ctx, in, o...)
}
func (f putParameterFunc) PutParameter(ctx context.Context, in *ssm.PutParameterInput, o ...func(*ssm.Options)) (*ssm.PutParameterOutput, error) {
	return f(ctx, in, o...)
}
func (f deleteParameterFunc) DeleteParameter(ctx context.Context, in *ssm.DeleteParameterInput, o ...func(*ssm.Options)) (*ssm.DeleteParameterOutput, error) {
	return f(ctx, in, o...)
}

// stmt is a policy statement as Lambda stores it.
type stmt struct {
	Sid       string
	Effect    string
	Principal any
	Action    string
	Resource  string
	Condition map[string]map[string]string `json:",omitempty"`
}

func unscoped(sid, fn string) stmt {
	return stmt{Sid: sid, Effect: "Allow", Principal: map[string]string{"Service": main.AlexaPrincipal}, Action: "lambda:InvokeFunction", Resource: fn}
}

func scoped(sid, fn, skill string) stmt {
	s := unscoped(sid, fn)
	s.Condition = map[string]map[string]string{"StringEquals": {"lambda:EventSourceToken": skill}}
	return s
}

// unrelated is a statement that has nothing to do with Alexa.
func unrelated(fn string) stmt {
	return stmt{Sid: "AllowS3", Effect: "Allow", Principal: map[string]string{"Service": "s3.amazonaws.com"}, Action: "lambda:InvokeFunction", Resource: fn,
		Condition: map[string]map[string]string{"ArnLike": {"AWS:SourceArn": "arn:aws:s3:::bucket"}}}
}

// world is the state the fakes share: function policies, parameters and a call log.
type world struct {
	policies map[string][]stmt // by function ARN; a missing key is a missing function
	params   map[string]string
	calls    []string
	// failures, by "Operation function-or-parameter", override the normal result.
	failures map[string]error
	// conflictOnce makes the first AddPermission fail with ResourceConflictException after
	// storing the statement, as when another writer got there first.
	conflictOnce bool
}

func newWorld(policies map[string][]stmt) *world {
	return &world{policies: policies, params: map[string]string{}, failures: map[string]error{}}
}

func (w *world) fail(op, target string) error { return w.failures[op+" "+target] }

func (w *world) permission() *main.Permission {
	notFound := func(what string) error {
		return &lambdatypes.ResourceNotFoundException{Message: aws.String(what + " not found")}
	}
	return &main.Permission{
		GetPolicy: getPolicyFunc(func(_ context.Context, in *lambda.GetPolicyInput, _ ...func(*lambda.Options)) (*lambda.GetPolicyOutput, error) {
			fn := aws.ToString(in.FunctionName)
			w.calls = append(w.calls, "GetPolicy "+fn)
			if err := w.fail("GetPolicy", fn); err != nil {
				return nil, err
			}
			statements, ok := w.policies[fn]
			if !ok || len(statements) == 0 {
				return nil, notFound("policy")
			}
			doc, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Id": "default", "Statement": statements})
			return &lambda.GetPolicyOutput{Policy: aws.String(string(doc))}, nil
		}),
		AddPermission: addPermissionFunc(func(_ context.Context, in *lambda.AddPermissionInput, _ ...func(*lambda.Options)) (*lambda.AddPermissionOutput, error) {
			fn, sid := aws.ToString(in.FunctionName), aws.ToString(in.StatementId)
			w.calls = append(w.calls, "AddPermission "+fn+" "+sid)
			if err := w.fail("AddPermission", fn); err != nil {
				return nil, err
			}
			if _, ok := w.policies[fn]; !ok {
				return nil, notFound("function")
			}
			for _, s := range w.policies[fn] {
				if s.Sid == sid {
					return nil, &lambdatypes.ResourceConflictException{Message: aws.String("statement id exists")}
				}
			}
			s := unscoped(sid, fn)
			s.Principal = map[string]string{"Service": aws.ToString(in.Principal)}
			s.Action = aws.ToString(in.Action)
			if in.EventSourceToken != nil {
				s.Condition = map[string]map[string]string{"StringEquals": {"lambda:EventSourceToken": *in.EventSourceToken}}
			}
			w.policies[fn] = append(w.policies[fn], s)
			if w.conflictOnce {
				w.conflictOnce = false
				return nil, &lambdatypes.ResourceConflictException{Message: aws.String("statement id exists")}
			}
			return &lambda.AddPermissionOutput{}, nil
		}),
		RemovePermission: removePermissionFunc(func(_ context.Context, in *lambda.RemovePermissionInput, _ ...func(*lambda.Options)) (*lambda.RemovePermissionOutput, error) {
			fn, sid := aws.ToString(in.FunctionName), aws.ToString(in.StatementId)
			w.calls = append(w.calls, "RemovePermission "+fn+" "+sid)
			if err := w.fail("RemovePermission", fn); err != nil {
				return nil, err
			}
			statements, ok := w.policies[fn]
			if !ok {
				return nil, notFound("function")
			}
			i := slices.IndexFunc(statements, func(s stmt) bool { return s.Sid == sid })
			if i < 0 {
				return nil, notFound("statement")
			}
			w.policies[fn] = slices.Delete(statements, i, i+1)
			return &lambda.RemovePermissionOutput{}, nil
		}),
		PutParameter: putParameterFunc(func(_ context.Context, in *ssm.PutParameterInput, _ ...func(*ssm.Options)) (*ssm.PutParameterOutput, error) {
			name := aws.ToString(in.Name)
			w.calls = append(w.calls, "PutParameter "+name)
			if err := w.fail("PutParameter", name); err != nil {
				return nil, err
			}
			if _, exists := w.params[name]; exists && !aws.ToBool(in.Overwrite) {
				return nil, &ssmtypes.ParameterAlreadyExists{}
			}
			w.params[name] = aws.ToString(in.Value)
			return &ssm.PutParameterOutput{Version: 1}, nil
		}),
		DeleteParameter: deleteParameterFunc(func(_ context.Context, in *ssm.DeleteParameterInput, _ ...func(*ssm.Options)) (*ssm.DeleteParameterOutput, error) {
			name := aws.ToString(in.Name)
			w.calls = append(w.calls, "DeleteParameter "+name)
			if err := w.fail("DeleteParameter", name); err != nil {
				return nil, err
			}
			if _, ok := w.params[name]; !ok {
				return nil, &ssmtypes.ParameterNotFound{}
			}
			delete(w.params, name)
			return &ssm.DeleteParameterOutput{}, nil
		}),
	}
}

// mutations are the calls that change state, in order.
func (w *world) mutations() []string {
	var out []string
	for _, c := range w.calls {
		if !strings.HasPrefix(c, "GetPolicy ") {
			out = append(out, c)
		}
	}
	return out
}

func props(fn, skill string) map[string]any {
	return map[string]any{
		"ServiceToken":         "arn:aws:lambda:eu-west-1:123456789012:function:framework-onEvent",
		"FunctionArn":          fn,
		"SkillId":              skill,
		"SkillIdParameterName": param,
		"UnscopedPermission":   cfnPerm,
	}
}

func event(rt cfnresponse.RequestType, now, old map[string]any) cfnresponse.Event {
	e := cfnresponse.Event{
		RequestType: rt, StackId: stackId, RequestId: "req-1", ResourceType: "Custom::AlexaSkillPermission",
		LogicalResourceId: "SkillScopedPermission", ResourceProperties: now, OldResourceProperties: old,
	}
	if rt != cfnresponse.Create {
		e.PhysicalResourceId = physical
	}
	return e
}

func sids(statements []stmt) []string {
	out := []string{}
	for _, s := range statements {
		out = append(out, s.Sid)
	}
	return out
}

func run(t *testing.T, w *world, e cfnresponse.Event) (cfnresponse.Response, string, error) {
	t.Helper()
	var logs bytes.Buffer
	p := w.permission()
	p.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	resp, err := cfnresponse.Handler(p, &cfnresponse.Options{Logger: p.Logger})(context.Background(), e)
	return resp, logs.String(), err
}

func TestPermissionLifecycle(t *testing.T) {
	sid1, sid2 := main.StatementId(skill1), main.StatementId(skill2)
	cases := []struct {
		name          string
		before        map[string][]stmt
		params        map[string]string
		event         cfnresponse.Event
		failures      map[string]error
		conflictOnce  bool
		wantPolicies  map[string][]string
		wantParams    map[string]string
		wantMutations []string
		wantLog       string
	}{
		{
			name:   "Create adds the scoped statement before it removes the unscoped one and leaves others alone",
			before: map[string][]stmt{fnA: {unrelated(fnA), unscoped(cfnPerm, fnA), scoped("OtherSkill", fnA, skill2)}},
			event:  event(cfnresponse.Create, props(fnA, skill1), nil),
			// The other skill's scoped statement is not ours to judge: it names one skill.
			wantPolicies:  map[string][]string{fnA: {"AllowS3", "OtherSkill", sid1}},
			wantParams:    map[string]string{param: skill1},
			wantMutations: []string{"AddPermission " + fnA + " " + sid1, "RemovePermission " + fnA + " " + cfnPerm, "PutParameter " + param},
		},
		{
			name:          "Create on a function without any policy adds the scoped statement",
			before:        map[string][]stmt{fnA: nil},
			event:         event(cfnresponse.Create, props(fnA, skill1), nil),
			wantPolicies:  map[string][]string{fnA: {sid1}},
			wantParams:    map[string]string{param: skill1},
			wantMutations: []string{"AddPermission " + fnA + " " + sid1, "PutParameter " + param},
		},
		{
			name:          "re-running when the statement is already scoped changes no policy",
			before:        map[string][]stmt{fnA: {unrelated(fnA), scoped(sid1, fnA, skill1)}},
			params:        map[string]string{param: skill1},
			event:         event(cfnresponse.Update, props(fnA, skill1), props(fnA, skill1)),
			wantPolicies:  map[string][]string{fnA: {"AllowS3", sid1}},
			wantParams:    map[string]string{param: skill1},
			wantMutations: []string{"PutParameter " + param},
		},
		{
			name:          "our statement id with other content is replaced, not trusted",
			before:        map[string][]stmt{fnA: {scoped(sid1, fnA, skill2)}},
			event:         event(cfnresponse.Create, props(fnA, skill1), nil),
			wantPolicies:  map[string][]string{fnA: {sid1}},
			wantParams:    map[string]string{param: skill1},
			wantMutations: []string{"RemovePermission " + fnA + " " + sid1, "AddPermission " + fnA + " " + sid1, "PutParameter " + param},
		},
		{
			name:          "a conflicting AddPermission that turns out to be our statement is success",
			before:        map[string][]stmt{fnA: {unscoped(cfnPerm, fnA)}},
			event:         event(cfnresponse.Create, props(fnA, skill1), nil),
			conflictOnce:  true,
			wantPolicies:  map[string][]string{fnA: {sid1}},
			wantParams:    map[string]string{param: skill1},
			wantMutations: []string{"AddPermission " + fnA + " " + sid1, "RemovePermission " + fnA + " " + cfnPerm, "PutParameter " + param},
		},
		{
			name: "Update with a new function scopes the new one and removes the old scoped statement",
			before: map[string][]stmt{
				fnA: {unrelated(fnA), scoped(sid1, fnA, skill1)},
				fnB: {unscoped("NewUnscoped", fnB)},
			},
			params:        map[string]string{param: skill1},
			event:         event(cfnresponse.Update, props(fnB, skill1), props(fnA, skill1)),
			wantPolicies:  map[string][]string{fnA: {"AllowS3"}, fnB: {sid1}},
			wantParams:    map[string]string{param: skill1},
			wantMutations: []string{"AddPermission " + fnB + " " + sid1, "RemovePermission " + fnB + " NewUnscoped", "PutParameter " + param, "RemovePermission " + fnA + " " + sid1},
		},
		{
			name: "Update with a new function whose old one denies access leaves the old statement and warns",
			before: map[string][]stmt{
				fnA: {scoped(sid1, fnA, skill1)},
				fnB: {unscoped("NewUnscoped", fnB)},
			},
			params:        map[string]string{param: skill1},
			event:         event(cfnresponse.Update, props(fnB, skill1), props(fnA, skill1)),
			failures:      map[string]error{"RemovePermission " + fnA: &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not authorized"}},
			wantPolicies:  map[string][]string{fnA: {sid1}, fnB: {sid1}},
			wantParams:    map[string]string{param: skill1},
			wantMutations: []string{"AddPermission " + fnB + " " + sid1, "RemovePermission " + fnB + " NewUnscoped", "PutParameter " + param, "RemovePermission " + fnA + " " + sid1},
			wantLog:       "left the previous function's scoped statement in place",
		},
		{
			name: "Update with a new function that is already deleted is success",
			before: map[string][]stmt{
				fnB: {unscoped("NewUnscoped", fnB)},
			},
			params:        map[string]string{param: skill1},
			event:         event(cfnresponse.Update, props(fnB, skill1), props(fnA, skill1)),
			wantPolicies:  map[string][]string{fnB: {sid1}},
			wantParams:    map[string]string{param: skill1},
			wantMutations: []string{"AddPermission " + fnB + " " + sid1, "RemovePermission " + fnB + " NewUnscoped", "PutParameter " + param, "RemovePermission " + fnA + " " + sid1},
		},
		{
			name:          "Update with a new skill scopes the new skill and removes the old skill's statement",
			before:        map[string][]stmt{fnA: {unrelated(fnA), scoped(sid1, fnA, skill1), unscoped(cfnPerm, fnA)}},
			params:        map[string]string{param: skill1},
			event:         event(cfnresponse.Update, props(fnA, skill2), props(fnA, skill1)),
			wantPolicies:  map[string][]string{fnA: {"AllowS3", sid2}},
			wantParams:    map[string]string{param: skill2},
			wantMutations: []string{"AddPermission " + fnA + " " + sid2, "RemovePermission " + fnA + " " + cfnPerm, "PutParameter " + param, "RemovePermission " + fnA + " " + sid1},
		},
		{
			name:          "Delete removes only its scoped statement and its parameter",
			before:        map[string][]stmt{fnA: {unrelated(fnA), scoped(sid1, fnA, skill1), scoped("OtherSkill", fnA, skill2)}},
			params:        map[string]string{param: skill1, "/unrelated": "x"},
			event:         event(cfnresponse.Delete, props(fnA, skill1), nil),
			wantPolicies:  map[string][]string{fnA: {"AllowS3", "OtherSkill"}},
			wantParams:    map[string]string{"/unrelated": "x"},
			wantMutations: []string{"RemovePermission " + fnA + " " + sid1, "DeleteParameter " + param},
		},
		{
			name:          "Delete when the function, statement and parameter are gone is success",
			before:        map[string][]stmt{},
			event:         event(cfnresponse.Delete, props(fnA, skill1), nil),
			wantPolicies:  map[string][]string{},
			wantParams:    map[string]string{},
			wantMutations: []string{"RemovePermission " + fnA + " " + sid1, "DeleteParameter " + param},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// GIVEN function policies and parameters in a known state
			w := newWorld(tc.before)
			for k, v := range tc.params {
				w.params[k] = v
			}
			for k, v := range tc.failures {
				w.failures[k] = v
			}
			w.conflictOnce = tc.conflictOnce
			// WHEN the custom resource handles the event
			resp, logs, err := run(t, w, tc.event)
			// THEN it succeeds with the expected changes, in the expected order
			if err != nil {
				t.Fatalf("error: %v\nlogs: %s", err, logs)
			}
			if !slices.Equal(w.mutations(), tc.wantMutations) {
				t.Errorf("mutations:\n got %q\nwant %q", w.mutations(), tc.wantMutations)
			}
			for fn, want := range tc.wantPolicies {
				if got := sids(w.policies[fn]); !slices.Equal(got, want) {
					t.Errorf("policy of %s: got %q, want %q", fn, got, want)
				}
			}
			if fmt.Sprint(w.params) != fmt.Sprint(tc.wantParams) {
				t.Errorf("parameters: got %v, want %v", w.params, tc.wantParams)
			}
			if tc.event.RequestType != cfnresponse.Create && resp.PhysicalResourceId != physical {
				t.Errorf("physical id changed to %q: an update must never replace this resource", resp.PhysicalResourceId)
			}
			if tc.event.RequestType == cfnresponse.Create && !strings.HasPrefix(resp.PhysicalResourceId, "SkillScopedPermission-") {
				t.Errorf("physical id %q: want the stable default", resp.PhysicalResourceId)
			}
			if tc.wantLog != "" && !strings.Contains(logs, tc.wantLog) {
				t.Errorf("logs lack %q:\n%s", tc.wantLog, logs)
			}
		})
	}
}

func TestPermissionStatementsAreScopedToTheSkill(t *testing.T) {
	// GIVEN a function with only the unscoped permission CloudFormation created
	w := newWorld(map[string][]stmt{fnA: {unscoped(cfnPerm, fnA)}})
	// WHEN Create runs
	if _, logs, err := run(t, w, event(cfnresponse.Create, props(fnA, skill1), nil)); err != nil {
		t.Fatalf("%v\n%s", err, logs)
	}
	// THEN the one statement left grants Alexa invoke for skill1 only
	got := w.policies[fnA]
	if len(got) != 1 {
		t.Fatalf("statements: %+v", got)
	}
	s := got[0]
	if s.Principal.(map[string]string)["Service"] != "alexa-appkit.amazon.com" || s.Action != "lambda:InvokeFunction" ||
		s.Condition["StringEquals"]["lambda:EventSourceToken"] != skill1 {
		t.Fatalf("statement not scoped to the skill: %+v", s)
	}
}

func TestStatementIdIsDeterministicAndValid(t *testing.T) {
	// GIVEN two skill ids WHEN their statement ids are derived
	a, again, b := main.StatementId(skill1), main.StatementId(skill1), main.StatementId(skill2)
	// THEN the same skill gets the same id, another skill another, in Lambda's alphabet
	if a != again || a == b {
		t.Fatalf("ids %q %q %q", a, again, b)
	}
	for _, r := range a {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			t.Fatalf("statement id %q has %q, which Lambda rejects", a, r)
		}
	}
	if len(a) > 100 {
		t.Fatalf("statement id %q is longer than 100", a)
	}
}

func TestFailedCreateTakesBackItsStatement(t *testing.T) {
	// GIVEN a function with the unscoped permission and a parameter write that fails
	w := newWorld(map[string][]stmt{fnA: {unrelated(fnA), unscoped(cfnPerm, fnA)}})
	w.failures["PutParameter "+param] = &smithy.GenericAPIError{Code: "ThrottlingException", Message: "slow down"}
	// WHEN Create runs and fails
	_, _, err := run(t, w, event(cfnresponse.Create, props(fnA, skill1), nil))
	// THEN the scoped statement it added is removed again, because the provider framework
	// answers the rollback Delete of a failed Create without calling the handler
	if err == nil {
		t.Fatal("want the parameter error")
	}
	if got := sids(w.policies[fnA]); !slices.Equal(got, []string{"AllowS3"}) {
		t.Fatalf("policy after the failed Create: %q", got)
	}
}

func TestPermissionFailures(t *testing.T) {
	throttled := &smithy.GenericAPIError{Code: "TooManyRequestsException", Message: "slow down"}
	cases := []struct {
		name     string
		event    cfnresponse.Event
		failures map[string]error
		want     string
		wantAs   error
	}{
		{name: "missing function ARN", event: event(cfnresponse.Create, map[string]any{"SkillId": skill1, "SkillIdParameterName": param}, nil),
			want: "new property FunctionArn: expected an unqualified Lambda function ARN"},
		{name: "qualified function ARN", event: event(cfnresponse.Create, props(fnA+":live", skill1), nil),
			want: "new property FunctionArn: expected an unqualified Lambda function ARN"},
		{name: "skill id that is not one", event: event(cfnresponse.Create, props(fnA, "my-skill"), nil),
			want: `new property SkillId: expected an Alexa skill id such as amzn1.ask.skill.<uuid>, got "my-skill"`},
		{name: "bad old properties on Update", event: event(cfnresponse.Update, props(fnA, skill1), map[string]any{"FunctionArn": fnA}),
			want: "old property SkillId"},
		{name: "AddPermission throttled", event: event(cfnresponse.Create, props(fnA, skill1), nil),
			failures: map[string]error{"AddPermission " + fnA: throttled},
			want:     "adding statement " + main.StatementId(skill1) + " to " + fnA, wantAs: throttled},
		{name: "GetPolicy denied", event: event(cfnresponse.Create, props(fnA, skill1), nil),
			failures: map[string]error{"GetPolicy " + fnA: &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "no"}},
			want:     "reading the policy of " + fnA},
		{name: "access denied on the current function is not tolerated", event: event(cfnresponse.Delete, props(fnA, skill1), nil),
			failures: map[string]error{"RemovePermission " + fnA: &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "no"}},
			want:     "removing statement"},
		{name: "parameter write fails", event: event(cfnresponse.Create, props(fnA, skill1), nil),
			failures: map[string]error{"PutParameter " + param: throttled},
			want:     "writing skill id to parameter " + param, wantAs: throttled},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// GIVEN a function with the unscoped permission and one failing dependency
			w := newWorld(map[string][]stmt{fnA: {unscoped(cfnPerm, fnA)}})
			for k, v := range tc.failures {
				w.failures[k] = v
			}
			// WHEN the event is handled
			_, _, err := run(t, w, tc.event)
			// THEN one line says what failed, wrapping the cause
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v: want it to contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			if tc.wantAs != nil && !errors.Is(err, tc.wantAs) {
				t.Fatalf("error %v does not wrap %v", err, tc.wantAs)
			}
		})
	}
}

func TestParsePolicyForms(t *testing.T) {
	cases := []struct {
		name     string
		doc      string
		unscoped []bool
	}{
		{"service as a string", `{"Statement":[{"Sid":"a","Effect":"Allow","Principal":{"Service":"alexa-appkit.amazon.com"},"Action":"lambda:InvokeFunction"}]}`, []bool{true}},
		{"service and action as lists", `{"Statement":[{"Sid":"a","Effect":"Allow","Principal":{"Service":["alexa-appkit.amazon.com"]},"Action":["lambda:InvokeFunction"]}]}`, []bool{true}},
		{"scoped", `{"Statement":[{"Sid":"a","Effect":"Allow","Principal":{"Service":"alexa-appkit.amazon.com"},"Action":"lambda:InvokeFunction","Condition":{"StringEquals":{"lambda:EventSourceToken":"amzn1.ask.skill.x"}}}]}`, []bool{false}},
		{"wildcard principal is not Alexa's", `{"Statement":[{"Sid":"a","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction"}]}`, []bool{false}},
		{"account principal", `{"Statement":[{"Sid":"a","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"lambda:InvokeFunction"}]}`, []bool{false}},
		{"deny is not a grant", `{"Statement":[{"Sid":"a","Effect":"Deny","Principal":{"Service":"alexa-appkit.amazon.com"},"Action":"lambda:InvokeFunction"}]}`, []bool{false}},
		{"empty document", ``, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// GIVEN a policy document in one of the forms IAM writes
			// WHEN it is parsed
			got, err := main.ParsePolicy(tc.doc)
			// THEN each statement is classified correctly
			if err != nil {
				t.Fatal(err)
			}
			var flags []bool
			for _, s := range got {
				flags = append(flags, main.IsUnscopedAlexa(s))
			}
			if !slices.Equal(flags, tc.unscoped) {
				t.Fatalf("unscoped: got %v, want %v", flags, tc.unscoped)
			}
		})
	}
	// AND a document that is not JSON is an error, not a panic
	if _, err := main.ParsePolicy("{"); err == nil {
		t.Fatal("want an error for a truncated document")
	}
}
