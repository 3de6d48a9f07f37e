package cfnresponse

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/securestacks/securestacks/lambda-src/internal/logging"
)

// Resource implements one custom resource. Each method must be idempotent: CloudFormation and
// the provider framework retry, and the same event can arrive more than once.
//
// Create returns the ID of what it made; returning "" lets Handler use
// DefaultPhysicalResourceId. Update returning "" keeps the current ID. Update returning a
// DIFFERENT ID means replacement: CloudFormation switches to the new ID and, after the stack
// update completes, sends Delete with the OLD ID (and the old properties), so Update must create
// the new resource without destroying the old one. Delete cannot change the ID: whatever it
// returns, the response carries the event's ID, because the provider framework fails a Delete
// that returns another one.
//
// The context carries the deadline Handler computed; give every SDK call that context.
type Resource interface {
	Create(ctx context.Context, e Event) (Response, error)
	Update(ctx context.Context, e Event) (Response, error)
	Delete(ctx context.Context, e Event) (Response, error)
}

// Options tunes Handler. A nil *Options means all defaults.
type Options struct {
	// Margin is how long before the Lambda deadline the Resource's context expires, which leaves
	// time to return an error instead of being killed by the Lambda timeout (the framework would
	// then report only "Task timed out"). Default 5s when zero; a negative value means no margin.
	Margin time.Duration
	// DefaultTimeout bounds the Resource's context when the incoming context has no deadline,
	// as in tests and local runs. Default 60s when zero or negative.
	DefaultTimeout time.Duration
	// Logger receives one line per event; request_id and function are added per invocation.
	// Default logging.New(os.Stderr).
	Logger *slog.Logger
}

const (
	defaultMargin  = 5 * time.Second
	defaultTimeout = 60 * time.Second
)

// MaxReasonBytes bounds the error message Handler returns, which becomes the CloudFormation
// reason. The whole response CloudFormation accepts is at most MaxResponseBytes, and the
// framework adds its own text to the reason.
const MaxReasonBytes = 1000

// MaxResponseBytes is CloudFormation's limit on a custom-resource response body. Handler turns
// a Create or Update whose response would exceed it into an error that says so, instead of the
// "Response object is too long" CloudFormation would report.
const MaxResponseBytes = 4096

// Handler returns the function to pass to lambda.Start. It dispatches on RequestType, fills in
// PhysicalResourceId (see Resource and DefaultPhysicalResourceId), bounds the context (see
// Options), turns errors and panics into one-line errors that still wrap the original for
// errors.Is and errors.As, and logs one JSON line per event without ResourceProperties or Data.
// Handler panics if r is nil, at wiring time rather than on the first event.
func Handler(r Resource, opts *Options) func(ctx context.Context, e Event) (Response, error) {
	if r == nil {
		panic("cfnresponse: Handler needs a Resource, got nil")
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	switch {
	case o.Margin == 0:
		o.Margin = defaultMargin
	case o.Margin < 0:
		o.Margin = 0
	}
	if o.DefaultTimeout <= 0 {
		o.DefaultTimeout = defaultTimeout
	}
	if o.Logger == nil {
		o.Logger = logging.New(os.Stderr)
	}

	return func(ctx context.Context, e Event) (Response, error) {
		start := time.Now()
		ctx, cancel := bound(ctx, o.Margin, o.DefaultTimeout)
		defer cancel()

		resp, stack, err := dispatch(ctx, r, e)
		var (
			notes []slog.Attr
			warn  bool
		)
		if err == nil {
			resp, notes, warn, err = complete(e, resp)
		}
		if err != nil {
			err = oneLine(err)
			resp = Response{}
		}

		attrs := []slog.Attr{
			slog.String("request_type", string(e.RequestType)),
			slog.String("resource_type", e.ResourceType),
			slog.String("logical_resource_id", e.LogicalResourceId),
			slog.String("physical_resource_id", physicalIdForLog(e, resp, err)),
			slog.String("stack_id", e.StackId),
			slog.String("cfn_request_id", e.RequestId),
			slog.Int64("duration_ms", time.Since(start).Milliseconds()),
		}
		attrs = append(attrs, notes...)
		level := slog.LevelInfo
		if warn {
			level = slog.LevelWarn
		}
		if err != nil {
			level = slog.LevelError
			attrs = append(attrs, slog.String("outcome", "FAILED"), slog.String("error", err.Error()))
			if stack != nil {
				attrs = append(attrs, slog.Bool("panic", true), slog.String("stack", string(stack)))
			}
		} else {
			attrs = append(attrs, slog.String("outcome", "SUCCESS"))
		}
		logging.WithRequest(ctx, o.Logger).LogAttrs(ctx, level, "custom resource event", attrs...)
		return resp, err
	}
}

// bound derives the Resource's context: the Lambda deadline minus margin, or timeout from now
// when ctx has no deadline.
func bound(ctx context.Context, margin, timeout time.Duration) (context.Context, context.CancelFunc) {
	if deadline, ok := ctx.Deadline(); ok {
		return context.WithDeadline(ctx, deadline.Add(-margin))
	}
	return context.WithTimeout(ctx, timeout)
}

// dispatch calls the method for e.RequestType. A panic becomes an error, with its stack
// returned separately so that it goes to the log and never into the CloudFormation reason.
func dispatch(ctx context.Context, r Resource, e Event) (resp Response, stack []byte, err error) {
	defer func() {
		if v := recover(); v != nil {
			stack = debug.Stack()
			if perr, ok := v.(error); ok {
				err = fmt.Errorf("%s panicked: %w", e.RequestType, perr)
			} else {
				err = fmt.Errorf("%s panicked: %v", e.RequestType, v)
			}
		}
	}()
	switch e.RequestType {
	case Create:
		resp, err = r.Create(ctx, e)
	case Update:
		if e.PhysicalResourceId == "" {
			return Response{}, nil, errNoPhysicalId(e.RequestType)
		}
		resp, err = r.Update(ctx, e)
	case Delete:
		if e.PhysicalResourceId == "" {
			return Response{}, nil, errNoPhysicalId(e.RequestType)
		}
		resp, err = r.Delete(ctx, e)
	default:
		err = fmt.Errorf("cfnresponse: RequestType %q is not valid; expected %q, %q or %q",
			e.RequestType, Create, Update, Delete)
	}
	return resp, nil, err
}

func errNoPhysicalId(t RequestType) error {
	return fmt.Errorf("cfnresponse: PhysicalResourceId is required on %s events, got none", t)
}

// complete fills in the PhysicalResourceId and checks the response against CloudFormation's
// limits. notes are log attributes about the ID; warn is set when Handler overrode the
// Resource's choice, which points at a bug in the Resource.
func complete(e Event, resp Response) (_ Response, notes []slog.Attr, warn bool, _ error) {
	switch e.RequestType {
	case Create:
		if resp.PhysicalResourceId == "" {
			if e.StackId == "" || e.LogicalResourceId == "" {
				return Response{}, nil, false, fmt.Errorf("cfnresponse: StackId and LogicalResourceId are required on Create to derive a PhysicalResourceId, got %q and %q", e.StackId, e.LogicalResourceId)
			}
			resp.PhysicalResourceId = DefaultPhysicalResourceId(e.StackId, e.LogicalResourceId)
		}
	case Update:
		if resp.PhysicalResourceId == "" {
			resp.PhysicalResourceId = e.PhysicalResourceId
		} else if resp.PhysicalResourceId != e.PhysicalResourceId {
			// Replacement: CloudFormation will send Delete for the old ID.
			notes = append(notes, slog.String("replaced_physical_resource_id", e.PhysicalResourceId))
		}
	case Delete:
		if resp.PhysicalResourceId != "" && resp.PhysicalResourceId != e.PhysicalResourceId {
			notes = append(notes, slog.String("ignored_physical_resource_id", resp.PhysicalResourceId))
			warn = true
		}
		resp.PhysicalResourceId = e.PhysicalResourceId
		return resp, notes, warn, nil // Data is of no use after Delete, so its size cannot matter
	}
	if err := checkSize(e, resp); err != nil {
		return Response{}, nil, false, err
	}
	return resp, notes, warn, nil
}

// checkSize renders the body the provider framework will send to CloudFormation.
func checkSize(e Event, resp Response) error {
	body, err := json.Marshal(struct {
		Status             string         `json:"Status"`
		Reason             string         `json:"Reason"`
		StackId            string         `json:"StackId"`
		RequestId          string         `json:"RequestId"`
		PhysicalResourceId string         `json:"PhysicalResourceId"`
		LogicalResourceId  string         `json:"LogicalResourceId"`
		NoEcho             bool           `json:"NoEcho"`
		Data               map[string]any `json:"Data,omitempty"`
	}{"SUCCESS", "SUCCESS", e.StackId, e.RequestId, resp.PhysicalResourceId, e.LogicalResourceId, resp.NoEcho, resp.Data})
	if err != nil {
		return fmt.Errorf("cfnresponse: Data must be JSON-encodable: %w", err)
	}
	if len(body) > MaxResponseBytes {
		return fmt.Errorf("cfnresponse: response would be %d bytes, CloudFormation accepts at most %d; return less Data", len(body), MaxResponseBytes)
	}
	return nil
}

func physicalIdForLog(e Event, resp Response, err error) string {
	if err == nil {
		return resp.PhysicalResourceId
	}
	return e.PhysicalResourceId
}

// reasonError carries the one-line message CloudFormation shows and the original error for
// errors.Is and errors.As.
type reasonError struct {
	reason string
	err    error
}

func (e *reasonError) Error() string { return e.reason }
func (e *reasonError) Unwrap() error { return e.err }

// oneLine collapses every run of whitespace, newlines included, into one space and bounds the
// message to MaxReasonBytes, because the CloudFormation console shows the reason as one line
// and the response has a size limit.
func oneLine(err error) error {
	msg := strings.Join(strings.Fields(err.Error()), " ")
	if msg == "" {
		msg = fmt.Sprintf("failed with an empty error message (%T)", err)
	}
	if len(msg) > MaxReasonBytes {
		const ellipsis = "..."
		cut := MaxReasonBytes - len(ellipsis)
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut] + ellipsis
	}
	if msg == err.Error() {
		return err
	}
	return &reasonError{reason: msg, err: err}
}
