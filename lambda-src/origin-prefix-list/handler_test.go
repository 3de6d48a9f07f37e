package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/securestacks/securestacks/lambda-src/internal/awsretry"
	"github.com/securestacks/securestacks/lambda-src/internal/cfnresponse"
)

type describeFunc func(ctx context.Context, in *ec2.DescribeManagedPrefixListsInput, _ ...func(*ec2.Options)) (*ec2.DescribeManagedPrefixListsOutput, error)

func (f describeFunc) DescribeManagedPrefixLists(ctx context.Context, in *ec2.DescribeManagedPrefixListsInput, o ...func(*ec2.Options)) (*ec2.DescribeManagedPrefixListsOutput, error) {
	return f(ctx, in, o...)
}

const name = "com.amazonaws.global.cloudfront.origin-facing"

func TestLookup(t *testing.T) {
	noSleep := func(context.Context, time.Duration) error { return nil }
	tests := []struct {
		name    string
		props   map[string]any
		fake    describeFunc
		wantID  string
		wantErr string
	}{
		{"resolves the AWS-owned list", map[string]any{"PrefixListName": name}, func(_ context.Context, in *ec2.DescribeManagedPrefixListsInput, _ ...func(*ec2.Options)) (*ec2.DescribeManagedPrefixListsOutput, error) {
			if in.Filters[0].Values[0] != name {
				t.Errorf("filter %v", in.Filters)
			}
			return &ec2.DescribeManagedPrefixListsOutput{PrefixLists: []types.ManagedPrefixList{
				{PrefixListId: aws.String("pl-mine"), PrefixListName: aws.String(name), OwnerId: aws.String("123456789012")},
				{PrefixListId: aws.String("pl-4fa04526"), PrefixListName: aws.String(name), OwnerId: aws.String("AWS")},
			}}, nil
		}, "pl-4fa04526", ""},
		{"a region without the list", map[string]any{"PrefixListName": name}, func(context.Context, *ec2.DescribeManagedPrefixListsInput, ...func(*ec2.Options)) (*ec2.DescribeManagedPrefixListsOutput, error) {
			return &ec2.DescribeManagedPrefixListsOutput{}, nil
		}, "", "found 0"},
		{"throttled, then answered", map[string]any{"PrefixListName": name}, throttledOnce(), "pl-1", ""},
		{"a name that is not AWS's", map[string]any{"PrefixListName": "mine"}, nil, "", "property PrefixListName"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := &Lookup{EC2: tt.fake, Retry: awsretry.Policy{Sleep: noSleep}}
			r, err := l.Create(context.Background(), cfnresponse.Event{ResourceProperties: tt.props})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || r.PhysicalResourceId != tt.wantID || r.Data["PrefixListId"] != tt.wantID {
				t.Fatalf("r = %+v, err = %v", r, err)
			}
		})
	}
}

func throttledOnce() describeFunc {
	n := 0
	return func(context.Context, *ec2.DescribeManagedPrefixListsInput, ...func(*ec2.Options)) (*ec2.DescribeManagedPrefixListsOutput, error) {
		if n++; n == 1 {
			return nil, &smithy.GenericAPIError{Code: "RequestLimitExceeded"}
		}
		return &ec2.DescribeManagedPrefixListsOutput{PrefixLists: []types.ManagedPrefixList{{PrefixListId: aws.String("pl-1"), PrefixListName: aws.String(name), OwnerId: aws.String("AWS")}}}, nil
	}
}

func TestDeleteNeverFails(t *testing.T) {
	l := &Lookup{EC2: describeFunc(func(context.Context, *ec2.DescribeManagedPrefixListsInput, ...func(*ec2.Options)) (*ec2.DescribeManagedPrefixListsOutput, error) {
		return nil, errors.New("must not be called")
	})}
	if _, err := l.Delete(context.Background(), cfnresponse.Event{}); err != nil {
		t.Fatal(err)
	}
}
