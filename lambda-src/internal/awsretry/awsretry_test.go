package awsretry_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/securestacks/securestacks/lambda-src/internal/awsretry"
)

func apiError(code string) error { return &smithy.GenericAPIError{Code: code, Message: "fake"} }

func httpStatus(code int) error {
	return &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: code}},
		Err:      errors.New("fake"),
	}}
}

func TestRetryable(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"ThrottlingException", apiError("ThrottlingException"), true},
		{"TooManyRequestsException", apiError("TooManyRequestsException"), true},
		{"S3 SlowDown", apiError("SlowDown"), true},
		{"RequestTimeout", apiError("RequestTimeout"), true},
		{"HTTP 503", httpStatus(503), true},
		{"HTTP 403", httpStatus(403), false},
		{"ResourceNotFoundException", apiError("ResourceNotFoundException"), false},
		{"AccessDenied", apiError("AccessDenied"), false},
		{"context deadline", context.DeadlineExceeded, false},
		{"wrapped cancel", errors.Join(apiError("ThrottlingException"), context.Canceled), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN an error WHEN it is classified THEN only the SDK's retryable kinds qualify
			if got := awsretry.Retryable(tt.err); got != tt.want {
				t.Errorf("Retryable(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestDo(t *testing.T) {
	throttled := apiError("ThrottlingException")
	denied := apiError("AccessDeniedException")
	tests := []struct {
		name      string
		results   []error // one per call; the last repeats
		wantCalls int
		wantErr   error // nil: success
	}{
		{name: "first call succeeds", results: []error{nil}, wantCalls: 1},
		{name: "throttled twice then succeeds", results: []error{throttled, throttled, nil}, wantCalls: 3},
		{name: "non-retryable stops at once", results: []error{denied}, wantCalls: 1, wantErr: denied},
		{name: "throttled until attempts run out", results: []error{throttled}, wantCalls: 3, wantErr: throttled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN an operation that answers with the case's results and a policy of 3 attempts
			// whose sleeps are recorded instead of waited
			calls := 0
			var slept []time.Duration
			p := awsretry.Policy{
				MaxAttempts: 3, BaseDelay: 10 * time.Millisecond, MaxDelay: 15 * time.Millisecond,
				Sleep: func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil },
			}

			// WHEN it runs under Do
			err := awsretry.Do(context.Background(), p, func(context.Context) error {
				r := tt.results[min(calls, len(tt.results)-1)]
				calls++
				return r
			})

			// THEN it was called the expected number of times, slept between calls within the cap,
			// and the last error is still reachable with errors.Is
			if calls != tt.wantCalls {
				t.Errorf("calls = %d, want %d", calls, tt.wantCalls)
			}
			if tt.wantErr == nil && err != nil {
				t.Errorf("err = %v, want nil", err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want it to wrap %v", err, tt.wantErr)
			}
			if len(slept) != calls-1 {
				t.Errorf("slept %d times for %d calls", len(slept), calls)
			}
			for _, d := range slept {
				if d < 0 || d > 15*time.Millisecond {
					t.Errorf("backoff %v outside [0, MaxDelay]", d)
				}
			}
		})
	}
}

func TestDoStopsWhenTheContextEnds(t *testing.T) {
	// GIVEN an operation that is always throttled and a context that is cancelled during the
	// first backoff
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	p := awsretry.Policy{MaxAttempts: 10, Sleep: func(ctx context.Context, d time.Duration) error {
		cancel()
		return awsretry.Sleep(ctx, d)
	}}

	// WHEN Do runs
	err := awsretry.Do(ctx, p, func(context.Context) error { calls++; return apiError("ThrottlingException") })

	// THEN it stops after one call and reports both the interruption and the API error
	if calls != 1 {
		t.Errorf("calls = %d, want 1", calls)
	}
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "ThrottlingException" {
		t.Errorf("err = %v, want the throttling error wrapped", err)
	}
}

func TestSleepHonoursTheContext(t *testing.T) {
	// GIVEN a context that is already cancelled WHEN Sleep is asked for an hour
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	err := awsretry.Sleep(ctx, time.Hour)
	// THEN it returns at once with the context's error
	if !errors.Is(err, context.Canceled) || time.Since(start) > time.Second {
		t.Errorf("Sleep = %v after %v, want context.Canceled at once", err, time.Since(start))
	}
}

func TestDoRetriesAnAttemptThatTimesOut(t *testing.T) {
	// GIVEN an operation whose first call hangs until its context ends and whose second call
	// succeeds, under a 20ms attempt timeout
	calls := 0
	p := awsretry.Policy{MaxAttempts: 3, AttemptTimeout: 20 * time.Millisecond,
		Sleep: func(context.Context, time.Duration) error { return nil }}

	// WHEN Do runs
	start := time.Now()
	err := awsretry.Do(context.Background(), p, func(ctx context.Context) error {
		calls++
		if calls == 1 {
			<-ctx.Done()
			return ctx.Err()
		}
		return nil
	})

	// THEN the hung attempt was abandoned and retried, well within a second
	if err != nil || calls != 2 {
		t.Fatalf("err = %v after %d calls, want success on the second", err, calls)
	}
	if time.Since(start) > time.Second {
		t.Errorf("took %v, want about one attempt timeout", time.Since(start))
	}
}

func TestDoDoesNotRetryWhenTheCallerDeadlinePassed(t *testing.T) {
	// GIVEN a caller context that expires during the first (hanging) attempt
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	calls := 0
	p := awsretry.Policy{MaxAttempts: 5, AttemptTimeout: time.Hour}

	// WHEN Do runs
	err := awsretry.Do(ctx, p, func(ctx context.Context) error { calls++; <-ctx.Done(); return ctx.Err() })

	// THEN there is exactly one attempt and the caller's deadline is reported
	if calls != 1 || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("calls = %d, err = %v; want 1 call and DeadlineExceeded", calls, err)
	}
}
