package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/appstream"
	"github.com/aws/smithy-go"

	"github.com/securestacks/securestacks/lambda-src/internal/awsretry"
	"github.com/securestacks/securestacks/lambda-src/internal/cfnresponse"
	"github.com/securestacks/securestacks/lambda-src/internal/logging"
)

// The narrow SDK interfaces the handler needs, one per operation.
type (
	// DescribeUsageReportSubscriptionsAPI reads the account's subscription in this region.
	DescribeUsageReportSubscriptionsAPI interface {
		DescribeUsageReportSubscriptions(ctx context.Context, in *appstream.DescribeUsageReportSubscriptionsInput, optFns ...func(*appstream.Options)) (*appstream.DescribeUsageReportSubscriptionsOutput, error)
	}
	// CreateUsageReportSubscriptionAPI subscribes.
	CreateUsageReportSubscriptionAPI interface {
		CreateUsageReportSubscription(ctx context.Context, in *appstream.CreateUsageReportSubscriptionInput, optFns ...func(*appstream.Options)) (*appstream.CreateUsageReportSubscriptionOutput, error)
	}
	// DeleteUsageReportSubscriptionAPI unsubscribes.
	DeleteUsageReportSubscriptionAPI interface {
		DeleteUsageReportSubscription(ctx context.Context, in *appstream.DeleteUsageReportSubscriptionInput, optFns ...func(*appstream.Options)) (*appstream.DeleteUsageReportSubscriptionOutput, error)
	}
)

var (
	_ DescribeUsageReportSubscriptionsAPI = (*appstream.Client)(nil)
	_ CreateUsageReportSubscriptionAPI    = (*appstream.Client)(nil)
	_ DeleteUsageReportSubscriptionAPI    = (*appstream.Client)(nil)
)

// The physical id records whether this resource made the subscription: the subscription is one
// per account and region, so it may well predate the stack, and then it is not ours to delete.
const (
	CreatedSuffix  = "-created"
	ExistingSuffix = "-existing"
)

// AttrBucketName is the Data key (Fn::GetAtt) of the bucket AppStream writes the reports to.
const AttrBucketName = "S3BucketName"

// Subscription is the custom resource that turns on AppStream usage reports, the
// AppStream half of the sandbox's audit trail (sessions and applications per user, with the
// instance IP that CloudTrail's S3 data events carry).
type Subscription struct {
	Describe    DescribeUsageReportSubscriptionsAPI
	Subscribe   CreateUsageReportSubscriptionAPI
	Unsubscribe DeleteUsageReportSubscriptionAPI
	// Logger receives one line per change made. Default slog.Default().
	Logger *slog.Logger
	// Retry bounds each AWS call.
	Retry awsretry.Policy
}

var _ cfnresponse.Resource = (*Subscription)(nil)

// Create subscribes unless a subscription already exists, and records which it was.
func (s *Subscription) Create(ctx context.Context, e cfnresponse.Event) (cfnresponse.Response, error) {
	base := cfnresponse.DefaultPhysicalResourceId(e.StackId, e.LogicalResourceId)
	bucket, found, err := s.current(ctx)
	if err != nil {
		return cfnresponse.Response{}, err
	}
	if found {
		s.logger(ctx).InfoContext(ctx, "usage reports were already on; leaving the subscription to its owner")
		return response(base+ExistingSuffix, bucket), nil
	}
	bucket, err = s.subscribe(ctx)
	if err != nil {
		return cfnresponse.Response{}, err
	}
	return response(base+CreatedSuffix, bucket), nil
}

// Update subscribes again when the subscription was removed out of band. The physical id, and
// with it the ownership record, never changes.
func (s *Subscription) Update(ctx context.Context, e cfnresponse.Event) (cfnresponse.Response, error) {
	bucket, found, err := s.current(ctx)
	if err != nil {
		return cfnresponse.Response{}, err
	}
	if !found {
		if bucket, err = s.subscribe(ctx); err != nil {
			return cfnresponse.Response{}, err
		}
	}
	return response(e.PhysicalResourceId, bucket), nil
}

// RetainOnDelete is the resource property ("true") that keeps even a subscription this resource
// made: the subscription is account-wide, and other sandboxes of the account use it.
const RetainOnDelete = "RetainOnDelete"

// Delete unsubscribes only when this resource subscribed and RetainOnDelete is not "true"; a
// subscription that is already gone counts as deleted. The reports already written stay in
// their bucket.
func (s *Subscription) Delete(ctx context.Context, e cfnresponse.Event) (cfnresponse.Response, error) {
	if retain, _ := e.ResourceProperties[RetainOnDelete].(string); retain == "true" {
		s.logger(ctx).InfoContext(ctx, "RetainOnDelete is set; leaving the subscription on")
		return cfnresponse.Response{}, nil
	}
	if !strings.HasSuffix(e.PhysicalResourceId, CreatedSuffix) {
		s.logger(ctx).InfoContext(ctx, "the subscription predates this resource; leaving it on")
		return cfnresponse.Response{}, nil
	}
	err := s.call(ctx, func(ctx context.Context) error {
		_, err := s.Unsubscribe.DeleteUsageReportSubscription(ctx, &appstream.DeleteUsageReportSubscriptionInput{})
		return err
	})
	if err != nil && !isCode(err, "ResourceNotFoundException") {
		return cfnresponse.Response{}, fmt.Errorf("DeleteUsageReportSubscription: %w", err)
	}
	s.logger(ctx).InfoContext(ctx, "usage reports subscription deleted", slog.Bool("was_present", err == nil))
	return cfnresponse.Response{}, nil
}

// current returns the bucket of the existing subscription, if there is one.
func (s *Subscription) current(ctx context.Context) (bucket string, found bool, err error) {
	var out *appstream.DescribeUsageReportSubscriptionsOutput
	err = s.call(ctx, func(ctx context.Context) error {
		var err error
		out, err = s.Describe.DescribeUsageReportSubscriptions(ctx, &appstream.DescribeUsageReportSubscriptionsInput{})
		return err
	})
	if err != nil {
		return "", false, fmt.Errorf("DescribeUsageReportSubscriptions: %w", err)
	}
	if len(out.UsageReportSubscriptions) == 0 {
		return "", false, nil
	}
	return aws.ToString(out.UsageReportSubscriptions[0].S3BucketName), true, nil
}

func (s *Subscription) subscribe(ctx context.Context) (string, error) {
	var out *appstream.CreateUsageReportSubscriptionOutput
	err := s.call(ctx, func(ctx context.Context) error {
		var err error
		out, err = s.Subscribe.CreateUsageReportSubscription(ctx, &appstream.CreateUsageReportSubscriptionInput{})
		return err
	})
	if err != nil {
		return "", fmt.Errorf("CreateUsageReportSubscription: %w", err)
	}
	s.logger(ctx).InfoContext(ctx, "usage reports subscription created", slog.String("bucket", aws.ToString(out.S3BucketName)))
	return aws.ToString(out.S3BucketName), nil
}

func response(id, bucket string) cfnresponse.Response {
	return cfnresponse.Response{PhysicalResourceId: id, Data: map[string]any{AttrBucketName: bucket}}
}

func (s *Subscription) call(ctx context.Context, op func(context.Context) error) error {
	return awsretry.Do(ctx, s.Retry, op)
}

func (s *Subscription) logger(ctx context.Context) *slog.Logger {
	base := s.Logger
	if base == nil {
		base = slog.Default()
	}
	return logging.WithRequest(ctx, base)
}

func isCode(err error, code string) bool {
	var api smithy.APIError
	return errors.As(err, &api) && api.ErrorCode() == code
}
