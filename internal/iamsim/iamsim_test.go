package iamsim_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/securestacks/securestacks/internal/iamsim"
)

const (
	account = "123456789012"
	role    = "arn:aws:iam::123456789012:role/fn"
	keyArn  = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
)

func allow(action, resource string) map[string]any {
	return map[string]any{"Version": "2012-10-17", "Statement": []any{
		map[string]any{"Effect": "Allow", "Action": action, "Resource": resource},
	}}
}

func keyPolicy(effect, principal string) map[string]any {
	return map[string]any{"Version": "2012-10-17", "Statement": []any{
		map[string]any{"Effect": effect, "Principal": map[string]any{"AWS": principal}, "Action": "kms:*", "Resource": "*"},
	}}
}

// TestEvaluationLogic checks the rules of
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
// (and, for KMS, https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html)
// that the role-coverage gate relies on.
func TestEvaluationLogic(t *testing.T) {
	bucketObject := "arn:aws:s3:::b/k"
	cases := []struct {
		name string
		req  iamsim.Request
		want string
	}{{
		name: "same account: an identity allow suffices",
		req:  iamsim.Request{Action: "s3:GetObject", Resource: bucketObject, IdentityPolicies: []iamsim.Policy{{Name: "p", Document: allow("s3:GetObject", "arn:aws:s3:::b/*")}}},
		want: iamsim.Allowed,
	}, {
		name: "same account: a resource-policy allow naming the role suffices",
		req: iamsim.Request{Action: "s3:GetObject", Resource: bucketObject, ResourcePolicy: map[string]any{"Version": "2012-10-17", "Statement": []any{
			map[string]any{"Effect": "Allow", "Principal": map[string]any{"AWS": role}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"},
		}}},
		want: iamsim.Allowed,
	}, {
		name: "an explicit deny in the resource policy wins over an identity allow",
		req: iamsim.Request{Action: "s3:GetObject", Resource: bucketObject,
			IdentityPolicies: []iamsim.Policy{{Name: "p", Document: allow("s3:GetObject", "*")}},
			ResourcePolicy: map[string]any{"Version": "2012-10-17", "Statement": []any{
				map[string]any{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"},
			}}},
		want: iamsim.ExplicitlyDenied,
	}, {
		name: "KMS: an identity allow without a key policy that delegates to IAM is denied",
		req: iamsim.Request{Action: "kms:Decrypt", Resource: keyArn,
			IdentityPolicies: []iamsim.Policy{{Name: "p", Document: allow("kms:Decrypt", keyArn)}},
			ResourcePolicy:   keyPolicy("Allow", "arn:aws:iam::123456789012:role/someone-else")},
		want: iamsim.ImplicitlyDenied,
	}, {
		name: "KMS: an identity allow with a key policy that delegates to the account is allowed",
		req: iamsim.Request{Action: "kms:Decrypt", Resource: keyArn,
			IdentityPolicies: []iamsim.Policy{{Name: "p", Document: allow("kms:Decrypt", keyArn)}},
			ResourcePolicy:   keyPolicy("Allow", "arn:aws:iam::123456789012:root")},
		want: iamsim.Allowed,
	}, {
		name: "a VPC endpoint policy must allow the request too",
		req: iamsim.Request{Action: "s3:GetObject", Resource: bucketObject,
			IdentityPolicies:    []iamsim.Policy{{Name: "p", Document: allow("s3:GetObject", "*")}},
			VPCEndpointPolicies: []iamsim.Policy{{Name: "vpce", Document: map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{"Effect": "Allow", "Principal": "*", "Action": "s3:PutObject", "Resource": "*"}}}}}},
		want: iamsim.ImplicitlyDenied,
	}, {
		name: "an action without resource-level permissions is not granted by a statement scoped to an ARN",
		req: iamsim.Request{Action: "appstream:DescribeFleets", Resource: "arn:aws:appstream:eu-west-1:123456789012:fleet/f",
			IdentityPolicies: []iamsim.Policy{{Name: "p", Document: allow("appstream:DescribeFleets", "arn:aws:appstream:eu-west-1:123456789012:fleet/f")}}},
		want: iamsim.ImplicitlyDenied,
	}, {
		name: "an action without resource-level permissions is granted on *",
		req: iamsim.Request{Action: "appstream:DescribeFleets", Resource: "arn:aws:appstream:eu-west-1:123456789012:fleet/f",
			IdentityPolicies: []iamsim.Policy{{Name: "p", Document: allow("appstream:DescribeFleets", "*")}}},
		want: iamsim.Allowed,
	}, {
		name: `a VPC endpoint policy with Principal {"AWS": "*"} is evaluated`,
		req: iamsim.Request{Action: "s3:GetObject", Resource: bucketObject,
			IdentityPolicies:    []iamsim.Policy{{Name: "p", Document: allow("s3:GetObject", "*")}},
			VPCEndpointPolicies: []iamsim.Policy{{Name: "vpce", Document: map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{"Effect": "Allow", "Principal": map[string]any{"AWS": "*"}, "Action": "s3:GetObject", "Resource": "*"}}}}}},
		want: iamsim.Allowed,
	}}
	reqs := make([]iamsim.Request, len(cases))
	for i, c := range cases {
		c.req.Principal, c.req.ResourceAccount = role, account
		reqs[i] = c.req
	}
	reqs = append(reqs, iamsim.Request{Principal: role, ResourceAccount: account, Action: "s3:GetObjects", Resource: bucketObject})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	got, err := iamsim.Run(ctx, moduleDir(t), reqs)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		if got[i].Decision != c.want || got[i].Error != "" {
			t.Errorf("%s: got %q %s, want %s", c.name, got[i].Decision, got[i].Error, c.want)
		}
	}
	if last := got[len(got)-1]; last.Error == "" {
		t.Errorf("an action the Service Authorization Reference lacks was evaluated: %+v", last)
	}
	if by := got[0].IdentityAllowedBy; len(by) != 1 || by[0] != "p#1" {
		t.Errorf("IdentityAllowedBy = %v, want [p#1]", by)
	}
}

func moduleDir(t *testing.T) string {
	t.Helper()
	d, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(d, "go.mod")); err != nil {
		t.Fatal(err)
	}
	return d
}
