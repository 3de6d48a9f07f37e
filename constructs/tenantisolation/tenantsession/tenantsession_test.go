package tenantsession_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/securestacks/securestacks/constructs/tenantisolation/tenantsession"
)

type fakeSTS struct{ calls int }

func (f *fakeSTS) AssumeRole(_ context.Context, in *sts.AssumeRoleInput, _ ...func(*sts.Options)) (*sts.AssumeRoleOutput, error) {
	f.calls++
	exp := time.Now().Add(15 * time.Minute)
	return &sts.AssumeRoleOutput{Credentials: &ststypes.Credentials{
		AccessKeyId: aws.String("ASIA"), SecretAccessKey: aws.String("s"), SessionToken: aws.String("t"), Expiration: &exp}}, nil
}

// TestPublicAPIIsTheInternalOne: a consumer gets the same vendor, format
// check and caching as the sample handler.
func TestPublicAPIIsTheInternalOne(t *testing.T) {
	f := &fakeSTS{}
	v, err := tenantsession.New(f, tenantsession.Options{RoleARN: "arn:aws:iam::123456789012:role/access"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := tenantsession.WithRequestID(context.Background(), "r1")
	for range 3 {
		if _, err := v.Session(ctx, "yellow"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := v.Session(ctx, "ab/c"); err == nil {
		t.Error("a tenant ID with a slash was accepted")
	}
	if f.calls != 1 {
		t.Errorf("%d AssumeRole calls, want 1", f.calls)
	}
	if tenantsession.ValidateTenantID("Yellow") == nil || tenantsession.ObjectKey("yellow", "s-1.json") != "yellow/s-1.json" {
		t.Error("format check or object key differ from the documented ones")
	}
}
