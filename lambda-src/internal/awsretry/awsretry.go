// Package awsretry is the one retry loop of the securestacks Lambdas: bounded attempts with
// jittered exponential backoff, for the errors the AWS SDK itself classifies as retryable
// (throttling, 5xx, connection resets, request timeouts).
//
// The handlers build their SDK clients with RetryMaxAttempts 1 and retry here instead, so there
// is a single retry layer, its bounds are visible at the call site, and table tests with fakes
// exercise it: a fake that returns ThrottlingException goes through exactly the path a real
// throttled call would.
package awsretry

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
)

// Policy bounds one retried operation. The zero value means all defaults.
type Policy struct {
	// MaxAttempts is the total number of calls, first one included. Default 4.
	MaxAttempts int
	// BaseDelay is the backoff before the second attempt; it doubles per attempt, with full
	// jitter. Default 200ms.
	BaseDelay time.Duration
	// MaxDelay caps one backoff. Default 5s.
	MaxDelay time.Duration
	// AttemptTimeout bounds each call. An attempt that runs out of it is retried like a
	// throttled one, as long as ctx itself is still alive. Default 0: no per-attempt bound,
	// only ctx's.
	AttemptTimeout time.Duration
	// Sleep waits d or until ctx ends, whichever comes first, and returns ctx.Err() in the
	// second case. Default: a timer. Tests pass a fake to run without waiting.
	Sleep func(ctx context.Context, d time.Duration) error
}

const (
	defaultMaxAttempts = 4
	defaultBaseDelay   = 200 * time.Millisecond
	defaultMaxDelay    = 5 * time.Second
)

var sdkRetryables = retry.IsErrorRetryables(retry.DefaultRetryables)

// Retryable reports whether err is worth another attempt: true for what the SDK's standard
// retryer retries (throttling codes, HTTP 500/502/503/504, connection errors, RequestTimeout),
// false for everything else and always false once the context is cancelled or past its
// deadline, because a retry could not finish in time anyway.
func Retryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	return sdkRetryables.IsErrorRetryable(err) == aws.TrueTernary
}

// ErrAttemptTimeout marks an attempt that ran out of Policy.AttemptTimeout.
var ErrAttemptTimeout = errors.New("attempt timed out")

// Do calls op until it succeeds, returns an error Retryable rejects, p.MaxAttempts calls have
// been made, or ctx ends. The error returned is op's last error (wrapped with the attempt count
// when retries were exhausted), so errors.As still finds the SDK's typed error.
func Do(ctx context.Context, p Policy, op func(ctx context.Context) error) error {
	p = p.withDefaults()
	var err error
	for attempt := 1; ; attempt++ {
		if err = p.attempt(ctx, op); err == nil {
			return nil
		}
		if !errors.Is(err, ErrAttemptTimeout) && !Retryable(err) {
			return err
		}
		if attempt >= p.MaxAttempts {
			return fmt.Errorf("gave up after %d attempts: %w", attempt, err)
		}
		if serr := p.Sleep(ctx, p.backoff(attempt)); serr != nil {
			return fmt.Errorf("retry interrupted after %d attempts (%v): %w", attempt, serr, err)
		}
	}
}

// attempt runs op once, under AttemptTimeout when set. Running out of that (but not of ctx) is
// reported as ErrAttemptTimeout, which Do retries.
func (p Policy) attempt(ctx context.Context, op func(ctx context.Context) error) error {
	if p.AttemptTimeout <= 0 {
		return op(ctx)
	}
	actx, cancel := context.WithTimeout(ctx, p.AttemptTimeout)
	defer cancel()
	err := op(actx)
	if err != nil && ctx.Err() == nil && actx.Err() != nil {
		return fmt.Errorf("%w after %v: %w", ErrAttemptTimeout, p.AttemptTimeout, err)
	}
	return err
}

// backoff is full jitter over BaseDelay·2^(attempt-1), capped at MaxDelay.
func (p Policy) backoff(attempt int) time.Duration {
	ceiling := p.BaseDelay << min(attempt-1, 20)
	if ceiling <= 0 || ceiling > p.MaxDelay {
		ceiling = p.MaxDelay
	}
	return time.Duration(rand.Int64N(int64(ceiling) + 1))
}

func (p Policy) withDefaults() Policy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = defaultMaxAttempts
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = defaultBaseDelay
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = defaultMaxDelay
	}
	if p.Sleep == nil {
		p.Sleep = Sleep
	}
	return p
}

// Sleep waits d, or returns ctx.Err() as soon as ctx ends. It is the default Policy.Sleep and
// the wait of the handlers' bounded polling loops.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
