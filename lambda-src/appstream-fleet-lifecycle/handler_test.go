package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/appstream"
	"github.com/aws/aws-sdk-go-v2/service/appstream/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	main "github.com/securestacks/securestacks/lambda-src/appstream-fleet-lifecycle"
	"github.com/securestacks/securestacks/lambda-src/internal/awsretry"
	"github.com/securestacks/securestacks/lambda-src/internal/cfnresponse"
)

type (
	describeFleetsFunc func(ctx context.Context, in *appstream.DescribeFleetsInput, _ ...func(*appstream.Options)) (*appstream.DescribeFleetsOutput, error)
	startFleetFunc     func(ctx context.Context, in *appstream.StartFleetInput, _ ...func(*appstream.Options)) (*appstream.StartFleetOutput, error)
	stopFleetFunc      func(ctx context.Context, in *appstream.StopFleetInput, _ ...func(*appstream.Options)) (*appstream.StopFleetOutput, error)
)

func (f describeFleetsFunc) DescribeFleets(ctx context.Context, in *appstream.DescribeFleetsInput, o ...func(*appstream.Options)) (*appstream.DescribeFleetsOutput, error) {
	return f(ctx, in, o...)
}
func (f startFleetFunc) StartFleet(ctx context.Context, in *appstream.StartFleetInput, o ...func(*appstream.Options)) (*appstream.StartFleetOutput, error) {
	return f(ctx, in, o...)
}
func (f stopFleetFunc) StopFleet(ctx context.Context, in *appstream.StopFleetInput, o ...func(*appstream.Options)) (*appstream.StopFleetOutput, error) {
	return f(ctx, in, o...)
}

func apiError(code string) error { return &smithy.GenericAPIError{Code: code, Message: "fake " + code} }

func outage() error {
	return &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 503}}, Err: errors.New("fake outage"),
	}}
}

// fleets is a fake AppStream: each fleet has a state; StartFleet makes it STARTING, StopFleet
// STOPPING, and a STOPPING fleet is STOPPED after stoppingPolls more DescribeFleets.
type fleets struct {
	state         map[string]types.FleetState
	stoppingPolls int  // -1: never stops
	emptyAnswer   bool // DescribeFleets answers an empty list instead of ResourceNotFoundException
	describeErrs  []error
	startErrs     []error
	stopErrs      []error

	describes, starts, stops int
	started, stopped         []string
	polls                    map[string]int
}

func next(errs []error, n int) error {
	if n <= len(errs) {
		return errs[n-1]
	}
	return nil
}

func (f *fleets) resource() *main.Lifecycle {
	f.polls = map[string]int{}
	return &main.Lifecycle{
		DescribeFleets: describeFleetsFunc(func(ctx context.Context, in *appstream.DescribeFleetsInput, _ ...func(*appstream.Options)) (*appstream.DescribeFleetsOutput, error) {
			f.describes++
			if err := next(f.describeErrs, f.describes); err != nil {
				return nil, err
			}
			name := in.Names[0]
			st, ok := f.state[name]
			if !ok {
				if f.emptyAnswer {
					return &appstream.DescribeFleetsOutput{}, nil
				}
				return nil, apiError("ResourceNotFoundException")
			}
			if st == types.FleetStateStopping && f.stoppingPolls >= 0 {
				if f.polls[name] >= f.stoppingPolls {
					st = types.FleetStateStopped
					f.state[name] = st
				}
				f.polls[name]++
			}
			return &appstream.DescribeFleetsOutput{Fleets: []types.Fleet{{Name: aws.String(name), State: st}}}, nil
		}),
		StartFleet: startFleetFunc(func(ctx context.Context, in *appstream.StartFleetInput, _ ...func(*appstream.Options)) (*appstream.StartFleetOutput, error) {
			f.starts++
			if err := next(f.startErrs, f.starts); err != nil {
				return nil, err
			}
			f.started = append(f.started, aws.ToString(in.Name))
			f.state[aws.ToString(in.Name)] = types.FleetStateStarting
			return &appstream.StartFleetOutput{}, nil
		}),
		StopFleet: stopFleetFunc(func(ctx context.Context, in *appstream.StopFleetInput, _ ...func(*appstream.Options)) (*appstream.StopFleetOutput, error) {
			f.stops++
			if err := next(f.stopErrs, f.stops); err != nil {
				return nil, err
			}
			f.stopped = append(f.stopped, aws.ToString(in.Name))
			f.state[aws.ToString(in.Name)] = types.FleetStateStopping
			return &appstream.StopFleetOutput{}, nil
		}),
		Logger:       slog.New(slog.NewJSONHandler(&bytes.Buffer{}, nil)),
		Retry:        awsretry.Policy{MaxAttempts: 3, Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }},
		PollInterval: time.Millisecond,
	}
}

func event(t *testing.T, file string, props map[string]any, physicalID string) cfnresponse.Event {
	t.Helper()
	raw, err := os.ReadFile("../internal/cfnresponse/testdata/" + file)
	if err != nil {
		t.Fatal(err)
	}
	var e cfnresponse.Event
	if err := json.Unmarshal(raw, &e); err != nil {
		t.Fatal(err)
	}
	e.ResourceProperties = props
	if e.RequestType == cfnresponse.Update {
		e.OldResourceProperties = map[string]any{"FleetName": "Fleet-A"}
	}
	e.PhysicalResourceId = physicalID
	return e
}

func props(name string) map[string]any {
	return map[string]any{"ServiceToken": "arn", "FleetName": name}
}

func TestLifecycle(t *testing.T) {
	const fleet = "Fleet-A"
	tests := []struct {
		name       string
		file       string // create.json, update.json or delete.json
		props      map[string]any
		physicalID string
		fleets     fleets
		timeout    time.Duration // of the caller's context; default 5s

		wantErr     string // substring; "" means success
		wantID      string
		wantStarted []string
		wantStopped []string
		wantState   types.FleetState // of Fleet-A afterwards, when set
	}{
		{
			name: "create starts a stopped fleet", file: "create.json", props: props(fleet),
			fleets: fleets{state: map[string]types.FleetState{fleet: types.FleetStateStopped}},
			wantID: fleet, wantStarted: []string{fleet}, wantState: types.FleetStateStarting,
		},
		{
			name: "create leaves a running fleet alone", file: "create.json", props: props(fleet),
			fleets: fleets{state: map[string]types.FleetState{fleet: types.FleetStateRunning}},
			wantID: fleet,
		},
		{
			name: "create leaves a starting fleet alone", file: "create.json", props: props(fleet),
			fleets: fleets{state: map[string]types.FleetState{fleet: types.FleetStateStarting}},
			wantID: fleet,
		},
		{
			name: "create waits for a stopping fleet, then starts it", file: "create.json", props: props(fleet),
			fleets: fleets{state: map[string]types.FleetState{fleet: types.FleetStateStopping}, stoppingPolls: 2},
			wantID: fleet, wantStarted: []string{fleet},
		},
		{
			name: "create retries a throttled StartFleet", file: "create.json", props: props(fleet),
			fleets: fleets{state: map[string]types.FleetState{fleet: types.FleetStateStopped},
				startErrs: []error{apiError("ThrottlingException"), apiError("ThrottlingException")}},
			wantID: fleet, wantStarted: []string{fleet},
		},
		{
			name: "create waits out a concurrent modification", file: "create.json", props: props(fleet),
			fleets: fleets{state: map[string]types.FleetState{fleet: types.FleetStateStopped},
				startErrs: []error{apiError("ConcurrentModificationException")}},
			wantID: fleet, wantStarted: []string{fleet},
		},
		{
			name: "create fails when the fleet does not exist", file: "create.json", props: props(fleet),
			fleets:  fleets{state: map[string]types.FleetState{}},
			wantErr: "not found",
		},
		{
			name: "create fails, without a crash, on an AppStream outage", file: "create.json", props: props(fleet),
			fleets:  fleets{state: map[string]types.FleetState{fleet: types.FleetStateStopped}, describeErrs: []error{outage(), outage(), outage()}},
			wantErr: "DescribeFleets",
		},
		{
			name: "create fails on a refused StartFleet", file: "create.json", props: props(fleet),
			fleets:  fleets{state: map[string]types.FleetState{fleet: types.FleetStateStopped}, startErrs: []error{apiError("InvalidRoleException")}},
			wantErr: "StartFleet",
		},
		{
			name: "create rejects a bad fleet name", file: "create.json", props: props("bad name!"),
			fleets:  fleets{state: map[string]types.FleetState{}},
			wantErr: "FleetName",
		},
		{
			name: "update starts a fleet stopped out of band", file: "update.json", props: props(fleet), physicalID: fleet,
			fleets: fleets{state: map[string]types.FleetState{fleet: types.FleetStateStopped}},
			wantID: fleet, wantStarted: []string{fleet},
		},
		{
			name: "update to a new fleet starts it and answers its name", file: "update.json", props: props("Fleet-B"), physicalID: fleet,
			fleets: fleets{state: map[string]types.FleetState{fleet: types.FleetStateRunning, "Fleet-B": types.FleetStateStopped}},
			wantID: "Fleet-B", wantStarted: []string{"Fleet-B"}, wantState: types.FleetStateRunning,
		},
		{
			name: "delete stops a running fleet and waits for STOPPED", file: "delete.json", props: props(fleet), physicalID: fleet,
			fleets: fleets{state: map[string]types.FleetState{fleet: types.FleetStateRunning}, stoppingPolls: 3},
			wantID: fleet, wantStopped: []string{fleet}, wantState: types.FleetStateStopped,
		},
		{
			name: "delete of a stopped fleet makes no call but DescribeFleets", file: "delete.json", props: props(fleet), physicalID: fleet,
			fleets: fleets{state: map[string]types.FleetState{fleet: types.FleetStateStopped}},
			wantID: fleet,
		},
		{
			name: "delete of a fleet that is gone succeeds", file: "delete.json", props: props(fleet), physicalID: fleet,
			fleets: fleets{state: map[string]types.FleetState{}},
			wantID: fleet,
		},
		{
			name: "delete when DescribeFleets answers an empty list succeeds", file: "delete.json", props: props(fleet), physicalID: fleet,
			fleets: fleets{state: map[string]types.FleetState{}, emptyAnswer: true},
			wantID: fleet,
		},
		{
			name: "delete when StopFleet finds no fleet succeeds", file: "delete.json", props: props(fleet), physicalID: fleet,
			fleets: fleets{state: map[string]types.FleetState{fleet: types.FleetStateRunning}, stopErrs: []error{apiError("ResourceNotFoundException")}},
			wantID: fleet,
		},
		{
			name: "delete retries a throttled StopFleet", file: "delete.json", props: props(fleet), physicalID: fleet,
			fleets: fleets{state: map[string]types.FleetState{fleet: types.FleetStateRunning}, stoppingPolls: 1,
				stopErrs: []error{apiError("ThrottlingException")}},
			wantID: fleet, wantStopped: []string{fleet}, wantState: types.FleetStateStopped,
		},
		{
			name: "delete of the old fleet after a replacement stops only the old one", file: "delete.json", props: props(fleet), physicalID: "Fleet-Old",
			fleets: fleets{state: map[string]types.FleetState{fleet: types.FleetStateRunning, "Fleet-Old": types.FleetStateRunning}},
			wantID: "Fleet-Old", wantStopped: []string{"Fleet-Old"}, wantState: types.FleetStateRunning,
		},
		{
			name: "delete gives up boundedly on a fleet stuck in STOPPING", file: "delete.json", props: props(fleet), physicalID: fleet,
			fleets:  fleets{state: map[string]types.FleetState{fleet: types.FleetStateRunning}, stoppingPolls: -1},
			timeout: 150 * time.Millisecond,
			wantErr: "still STOPPING",
		},
		{
			name: "delete after a failed create has nothing to stop", file: "delete.json", props: props(fleet),
			physicalID: "FleetLifecycle-0123456789abcdef/marker",
			fleets:     fleets{state: map[string]types.FleetState{fleet: types.FleetStateRunning}},
			wantID:     "FleetLifecycle-0123456789abcdef/marker", wantState: types.FleetStateRunning,
		},
		{
			name: "delete with properties that no longer decode still stops the fleet", file: "delete.json",
			props: map[string]any{"FleetName": "", "StopTimeoutSeconds": "soon"}, physicalID: fleet,
			fleets: fleets{state: map[string]types.FleetState{fleet: types.FleetStateRunning}},
			wantID: fleet, wantStopped: []string{fleet}, wantState: types.FleetStateStopped,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN the fake fleets and the event of the case, handled through cfnresponse as in
			// the Lambda
			f := tt.fleets
			h := cfnresponse.Handler(f.resource(), &cfnresponse.Options{Margin: -1, Logger: slog.New(slog.NewJSONHandler(&bytes.Buffer{}, nil))})
			timeout := tt.timeout
			if timeout == 0 {
				timeout = 5 * time.Second
			}
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()

			// WHEN the event is handled
			start := time.Now()
			resp, err := h(ctx, event(t, tt.file, tt.props, tt.physicalID))

			// THEN the outcome, the physical id and the fleet calls are as expected
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tt.wantErr)
				}
				if time.Since(start) > timeout+time.Second {
					t.Errorf("took %v, want the wait bounded by %v", time.Since(start), timeout)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if resp.PhysicalResourceId != tt.wantID {
				t.Errorf("PhysicalResourceId = %q, want %q", resp.PhysicalResourceId, tt.wantID)
			}
			if strings.Join(f.started, ",") != strings.Join(tt.wantStarted, ",") || strings.Join(f.stopped, ",") != strings.Join(tt.wantStopped, ",") {
				t.Errorf("started %v stopped %v, want %v and %v", f.started, f.stopped, tt.wantStarted, tt.wantStopped)
			}
			if tt.wantState != "" && f.state["Fleet-A"] != tt.wantState && tt.physicalID != "Fleet-Old" {
				t.Errorf("Fleet-A is %s, want %s", f.state["Fleet-A"], tt.wantState)
			}
			if tt.physicalID == "Fleet-Old" && f.state["Fleet-A"] != types.FleetStateRunning {
				t.Errorf("the current fleet was touched: %s", f.state["Fleet-A"])
			}
		})
	}
}

func TestStopTimeoutPropertyBoundsTheWait(t *testing.T) {
	// GIVEN a fleet that never leaves STOPPING, a generous caller deadline and a one-second
	// StopTimeoutSeconds
	f := fleets{state: map[string]types.FleetState{"Fleet-A": types.FleetStateStopping}, stoppingPolls: -1}
	r := f.resource()
	r.PollInterval = 50 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// WHEN the resource is deleted
	start := time.Now()
	_, err := r.Delete(ctx, event(t, "delete.json", map[string]any{"FleetName": "Fleet-A", "StopTimeoutSeconds": "1"}, "Fleet-A"))

	// THEN it gives up after about a second, saying the delete can be retried, without StopFleet
	// (the fleet was already stopping)
	if err == nil || !strings.Contains(err.Error(), "can be retried") {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d < 900*time.Millisecond || d > 3*time.Second {
		t.Errorf("gave up after %v, want about 1s", d)
	}
	if f.stops != 0 {
		t.Errorf("StopFleet called %d times for a fleet already stopping", f.stops)
	}
}
