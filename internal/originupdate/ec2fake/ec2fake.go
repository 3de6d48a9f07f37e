// Package ec2fake is an in-memory EC2 for the origin updater's tests and benchmarks: security
// groups with ingress rules, network interfaces, customer-managed prefix lists and tags. It
// enforces the quotas the updater must respect and records every call in order.
//
// Quotas (https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html):
// inbound rules per security group, counted separately for IPv4 and IPv6; security groups per
// network interface; a prefix list's MaxEntries; at most 100 entries added and 100 removed per
// ModifyManagedPrefixList, which names the list's current version
// (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ModifyManagedPrefixList.html).
package ec2fake

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/securestacks/securestacks/internal/originupdate"
)

// Call is one recorded call.
type Call struct {
	Op       string
	Resource string
	Mutating bool
}

type rule struct {
	Port int32
	CIDR string
}

type group struct {
	ID, VpcID, Name string
	Tags            map[string]string
	Rules           map[rule]bool
}

type prefixList struct {
	ID, Family string
	MaxEntries int
	Version    int64
	Entries    map[string]bool
	Tags       map[string]string
}

// EC2 is the fake. The zero value is not usable: call New.
type EC2 struct {
	mu                 sync.Mutex
	RulesPerGroup      int
	GroupsPerInterface int
	groups             map[string]*group
	interfaces         map[string][]string
	lists              map[string]*prefixList
	calls              []Call
	seq                int
	// Fail, when set, is asked before every mutating call (op, the resource, the number of
	// mutating calls made so far); an error it returns is the call's error and nothing changes.
	Fail func(op, resource string, n int) error
}

// New returns an empty EC2 with the default quotas (60 rules, 5 groups).
func New() *EC2 {
	return &EC2{RulesPerGroup: 60, GroupsPerInterface: 5, groups: map[string]*group{}, interfaces: map[string][]string{}, lists: map[string]*prefixList{}}
}

func apiErr(code, format string, args ...any) error {
	return &smithy.GenericAPIError{Code: code, Message: fmt.Sprintf(format, args...)}
}

// AddGroup creates a group with tags and returns its ID.
func (f *EC2) AddGroup(vpcID string, tags map[string]string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.addGroup(vpcID, "", tags)
}

func (f *EC2) addGroup(vpcID, name string, tags map[string]string) string {
	f.seq++
	id := fmt.Sprintf("sg-%08d", f.seq)
	if tags == nil {
		tags = map[string]string{}
	}
	f.groups[id] = &group{ID: id, VpcID: vpcID, Name: name, Tags: tags, Rules: map[rule]bool{}}
	return id
}

// AddInterface creates a network interface with groups.
func (f *EC2) AddInterface(groups ...string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	id := fmt.Sprintf("eni-%08d", f.seq)
	f.interfaces[id] = slices.Clone(groups)
	return id
}

// AddPrefixList creates a list ("IPv4" or "IPv6") at version 1 with entries.
func (f *EC2) AddPrefixList(family string, maxEntries int, tags map[string]string, entries ...string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	id := fmt.Sprintf("pl-%08d", f.seq)
	l := &prefixList{ID: id, Family: family, MaxEntries: maxEntries, Version: 1, Entries: map[string]bool{}, Tags: tags}
	for _, e := range entries {
		l.Entries[e] = true
	}
	f.lists[id] = l
	return id
}

// SetRules puts rules "cidr/port" into a group directly, bypassing the quota: a test's
// starting state.
func (f *EC2) SetRules(groupID string, port int32, cidrs ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range cidrs {
		f.groups[groupID].Rules[rule{port, c}] = true
	}
}

// Calls returns the recorded calls.
func (f *EC2) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// Mutations counts the recorded mutating calls.
func (f *EC2) Mutations() int {
	n := 0
	for _, c := range f.Calls() {
		if c.Mutating {
			n++
		}
	}
	return n
}

// ResetCalls forgets the recorded calls.
func (f *EC2) ResetCalls() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = nil
}

// Effective is what reaches the interface: every "cidr tcp/port" of every group attached to it,
// sorted.
func (f *EC2) Effective(interfaceID string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	set := map[string]bool{}
	for _, g := range f.interfaces[interfaceID] {
		for r := range f.groups[g].Rules {
			set[fmt.Sprintf("%s tcp/%d", r.CIDR, r.Port)] = true
		}
	}
	return sortedKeys(set)
}

// Entries are a prefix list's entries, sorted.
func (f *EC2) Entries(id string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return sortedKeys(f.lists[id].Entries)
}

// Groups are the groups attached to an interface.
func (f *EC2) Groups(interfaceID string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.interfaces[interfaceID])
}

// Snapshot is the whole state as JSON, to compare before and after.
func (f *EC2) Snapshot() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	type g struct {
		Tags  map[string]string
		Rules []string
	}
	type l struct {
		Version int64
		Entries []string
		Tags    map[string]string
	}
	s := struct {
		Groups     map[string]g
		Interfaces map[string][]string
		Lists      map[string]l
	}{map[string]g{}, f.interfaces, map[string]l{}}
	for id, gr := range f.groups {
		rs := map[string]bool{}
		for r := range gr.Rules {
			rs[fmt.Sprintf("%s/%d", r.CIDR, r.Port)] = true
		}
		s.Groups[id] = g{gr.Tags, sortedKeys(rs)}
	}
	for id, pl := range f.lists {
		s.Lists[id] = l{pl.Version, sortedKeys(pl.Entries), pl.Tags}
	}
	b, _ := json.Marshal(s)
	return string(b)
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func (f *EC2) record(op, resource string, mutating bool) error {
	f.calls = append(f.calls, Call{op, resource, mutating})
	if mutating && f.Fail != nil {
		n := 0
		for _, c := range f.calls[:len(f.calls)-1] {
			if c.Mutating {
				n++
			}
		}
		return f.Fail(op, resource, n)
	}
	return nil
}

func toTags(m map[string]string) []types.Tag {
	var out []types.Tag
	for _, k := range sortedKeys(boolKeys(m)) {
		out = append(out, types.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return out
}

func boolKeys(m map[string]string) map[string]bool {
	out := map[string]bool{}
	for k := range m {
		out[k] = true
	}
	return out
}

func (f *EC2) DescribeSecurityGroups(_ context.Context, in *ec2.DescribeSecurityGroupsInput, _ ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	_ = f.record("DescribeSecurityGroups", "", false)
	out := &ec2.DescribeSecurityGroupsOutput{}
	var ids []string
	for id := range f.groups {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		g := f.groups[id]
		if len(in.GroupIds) > 0 && !slices.Contains(in.GroupIds, id) {
			continue
		}
		if !matches(g.Tags, in.Filters) {
			continue
		}
		sg := types.SecurityGroup{GroupId: aws.String(id), VpcId: aws.String(g.VpcID), Tags: toTags(g.Tags)}
		byPort := map[int32]*types.IpPermission{}
		var ports []int32
		for r := range g.Rules {
			p, ok := byPort[r.Port]
			if !ok {
				p = &types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(r.Port), ToPort: aws.Int32(r.Port)}
				byPort[r.Port] = p
				ports = append(ports, r.Port)
			}
			if strings.Contains(r.CIDR, ":") {
				p.Ipv6Ranges = append(p.Ipv6Ranges, types.Ipv6Range{CidrIpv6: aws.String(r.CIDR)})
			} else {
				p.IpRanges = append(p.IpRanges, types.IpRange{CidrIp: aws.String(r.CIDR)})
			}
		}
		slices.Sort(ports)
		for _, port := range ports {
			sg.IpPermissions = append(sg.IpPermissions, *byPort[port])
		}
		out.SecurityGroups = append(out.SecurityGroups, sg)
	}
	return out, nil
}

func matches(tags map[string]string, filters []types.Filter) bool {
	for _, fl := range filters {
		key, ok := strings.CutPrefix(aws.ToString(fl.Name), "tag:")
		if !ok {
			continue
		}
		if v, has := tags[key]; !has || !slices.Contains(fl.Values, v) {
			return false
		}
	}
	return true
}

func (f *EC2) DescribeNetworkInterfaces(_ context.Context, in *ec2.DescribeNetworkInterfacesInput, _ ...func(*ec2.Options)) (*ec2.DescribeNetworkInterfacesOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	_ = f.record("DescribeNetworkInterfaces", "", false)
	var want []string
	for _, fl := range in.Filters {
		if aws.ToString(fl.Name) == "group-id" {
			want = fl.Values
		}
	}
	out := &ec2.DescribeNetworkInterfacesOutput{}
	for _, id := range sortedKeys(boolKeys(mapOfSlices(f.interfaces))) {
		gs := f.interfaces[id]
		if len(want) > 0 && !slices.ContainsFunc(gs, func(g string) bool { return slices.Contains(want, g) }) {
			continue
		}
		ni := types.NetworkInterface{NetworkInterfaceId: aws.String(id)}
		for _, g := range gs {
			ni.Groups = append(ni.Groups, types.GroupIdentifier{GroupId: aws.String(g)})
		}
		out.NetworkInterfaces = append(out.NetworkInterfaces, ni)
	}
	return out, nil
}

func mapOfSlices(m map[string][]string) map[string]string {
	out := map[string]string{}
	for k := range m {
		out[k] = ""
	}
	return out
}

func (f *EC2) CreateSecurityGroup(_ context.Context, in *ec2.CreateSecurityGroupInput, _ ...func(*ec2.Options)) (*ec2.CreateSecurityGroupOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("CreateSecurityGroup", aws.ToString(in.GroupName), true); err != nil {
		return nil, err
	}
	for _, g := range f.groups {
		if g.Name == aws.ToString(in.GroupName) && g.VpcID == aws.ToString(in.VpcId) {
			return nil, apiErr("InvalidGroup.Duplicate", "The security group '%s' already exists", g.Name)
		}
	}
	tags := map[string]string{}
	for _, ts := range in.TagSpecifications {
		for _, t := range ts.Tags {
			tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
	}
	id := f.addGroup(aws.ToString(in.VpcId), aws.ToString(in.GroupName), tags)
	return &ec2.CreateSecurityGroupOutput{GroupId: aws.String(id)}, nil
}

func rulesOf(perms []types.IpPermission) ([]rule, error) {
	var out []rule
	for _, p := range perms {
		if aws.ToString(p.IpProtocol) != "tcp" || aws.ToInt32(p.FromPort) != aws.ToInt32(p.ToPort) {
			return nil, apiErr("InvalidParameterValue", "the fake takes tcp single-port rules only")
		}
		for _, r := range p.IpRanges {
			out = append(out, rule{*p.FromPort, aws.ToString(r.CidrIp)})
		}
		for _, r := range p.Ipv6Ranges {
			out = append(out, rule{*p.FromPort, aws.ToString(r.CidrIpv6)})
		}
	}
	return out, nil
}

func count(rules map[rule]bool) (v4, v6 int) {
	for r := range rules {
		if strings.Contains(r.CIDR, ":") {
			v6++
		} else {
			v4++
		}
	}
	return v4, v6
}

func (f *EC2) AuthorizeSecurityGroupIngress(_ context.Context, in *ec2.AuthorizeSecurityGroupIngressInput, _ ...func(*ec2.Options)) (*ec2.AuthorizeSecurityGroupIngressOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := aws.ToString(in.GroupId)
	if err := f.record("AuthorizeSecurityGroupIngress", id, true); err != nil {
		return nil, err
	}
	g, ok := f.groups[id]
	if !ok {
		return nil, apiErr("InvalidGroup.NotFound", "The security group '%s' does not exist", id)
	}
	rs, err := rulesOf(in.IpPermissions)
	if err != nil {
		return nil, err
	}
	next := map[rule]bool{}
	for r := range g.Rules {
		next[r] = true
	}
	for _, r := range rs {
		if next[r] {
			return nil, apiErr("InvalidPermission.Duplicate", "the specified rule %q already exists", r.CIDR)
		}
		next[r] = true
	}
	if v4, v6 := count(next); v4 > f.RulesPerGroup || v6 > f.RulesPerGroup {
		return nil, apiErr("RulesPerSecurityGroupLimitExceeded", "The maximum number of rules per security group has been reached.")
	}
	g.Rules = next
	return &ec2.AuthorizeSecurityGroupIngressOutput{Return: aws.Bool(true)}, nil
}

func (f *EC2) RevokeSecurityGroupIngress(_ context.Context, in *ec2.RevokeSecurityGroupIngressInput, _ ...func(*ec2.Options)) (*ec2.RevokeSecurityGroupIngressOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := aws.ToString(in.GroupId)
	if err := f.record("RevokeSecurityGroupIngress", id, true); err != nil {
		return nil, err
	}
	g, ok := f.groups[id]
	if !ok {
		return nil, apiErr("InvalidGroup.NotFound", "The security group '%s' does not exist", id)
	}
	rs, err := rulesOf(in.IpPermissions)
	if err != nil {
		return nil, err
	}
	for _, r := range rs {
		if !g.Rules[r] {
			return nil, apiErr("InvalidPermission.NotFound", "The specified rule does not exist in this security group.")
		}
	}
	for _, r := range rs {
		delete(g.Rules, r)
	}
	return &ec2.RevokeSecurityGroupIngressOutput{Return: aws.Bool(true)}, nil
}

func (f *EC2) ModifyNetworkInterfaceAttribute(_ context.Context, in *ec2.ModifyNetworkInterfaceAttributeInput, _ ...func(*ec2.Options)) (*ec2.ModifyNetworkInterfaceAttributeOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := aws.ToString(in.NetworkInterfaceId)
	if err := f.record("ModifyNetworkInterfaceAttribute", id, true); err != nil {
		return nil, err
	}
	if _, ok := f.interfaces[id]; !ok {
		return nil, apiErr("InvalidNetworkInterfaceID.NotFound", "The networkInterface ID '%s' does not exist", id)
	}
	if len(in.Groups) > f.GroupsPerInterface {
		return nil, apiErr("SecurityGroupsPerInterfaceLimitExceeded", "The maximum number of security groups per interface has been reached.")
	}
	for _, g := range in.Groups {
		if _, ok := f.groups[g]; !ok {
			return nil, apiErr("InvalidGroup.NotFound", "The security group '%s' does not exist", g)
		}
	}
	f.interfaces[id] = slices.Clone(in.Groups)
	return &ec2.ModifyNetworkInterfaceAttributeOutput{}, nil
}

func (f *EC2) DescribeManagedPrefixLists(_ context.Context, in *ec2.DescribeManagedPrefixListsInput, _ ...func(*ec2.Options)) (*ec2.DescribeManagedPrefixListsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	_ = f.record("DescribeManagedPrefixLists", strings.Join(in.PrefixListIds, ","), false)
	out := &ec2.DescribeManagedPrefixListsOutput{}
	for _, id := range in.PrefixListIds {
		l, ok := f.lists[id]
		if !ok {
			return nil, apiErr("InvalidPrefixListID.NotFound", "The prefix list ID '%s' does not exist", id)
		}
		out.PrefixLists = append(out.PrefixLists, types.ManagedPrefixList{
			PrefixListId: aws.String(id), AddressFamily: aws.String(l.Family), MaxEntries: aws.Int32(int32(l.MaxEntries)),
			Version: aws.Int64(l.Version), State: types.PrefixListStateModifyComplete, Tags: toTags(l.Tags),
		})
	}
	return out, nil
}

func (f *EC2) GetManagedPrefixListEntries(_ context.Context, in *ec2.GetManagedPrefixListEntriesInput, _ ...func(*ec2.Options)) (*ec2.GetManagedPrefixListEntriesOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := aws.ToString(in.PrefixListId)
	_ = f.record("GetManagedPrefixListEntries", id, false)
	l, ok := f.lists[id]
	if !ok {
		return nil, apiErr("InvalidPrefixListID.NotFound", "The prefix list ID '%s' does not exist", id)
	}
	// Pages of 100 entries, as the real service's maximum page size.
	entries := sortedKeys(l.Entries)
	start := 0
	if in.NextToken != nil {
		fmt.Sscanf(*in.NextToken, "%d", &start)
	}
	end := min(start+100, len(entries))
	out := &ec2.GetManagedPrefixListEntriesOutput{}
	for _, e := range entries[start:end] {
		out.Entries = append(out.Entries, types.PrefixListEntry{Cidr: aws.String(e)})
	}
	if end < len(entries) {
		out.NextToken = aws.String(fmt.Sprint(end))
	}
	return out, nil
}

func (f *EC2) ModifyManagedPrefixList(_ context.Context, in *ec2.ModifyManagedPrefixListInput, _ ...func(*ec2.Options)) (*ec2.ModifyManagedPrefixListOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := aws.ToString(in.PrefixListId)
	if err := f.record("ModifyManagedPrefixList", id, true); err != nil {
		return nil, err
	}
	l, ok := f.lists[id]
	switch {
	case !ok:
		return nil, apiErr("InvalidPrefixListID.NotFound", "The prefix list ID '%s' does not exist", id)
	case in.CurrentVersion == nil || *in.CurrentVersion != l.Version:
		return nil, apiErr("PrefixListVersionMismatch", "The prefix list has the incorrect version number.")
	case len(in.AddEntries) > 100 || len(in.RemoveEntries) > 100:
		return nil, apiErr("InvalidParameterValue", "at most 100 entries may be added and 100 removed per request")
	case in.MaxEntries != nil && (len(in.AddEntries) > 0 || len(in.RemoveEntries) > 0):
		return nil, apiErr("InvalidParameterCombination", "You cannot modify the entries of a prefix list and resize it at the same time.")
	}
	next := map[string]bool{}
	for e := range l.Entries {
		next[e] = true
	}
	for _, e := range in.RemoveEntries {
		if !next[aws.ToString(e.Cidr)] {
			return nil, apiErr("InvalidPrefixListModification", "The entry %s does not exist in the prefix list.", aws.ToString(e.Cidr))
		}
		delete(next, aws.ToString(e.Cidr))
	}
	for _, e := range in.AddEntries {
		c := aws.ToString(e.Cidr)
		if next[c] {
			return nil, apiErr("InvalidPrefixListModification", "The entry %s already exists in the prefix list.", c)
		}
		if strings.Contains(c, ":") != (l.Family == "IPv6") {
			return nil, apiErr("InvalidPrefixListModification", "The entry %s is not an %s CIDR.", c, l.Family)
		}
		next[c] = true
	}
	if len(next) > l.MaxEntries {
		return nil, apiErr("PrefixListMaxEntriesExceeded", "The prefix list has reached its maximum number of entries (%d).", l.MaxEntries)
	}
	l.Entries = next
	l.Version++
	return &ec2.ModifyManagedPrefixListOutput{}, nil
}

func (f *EC2) CreateTags(_ context.Context, in *ec2.CreateTagsInput, _ ...func(*ec2.Options)) (*ec2.CreateTagsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("CreateTags", strings.Join(in.Resources, ","), true); err != nil {
		return nil, err
	}
	for _, r := range in.Resources {
		var tags map[string]string
		if g, ok := f.groups[r]; ok {
			tags = g.Tags
		} else if l, ok := f.lists[r]; ok {
			if l.Tags == nil {
				l.Tags = map[string]string{}
			}
			tags = l.Tags
		} else {
			return nil, apiErr("InvalidID", "The ID '%s' is not valid", r)
		}
		for _, t := range in.Tags {
			tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
	}
	return &ec2.CreateTagsOutput{}, nil
}

var _ originupdate.EC2 = (*EC2)(nil)
