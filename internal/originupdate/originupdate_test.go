package originupdate_test

import (
	"context"
	"crypto/md5" //nolint:gosec // the document's published checksum
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/securestacks/securestacks/internal/originupdate"
	"github.com/securestacks/securestacks/internal/originupdate/ec2fake"
)

const name = "test-origin"

func owner() map[string]string { return map[string]string{originupdate.OwnerTagKey: name} }

func readFixture(t testing.TB, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func md5Of(b []byte) string {
	s := md5.Sum(b) //nolint:gosec // see the import
	return hex.EncodeToString(s[:])
}

// rig is an updater over a fake EC2 for one target.
type rig struct {
	fake *ec2fake.EC2
	u    *originupdate.Updater
	eni  string
	v4   string
	v6   string
}

func newRig(target originupdate.Target, ports ...int32) *rig {
	f := ec2fake.New()
	r := &rig{fake: f}
	u := &originupdate.Updater{EC2: f, Name: name, Options: originupdate.Options{Target: target, Ports: ports}}
	switch target {
	case originupdate.TargetSecurityGroups:
		u.VpcID = "vpc-1"
		u.GroupID = f.AddGroup("vpc-1", owner())
		other := f.AddGroup("vpc-1", nil) // the origin's own group, not ours
		r.eni = f.AddInterface(other, u.GroupID)
	case originupdate.TargetPrefixList:
		r.v4 = f.AddPrefixList("IPv4", 60, owner())
		r.v6 = f.AddPrefixList("IPv6", 60, owner())
		u.PrefixListIDs = []string{r.v4, r.v6}
	}
	r.u = u
	return r
}

// effective is what the target lets in, as "cidr tcp/port" (groups) or "cidr" (prefix lists).
func (r *rig) effective() []string {
	if r.eni != "" {
		return r.fake.Effective(r.eni)
	}
	return slices.Sorted(slices.Values(append(r.fake.Entries(r.v4), r.fake.Entries(r.v6)...)))
}

func (r *rig) update(t testing.TB, file string) (originupdate.Plan, error) {
	t.Helper()
	b := readFixture(t, file)
	return r.u.Update(context.Background(), b, md5Of(b), false)
}

// want is the expected effective set for ranges on ports (nil ports: prefix-list entries).
func want(ports []int32, cidrs ...string) []string {
	var out []string
	for _, c := range cidrs {
		if len(ports) == 0 {
			out = append(out, c)
		}
		for _, p := range ports {
			out = append(out, fmt.Sprintf("%s tcp/%d", c, p))
		}
	}
	slices.Sort(out)
	return out
}

var baseRanges = []string{"130.176.0.0/18", "15.158.0.0/16", "64.252.64.0/18", "205.251.218.0/24", "2600:9000:2000::/36", "2600:9000:1000::/36"}

func mutations(calls []ec2fake.Call) []string {
	var out []string
	for _, c := range calls {
		if c.Mutating {
			out = append(out, c.Op)
		}
	}
	return out
}

// GIVEN the base document applied WHEN each fixture arrives THEN the target holds exactly its
// ranges, with the calls listed, in that order.
func TestUpdateFixtures(t *testing.T) {
	cases := []struct {
		file      string
		effective []string
		groups    []string // mutating calls, security-group target
		lists     []string // mutating calls, prefix-list target
		err       error
	}{
		{"base.json", baseRanges, nil, nil, nil}, // a rerun of the same document changes nothing
		{"added.json", append(slices.Clone(baseRanges), "52.46.0.0/18"),
			[]string{"AuthorizeSecurityGroupIngress", "CreateTags"}, []string{"ModifyManagedPrefixList", "CreateTags"}, nil},
		{"removed.json", baseRanges[1:],
			[]string{"RevokeSecurityGroupIngress", "CreateTags"}, []string{"ModifyManagedPrefixList", "CreateTags"}, nil},
		{"older.json", baseRanges, nil, nil, nil},
		{"ipv6only.json", []string{"2600:9000:2000::/36", "2600:9000:1000::/36", "2600:9000:3000::/36"},
			[]string{"AuthorizeSecurityGroupIngress", "RevokeSecurityGroupIngress", "CreateTags"},
			[]string{"ModifyManagedPrefixList", "ModifyManagedPrefixList", "CreateTags"}, nil},
		{"empty-service.json", baseRanges, nil, nil, originupdate.ErrNoRanges},
	}
	for _, target := range []originupdate.Target{originupdate.TargetSecurityGroups, originupdate.TargetPrefixList} {
		for _, tc := range cases {
			t.Run(string(target)+"/"+tc.file, func(t *testing.T) {
				var ports []int32
				wantCalls := tc.lists
				if target == originupdate.TargetSecurityGroups {
					ports, wantCalls = []int32{443}, tc.groups
				}
				r := newRig(target, ports...)
				if _, err := r.update(t, "base.json"); err != nil {
					t.Fatal(err)
				}
				if got := r.effective(); !slices.Equal(got, want(ports, baseRanges...)) {
					t.Fatalf("after base.json: %v", got)
				}
				r.fake.ResetCalls()
				before := r.fake.Snapshot()
				file := tc.file
				if file == "removed.json" {
					// removed.json drops 205.251.218.0/24, the fourth range.
					tc.effective = slices.DeleteFunc(slices.Clone(baseRanges), func(s string) bool { return s == "205.251.218.0/24" })
				}
				_, err := r.update(t, file)
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				if got := mutations(r.fake.Calls()); !slices.Equal(got, wantCalls) {
					t.Errorf("mutating calls = %v, want %v", got, wantCalls)
				}
				if got := r.effective(); !slices.Equal(got, want(ports, tc.effective...)) {
					t.Errorf("effective = %v, want %v", got, want(ports, tc.effective...))
				}
				if tc.err != nil || wantCalls == nil {
					if after := r.fake.Snapshot(); after != before {
						t.Errorf("state changed:\nbefore %s\nafter  %s", before, after)
					}
				}
				// A second run of the same document changes nothing.
				r.fake.ResetCalls()
				if _, err := r.update(t, file); !errors.Is(err, tc.err) {
					t.Fatal(err)
				}
				if got := mutations(r.fake.Calls()); len(got) != 0 {
					t.Errorf("rerun made mutating calls %v", got)
				}
			})
		}
	}
}

func TestMD5MismatchChangesNothing(t *testing.T) {
	for _, target := range []originupdate.Target{originupdate.TargetSecurityGroups, originupdate.TargetPrefixList} {
		r := newRig(target)
		before := r.fake.Snapshot()
		_, err := r.u.Update(context.Background(), readFixture(t, "base.json"), strings.Repeat("0", 32), false)
		if !errors.Is(err, originupdate.ErrMD5Mismatch) {
			t.Fatalf("%s: err = %v, want ErrMD5Mismatch", target, err)
		}
		if len(r.fake.Calls()) != 0 || r.fake.Snapshot() != before {
			t.Errorf("%s: calls %v after an MD5 mismatch", target, r.fake.Calls())
		}
	}
}

func TestDryRunChangesNothing(t *testing.T) {
	r := newRig(originupdate.TargetSecurityGroups, 80, 443)
	b := readFixture(t, "base.json")
	p, err := r.u.Update(context.Background(), b, md5Of(b), true)
	if err != nil {
		t.Fatal(err)
	}
	if p.Mutations() != 2 || !strings.Contains(p.String(), "AuthorizeSecurityGroupIngress") {
		t.Errorf("plan = %s", p)
	}
	if got := mutations(r.fake.Calls()); len(got) != 0 {
		t.Errorf("dry run made %v", got)
	}
}

// manyDoc is a document with n IPv4 ranges of the service.
func manyDoc(token string, n int) []byte {
	d := originupdate.Document{SyncToken: token, CreateDate: "2023-11-14-22-13-20"}
	for i := range n {
		d.Prefixes = append(d.Prefixes, originupdate.IPv4Prefix{IPPrefix: fmt.Sprintf("10.%d.%d.0/24", i/256, i%256), Region: "GLOBAL", Service: originupdate.DefaultService, NetworkBorderGroup: "GLOBAL"})
	}
	b, _ := json.Marshal(d)
	return b
}

// GIVEN one group on an interface that has another WHEN 120 ranges on two ports arrive (240
// rules) THEN the updater creates three groups, fills them, attaches them all, and the
// interface holds five groups; 121 ranges (242 rules, five groups of ours) fail and change
// nothing.
func TestManyRangesNeedMoreGroups(t *testing.T) {
	r := newRig(originupdate.TargetSecurityGroups, 80, 443)
	b := manyDoc("1700000000", 120)
	if _, err := r.u.Update(context.Background(), b, md5Of(b), false); err != nil {
		t.Fatal(err)
	}
	if got := len(r.fake.Effective(r.eni)); got != 240 {
		t.Errorf("effective rules = %d, want 240", got)
	}
	if got := len(r.fake.Groups(r.eni)); got != 5 {
		t.Errorf("groups on the interface = %d, want 5", got)
	}
	got := mutations(r.fake.Calls())
	wantOrder := []string{"CreateSecurityGroup", "CreateSecurityGroup", "CreateSecurityGroup",
		"AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupIngress",
		"ModifyNetworkInterfaceAttribute", "CreateTags"}
	if !slices.Equal(got, wantOrder) {
		t.Errorf("calls = %v, want %v", got, wantOrder)
	}

	r.fake.ResetCalls()
	before := r.fake.Snapshot()
	b = manyDoc("1700000100", 121)
	_, err := r.u.Update(context.Background(), b, md5Of(b), false)
	if !errors.Is(err, originupdate.ErrQuota) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("err = %v, want a one-line ErrQuota", err)
	}
	if m := mutations(r.fake.Calls()); len(m) != 0 || r.fake.Snapshot() != before {
		t.Errorf("a quota error changed things: %v", m)
	}
}

func TestPrefixListQuotaChangesNothing(t *testing.T) {
	r := newRig(originupdate.TargetPrefixList)
	before := r.fake.Snapshot()
	b := manyDoc("1700000000", 61)
	_, err := r.u.Update(context.Background(), b, md5Of(b), false)
	if !errors.Is(err, originupdate.ErrQuota) || !strings.Contains(err.Error(), "MaxEntries 60") {
		t.Fatalf("err = %v, want ErrQuota naming MaxEntries", err)
	}
	if m := mutations(r.fake.Calls()); len(m) != 0 || r.fake.Snapshot() != before {
		t.Errorf("a quota error changed things: %v", m)
	}
}

// GIVEN a run that fails half way WHEN the same document runs again THEN it finishes the job.
func TestPartialFailureResumes(t *testing.T) {
	for _, target := range []originupdate.Target{originupdate.TargetSecurityGroups, originupdate.TargetPrefixList} {
		t.Run(string(target), func(t *testing.T) {
			var ports []int32
			if target == originupdate.TargetSecurityGroups {
				ports = []int32{443}
			}
			r := newRig(target, ports...)
			if _, err := r.update(t, "base.json"); err != nil {
				t.Fatal(err)
			}
			r.fake.ResetCalls()
			boom := errors.New("injected")
			r.fake.Fail = func(op, _ string, n int) error {
				if n == 1 {
					return boom
				}
				return nil
			}
			if _, err := r.update(t, "ipv6only.json"); !errors.Is(err, boom) {
				t.Fatalf("err = %v, want the injected fault", err)
			}
			r.fake.Fail = nil
			if _, err := r.update(t, "ipv6only.json"); err != nil {
				t.Fatal(err)
			}
			if got, w := r.effective(), want(ports, "2600:9000:2000::/36", "2600:9000:1000::/36", "2600:9000:3000::/36"); !slices.Equal(got, w) {
				t.Errorf("effective = %v, want %v", got, w)
			}
		})
	}
}
