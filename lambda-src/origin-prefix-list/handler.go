package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/securestacks/securestacks/lambda-src/internal/awsretry"
	"github.com/securestacks/securestacks/lambda-src/internal/cfnresponse"
	"github.com/securestacks/securestacks/lambda-src/internal/logging"
)

// DescribeManagedPrefixListsAPI is the one operation the lookup calls.
type DescribeManagedPrefixListsAPI interface {
	DescribeManagedPrefixLists(ctx context.Context, in *ec2.DescribeManagedPrefixListsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeManagedPrefixListsOutput, error)
}

var _ DescribeManagedPrefixListsAPI = (*ec2.Client)(nil)

// Properties are the custom resource's properties.
type Properties struct {
	// PrefixListName is an AWS-managed list, such as com.amazonaws.global.cloudfront.origin-facing.
	PrefixListName string
}

// Lookup resolves an AWS-managed prefix list's name to the region's ID at deploy: the ID differs
// per region, and an environment-agnostic template cannot carry it.
type Lookup struct {
	EC2    DescribeManagedPrefixListsAPI
	Retry  awsretry.Policy
	Logger *slog.Logger
}

var _ cfnresponse.Resource = (*Lookup)(nil)

// AttemptTimeout bounds each DescribeManagedPrefixLists when Retry.AttemptTimeout is zero.
const AttemptTimeout = 10 * time.Second

// Create answers with the ID as PhysicalResourceId and as the PrefixListId attribute.
func (l *Lookup) Create(ctx context.Context, e cfnresponse.Event) (cfnresponse.Response, error) {
	return l.lookup(ctx, e.ResourceProperties)
}

// Update looks the name up again; another name gives another physical ID, which replaces the
// resource and costs nothing (Delete has nothing to remove).
func (l *Lookup) Update(ctx context.Context, e cfnresponse.Event) (cfnresponse.Response, error) {
	return l.lookup(ctx, e.ResourceProperties)
}

// Delete has nothing to remove: the list is AWS's.
func (l *Lookup) Delete(context.Context, cfnresponse.Event) (cfnresponse.Response, error) {
	return cfnresponse.Response{}, nil
}

func (l *Lookup) lookup(ctx context.Context, raw map[string]any) (cfnresponse.Response, error) {
	var p Properties
	if err := cfnresponse.Decode(raw, &p); err != nil {
		return cfnresponse.Response{}, err
	}
	if !strings.HasPrefix(p.PrefixListName, "com.amazonaws.") {
		return cfnresponse.Response{}, fmt.Errorf("property PrefixListName: expected an AWS-managed prefix list name such as com.amazonaws.global.cloudfront.origin-facing, got %q", p.PrefixListName)
	}
	pol := l.Retry
	if pol.AttemptTimeout == 0 {
		pol.AttemptTimeout = AttemptTimeout
	}
	var out *ec2.DescribeManagedPrefixListsOutput
	err := awsretry.Do(ctx, pol, func(ctx context.Context) (err error) {
		out, err = l.EC2.DescribeManagedPrefixLists(ctx, &ec2.DescribeManagedPrefixListsInput{
			Filters: []types.Filter{{Name: aws.String("prefix-list-name"), Values: []string{p.PrefixListName}}},
		})
		return err
	})
	if err != nil {
		return cfnresponse.Response{}, fmt.Errorf("describing prefix list %s: %w", p.PrefixListName, err)
	}
	var ids []string
	for _, pl := range out.PrefixLists {
		if aws.ToString(pl.PrefixListName) == p.PrefixListName && aws.ToString(pl.OwnerId) == "AWS" {
			ids = append(ids, aws.ToString(pl.PrefixListId))
		}
	}
	if len(ids) != 1 {
		return cfnresponse.Response{}, errors.New("prefix list " + p.PrefixListName + ": expected one AWS-owned list in this region, found " + fmt.Sprint(len(ids)))
	}
	logging.WithRequest(ctx, l.logger()).InfoContext(ctx, "prefix list resolved", slog.String("name", p.PrefixListName), slog.String("id", ids[0]))
	return cfnresponse.Response{PhysicalResourceId: ids[0], Data: map[string]any{"PrefixListId": ids[0]}}, nil
}

func (l *Lookup) logger() *slog.Logger {
	if l.Logger != nil {
		return l.Logger
	}
	return slog.Default()
}
