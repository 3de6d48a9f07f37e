package originupdate

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/securestacks/securestacks/internal/origincontract"
)

// Tags the updater reads and writes (see origincontract).
const (
	OwnerTagKey = origincontract.OwnerTagKey
	TokenTagKey = origincontract.TokenTagKey
)

// One narrow interface per EC2 operation the updater calls.
type (
	DescribeSecurityGroupsAPI interface {
		DescribeSecurityGroups(ctx context.Context, in *ec2.DescribeSecurityGroupsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error)
	}
	DescribeNetworkInterfacesAPI interface {
		DescribeNetworkInterfaces(ctx context.Context, in *ec2.DescribeNetworkInterfacesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeNetworkInterfacesOutput, error)
	}
	CreateSecurityGroupAPI interface {
		CreateSecurityGroup(ctx context.Context, in *ec2.CreateSecurityGroupInput, optFns ...func(*ec2.Options)) (*ec2.CreateSecurityGroupOutput, error)
	}
	AuthorizeSecurityGroupIngressAPI interface {
		AuthorizeSecurityGroupIngress(ctx context.Context, in *ec2.AuthorizeSecurityGroupIngressInput, optFns ...func(*ec2.Options)) (*ec2.AuthorizeSecurityGroupIngressOutput, error)
	}
	RevokeSecurityGroupIngressAPI interface {
		RevokeSecurityGroupIngress(ctx context.Context, in *ec2.RevokeSecurityGroupIngressInput, optFns ...func(*ec2.Options)) (*ec2.RevokeSecurityGroupIngressOutput, error)
	}
	ModifyNetworkInterfaceAttributeAPI interface {
		ModifyNetworkInterfaceAttribute(ctx context.Context, in *ec2.ModifyNetworkInterfaceAttributeInput, optFns ...func(*ec2.Options)) (*ec2.ModifyNetworkInterfaceAttributeOutput, error)
	}
	DescribeManagedPrefixListsAPI interface {
		DescribeManagedPrefixLists(ctx context.Context, in *ec2.DescribeManagedPrefixListsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeManagedPrefixListsOutput, error)
	}
	GetManagedPrefixListEntriesAPI interface {
		GetManagedPrefixListEntries(ctx context.Context, in *ec2.GetManagedPrefixListEntriesInput, optFns ...func(*ec2.Options)) (*ec2.GetManagedPrefixListEntriesOutput, error)
	}
	ModifyManagedPrefixListAPI interface {
		ModifyManagedPrefixList(ctx context.Context, in *ec2.ModifyManagedPrefixListInput, optFns ...func(*ec2.Options)) (*ec2.ModifyManagedPrefixListOutput, error)
	}
	CreateTagsAPI interface {
		CreateTags(ctx context.Context, in *ec2.CreateTagsInput, optFns ...func(*ec2.Options)) (*ec2.CreateTagsOutput, error)
	}
)

// EC2 is every operation the updater may call; *ec2.Client is one.
type EC2 interface {
	DescribeSecurityGroupsAPI
	DescribeNetworkInterfacesAPI
	CreateSecurityGroupAPI
	AuthorizeSecurityGroupIngressAPI
	RevokeSecurityGroupIngressAPI
	ModifyNetworkInterfaceAttributeAPI
	DescribeManagedPrefixListsAPI
	GetManagedPrefixListEntriesAPI
	ModifyManagedPrefixListAPI
	CreateTagsAPI
}

var _ EC2 = (*ec2.Client)(nil)

// Updater applies documents to one target.
type Updater struct {
	EC2 EC2
	// Name is the value of OwnerTagKey on the owned resources and the name prefix of the
	// groups the updater creates.
	Name string
	// Options: the target, ports and quotas.
	Options Options
	// Service and Region select the ranges (DefaultService, GlobalRegion when empty).
	Service, Region string
	// PrefixListIDs are the target lists (TargetPrefixList): one per address family.
	PrefixListIDs []string
	// GroupID is the first group (TargetSecurityGroups), made by the construct and tagged with
	// OwnerTagKey; VpcID is where the updater creates more.
	GroupID, VpcID string
	// Call runs one EC2 call; the Lambda passes its retry loop. Default: call once.
	Call func(ctx context.Context, op func(context.Context) error) error
}

func (u *Updater) call(ctx context.Context, op func(context.Context) error) error {
	if u.Call != nil {
		return u.Call(ctx, op)
	}
	return op(ctx)
}

// Ranges selects the updater's service and region from doc.
func (u *Updater) Ranges(doc *Document) (Ranges, error) {
	service, region := u.Service, u.Region
	if service == "" {
		service = DefaultService
	}
	if region == "" {
		region = GlobalRegion
	}
	return doc.Select(service, region)
}

// Plan reads the target's state and plans doc onto it; it changes nothing.
func (u *Updater) Plan(ctx context.Context, doc *Document) (Plan, error) {
	want, err := u.Ranges(doc)
	if err != nil {
		return Plan{}, err
	}
	st, err := u.State(ctx)
	if err != nil {
		return Plan{}, err
	}
	return NewPlan(u.Options, st, want, doc.SyncToken)
}

// Apply plans doc and makes the plan's calls in order. A call that fails stops the run; the
// next run reads the state again and carries on from where this one stopped.
func (u *Updater) Apply(ctx context.Context, doc *Document) (Plan, error) {
	p, err := u.Plan(ctx, doc)
	if err != nil {
		return Plan{}, err
	}
	created := map[string]string{}
	resolve := func(id string) string {
		if real, ok := created[id]; ok {
			return real
		}
		return id
	}
	for i, s := range p.Steps {
		if err := u.step(ctx, s, created, resolve); err != nil {
			return p, fmt.Errorf("step %d of %d (%s): %w", i+1, len(p.Steps), s.Kind, err)
		}
	}
	return p, nil
}

func (u *Updater) step(ctx context.Context, s Step, created map[string]string, resolve func(string) string) error {
	switch s.Kind {
	case StepCreateGroup:
		name := u.Name + "-" + randomSuffix()
		var out *ec2.CreateSecurityGroupOutput
		err := u.call(ctx, func(ctx context.Context) (err error) {
			out, err = u.EC2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{
				GroupName:   &name,
				Description: aws.String("Origin ranges of " + u.Name + " (securestacks origin updater)"),
				VpcId:       &u.VpcID,
				TagSpecifications: []types.TagSpecification{{
					ResourceType: types.ResourceTypeSecurityGroup,
					Tags:         []types.Tag{{Key: aws.String(OwnerTagKey), Value: &u.Name}, {Key: aws.String("Name"), Value: &name}},
				}},
			})
			return err
		})
		if err != nil {
			return err
		}
		created[s.GroupID] = aws.ToString(out.GroupId)
		return nil
	case StepAuthorize:
		return u.call(ctx, func(ctx context.Context) error {
			_, err := u.EC2.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(resolve(s.GroupID)), IpPermissions: permissions(s.Rules, u.Name)})
			return err
		})
	case StepRevoke:
		return u.call(ctx, func(ctx context.Context) error {
			_, err := u.EC2.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(resolve(s.GroupID)), IpPermissions: permissions(s.Rules, "")})
			return err
		})
	case StepAttach:
		groups := make([]string, len(s.Groups))
		for i, g := range s.Groups {
			groups[i] = resolve(g)
		}
		return u.call(ctx, func(ctx context.Context) error {
			_, err := u.EC2.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: &s.InterfaceID, Groups: groups})
			return err
		})
	case StepModifyPrefixList:
		in := &ec2.ModifyManagedPrefixListInput{PrefixListId: &s.PrefixListID, CurrentVersion: aws.Int64(s.Version)}
		for _, c := range s.Add {
			in.AddEntries = append(in.AddEntries, types.AddPrefixListEntry{Cidr: aws.String(c.String()), Description: aws.String(u.Name)})
		}
		for _, c := range s.Remove {
			in.RemoveEntries = append(in.RemoveEntries, types.RemovePrefixListEntry{Cidr: aws.String(c.String())})
		}
		if err := u.waitPrefixList(ctx, s.PrefixListID); err != nil {
			return err
		}
		return u.call(ctx, func(ctx context.Context) error {
			_, err := u.EC2.ModifyManagedPrefixList(ctx, in)
			return err
		})
	case StepRecordToken:
		return u.call(ctx, func(ctx context.Context) error {
			_, err := u.EC2.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{s.ResourceID}, Tags: []types.Tag{{Key: aws.String(TokenTagKey), Value: aws.String(s.Token)}}})
			return err
		})
	}
	return fmt.Errorf("unknown step %q", s.Kind)
}

// waitPrefixList returns once the list takes a modification: a list still applying the previous
// version refuses the next one.
func (u *Updater) waitPrefixList(ctx context.Context, id string) error {
	for {
		l, err := u.describePrefixList(ctx, id)
		if err != nil {
			return err
		}
		switch st := l.State; st {
		case types.PrefixListStateCreateComplete, types.PrefixListStateModifyComplete, types.PrefixListStateRestoreComplete:
			return nil
		case types.PrefixListStateCreateInProgress, types.PrefixListStateModifyInProgress, types.PrefixListStateRestoreInProgress:
		default:
			return fmt.Errorf("prefix list %s is %s: %s", id, st, aws.ToString(l.StateMessage))
		}
		if err := sleep(ctx); err != nil {
			return fmt.Errorf("waiting for prefix list %s: %w", id, err)
		}
	}
}

// pollInterval is the wait between two looks at a prefix list that is being modified.
const pollInterval = time.Second

func sleep(ctx context.Context) error {
	t := time.NewTimer(pollInterval)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func randomSuffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// permissions groups rules by port into the IpPermissions of one call.
func permissions(rules []Rule, description string) []types.IpPermission {
	var out []types.IpPermission
	byPort := map[int32]int{}
	for _, r := range rules {
		i, ok := byPort[r.Port]
		if !ok {
			out = append(out, types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(r.Port), ToPort: aws.Int32(r.Port)})
			i = len(out) - 1
			byPort[r.Port] = i
		}
		var desc *string
		if description != "" {
			desc = aws.String(description)
		}
		if r.v6() {
			out[i].Ipv6Ranges = append(out[i].Ipv6Ranges, types.Ipv6Range{CidrIpv6: aws.String(r.CIDR.String()), Description: desc})
		} else {
			out[i].IpRanges = append(out[i].IpRanges, types.IpRange{CidrIp: aws.String(r.CIDR.String()), Description: desc})
		}
	}
	return out
}

// State reads what the target holds now.
func (u *Updater) State(ctx context.Context) (State, error) {
	switch u.Options.Target {
	case TargetPrefixList:
		return u.prefixListState(ctx)
	case TargetSecurityGroups:
		return u.groupState(ctx)
	}
	return State{}, fmt.Errorf("target: expected %s or %s, got %q", TargetPrefixList, TargetSecurityGroups, u.Options.Target)
}

func (u *Updater) describePrefixList(ctx context.Context, id string) (types.ManagedPrefixList, error) {
	var out *ec2.DescribeManagedPrefixListsOutput
	err := u.call(ctx, func(ctx context.Context) (err error) {
		out, err = u.EC2.DescribeManagedPrefixLists(ctx, &ec2.DescribeManagedPrefixListsInput{PrefixListIds: []string{id}})
		return err
	})
	if err != nil {
		return types.ManagedPrefixList{}, fmt.Errorf("describing prefix list %s: %w", id, err)
	}
	if len(out.PrefixLists) != 1 {
		return types.ManagedPrefixList{}, fmt.Errorf("describing prefix list %s: %d lists found", id, len(out.PrefixLists))
	}
	return out.PrefixLists[0], nil
}

func (u *Updater) prefixListState(ctx context.Context) (State, error) {
	if len(u.PrefixListIDs) == 0 {
		return State{}, errors.New("prefix lists: expected one or two prefix list IDs, got none")
	}
	var st State
	for _, id := range u.PrefixListIDs {
		l, err := u.describePrefixList(ctx, id)
		if err != nil {
			return State{}, err
		}
		if tag(l.Tags, OwnerTagKey) != u.Name {
			return State{}, fmt.Errorf("prefix list %s: expected tag %s=%s, the updater changes only lists it owns", id, OwnerTagKey, u.Name)
		}
		pl := PrefixList{ID: id, AddressFamily: aws.ToString(l.AddressFamily), Version: aws.ToInt64(l.Version), MaxEntries: int(aws.ToInt32(l.MaxEntries))}
		var next *string
		for {
			var out *ec2.GetManagedPrefixListEntriesOutput
			err := u.call(ctx, func(ctx context.Context) (err error) {
				out, err = u.EC2.GetManagedPrefixListEntries(ctx, &ec2.GetManagedPrefixListEntriesInput{PrefixListId: &id, NextToken: next})
				return err
			})
			if err != nil {
				return State{}, fmt.Errorf("reading the entries of prefix list %s: %w", id, err)
			}
			for _, e := range out.Entries {
				c, err := netip.ParsePrefix(aws.ToString(e.Cidr))
				if err != nil {
					return State{}, fmt.Errorf("prefix list %s: entry %q: %w", id, aws.ToString(e.Cidr), err)
				}
				pl.Entries = append(pl.Entries, c)
			}
			if next = out.NextToken; next == nil || *next == "" {
				break
			}
		}
		// The token lives on the IPv4 list when there is one (see planPrefixLists).
		if len(st.PrefixLists) == 0 || (!pl.v6() && st.PrefixLists[0].v6()) {
			st.SyncToken = tag(l.Tags, TokenTagKey)
		}
		st.PrefixLists = append(st.PrefixLists, pl)
	}
	return st, nil
}

func (u *Updater) groupState(ctx context.Context) (State, error) {
	if u.GroupID == "" {
		return State{}, errors.New("security groups: expected the first group's ID, got none")
	}
	var groups []types.SecurityGroup
	var next *string
	for {
		var out *ec2.DescribeSecurityGroupsOutput
		err := u.call(ctx, func(ctx context.Context) (err error) {
			out, err = u.EC2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{
				Filters:   []types.Filter{{Name: aws.String("tag:" + OwnerTagKey), Values: []string{u.Name}}},
				NextToken: next,
			})
			return err
		})
		if err != nil {
			return State{}, fmt.Errorf("describing the groups tagged %s=%s: %w", OwnerTagKey, u.Name, err)
		}
		groups = append(groups, out.SecurityGroups...)
		if next = out.NextToken; next == nil || *next == "" {
			break
		}
	}
	first := slices.IndexFunc(groups, func(g types.SecurityGroup) bool { return aws.ToString(g.GroupId) == u.GroupID })
	if first < 0 {
		return State{}, fmt.Errorf("security group %s: expected tag %s=%s, the updater changes only groups it owns", u.GroupID, OwnerTagKey, u.Name)
	}
	groups[0], groups[first] = groups[first], groups[0]
	slices.SortFunc(groups[1:], func(a, b types.SecurityGroup) int {
		return strings.Compare(aws.ToString(a.GroupId), aws.ToString(b.GroupId))
	})
	st := State{SyncToken: tag(groups[0].Tags, TokenTagKey)}
	for _, sg := range groups {
		st.Groups = append(st.Groups, groupOf(sg))
	}
	next = nil
	for {
		var out *ec2.DescribeNetworkInterfacesOutput
		err := u.call(ctx, func(ctx context.Context) (err error) {
			out, err = u.EC2.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{
				Filters:   []types.Filter{{Name: aws.String("group-id"), Values: []string{u.GroupID}}},
				NextToken: next,
			})
			return err
		})
		if err != nil {
			return State{}, fmt.Errorf("describing the interfaces of %s: %w", u.GroupID, err)
		}
		for _, ni := range out.NetworkInterfaces {
			i := Interface{ID: aws.ToString(ni.NetworkInterfaceId)}
			for _, g := range ni.Groups {
				i.Groups = append(i.Groups, aws.ToString(g.GroupId))
			}
			st.Interfaces = append(st.Interfaces, i)
		}
		if next = out.NextToken; next == nil || *next == "" {
			break
		}
	}
	return st, nil
}

// groupOf reads a group's rules: TCP single-port CIDR rules are the updater's, anything else
// only counts against the quota.
func groupOf(sg types.SecurityGroup) Group {
	g := Group{ID: aws.ToString(sg.GroupId)}
	for _, p := range sg.IpPermissions {
		ours := aws.ToString(p.IpProtocol) == "tcp" && p.FromPort != nil && p.ToPort != nil && *p.FromPort == *p.ToPort
		for _, r := range p.IpRanges {
			c, err := netip.ParsePrefix(aws.ToString(r.CidrIp))
			if !ours || err != nil {
				g.OtherV4++
				continue
			}
			g.Rules = append(g.Rules, Rule{*p.FromPort, c})
		}
		for _, r := range p.Ipv6Ranges {
			c, err := netip.ParsePrefix(aws.ToString(r.CidrIpv6))
			if !ours || err != nil {
				g.OtherV6++
				continue
			}
			g.Rules = append(g.Rules, Rule{*p.FromPort, c})
		}
		// Prefix-list and group references count as IPv4 rules here: the quota page counts a
		// referenced group as one rule, and a prefix list by its MaxEntries, which only a
		// DescribeManagedPrefixLists would tell; such rules do not belong in an owned group.
		g.OtherV4 += len(p.PrefixListIds) + len(p.UserIdGroupPairs)
	}
	slices.SortFunc(g.Rules, compareRule)
	return g
}

func tag(tags []types.Tag, key string) string {
	for _, t := range tags {
		if aws.ToString(t.Key) == key {
			return aws.ToString(t.Value)
		}
	}
	return ""
}

// Update verifies body (ip-ranges.json as fetched) against the MD5 of the notification, then
// applies it, or with dryRun only plans it. A mismatch changes nothing.
func (u *Updater) Update(ctx context.Context, body []byte, md5Hex string, dryRun bool) (Plan, error) {
	if err := VerifyMD5(body, md5Hex); err != nil {
		return Plan{}, err
	}
	doc, err := ParseDocument(body)
	if err != nil {
		return Plan{}, err
	}
	if dryRun {
		return u.Plan(ctx, doc)
	}
	return u.Apply(ctx, doc)
}
