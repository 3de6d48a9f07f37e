package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/securestacks/securestacks/lambda-src/internal/awsretry"
	"github.com/securestacks/securestacks/lambda-src/internal/cfnresponse"
	"github.com/securestacks/securestacks/lambda-src/internal/logging"
)

// The narrow SDK interfaces the handler needs, one per operation.
type (
	// GetBucketNotificationConfigurationAPI reads the bucket's current notifications.
	GetBucketNotificationConfigurationAPI interface {
		GetBucketNotificationConfiguration(ctx context.Context, in *s3.GetBucketNotificationConfigurationInput, optFns ...func(*s3.Options)) (*s3.GetBucketNotificationConfigurationOutput, error)
	}
	// PutBucketNotificationConfigurationAPI writes them back, merged.
	PutBucketNotificationConfigurationAPI interface {
		PutBucketNotificationConfiguration(ctx context.Context, in *s3.PutBucketNotificationConfigurationInput, optFns ...func(*s3.Options)) (*s3.PutBucketNotificationConfigurationOutput, error)
	}
)

var (
	_ GetBucketNotificationConfigurationAPI = (*s3.Client)(nil)
	_ PutBucketNotificationConfigurationAPI = (*s3.Client)(nil)
)

// DefaultBucketWait bounds how long Create waits for AppStream to create the home-folder
// bucket, which it does asynchronously when a stack first enables home folders in a region.
const DefaultBucketWait = 5 * time.Minute

// DefaultPollInterval is the pause between two looks for the bucket.
const DefaultPollInterval = 10 * time.Second

// Properties are the custom resource's properties, as the construct sets them.
type Properties struct {
	// BucketName is the AppStream home-folder bucket. Required.
	BucketName string
	// BucketOwner is the account that must own it (ExpectedBucketOwner on every call). Required.
	BucketOwner string
	// FunctionArn is the validator function S3 invokes. Required.
	FunctionArn string
	// Prefix and Suffix filter the keys that notify. Required.
	Prefix string
	Suffix string
	// BucketWaitSeconds bounds the wait for the bucket on Create and Update. Optional; default
	// DefaultBucketWait.
	BucketWaitSeconds int
}

var (
	bucketRe   = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	accountRe  = regexp.MustCompile(`^[0-9]{12}$`)
	functionRe = regexp.MustCompile(`^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9_$-]+)?$`)
)

func decode(raw map[string]any, which string) (Properties, error) {
	var p Properties
	if err := cfnresponse.Decode(raw, &p); err != nil {
		return Properties{}, fmt.Errorf("%s properties: %w", which, err)
	}
	switch {
	case !bucketRe.MatchString(p.BucketName):
		return Properties{}, fmt.Errorf("%s property BucketName: expected an S3 bucket name, got %q", which, p.BucketName)
	case !accountRe.MatchString(p.BucketOwner):
		return Properties{}, fmt.Errorf("%s property BucketOwner: expected a 12-digit account id, got %q", which, p.BucketOwner)
	case !functionRe.MatchString(p.FunctionArn):
		return Properties{}, fmt.Errorf("%s property FunctionArn: expected a Lambda function ARN, got %q", which, p.FunctionArn)
	case p.Prefix == "" || p.Suffix == "" || len(p.Prefix) > 1024 || len(p.Suffix) > 1024:
		return Properties{}, fmt.Errorf("%s properties Prefix and Suffix: expected both, at most 1024 characters each", which)
	case p.BucketWaitSeconds < 0 || p.BucketWaitSeconds > 900:
		return Properties{}, fmt.Errorf("%s property BucketWaitSeconds: expected 0 (default) to 900, got %d", which, p.BucketWaitSeconds)
	}
	return p, nil
}

// Notification is the custom resource that adds the validator's ObjectCreated notification to
// the AppStream home-folder bucket. AppStream owns that bucket, so CloudFormation cannot declare
// its notifications: this resource reads the configuration, replaces only its own entry (found
// by its Id, the physical id) and writes the rest back unchanged. Delete removes only that entry.
type Notification struct {
	Get GetBucketNotificationConfigurationAPI
	Put PutBucketNotificationConfigurationAPI
	// Logger receives one line per change. Default slog.Default().
	Logger *slog.Logger
	// Retry bounds each AWS call.
	Retry awsretry.Policy
	// PollInterval is the pause between two looks for the bucket. Default DefaultPollInterval.
	PollInterval time.Duration
	// Sleep waits between looks. Default awsretry.Sleep.
	Sleep func(ctx context.Context, d time.Duration) error
}

var _ cfnresponse.Resource = (*Notification)(nil)

// Create adds this resource's entry, waiting boundedly for the bucket to exist.
func (n *Notification) Create(ctx context.Context, e cfnresponse.Event) (cfnresponse.Response, error) {
	p, err := decode(e.ResourceProperties, "new")
	if err != nil {
		return cfnresponse.Response{}, err
	}
	id := cfnresponse.DefaultPhysicalResourceId(e.StackId, e.LogicalResourceId)
	if err := n.apply(ctx, id, p); err != nil {
		return cfnresponse.Response{}, err
	}
	return cfnresponse.Response{PhysicalResourceId: id}, nil
}

// Update replaces this resource's entry with the new settings. When the bucket changed, the
// entry in the old bucket is removed afterwards.
func (n *Notification) Update(ctx context.Context, e cfnresponse.Event) (cfnresponse.Response, error) {
	p, err := decode(e.ResourceProperties, "new")
	if err != nil {
		return cfnresponse.Response{}, err
	}
	if err := n.apply(ctx, e.PhysicalResourceId, p); err != nil {
		return cfnresponse.Response{}, err
	}
	if old, err := decode(e.OldResourceProperties, "old"); err == nil && old.BucketName != p.BucketName {
		if err := n.remove(ctx, e.PhysicalResourceId, old); err != nil {
			return cfnresponse.Response{}, err
		}
	}
	return cfnresponse.Response{}, nil
}

// Delete removes this resource's entry and leaves every other one as it is. A bucket that is
// gone, or an entry that is gone, counts as removed.
func (n *Notification) Delete(ctx context.Context, e cfnresponse.Event) (cfnresponse.Response, error) {
	p, err := decode(e.ResourceProperties, "current")
	if err != nil {
		// Without a bucket name there is nothing we could have written.
		n.logger(ctx).WarnContext(ctx, "properties did not decode; nothing to remove", slog.String("error", err.Error()))
		return cfnresponse.Response{}, nil
	}
	return cfnresponse.Response{}, n.remove(ctx, e.PhysicalResourceId, p)
}

func (n *Notification) apply(ctx context.Context, id string, p Properties) error {
	wait := DefaultBucketWait
	if p.BucketWaitSeconds > 0 {
		wait = time.Duration(p.BucketWaitSeconds) * time.Second
	}
	current, err := n.waitForBucket(ctx, p, wait)
	if err != nil {
		return err
	}
	mine := s3types.LambdaFunctionConfiguration{
		Id:                aws.String(id),
		LambdaFunctionArn: aws.String(p.FunctionArn),
		Events:            []s3types.Event{"s3:ObjectCreated:*"},
		Filter: &s3types.NotificationConfigurationFilter{Key: &s3types.S3KeyFilter{FilterRules: []s3types.FilterRule{
			{Name: s3types.FilterRuleNamePrefix, Value: aws.String(p.Prefix)},
			{Name: s3types.FilterRuleNameSuffix, Value: aws.String(p.Suffix)},
		}}},
	}
	// Every sandbox of the account and region merges into this one configuration, and S3 has no
	// conditional write: when two deploy at once, the later write can drop the earlier one's
	// entry. Read the configuration back, and merge again while this entry is missing.
	for attempt := 1; ; attempt++ {
		merged := withoutEntry(current, id)
		merged.LambdaFunctionConfigurations = append(merged.LambdaFunctionConfigurations, mine)
		if err := n.put(ctx, p, merged); err != nil {
			return err
		}
		back, _, err := n.get(ctx, p)
		if err != nil {
			return err
		}
		if hasEntry(back, id) {
			n.logger(ctx).InfoContext(ctx, "notification entry written", slog.String("bucket", p.BucketName),
				slog.Int("other_entries", entries(back)-1), slog.Int("attempts", attempt))
			return nil
		}
		if attempt == MaxMergeAttempts {
			return fmt.Errorf("bucket %s: entry %s was overwritten by another writer %d times in a row; retry the deploy", p.BucketName, id, attempt)
		}
		current = back
	}
}

// MaxMergeAttempts bounds the writes of one Create or Update when concurrent writers keep
// dropping this resource's entry.
const MaxMergeAttempts = 5

func (n *Notification) remove(ctx context.Context, id string, p Properties) error {
	current, found, err := n.get(ctx, p)
	if err != nil {
		return err
	}
	if !found || !hasEntry(current, id) {
		n.logger(ctx).InfoContext(ctx, "no entry of this resource to remove", slog.String("bucket", p.BucketName), slog.Bool("bucket_found", found))
		return nil
	}
	if err := n.put(ctx, p, withoutEntry(current, id)); err != nil {
		return err
	}
	n.logger(ctx).InfoContext(ctx, "notification entry removed", slog.String("bucket", p.BucketName))
	return nil
}

// waitForBucket reads the configuration, polling while the bucket does not exist yet.
func (n *Notification) waitForBucket(ctx context.Context, p Properties, wait time.Duration) (s3types.NotificationConfiguration, error) {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	for {
		current, found, err := n.get(ctx, p)
		if err != nil || found {
			return current, err
		}
		if err := n.sleep(ctx); err != nil {
			return current, fmt.Errorf("bucket %s: still missing after waiting up to %v; AppStream creates it when a stack first enables home folders: %w", p.BucketName, wait, err)
		}
	}
}

// get reads the configuration; found is false when the bucket does not exist.
func (n *Notification) get(ctx context.Context, p Properties) (s3types.NotificationConfiguration, bool, error) {
	var out *s3.GetBucketNotificationConfigurationOutput
	err := n.call(ctx, func(ctx context.Context) error {
		var err error
		out, err = n.Get.GetBucketNotificationConfiguration(ctx, &s3.GetBucketNotificationConfigurationInput{
			Bucket: aws.String(p.BucketName), ExpectedBucketOwner: aws.String(p.BucketOwner),
		})
		return err
	})
	if isCode(err, "NoSuchBucket") {
		return s3types.NotificationConfiguration{}, false, nil
	}
	if err != nil {
		return s3types.NotificationConfiguration{}, false, fmt.Errorf("bucket %s: GetBucketNotificationConfiguration: %w", p.BucketName, err)
	}
	return s3types.NotificationConfiguration{
		LambdaFunctionConfigurations: out.LambdaFunctionConfigurations,
		QueueConfigurations:          out.QueueConfigurations,
		TopicConfigurations:          out.TopicConfigurations,
		EventBridgeConfiguration:     out.EventBridgeConfiguration,
	}, true, nil
}

func (n *Notification) put(ctx context.Context, p Properties, c s3types.NotificationConfiguration) error {
	err := n.call(ctx, func(ctx context.Context) error {
		_, err := n.Put.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{
			Bucket: aws.String(p.BucketName), ExpectedBucketOwner: aws.String(p.BucketOwner), NotificationConfiguration: &c,
		})
		return err
	})
	if err != nil {
		return fmt.Errorf("bucket %s: PutBucketNotificationConfiguration: %w", p.BucketName, err)
	}
	return nil
}

// withoutEntry is c without the Lambda entry whose Id is id; every other entry is kept as is.
func withoutEntry(c s3types.NotificationConfiguration, id string) s3types.NotificationConfiguration {
	c.LambdaFunctionConfigurations = slices.DeleteFunc(slices.Clone(c.LambdaFunctionConfigurations), func(l s3types.LambdaFunctionConfiguration) bool {
		return aws.ToString(l.Id) == id
	})
	return c
}

func hasEntry(c s3types.NotificationConfiguration, id string) bool {
	return slices.ContainsFunc(c.LambdaFunctionConfigurations, func(l s3types.LambdaFunctionConfiguration) bool { return aws.ToString(l.Id) == id })
}

func entries(c s3types.NotificationConfiguration) int {
	return len(c.LambdaFunctionConfigurations) + len(c.QueueConfigurations) + len(c.TopicConfigurations)
}

func (n *Notification) call(ctx context.Context, op func(context.Context) error) error {
	return awsretry.Do(ctx, n.Retry, op)
}

func (n *Notification) sleep(ctx context.Context) error {
	d := n.PollInterval
	if d <= 0 {
		d = DefaultPollInterval
	}
	sleep := n.Sleep
	if sleep == nil {
		sleep = awsretry.Sleep
	}
	return sleep(ctx, d)
}

func (n *Notification) logger(ctx context.Context) *slog.Logger {
	base := n.Logger
	if base == nil {
		base = slog.Default()
	}
	return logging.WithRequest(ctx, base)
}

func isCode(err error, code string) bool {
	var api smithy.APIError
	return errors.As(err, &api) && api.ErrorCode() == code
}
