package main

import (
	"context"
	"crypto/md5" //nolint:gosec // the document's published checksum
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/securestacks/securestacks/internal/originupdate"
	"github.com/securestacks/securestacks/internal/originupdate/ec2fake"
	"github.com/securestacks/securestacks/lambda-src/internal/cfnresponse"
)

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("../../internal/originupdate/testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newHandler(t *testing.T, body []byte) (*Handler, *ec2fake.EC2) {
	f := ec2fake.New()
	owner := map[string]string{originupdate.OwnerTagKey: "o"}
	v4 := f.AddPrefixList("IPv4", 60, owner)
	v6 := f.AddPrefixList("IPv6", 60, owner)
	return &Handler{
		Updater: &originupdate.Updater{EC2: f, Name: "o", Options: originupdate.Options{Target: originupdate.TargetPrefixList}, PrefixListIDs: []string{v4, v6}},
		Fetch:   func(context.Context, string) ([]byte, error) { return body, nil },
		URL:     originupdate.DefaultURL,
		Logger:  slog.New(slog.NewJSONHandler(io.Discard, nil)),
	}, f
}

func snsEvent(topic, md5Hex string) json.RawMessage {
	msg, _ := json.Marshal(originupdate.Notification{CreateTime: "2023-11-14T22:13:20+00:00", SyncToken: "1700000000", MD5: md5Hex, URL: originupdate.DefaultURL})
	e := events.SNSEvent{Records: []events.SNSEventRecord{{EventSource: "aws:sns", SNS: events.SNSEntity{TopicArn: topic, Message: string(msg)}}}}
	b, _ := json.Marshal(e)
	return b
}

func noCFN(context.Context, cfnresponse.Event) (cfnresponse.Response, error) {
	return cfnresponse.Response{}, errors.New("not a custom resource event")
}

func TestNotification(t *testing.T) {
	body := fixture(t, "base.json")
	sum := md5.Sum(body) //nolint:gosec // see the import
	good := hex.EncodeToString(sum[:])
	tests := []struct {
		name, topic, md5 string
		wantErr          string
		mutations        int
	}{
		{"applies the announced document", originupdate.TopicArn, good, "", 3},
		{"MD5 mismatch changes nothing", originupdate.TopicArn, strings.Repeat("a", 32), "MD5 mismatch", 0},
		{"another topic changes nothing", "arn:aws:sns:us-east-1:111122223333:Other", good, "SNS topic", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, f := newHandler(t, body)
			_, err := h.Invoke(context.Background(), snsEvent(tt.topic, tt.md5), noCFN)
			if (tt.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if got := f.Mutations(); got != tt.mutations {
				t.Errorf("mutating calls = %d, want %d", got, tt.mutations)
			}
		})
	}
}

func TestDryRunLogsAndChangesNothing(t *testing.T) {
	body := fixture(t, "base.json")
	h, f := newHandler(t, body)
	h.DryRun = true
	var logs strings.Builder
	h.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	if _, err := h.Create(context.Background(), cfnresponse.Event{}); err != nil {
		t.Fatal(err)
	}
	if f.Mutations() != 0 || !strings.Contains(logs.String(), "ModifyManagedPrefixList") {
		t.Errorf("mutations %d, logs %s", f.Mutations(), logs.String())
	}
}

func TestCustomResourceAppliesAtDeployAndDeleteLeavesRules(t *testing.T) {
	h, f := newHandler(t, fixture(t, "base.json"))
	cfn := cfnresponse.Handler(h, nil)
	ev, _ := json.Marshal(map[string]any{"RequestType": "Create", "StackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/s/1", "LogicalResourceId": "U", "RequestId": "r", "ResourceType": "Custom::OriginUpdater", "ResourceProperties": map[string]any{}})
	out, err := h.Invoke(context.Background(), ev, cfn)
	if err != nil {
		t.Fatal(err)
	}
	if r := out.(cfnresponse.Response); r.Data["SyncToken"] != "1700000000" {
		t.Errorf("data = %v", r.Data)
	}
	n := f.Mutations()
	if n != 3 {
		t.Errorf("deploy made %d mutating calls, want 3", n)
	}
	ev, _ = json.Marshal(map[string]any{"RequestType": "Delete", "StackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/s/1", "LogicalResourceId": "U", "RequestId": "r2", "PhysicalResourceId": "p", "ResourceType": "Custom::OriginUpdater", "ResourceProperties": map[string]any{}})
	if _, err := h.Invoke(context.Background(), ev, cfn); err != nil {
		t.Fatal(err)
	}
	if f.Mutations() != n {
		t.Error("Delete changed something")
	}
}

func TestFetcherBounds(t *testing.T) {
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	defer slow.Close()
	f := &Fetcher{Client: slow.Client(), AllowedPrefix: slow.URL + "/"}
	if _, err := f.Fetch(context.Background(), "https://example.com/ip-ranges.json"); err == nil || !strings.Contains(err.Error(), "url: expected") {
		t.Errorf("a foreign URL: err = %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := f.Fetch(ctx, slow.URL+"/ip-ranges.json"); err == nil {
		t.Error("a hung server: no error")
	}
	if time.Since(start) > 2*time.Second {
		t.Error("the fetch was not bounded")
	}
}

func TestAllowedPrefix(t *testing.T) {
	if got := allowedPrefix(originupdate.DefaultURL); got != "https://ip-ranges.amazonaws.com/" {
		t.Errorf("allowedPrefix = %q", got)
	}
}
