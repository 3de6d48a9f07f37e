package tenantisolation_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/securestacks/securestacks/internal/iamsim"
	"github.com/securestacks/securestacks/internal/rolecoverage"
	"github.com/securestacks/securestacks/internal/tenantid"
)

// moduleRoot holds node_modules with the pinned simulator (make deps).
var moduleRoot, _ = filepath.Abs("../..")

// A proof is one request to the IAM evaluator and the decision it must get.
type proof struct {
	name string
	req  iamsim.Request
	want string
}

// prover builds requests from the synthesized template: the access role's
// and the service role's resolved policies, the trust policy, the key
// policies and the keys' tags, never hand-copied documents.
type prover struct {
	f               *fixture
	access, service []iamsim.Policy
	trust           any
	accessArn       string
	serviceArn      string
	tableArn        string
	bucketArn       string
	keyArn          map[string]string // tenant -> its key's ARN
	keyPolicy       map[string]any    // tenant -> its key policy
	keyTag          map[string]string // tenant -> its key's TenantID tag
}

func newProver(t *testing.T, f *fixture) *prover {
	t.Helper()
	p := &prover{f: f, keyArn: map[string]string{}, keyPolicy: map[string]any{}, keyTag: map[string]string{}}
	var err error
	if p.access, err = (&rolecoverage.Function{T: f.t, Role: f.access}).IdentityPolicies(); err != nil {
		t.Fatal(err)
	}
	if p.service, err = (&rolecoverage.Function{T: f.t, Role: f.service}).IdentityPolicies(); err != nil {
		t.Fatal(err)
	}
	if p.trust, err = f.t.Resolve(f.t.Resources[f.access].Properties["AssumeRolePolicyDocument"]); err != nil {
		t.Fatal(err)
	}
	p.accessArn, p.serviceArn = f.arn(t, f.access), f.arn(t, f.service)
	p.tableArn, p.bucketArn = f.arn(t, f.table), f.arn(t, f.bucket)
	for tenant, id := range f.tenantKey {
		arn := f.arn(t, id)
		p.keyArn[tenant] = arn
		if p.keyPolicy[tenant], err = f.t.ResourcePolicy(arn); err != nil || p.keyPolicy[tenant] == nil {
			t.Fatalf("key policy of %s: %v", tenant, err)
		}
		tags, _ := f.t.Resources[id].Properties["Tags"].([]any)
		for _, tag := range tags {
			m := tag.(map[string]any)
			if m["Key"] == tenantid.TagKey {
				p.keyTag[tenant] = m["Value"].(string)
			}
		}
	}
	return p
}

// data is a request of an access-role session tagged with tenant (untagged
// when tenant is ""), evaluated against the access role's policies.
func (p *prover) data(tenant, action, resource string, ctx map[string]any) iamsim.Request {
	c := map[string]any{}
	for k, v := range ctx {
		c[k] = v
	}
	if tenant != "" {
		c["aws:PrincipalTag/"+tenantid.TagKey] = tenant
	}
	role := p.accessArn[strings.LastIndex(p.accessArn, "/")+1:]
	return iamsim.Request{
		Principal:        "arn:aws:sts::" + account + ":assumed-role/" + role + "/" + tenant + "@req",
		Action:           action,
		Resource:         resource,
		ResourceAccount:  account,
		Context:          c,
		IdentityPolicies: p.access,
	}
}

// storeProofs are, for tenant `own` against tenant `other`, every store and
// every action granted: allowed on own data, denied on the other's.
func (p *prover) storeProofs(own, other string) []proof {
	var out []proof
	add := func(name string, req iamsim.Request, want string) {
		out = append(out, proof{name: fmt.Sprintf("%s vs %s: %s", own, other, name), req: req, want: want})
	}
	for _, action := range []string{"dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:PutItem",
		"dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem"} {
		add(action+" own items", p.data(own, action, p.tableArn, map[string]any{"dynamodb:LeadingKeys": []string{own}}), iamsim.Allowed)
		add(action+" other's items", p.data(own, action, p.tableArn, map[string]any{"dynamodb:LeadingKeys": []string{other}}), iamsim.ImplicitlyDenied)
		add(action+" own and other's items in one call", p.data(own, action, p.tableArn, map[string]any{"dynamodb:LeadingKeys": []string{own, other}}), iamsim.ImplicitlyDenied)
	}
	for _, action := range []string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"} {
		ctx := map[string]any{}
		if action == "s3:PutObject" {
			ctx = map[string]any{"s3:x-amz-server-side-encryption": "aws:kms", "s3:x-amz-server-side-encryption-aws-kms-key-id": "k"}
		}
		add(action+" own prefix", p.data(own, action, p.bucketArn+"/"+own+"/shipment-1.json", ctx), iamsim.Allowed)
		add(action+" other's prefix", p.data(own, action, p.bucketArn+"/"+other+"/shipment-1.json", ctx), iamsim.ImplicitlyDenied)
	}
	add("s3:ListBucket own prefix", p.data(own, "s3:ListBucket", p.bucketArn, map[string]any{"s3:prefix": own + "/"}), iamsim.Allowed)
	add("s3:ListBucket other's prefix", p.data(own, "s3:ListBucket", p.bucketArn, map[string]any{"s3:prefix": other + "/"}), iamsim.ImplicitlyDenied)
	// Listing the bare ID would list every tenant whose ID starts with it.
	add("s3:ListBucket the ID without its slash", p.data(own, "s3:ListBucket", p.bucketArn, map[string]any{"s3:prefix": own}), iamsim.ImplicitlyDenied)
	for _, action := range []string{"es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost", "es:ESHttpPut", "es:ESHttpDelete"} {
		add(action+" own index", p.data(own, action, domainArn+"/"+own, nil), iamsim.Allowed)
		add(action+" own index documents", p.data(own, action, domainArn+"/"+own+"/_doc/1", nil), iamsim.Allowed)
		add(action+" other's index", p.data(own, action, domainArn+"/"+other, nil), iamsim.ImplicitlyDenied)
		add(action+" other's index documents", p.data(own, action, domainArn+"/"+other+"/_search", nil), iamsim.ImplicitlyDenied)
		add(action+" both indices in one path", p.data(own, action, domainArn+"/"+own+","+other+"/_search", nil), iamsim.ImplicitlyDenied)
	}
	return out
}

// keyProofs use the fixture's tenant keys: their ARNs, key policies and tags
// from the template.
func (p *prover) keyProofs(own, other string) []proof {
	var out []proof
	s3Via := map[string]any{"kms:ViaService": "s3." + region + ".amazonaws.com"}
	for _, action := range []string{"kms:Decrypt", "kms:GenerateDataKey"} {
		for _, target := range []string{own, other} {
			req := p.data(own, action, p.keyArn[target], withTag(s3Via, p.keyTag[target]))
			req.ResourcePolicy = p.keyPolicy[target]
			want := iamsim.ImplicitlyDenied
			if target == own {
				want = iamsim.Allowed
			}
			out = append(out, proof{name: fmt.Sprintf("%s: %s on %s's key through S3", own, action, target), req: req, want: want})
		}
		direct := p.data(own, action, p.keyArn[own], withTag(nil, p.keyTag[own]))
		direct.ResourcePolicy = p.keyPolicy[own]
		out = append(out, proof{name: fmt.Sprintf("%s: %s on its own key, not through S3", own, action), req: direct, want: iamsim.ImplicitlyDenied})
	}
	return out
}

func withTag(ctx map[string]any, tag string) map[string]any {
	out := map[string]any{"aws:ResourceTag/" + tenantid.TagKey: tag}
	for k, v := range ctx {
		out[k] = v
	}
	return out
}

// assume is an STS request of principal on the access role, evaluated
// against the synthesized trust policy.
func (p *prover) assume(principal, action string, tags map[string]string, extra map[string]any) iamsim.Request {
	ctx := map[string]any{}
	keys := []string{}
	for k, v := range tags {
		ctx["aws:RequestTag/"+k] = v
		keys = append(keys, k)
	}
	if len(keys) > 0 {
		ctx["aws:TagKeys"] = keys
	}
	for k, v := range extra {
		ctx[k] = v
	}
	var identity []iamsim.Policy
	if principal == p.serviceArn {
		identity = p.service
	}
	return iamsim.Request{Principal: principal, Action: action, Resource: p.accessArn, ResourceAccount: account,
		Context: ctx, IdentityPolicies: identity, ResourcePolicy: p.trust}
}

func (p *prover) trustProofs() []proof {
	tag := map[string]string{tenantid.TagKey: "yellow"}
	other := "arn:aws:iam::" + account + ":role/SomeOtherRole"
	var out []proof
	for _, action := range []string{"sts:AssumeRole", "sts:TagSession"} {
		out = append(out,
			proof{action + " by the service role with the tenant tag", p.assume(p.serviceArn, action, tag, nil), iamsim.Allowed},
			proof{action + " by another role of the account", p.assume(other, action, tag, nil), iamsim.ImplicitlyDenied},
			proof{action + " without the tag", p.assume(p.serviceArn, action, nil, nil), iamsim.ImplicitlyDenied},
			proof{action + " with an empty tag", p.assume(p.serviceArn, action, map[string]string{tenantid.TagKey: ""}, nil), iamsim.ImplicitlyDenied},
			proof{action + " with an extra tag key", p.assume(p.serviceArn, action, map[string]string{tenantid.TagKey: "yellow", "Role": "admin"}, nil), iamsim.ImplicitlyDenied},
			proof{action + " with the tenant tag transitive", p.assume(p.serviceArn, action, tag, map[string]any{"sts:TransitiveTagKeys": []string{tenantid.TagKey}}), iamsim.ImplicitlyDenied},
		)
		// A value with a delimiter would widen a pattern: the trust policy refuses it
		// even from a caller that skipped the format check.
		for _, bad := range []string{"ab/c", "ab.c", "a b", "ab:c", "ab-c", "ab_c", "a@b", "a=b", "a+b"} {
			out = append(out, proof{fmt.Sprintf("%s with tag value %q", action, bad),
				p.assume(p.serviceArn, action, map[string]string{tenantid.TagKey: bad}, nil), iamsim.ImplicitlyDenied})
		}
	}
	// Without sts:TagSession in the trust policy, a tagged AssumeRole fails:
	// STS authorizes the tags as sts:TagSession
	// (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html#id_session-tags_permissions-required).
	noTagSession := p.assume(p.serviceArn, "sts:TagSession", tag, nil)
	noTagSession.ResourcePolicy = withoutAction(p.trust, "sts:TagSession")
	out = append(out, proof{"sts:TagSession when the trust policy lacks it", noTagSession, iamsim.ImplicitlyDenied})
	return out
}

// withoutAction returns a copy of a policy document with action removed
// from every statement.
func withoutAction(doc any, action string) any {
	m := doc.(map[string]any)
	out := map[string]any{"Version": m["Version"]}
	var stmts []any
	for _, s := range m["Statement"].([]any) {
		st := map[string]any{}
		for k, v := range s.(map[string]any) {
			st[k] = v
		}
		var keep []any
		switch a := st["Action"].(type) {
		case string:
			if a != action {
				keep = append(keep, a)
			}
		case []any:
			for _, x := range a {
				if x != action {
					keep = append(keep, x)
				}
			}
		}
		if len(keep) == 0 {
			continue
		}
		st["Action"] = keep
		stmts = append(stmts, st)
	}
	out["Statement"] = stmts
	return out
}

// untaggedProofs: a session without the TenantID tag reaches nothing, even
// data whose key is empty: the role's DenyWithoutTenantTag statement denies it explicitly.
func (p *prover) untaggedProofs() []proof {
	var out []proof
	for _, r := range []iamsim.Request{
		p.data("", "dynamodb:GetItem", p.tableArn, map[string]any{"dynamodb:LeadingKeys": []string{"yellow"}}),
		p.data("", "dynamodb:GetItem", p.tableArn, map[string]any{"dynamodb:LeadingKeys": []string{""}}),
		p.data("", "s3:GetObject", p.bucketArn+"/yellow/x", nil),
		p.data("", "s3:GetObject", p.bucketArn+"//x", nil),
		p.data("", "s3:ListBucket", p.bucketArn, map[string]any{"s3:prefix": "yellow/"}),
		p.data("", "es:ESHttpGet", domainArn+"/yellow", nil),
	} {
		out = append(out, proof{"untagged session: " + r.Action + " " + r.Resource, r, iamsim.ExplicitlyDenied})
	}
	key := p.data("", "kms:Decrypt", p.keyArn["yellow"], withTag(map[string]any{"kms:ViaService": "s3." + region + ".amazonaws.com"}, "yellow"))
	key.ResourcePolicy = p.keyPolicy["yellow"]
	return append(out, proof{"untagged session: kms:Decrypt", key, iamsim.ExplicitlyDenied})
}

// serviceRoleProofs: the service role itself reaches no data, even with a
// TenantID tag of its own; it may only assume the access role.
func (p *prover) serviceRoleProofs() []proof {
	var out []proof
	for _, r := range []iamsim.Request{
		p.data("yellow", "dynamodb:GetItem", p.tableArn, map[string]any{"dynamodb:LeadingKeys": []string{"yellow"}}),
		p.data("yellow", "s3:GetObject", p.bucketArn+"/yellow/x", nil),
		p.data("yellow", "es:ESHttpGet", domainArn+"/yellow", nil),
		p.data("yellow", "kms:Decrypt", p.keyArn["yellow"], withTag(map[string]any{"kms:ViaService": "s3." + region + ".amazonaws.com"}, "yellow")),
	} {
		r.Principal, r.IdentityPolicies = p.serviceArn, p.service
		if r.Action == "kms:Decrypt" {
			r.ResourcePolicy = p.keyPolicy["yellow"]
		}
		out = append(out, proof{"service role: " + r.Action + " " + r.Resource, r, iamsim.ImplicitlyDenied})
	}
	return out
}

// neverGranted: actions whose requests carry no leading keys, or that a
// grant leaves out on purpose.
func (p *prover) neverGranted() []proof {
	var out []proof
	for _, r := range []iamsim.Request{
		p.data("yellow", "dynamodb:Scan", p.tableArn, nil),
		p.data("yellow", "dynamodb:PartiQLSelect", p.tableArn, nil),
		p.data("yellow", "dynamodb:PartiQLSelect", p.tableArn, map[string]any{"dynamodb:LeadingKeys": []string{"yellow"}}),
		p.data("yellow", "dynamodb:Query", p.tableArn+"/index/byStatus", map[string]any{"dynamodb:LeadingKeys": []string{"yellow"}}),
		p.data("yellow", "dynamodb:GetItem", p.tableArn, nil),
		p.data("yellow", "s3:PutObject", p.bucketArn+"/yellow/x", nil),
		p.data("yellow", "s3:ListBucket", p.bucketArn, nil),
		p.data("yellow", "es:ESHttpPost", domainArn+"/_bulk", nil),
		p.data("yellow", "es:ESHttpGet", domainArn+"/_search", nil),
	} {
		out = append(out, proof{"yellow: not granted: " + r.Action + " " + r.Resource + fmt.Sprint(r.Context), r, iamsim.ImplicitlyDenied})
	}
	return out
}

func run(t *testing.T, proofs []proof) {
	t.Helper()
	reqs := make([]iamsim.Request, len(proofs))
	for i := range proofs {
		reqs[i] = proofs[i].req
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	got, err := iamsim.Run(ctx, moduleRoot, reqs)
	if err != nil {
		t.Fatal(err)
	}
	for i, pr := range proofs {
		if got[i].Error != "" || got[i].Decision != pr.want {
			t.Errorf("%s: got %q %s, want %s", pr.name, got[i].Decision, got[i].Error, pr.want)
		}
	}
	t.Logf("%d requests evaluated", len(proofs))
}

// TestPolicyProof evaluates the synthesized policies with the pinned IAM
// evaluator (internal/iamsim): the post's tenants yellow and blue, the
// prefix pair ab and abc both ways, the trust policy, untagged sessions, and
// what no grant allows.
func TestPolicyProof(t *testing.T) {
	f := newFixture(t)
	p := newProver(t, f)
	var proofs []proof
	for _, pair := range [][2]string{{"yellow", "blue"}, {"blue", "yellow"}, {"ab", "abc"}, {"abc", "ab"}} {
		proofs = append(proofs, p.storeProofs(pair[0], pair[1])...)
		proofs = append(proofs, p.keyProofs(pair[0], pair[1])...)
	}
	proofs = append(proofs, p.trustProofs()...)
	proofs = append(proofs, p.untaggedProofs()...)
	proofs = append(proofs, p.neverGranted()...)
	proofs = append(proofs, p.serviceRoleProofs()...)
	run(t, proofs)
}

// TestPolicyProofRandomTenants is a property test: for random pairs of
// distinct valid tenant IDs, half of them one a prefix of the other, every
// store allows the own tenant and denies the other. KMS keys are the
// fixture's yellow key, tagged in the request with each random ID.
func TestPolicyProofRandomTenants(t *testing.T) {
	f := newFixture(t)
	p := newProver(t, f)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(20, seed))
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	randomID := func(max int) string {
		b := make([]byte, 1+rng.IntN(max))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return string(b)
	}
	var proofs []proof
	for i := range 24 {
		a := randomID(tenantid.MaxLen - 1)
		b := randomID(tenantid.MaxLen)
		if i%2 == 0 { // b extends a: the prefix case
			b = a
			for n := 1 + rng.IntN(min(4, tenantid.MaxLen-len(a))); n > 0; n-- {
				b += string(alphabet[rng.IntN(len(alphabet))])
			}
		}
		if a == b {
			continue
		}
		if tenantid.Validate(a) != nil || tenantid.Validate(b) != nil {
			t.Fatalf("generator made an invalid pair %q %q", a, b)
		}
		for _, pair := range [][2]string{{a, b}, {b, a}} {
			proofs = append(proofs, p.storeProofs(pair[0], pair[1])...)
			for _, target := range pair {
				req := p.data(pair[0], "kms:Decrypt", p.keyArn["yellow"], withTag(map[string]any{"kms:ViaService": "s3." + region + ".amazonaws.com"}, target))
				req.ResourcePolicy = p.keyPolicy["yellow"]
				want := iamsim.ImplicitlyDenied
				if target == pair[0] {
					want = iamsim.Allowed
				}
				proofs = append(proofs, proof{fmt.Sprintf("%s: kms:Decrypt on a key tagged %s", pair[0], target), req, want})
			}
		}
	}
	run(t, proofs)
}
