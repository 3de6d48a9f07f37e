package originupdate_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/securestacks/securestacks/internal/originupdate"
	"github.com/securestacks/securestacks/internal/originupdate/ec2fake"
)

// watched checks, after every call that could remove access, that the target still lets in
// everything both the old and the new document allow: authorize before revoke.
type watched struct {
	*ec2fake.EC2
	t    *testing.T
	r    *rig
	keep []string
}

func (w *watched) check(op string) {
	w.t.Helper()
	have := w.r.effective()
	for _, k := range w.keep {
		if _, found := slices.BinarySearch(have, k); !found {
			w.t.Fatalf("after %s: %s is not let in although both documents allow it", op, k)
		}
	}
}

func (w *watched) RevokeSecurityGroupIngress(ctx context.Context, in *ec2.RevokeSecurityGroupIngressInput, o ...func(*ec2.Options)) (*ec2.RevokeSecurityGroupIngressOutput, error) {
	out, err := w.EC2.RevokeSecurityGroupIngress(ctx, in, o...)
	w.check("RevokeSecurityGroupIngress")
	return out, err
}

func (w *watched) ModifyNetworkInterfaceAttribute(ctx context.Context, in *ec2.ModifyNetworkInterfaceAttributeInput, o ...func(*ec2.Options)) (*ec2.ModifyNetworkInterfaceAttributeOutput, error) {
	out, err := w.EC2.ModifyNetworkInterfaceAttribute(ctx, in, o...)
	w.check("ModifyNetworkInterfaceAttribute")
	return out, err
}

func (w *watched) ModifyManagedPrefixList(ctx context.Context, in *ec2.ModifyManagedPrefixListInput, o ...func(*ec2.Options)) (*ec2.ModifyManagedPrefixListOutput, error) {
	out, err := w.EC2.ModifyManagedPrefixList(ctx, in, o...)
	w.check("ModifyManagedPrefixList")
	return out, err
}

// randomRanges draws up to n IPv4 and IPv6 ranges from a small pool, so that old and new
// overlap.
func randomRanges(rng *rand.Rand, n int) (v4, v6 []string) {
	for range rng.IntN(n + 1) {
		v4 = append(v4, fmt.Sprintf("10.0.%d.0/24", rng.IntN(2*n+1)))
	}
	for range rng.IntN(n/2 + 1) {
		v6 = append(v6, netip.MustParsePrefix(fmt.Sprintf("2600:9000:%x::/48", rng.IntN(n+1))).String())
	}
	if len(v4)+len(v6) == 0 {
		v4 = []string{"10.255.0.0/24"}
	}
	return slices.Compact(slices.Sorted(slices.Values(v4))), slices.Compact(slices.Sorted(slices.Values(v6)))
}

func docOf(token int, v4, v6 []string) []byte {
	d := originupdate.Document{SyncToken: fmt.Sprint(token)}
	for _, c := range v4 {
		d.Prefixes = append(d.Prefixes, originupdate.IPv4Prefix{IPPrefix: c, Region: "GLOBAL", Service: originupdate.DefaultService})
	}
	for _, c := range v6 {
		d.IPv6Prefixes = append(d.IPv6Prefixes, originupdate.IPv6Prefix{IPv6Prefix: c, Region: "GLOBAL", Service: originupdate.DefaultService})
	}
	b, _ := json.Marshal(d)
	return b
}

// For random old and new range sets and small quotas: after applying new over old the target
// lets in exactly new, never less than old ∩ new on the way, and a second apply changes
// nothing; or the plan hits a quota and nothing changed at all.
func TestPropertyApplyConverges(t *testing.T) {
	rng := rand.New(rand.NewPCG(18, 2026))
	quotaHits := 0
	for iter := range 300 {
		target := []originupdate.Target{originupdate.TargetSecurityGroups, originupdate.TargetPrefixList}[iter%2]
		var ports []int32
		if target == originupdate.TargetSecurityGroups {
			ports = [][]int32{{443}, {80, 443}}[rng.IntN(2)]
		}
		r := newRig(target, ports...)
		r.fake.RulesPerGroup = 2 + rng.IntN(8)
		r.fake.GroupsPerInterface = 2 + rng.IntN(4)
		r.u.Options.Quotas = originupdate.Quotas{RulesPerGroup: r.fake.RulesPerGroup, GroupsPerInterface: r.fake.GroupsPerInterface}
		w := &watched{EC2: r.fake, t: t, r: r}
		r.u.EC2 = w
		oldV4, oldV6 := randomRanges(rng, 12)
		newV4, newV6 := randomRanges(rng, 12)
		ctx := context.Background()

		old := docOf(1700000000, oldV4, oldV6)
		if _, err := r.u.Update(ctx, old, md5Of(old), false); err != nil {
			if !errors.Is(err, originupdate.ErrQuota) {
				t.Fatalf("iteration %d: old: %v", iter, err)
			}
			continue
		}
		if got := r.effective(); !slices.Equal(got, want(ports, slices.Concat(oldV4, oldV6)...)) {
			t.Fatalf("iteration %d: after old: %v", iter, got)
		}
		oldSet := want(ports, slices.Concat(oldV4, oldV6)...)
		newSet := want(ports, slices.Concat(newV4, newV6)...)
		w.keep = slices.DeleteFunc(slices.Clone(oldSet), func(s string) bool { _, in := slices.BinarySearch(newSet, s); return !in })

		before := r.fake.Snapshot()
		r.fake.ResetCalls()
		nu := docOf(1700000100, newV4, newV6)
		_, err := r.u.Update(ctx, nu, md5Of(nu), false)
		if errors.Is(err, originupdate.ErrQuota) {
			quotaHits++
			if m := mutations(r.fake.Calls()); len(m) != 0 || r.fake.Snapshot() != before {
				t.Fatalf("iteration %d: a quota error made %v", iter, m)
			}
			continue
		}
		if err != nil {
			t.Fatalf("iteration %d (%s, quotas %d/%d): %v", iter, target, r.fake.RulesPerGroup, r.fake.GroupsPerInterface, err)
		}
		if got := r.effective(); !slices.Equal(got, newSet) {
			t.Fatalf("iteration %d: effective %v, want %v", iter, got, newSet)
		}
		r.fake.ResetCalls()
		if _, err := r.u.Update(ctx, nu, md5Of(nu), false); err != nil {
			t.Fatal(err)
		}
		if m := mutations(r.fake.Calls()); len(m) != 0 {
			t.Fatalf("iteration %d: second apply made %s", iter, strings.Join(m, ","))
		}
	}
	if quotaHits == 0 {
		t.Error("no iteration hit a quota: the generator does not cover the refusal path")
	}
}
