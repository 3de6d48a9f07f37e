package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	main "github.com/securestacks/securestacks/lambda-src/appstream-homefolder-notification"
	"github.com/securestacks/securestacks/lambda-src/internal/awsretry"
	"github.com/securestacks/securestacks/lambda-src/internal/cfnresponse"
)

type (
	getFunc func(context.Context, *s3.GetBucketNotificationConfigurationInput, ...func(*s3.Options)) (*s3.GetBucketNotificationConfigurationOutput, error)
	putFunc func(context.Context, *s3.PutBucketNotificationConfigurationInput, ...func(*s3.Options)) (*s3.PutBucketNotificationConfigurationOutput, error)
)

func (f getFunc) GetBucketNotificationConfiguration(ctx context.Context, in *s3.GetBucketNotificationConfigurationInput, o ...func(*s3.Options)) (*s3.GetBucketNotificationConfigurationOutput, error) {
	return f(ctx, in, o...)
}
func (f putFunc) PutBucketNotificationConfiguration(ctx context.Context, in *s3.PutBucketNotificationConfigurationInput, o ...func(*s3.Options)) (*s3.PutBucketNotificationConfigurationOutput, error) {
	return f(ctx, in, o...)
}

func apiError(code string) error { return &smithy.GenericAPIError{Code: code, Message: "fake " + code} }

const (
	bucket   = "appstream2-36fb080bb8-eu-west-1-123456789012"
	owner    = "123456789012"
	function = "arn:aws:lambda:eu-west-1:123456789012:function:Sandbox-Validator"
	myID     = "HomeFolderNotification-0123456789abcdef"
)

func props(b string) map[string]any {
	return map[string]any{"ServiceToken": "arn", "BucketName": b, "BucketOwner": owner, "FunctionArn": function,
		"Prefix": "user/", "Suffix": "/session.json", "BucketWaitSeconds": "1"}
}

// fakeBucket holds a notification configuration; missingFor makes the bucket appear only after
// that many GetBucketNotificationConfiguration calls (-1: never).
type fakeBucket struct {
	exists     bool
	missingFor int
	config     s3types.NotificationConfiguration
	getErrs    []error
	putErrs    []error

	gets, puts int
	owners     []string
}

func (b *fakeBucket) resource() *main.Notification {
	return &main.Notification{
		Get: getFunc(func(_ context.Context, in *s3.GetBucketNotificationConfigurationInput, _ ...func(*s3.Options)) (*s3.GetBucketNotificationConfigurationOutput, error) {
			b.gets++
			b.owners = append(b.owners, aws.ToString(in.ExpectedBucketOwner))
			if b.gets <= len(b.getErrs) && b.getErrs[b.gets-1] != nil {
				return nil, b.getErrs[b.gets-1]
			}
			if !b.exists && (b.missingFor < 0 || b.gets <= b.missingFor) {
				return nil, apiError("NoSuchBucket")
			}
			b.exists = true
			c := b.config
			return &s3.GetBucketNotificationConfigurationOutput{LambdaFunctionConfigurations: c.LambdaFunctionConfigurations,
				QueueConfigurations: c.QueueConfigurations, TopicConfigurations: c.TopicConfigurations, EventBridgeConfiguration: c.EventBridgeConfiguration}, nil
		}),
		Put: putFunc(func(_ context.Context, in *s3.PutBucketNotificationConfigurationInput, _ ...func(*s3.Options)) (*s3.PutBucketNotificationConfigurationOutput, error) {
			b.puts++
			b.owners = append(b.owners, aws.ToString(in.ExpectedBucketOwner))
			if b.puts <= len(b.putErrs) && b.putErrs[b.puts-1] != nil {
				return nil, b.putErrs[b.puts-1]
			}
			b.config = *in.NotificationConfiguration
			return &s3.PutBucketNotificationConfigurationOutput{}, nil
		}),
		Logger:       slog.New(slog.NewJSONHandler(&bytes.Buffer{}, nil)),
		Retry:        awsretry.Policy{MaxAttempts: 3, Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }},
		PollInterval: 5 * time.Millisecond,
	}
}

func event(t *testing.T, file string, p map[string]any, id string) cfnresponse.Event {
	t.Helper()
	raw, err := os.ReadFile("../internal/cfnresponse/testdata/" + file)
	if err != nil {
		t.Fatal(err)
	}
	var e cfnresponse.Event
	if err := json.Unmarshal(raw, &e); err != nil {
		t.Fatal(err)
	}
	e.ResourceProperties = p
	e.OldResourceProperties = nil
	if e.RequestType == cfnresponse.Update {
		e.OldResourceProperties = props(bucket)
	}
	e.PhysicalResourceId = id
	return e
}

// others is a configuration someone else set on the bucket: one Lambda, one queue, EventBridge.
func others() s3types.NotificationConfiguration {
	return s3types.NotificationConfiguration{
		LambdaFunctionConfigurations: []s3types.LambdaFunctionConfiguration{{Id: aws.String("theirs"),
			LambdaFunctionArn: aws.String("arn:aws:lambda:eu-west-1:123456789012:function:Other"), Events: []s3types.Event{"s3:ObjectRemoved:*"}}},
		QueueConfigurations: []s3types.QueueConfiguration{{Id: aws.String("audit-queue"),
			QueueArn: aws.String("arn:aws:sqs:eu-west-1:123456789012:audit"), Events: []s3types.Event{"s3:ObjectCreated:*"}}},
		EventBridgeConfiguration: &s3types.EventBridgeConfiguration{},
	}
}

func withMine(c s3types.NotificationConfiguration, id, fn string) s3types.NotificationConfiguration {
	c.LambdaFunctionConfigurations = append(c.LambdaFunctionConfigurations, s3types.LambdaFunctionConfiguration{
		Id: aws.String(id), LambdaFunctionArn: aws.String(fn), Events: []s3types.Event{"s3:ObjectCreated:*"}})
	return c
}

func lambdaIDs(c s3types.NotificationConfiguration) string {
	var ids []string
	for _, l := range c.LambdaFunctionConfigurations {
		ids = append(ids, aws.ToString(l.Id)+"→"+aws.ToString(l.LambdaFunctionArn))
	}
	return strings.Join(ids, ",")
}

func TestNotification(t *testing.T) {
	ce := event(t, "create.json", nil, "")
	createID := cfnresponse.DefaultPhysicalResourceId(ce.StackId, ce.LogicalResourceId)
	tests := []struct {
		name   string
		file   string
		props  map[string]any
		id     string
		bucket fakeBucket

		wantErr     string
		wantLambdas string // ids→functions of the Lambda entries afterwards, in order
		wantOthers  bool   // the queue and EventBridge entries survived
		wantPuts    int
	}{
		{
			name: "create on an empty bucket adds the entry", file: "create.json", props: props(bucket),
			bucket:      fakeBucket{exists: true},
			wantLambdas: createID + "→" + function, wantPuts: 1,
		},
		{
			name: "create merges with someone else's configuration", file: "create.json", props: props(bucket),
			bucket:      fakeBucket{exists: true, config: others()},
			wantLambdas: "theirs→arn:aws:lambda:eu-west-1:123456789012:function:Other," + createID + "→" + function,
			wantOthers:  true, wantPuts: 1,
		},
		{
			name: "create retried replaces its own entry instead of adding a second", file: "create.json", props: props(bucket),
			bucket:      fakeBucket{exists: true, config: withMine(others(), createID, function)},
			wantLambdas: "theirs→arn:aws:lambda:eu-west-1:123456789012:function:Other," + createID + "→" + function,
			wantOthers:  true, wantPuts: 1,
		},
		{
			name: "create waits for the bucket AppStream is still creating", file: "create.json", props: props(bucket),
			bucket:      fakeBucket{missingFor: 3},
			wantLambdas: createID + "→" + function, wantPuts: 1,
		},
		{
			name: "create gives up boundedly when the bucket never appears", file: "create.json", props: props(bucket),
			bucket:  fakeBucket{missingFor: -1},
			wantErr: "still missing",
		},
		{
			name: "create retries throttling", file: "create.json", props: props(bucket),
			bucket:      fakeBucket{exists: true, getErrs: []error{apiError("SlowDown")}, putErrs: []error{apiError("SlowDown")}},
			wantLambdas: createID + "→" + function, wantPuts: 2,
		},
		{
			name: "create reports an overlapping configuration S3 rejects", file: "create.json", props: props(bucket),
			bucket:  fakeBucket{exists: true, putErrs: []error{apiError("InvalidArgument")}},
			wantErr: "PutBucketNotificationConfiguration", wantPuts: 1,
		},
		{
			name: "create refuses a bucket owned by another account", file: "create.json", props: props(bucket),
			bucket:  fakeBucket{exists: true, getErrs: []error{apiError("AccessDenied")}},
			wantErr: "GetBucketNotificationConfiguration",
		},
		{
			name: "update points its entry at the new function and keeps the rest", file: "update.json", id: myID,
			props: func() map[string]any {
				p := props(bucket)
				p["FunctionArn"] = function + "-v2"
				return p
			}(),
			bucket:      fakeBucket{exists: true, config: withMine(others(), myID, function)},
			wantLambdas: "theirs→arn:aws:lambda:eu-west-1:123456789012:function:Other," + myID + "→" + function + "-v2",
			wantOthers:  true, wantPuts: 1,
		},
		{
			name: "delete removes only its entry", file: "delete.json", props: props(bucket), id: myID,
			bucket:      fakeBucket{exists: true, config: withMine(others(), myID, function)},
			wantLambdas: "theirs→arn:aws:lambda:eu-west-1:123456789012:function:Other",
			wantOthers:  true, wantPuts: 1,
		},
		{
			name: "delete without its entry writes nothing", file: "delete.json", props: props(bucket), id: myID,
			bucket:      fakeBucket{exists: true, config: others()},
			wantLambdas: "theirs→arn:aws:lambda:eu-west-1:123456789012:function:Other",
			wantOthers:  true, wantPuts: 0,
		},
		{
			name: "delete with the bucket gone succeeds", file: "delete.json", props: props(bucket), id: myID,
			bucket: fakeBucket{missingFor: -1}, wantPuts: 0,
		},
		{
			name: "delete with undecodable properties succeeds without touching S3", file: "delete.json",
			props: map[string]any{"BucketName": "Not A Bucket"}, id: myID,
			bucket: fakeBucket{exists: true, config: withMine(others(), myID, function)},
			// untouched: still has our entry
			wantLambdas: "theirs→arn:aws:lambda:eu-west-1:123456789012:function:Other," + myID + "→" + function,
			wantOthers:  true, wantPuts: 0,
		},
		{
			name: "create rejects a bad function ARN", file: "create.json",
			props:  func() map[string]any { p := props(bucket); p["FunctionArn"] = "validator"; return p }(),
			bucket: fakeBucket{exists: true}, wantErr: "FunctionArn",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN the fake bucket and the case's event, handled through cfnresponse
			b := tt.bucket
			h := cfnresponse.Handler(b.resource(), &cfnresponse.Options{Margin: -1, Logger: slog.New(slog.NewJSONHandler(&bytes.Buffer{}, nil))})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()

			// WHEN the event is handled
			start := time.Now()
			_, err := h(ctx, event(t, tt.file, tt.props, tt.id))

			// THEN the bucket's configuration is merged as expected and nothing else changed
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tt.wantErr)
				}
				if time.Since(start) > 3*time.Second {
					t.Errorf("took %v; the wait must be bounded by BucketWaitSeconds", time.Since(start))
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if got := lambdaIDs(b.config); got != tt.wantLambdas {
				t.Errorf("Lambda entries = %s, want %s", got, tt.wantLambdas)
			}
			if tt.wantOthers && (len(b.config.QueueConfigurations) != 1 || b.config.EventBridgeConfiguration == nil) {
				t.Errorf("other entries lost: %+v", b.config)
			}
			if b.puts != tt.wantPuts {
				t.Errorf("puts = %d, want %d", b.puts, tt.wantPuts)
			}
			for _, l := range b.config.LambdaFunctionConfigurations {
				if aws.ToString(l.LambdaFunctionArn) != function || l.Filter == nil {
					continue
				}
				rules := l.Filter.Key.FilterRules
				if len(rules) != 2 || aws.ToString(rules[0].Value) != "user/" || aws.ToString(rules[1].Value) != "/session.json" {
					t.Errorf("filter = %+v, want prefix user/ and suffix /session.json", rules)
				}
			}
			for _, o := range b.owners {
				if o != owner {
					t.Errorf("S3 call without ExpectedBucketOwner %s: %q", owner, o)
				}
			}
		})
	}
}

// TestConcurrentSandboxesKeepBothEntries simulates a second sandbox writing the shared
// home-folder bucket's configuration between this resource's write and its read-back: its
// write, made from a configuration read before ours, drops our entry. The resource must merge
// again and end with both entries.
func TestConcurrentSandboxesKeepBothEntries(t *testing.T) {
	// GIVEN a bucket where, right after our first write, the other sandbox writes the
	// configuration it read before it (its own entry only)
	theirs := s3types.LambdaFunctionConfiguration{Id: aws.String("other-sandbox"), LambdaFunctionArn: aws.String("arn:aws:lambda:eu-west-1:123456789012:function:Prod-Validator"),
		Events: []s3types.Event{"s3:ObjectCreated:*"}}
	b := &fakeBucket{exists: true}
	r := b.resource()
	put := r.Put
	raced := false
	r.Put = putFunc(func(ctx context.Context, in *s3.PutBucketNotificationConfigurationInput, o ...func(*s3.Options)) (*s3.PutBucketNotificationConfigurationOutput, error) {
		out, err := put.PutBucketNotificationConfiguration(ctx, in, o...)
		if !raced {
			raced = true
			b.config = s3types.NotificationConfiguration{LambdaFunctionConfigurations: []s3types.LambdaFunctionConfiguration{theirs}}
		}
		return out, err
	})
	// WHEN the resource is created
	h := cfnresponse.Handler(r, &cfnresponse.Options{Margin: -1, Logger: slog.New(slog.NewJSONHandler(&bytes.Buffer{}, nil))})
	if _, err := h(context.Background(), event(t, "create.json", props(bucket), "")); err != nil {
		t.Fatal(err)
	}
	// THEN it wrote again after reading back, and both sandboxes' entries are there
	var ids []string
	for _, l := range b.config.LambdaFunctionConfigurations {
		ids = append(ids, aws.ToString(l.Id))
	}
	if b.puts != 2 || len(ids) != 2 || ids[0] != "other-sandbox" {
		t.Errorf("puts = %d, entries = %v; want 2 puts and both entries", b.puts, ids)
	}
}
