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

	main "github.com/securestacks/securestacks/lambda-src/appstream-usage-reports"
	"github.com/securestacks/securestacks/lambda-src/internal/awsretry"
	"github.com/securestacks/securestacks/lambda-src/internal/cfnresponse"
)

type (
	describeFunc    func(ctx context.Context, in *appstream.DescribeUsageReportSubscriptionsInput, _ ...func(*appstream.Options)) (*appstream.DescribeUsageReportSubscriptionsOutput, error)
	subscribeFunc   func(ctx context.Context, in *appstream.CreateUsageReportSubscriptionInput, _ ...func(*appstream.Options)) (*appstream.CreateUsageReportSubscriptionOutput, error)
	unsubscribeFunc func(ctx context.Context, in *appstream.DeleteUsageReportSubscriptionInput, _ ...func(*appstream.Options)) (*appstream.DeleteUsageReportSubscriptionOutput, error)
)

func (f describeFunc) DescribeUsageReportSubscriptions(ctx context.Context, in *appstream.DescribeUsageReportSubscriptionsInput, o ...func(*appstream.Options)) (*appstream.DescribeUsageReportSubscriptionsOutput, error) {
	return f(ctx, in, o...)
}
func (f subscribeFunc) CreateUsageReportSubscription(ctx context.Context, in *appstream.CreateUsageReportSubscriptionInput, o ...func(*appstream.Options)) (*appstream.CreateUsageReportSubscriptionOutput, error) {
	return f(ctx, in, o...)
}
func (f unsubscribeFunc) DeleteUsageReportSubscription(ctx context.Context, in *appstream.DeleteUsageReportSubscriptionInput, o ...func(*appstream.Options)) (*appstream.DeleteUsageReportSubscriptionOutput, error) {
	return f(ctx, in, o...)
}

func apiError(code string) error { return &smithy.GenericAPIError{Code: code, Message: "fake " + code} }

func outage() error {
	return &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 503}}, Err: errors.New("fake outage"),
	}}
}

const reportsBucket = "appstream-logs-eu-west-1-123456789012-abcdefgh"

// account is a fake AppStream account: at most one subscription, and errors to inject per call.
type account struct {
	subscribed                                   bool
	describeErrs, subscribeErrs, unsubscribeErrs []error

	describes, subscribes, unsubscribes int
}

func nth(errs []error, n int) error {
	if n <= len(errs) {
		return errs[n-1]
	}
	return nil
}

func (a *account) resource() *main.Subscription {
	return &main.Subscription{
		Describe: describeFunc(func(context.Context, *appstream.DescribeUsageReportSubscriptionsInput, ...func(*appstream.Options)) (*appstream.DescribeUsageReportSubscriptionsOutput, error) {
			a.describes++
			if err := nth(a.describeErrs, a.describes); err != nil {
				return nil, err
			}
			out := &appstream.DescribeUsageReportSubscriptionsOutput{}
			if a.subscribed {
				out.UsageReportSubscriptions = []types.UsageReportSubscription{{S3BucketName: aws.String(reportsBucket), Schedule: types.UsageReportScheduleDaily}}
			}
			return out, nil
		}),
		Subscribe: subscribeFunc(func(context.Context, *appstream.CreateUsageReportSubscriptionInput, ...func(*appstream.Options)) (*appstream.CreateUsageReportSubscriptionOutput, error) {
			a.subscribes++
			if err := nth(a.subscribeErrs, a.subscribes); err != nil {
				return nil, err
			}
			a.subscribed = true
			return &appstream.CreateUsageReportSubscriptionOutput{S3BucketName: aws.String(reportsBucket), Schedule: types.UsageReportScheduleDaily}, nil
		}),
		Unsubscribe: unsubscribeFunc(func(context.Context, *appstream.DeleteUsageReportSubscriptionInput, ...func(*appstream.Options)) (*appstream.DeleteUsageReportSubscriptionOutput, error) {
			a.unsubscribes++
			if err := nth(a.unsubscribeErrs, a.unsubscribes); err != nil {
				return nil, err
			}
			if !a.subscribed {
				return nil, apiError("ResourceNotFoundException")
			}
			a.subscribed = false
			return &appstream.DeleteUsageReportSubscriptionOutput{}, nil
		}),
		Logger: slog.New(slog.NewJSONHandler(&bytes.Buffer{}, nil)),
		Retry:  awsretry.Policy{MaxAttempts: 3, Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }},
	}
}

func event(t *testing.T, file, physicalID string) cfnresponse.Event {
	t.Helper()
	raw, err := os.ReadFile("../internal/cfnresponse/testdata/" + file)
	if err != nil {
		t.Fatal(err)
	}
	var e cfnresponse.Event
	if err := json.Unmarshal(raw, &e); err != nil {
		t.Fatal(err)
	}
	e.ResourceProperties = map[string]any{"ServiceToken": "arn"}
	e.PhysicalResourceId = physicalID
	return e
}

func TestSubscription(t *testing.T) {
	created := "UsageReports-0123456789abcdef" + main.CreatedSuffix
	existing := "UsageReports-0123456789abcdef" + main.ExistingSuffix
	tests := []struct {
		name       string
		file       string
		physicalID string
		retain     bool // RetainOnDelete "true"
		account    account

		wantErr          string
		wantIDSuffix     string // of the answered physical id; "" for Delete
		wantSubscribed   bool
		wantSubscribes   int
		wantUnsubscribes int
	}{
		{name: "create subscribes and records ownership", file: "create.json",
			wantIDSuffix: main.CreatedSuffix, wantSubscribed: true, wantSubscribes: 1},
		{name: "create with a subscription already on leaves it alone", file: "create.json", account: account{subscribed: true},
			wantIDSuffix: main.ExistingSuffix, wantSubscribed: true},
		{name: "create retries throttling", file: "create.json",
			account:      account{describeErrs: []error{apiError("ThrottlingException")}, subscribeErrs: []error{apiError("ThrottlingException")}},
			wantIDSuffix: main.CreatedSuffix, wantSubscribed: true, wantSubscribes: 2},
		{name: "create fails on an outage, without a crash", file: "create.json",
			account: account{describeErrs: []error{outage(), outage(), outage()}}, wantErr: "DescribeUsageReportSubscriptions"},
		{name: "create fails when AppStream refuses", file: "create.json",
			account: account{subscribeErrs: []error{apiError("InvalidRoleException")}}, wantErr: "CreateUsageReportSubscription", wantSubscribes: 1},
		{name: "update with the subscription on changes nothing", file: "update.json", physicalID: created, account: account{subscribed: true},
			wantIDSuffix: main.CreatedSuffix, wantSubscribed: true},
		{name: "update resubscribes after an out-of-band removal, keeping the id", file: "update.json", physicalID: existing,
			wantIDSuffix: main.ExistingSuffix, wantSubscribed: true, wantSubscribes: 1},
		{name: "delete unsubscribes what this resource created", file: "delete.json", physicalID: created, account: account{subscribed: true},
			wantUnsubscribes: 1},
		{name: "delete keeps what this resource created when told to retain (other sandboxes use it)", file: "delete.json", physicalID: created, retain: true,
			account: account{subscribed: true}, wantSubscribed: true},
		{name: "delete never removes a subscription it found", file: "delete.json", physicalID: existing, account: account{subscribed: true},
			wantSubscribed: true},
		{name: "delete of a subscription already gone succeeds", file: "delete.json", physicalID: created,
			wantUnsubscribes: 1},
		{name: "delete retries throttling", file: "delete.json", physicalID: created, account: account{subscribed: true, unsubscribeErrs: []error{apiError("ThrottlingException")}},
			wantUnsubscribes: 2},
		{name: "delete fails on access denied", file: "delete.json", physicalID: created, account: account{subscribed: true, unsubscribeErrs: []error{apiError("AccessDeniedException")}},
			wantErr: "DeleteUsageReportSubscription", wantSubscribed: true, wantUnsubscribes: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN the fake account and the case's event, handled through cfnresponse
			a := tt.account
			h := cfnresponse.Handler(a.resource(), &cfnresponse.Options{Margin: -1, Logger: slog.New(slog.NewJSONHandler(&bytes.Buffer{}, nil))})

			// WHEN the event is handled
			e := event(t, tt.file, tt.physicalID)
			if tt.retain {
				e.ResourceProperties[main.RetainOnDelete] = "true"
			}
			resp, err := h(context.Background(), e)

			// THEN the subscription, the calls made and the ownership record are as expected
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to mention %s", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatalf("err = %v", err)
			}
			if a.subscribed != tt.wantSubscribed || a.subscribes != tt.wantSubscribes || a.unsubscribes != tt.wantUnsubscribes {
				t.Errorf("subscribed=%v subscribes=%d unsubscribes=%d; want %v, %d, %d",
					a.subscribed, a.subscribes, a.unsubscribes, tt.wantSubscribed, tt.wantSubscribes, tt.wantUnsubscribes)
			}
			if tt.wantIDSuffix != "" {
				if !strings.HasSuffix(resp.PhysicalResourceId, tt.wantIDSuffix) {
					t.Errorf("PhysicalResourceId = %q, want suffix %q", resp.PhysicalResourceId, tt.wantIDSuffix)
				}
				if tt.file == "update.json" && resp.PhysicalResourceId != tt.physicalID {
					t.Errorf("update changed the physical id from %q to %q", tt.physicalID, resp.PhysicalResourceId)
				}
				if resp.Data[main.AttrBucketName] != reportsBucket {
					t.Errorf("Data = %v, want the reports bucket", resp.Data)
				}
			}
		})
	}
}

func TestCreateIsStableAcrossRetries(t *testing.T) {
	// GIVEN an account without a subscription and a Create event delivered twice
	a := account{}
	r := a.resource()
	e := event(t, "create.json", "")

	// WHEN both deliveries are handled
	first, err1 := r.Create(context.Background(), e)
	second, err2 := r.Create(context.Background(), e)

	// THEN AppStream was asked to subscribe once and both answers name the same subscription
	// (the second as found, since the first made it)
	if err1 != nil || err2 != nil || a.subscribes != 1 {
		t.Fatalf("errors %v %v, subscribes %d", err1, err2, a.subscribes)
	}
	if strings.TrimSuffix(first.PhysicalResourceId, main.CreatedSuffix) != strings.TrimSuffix(second.PhysicalResourceId, main.ExistingSuffix) {
		t.Errorf("ids %q and %q do not share their base", first.PhysicalResourceId, second.PhysicalResourceId)
	}
}
