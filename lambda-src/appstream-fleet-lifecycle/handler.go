package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/appstream"
	"github.com/aws/aws-sdk-go-v2/service/appstream/types"
	"github.com/aws/smithy-go"

	"github.com/securestacks/securestacks/lambda-src/internal/awsretry"
	"github.com/securestacks/securestacks/lambda-src/internal/cfnresponse"
	"github.com/securestacks/securestacks/lambda-src/internal/logging"
)

// The narrow SDK interfaces the handler needs, one per operation.
type (
	// DescribeFleetsAPI reads a fleet's state.
	DescribeFleetsAPI interface {
		DescribeFleets(ctx context.Context, in *appstream.DescribeFleetsInput, optFns ...func(*appstream.Options)) (*appstream.DescribeFleetsOutput, error)
	}
	// StartFleetAPI starts a fleet.
	StartFleetAPI interface {
		StartFleet(ctx context.Context, in *appstream.StartFleetInput, optFns ...func(*appstream.Options)) (*appstream.StartFleetOutput, error)
	}
	// StopFleetAPI stops a fleet.
	StopFleetAPI interface {
		StopFleet(ctx context.Context, in *appstream.StopFleetInput, optFns ...func(*appstream.Options)) (*appstream.StopFleetOutput, error)
	}
)

var (
	_ DescribeFleetsAPI = (*appstream.Client)(nil)
	_ StartFleetAPI     = (*appstream.Client)(nil)
	_ StopFleetAPI      = (*appstream.Client)(nil)
)

// DefaultStopTimeout bounds the wait for STOPPED on Delete when StopTimeoutSeconds is not set.
// An AppStream fleet usually stops in a few minutes; the Lambda timeout (and with it the
// context deadline) caps it further.
const DefaultStopTimeout = 10 * time.Minute

// DefaultPollInterval is the pause between two DescribeFleets while waiting.
const DefaultPollInterval = 15 * time.Second

// Properties are the custom resource's properties, as the construct sets them.
type Properties struct {
	// FleetName is the fleet this resource starts and stops. Required.
	FleetName string
	// StopTimeoutSeconds bounds the wait for STOPPED on Delete. Optional; default
	// DefaultStopTimeout. The Lambda deadline bounds it in any case.
	StopTimeoutSeconds int
}

var fleetNameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$`)

func decode(raw map[string]any, which string) (Properties, error) {
	var p Properties
	if err := cfnresponse.Decode(raw, &p); err != nil {
		return Properties{}, fmt.Errorf("%s properties: %w", which, err)
	}
	switch {
	case !fleetNameRe.MatchString(p.FleetName):
		return Properties{}, fmt.Errorf("%s property FleetName: expected an AppStream fleet name (letters, digits, _ . -, at most 100), got %q", which, p.FleetName)
	case p.StopTimeoutSeconds < 0 || p.StopTimeoutSeconds > 3600:
		return Properties{}, fmt.Errorf("%s property StopTimeoutSeconds: expected 0 (default) to 3600 seconds, got %d", which, p.StopTimeoutSeconds)
	}
	return p, nil
}

// Lifecycle is the custom resource that starts the fleet when it is created and stops it, with
// a bounded wait for STOPPED, before CloudFormation deletes it. AWS::AppStream::Fleet itself
// neither starts a new fleet nor stops one it deletes, and a running fleet cannot be deleted.
//
// The physical id is the fleet name, so a new fleet name is a replacement: the new fleet is
// started by Update and the old one stopped by the Delete CloudFormation sends afterwards.
type Lifecycle struct {
	DescribeFleets DescribeFleetsAPI
	StartFleet     StartFleetAPI
	StopFleet      StopFleetAPI
	// Logger receives one line per state change requested. Default slog.Default().
	Logger *slog.Logger
	// Retry bounds each AWS call.
	Retry awsretry.Policy
	// PollInterval is the pause between two DescribeFleets while waiting. Default
	// DefaultPollInterval.
	PollInterval time.Duration
	// Sleep waits between polls. Default awsretry.Sleep; tests pass a fake clock.
	Sleep func(ctx context.Context, d time.Duration) error
}

var _ cfnresponse.Resource = (*Lifecycle)(nil)

// Create starts the fleet, or leaves it alone when it is already starting or running. It does not
// wait for RUNNING, which takes up to 25 minutes.
func (l *Lifecycle) Create(ctx context.Context, e cfnresponse.Event) (cfnresponse.Response, error) {
	p, err := decode(e.ResourceProperties, "new")
	if err != nil {
		return cfnresponse.Response{}, err
	}
	if err := l.start(ctx, p.FleetName); err != nil {
		return cfnresponse.Response{}, err
	}
	return cfnresponse.Response{PhysicalResourceId: p.FleetName}, nil
}

// Update starts the fleet again if it was stopped out of band. A new fleet name returns a new
// physical id, so CloudFormation then deletes (stops) the old fleet.
func (l *Lifecycle) Update(ctx context.Context, e cfnresponse.Event) (cfnresponse.Response, error) {
	return l.Create(ctx, e)
}

// Delete stops the fleet named by the physical id and waits for STOPPED. A fleet that no longer
// exists counts as stopped.
func (l *Lifecycle) Delete(ctx context.Context, e cfnresponse.Event) (cfnresponse.Response, error) {
	// Properties that no longer decode must not make the stack undeletable: fall back to the
	// default timeout.
	p, err := decode(e.ResourceProperties, "current")
	if err != nil {
		l.logger(ctx).WarnContext(ctx, "properties did not decode; using the default stop timeout", slog.String("error", err.Error()))
	}
	name := e.PhysicalResourceId
	if !fleetNameRe.MatchString(name) {
		// A Create that failed before naming the fleet: there is nothing of ours to stop.
		l.logger(ctx).InfoContext(ctx, "physical id is not a fleet name; nothing to stop", slog.String("physical_resource_id", name))
		return cfnresponse.Response{}, nil
	}
	timeout := DefaultStopTimeout
	if p.StopTimeoutSeconds > 0 {
		timeout = time.Duration(p.StopTimeoutSeconds) * time.Second
	}
	return cfnresponse.Response{}, l.stop(ctx, name, timeout)
}

func (l *Lifecycle) start(ctx context.Context, name string) error {
	for {
		state, found, err := l.state(ctx, name)
		if err != nil {
			return err
		}
		if !found {
			return fmt.Errorf("fleet %s: not found; expected the fleet this resource depends on", name)
		}
		switch state {
		case types.FleetStateRunning, types.FleetStateStarting:
			return nil
		case types.FleetStateStopped:
			err := l.call(ctx, func(ctx context.Context) error {
				_, err := l.StartFleet.StartFleet(ctx, &appstream.StartFleetInput{Name: aws.String(name)})
				return err
			})
			if err == nil {
				l.logger(ctx).InfoContext(ctx, "fleet start requested", slog.String("fleet", name))
				return nil
			}
			if !isCode(err, "ConcurrentModificationException") {
				return fmt.Errorf("fleet %s: StartFleet: %w", name, err)
			}
		}
		// STOPPING, or a transition raced us: wait for a state StartFleet accepts.
		if err := l.sleep(ctx); err != nil {
			return fmt.Errorf("fleet %s: still %s when the wait ended: %w", name, state, err)
		}
	}
}

func (l *Lifecycle) stop(ctx context.Context, name string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	requested := false
	for {
		state, found, err := l.state(ctx, name)
		if err != nil {
			return err
		}
		if !found || state == types.FleetStateStopped {
			l.logger(ctx).InfoContext(ctx, "fleet stopped", slog.String("fleet", name), slog.Bool("found", found))
			return nil
		}
		if !requested && (state == types.FleetStateRunning || state == types.FleetStateStarting) {
			err := l.call(ctx, func(ctx context.Context) error {
				_, err := l.StopFleet.StopFleet(ctx, &appstream.StopFleetInput{Name: aws.String(name)})
				return err
			})
			switch {
			case err == nil:
				requested, state = true, types.FleetStateStopping
				l.logger(ctx).InfoContext(ctx, "fleet stop requested", slog.String("fleet", name))
			case isCode(err, "ResourceNotFoundException"):
				return nil
			case !isCode(err, "ConcurrentModificationException"):
				return fmt.Errorf("fleet %s: StopFleet: %w", name, err)
			}
		}
		if err := l.sleep(ctx); err != nil {
			return fmt.Errorf("fleet %s: still %s after waiting up to %v for STOPPED; the delete can be retried: %w", name, state, timeout, err)
		}
	}
}

// state returns the fleet's state; found is false when AppStream does not know the fleet.
func (l *Lifecycle) state(ctx context.Context, name string) (types.FleetState, bool, error) {
	var out *appstream.DescribeFleetsOutput
	err := l.call(ctx, func(ctx context.Context) error {
		var err error
		out, err = l.DescribeFleets.DescribeFleets(ctx, &appstream.DescribeFleetsInput{Names: []string{name}})
		return err
	})
	if isCode(err, "ResourceNotFoundException") {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("fleet %s: DescribeFleets: %w", name, err)
	}
	for _, f := range out.Fleets {
		if aws.ToString(f.Name) == name {
			return f.State, true, nil
		}
	}
	return "", false, nil
}

func (l *Lifecycle) call(ctx context.Context, op func(context.Context) error) error {
	return awsretry.Do(ctx, l.Retry, op)
}

func (l *Lifecycle) sleep(ctx context.Context) error {
	d := l.PollInterval
	if d <= 0 {
		d = DefaultPollInterval
	}
	sleep := l.Sleep
	if sleep == nil {
		sleep = awsretry.Sleep
	}
	return sleep(ctx, d)
}

func (l *Lifecycle) logger(ctx context.Context) *slog.Logger {
	base := l.Logger
	if base == nil {
		base = slog.Default()
	}
	return logging.WithRequest(ctx, base)
}

func isCode(err error, code string) bool {
	var api smithy.APIError
	return errors.As(err, &api) && api.ErrorCode() == code
}
