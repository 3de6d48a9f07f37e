package originupdate

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Target is what the updater writes the ranges into.
type Target string

const (
	// TargetPrefixList keeps one customer-managed prefix list per IP version equal to the
	// ranges; one security-group rule per port references each list. Default.
	TargetPrefixList Target = "prefix-list"
	// TargetSecurityGroups writes one ingress rule per range and port, as the seed does.
	TargetSecurityGroups Target = "security-groups"
)

// Default quotas of a fresh account
// (https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html#vpc-limits-security-groups):
// 60 inbound rules per security group, counted separately for IPv4 and IPv6, and 5 security
// groups per network interface.
const (
	DefaultRulesPerGroup      = 60
	DefaultGroupsPerInterface = 5
)

// MaxEntriesPerModify is the most entries one ModifyManagedPrefixList adds, and the most it
// removes (AddEntries and RemoveEntries each hold at most 100 items:
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ModifyManagedPrefixList.html).
const MaxEntriesPerModify = 100

// Quotas are the account's VPC quotas the plan must respect. Zero fields take the defaults.
type Quotas struct {
	// RulesPerGroup is the inbound rules per security group, per IP version. Default 60.
	RulesPerGroup int `json:"rulesPerGroup,omitempty"`
	// GroupsPerInterface is the security groups per network interface. Default 5.
	GroupsPerInterface int `json:"groupsPerInterface,omitempty"`
}

func (q Quotas) withDefaults() Quotas {
	if q.RulesPerGroup <= 0 {
		q.RulesPerGroup = DefaultRulesPerGroup
	}
	if q.GroupsPerInterface <= 0 {
		q.GroupsPerInterface = DefaultGroupsPerInterface
	}
	return q
}

// Rule is one ingress rule the updater owns: TCP on Port from CIDR.
type Rule struct {
	Port int32        `json:"port"`
	CIDR netip.Prefix `json:"cidr"`
}

func (r Rule) v6() bool { return r.CIDR.Addr().Is6() }

func (r Rule) String() string { return r.CIDR.String() + " tcp/" + strconv.Itoa(int(r.Port)) }

func compareRule(a, b Rule) int {
	if c := comparePrefix(a.CIDR, b.CIDR); c != 0 {
		return c
	}
	return int(a.Port) - int(b.Port)
}

// Group is a security group the updater owns (tagged with its name). Rules are its TCP
// single-port CIDR ingress rules; OtherV4 and OtherV6 count its other inbound rules, which the
// updater leaves alone but which use the same quota.
type Group struct {
	ID      string `json:"id"`
	Rules   []Rule `json:"rules,omitempty"`
	OtherV4 int    `json:"otherIPv4Rules,omitempty"`
	OtherV6 int    `json:"otherIPv6Rules,omitempty"`
}

// Interface is a network interface the first group is attached to, with all of its groups.
type Interface struct {
	ID     string   `json:"id"`
	Groups []string `json:"groups"`
}

// PrefixList is a customer-managed prefix list the updater owns.
type PrefixList struct {
	ID string `json:"id"`
	// AddressFamily is "IPv4" or "IPv6".
	AddressFamily string         `json:"addressFamily"`
	Version       int64          `json:"version"`
	MaxEntries    int            `json:"maxEntries"`
	Entries       []netip.Prefix `json:"entries,omitempty"`
}

func (p PrefixList) v6() bool { return p.AddressFamily == "IPv6" }

// State is what the target holds now. The CLI reads it as JSON (--current).
type State struct {
	// SyncToken is the syncToken of the last document applied ("" when none).
	SyncToken string `json:"syncToken,omitempty"`
	// PrefixLists are the target's lists (TargetPrefixList), at most one per address family.
	PrefixLists []PrefixList `json:"prefixLists,omitempty"`
	// Groups are the owned groups (TargetSecurityGroups); the first is the one the construct
	// made, and holds the sync token.
	Groups []Group `json:"securityGroups,omitempty"`
	// Interfaces are where Groups[0] is attached.
	Interfaces []Interface `json:"networkInterfaces,omitempty"`
}

// StepKind names one mutating EC2 call.
type StepKind string

// The steps, in the order a plan makes them.
const (
	StepCreateGroup      StepKind = "CreateSecurityGroup"
	StepAuthorize        StepKind = "AuthorizeSecurityGroupIngress"
	StepAttach           StepKind = "ModifyNetworkInterfaceAttribute"
	StepRevoke           StepKind = "RevokeSecurityGroupIngress"
	StepModifyPrefixList StepKind = "ModifyManagedPrefixList"
	StepRecordToken      StepKind = "CreateTags"
)

// Step is one mutating call of a plan.
type Step struct {
	Kind StepKind `json:"kind"`
	// GroupID is the group of StepAuthorize and StepRevoke, or the placeholder of a group that
	// a StepCreateGroup earlier in the plan creates ("new-1"...).
	GroupID string `json:"groupId,omitempty"`
	Rules   []Rule `json:"rules,omitempty"`
	// InterfaceID and Groups: StepAttach sets the interface's groups to Groups.
	InterfaceID string   `json:"interfaceId,omitempty"`
	Groups      []string `json:"groups,omitempty"`
	// PrefixListID, Version (the current version the call names), Add and Remove:
	// StepModifyPrefixList.
	PrefixListID string         `json:"prefixListId,omitempty"`
	Version      int64          `json:"currentVersion,omitempty"`
	Add          []netip.Prefix `json:"add,omitempty"`
	Remove       []netip.Prefix `json:"remove,omitempty"`
	// ResourceID and Token: StepRecordToken tags ResourceID with the document's syncToken.
	ResourceID string `json:"resourceId,omitempty"`
	Token      string `json:"syncToken,omitempty"`
}

// Plan is what an update does: Steps in order, or nothing, and why.
type Plan struct {
	Target    Target `json:"target"`
	SyncToken string `json:"syncToken"`
	// Skipped says why the plan does nothing even though the target may differ: the document
	// is older than the one last applied.
	Skipped string `json:"skipped,omitempty"`
	// Desired counts the ranges selected from the document.
	DesiredV4 int `json:"desiredIPv4"`
	DesiredV6 int `json:"desiredIPv6"`
	// Ignored says what the target cannot hold (IPv6 ranges without an IPv6 prefix list).
	Ignored string `json:"ignored,omitempty"`
	Steps   []Step `json:"steps"`
}

// ErrQuota marks a plan refused because it would exceed a quota; nothing has been changed.
var ErrQuota = errors.New("quota exceeded")

// NewGroupPrefix starts the placeholder ID of a group the plan creates.
const NewGroupPrefix = "new-"

// Options are what a plan needs beyond the state and the ranges.
type Options struct {
	Target Target
	// Ports are the TCP ports each range is allowed on (TargetSecurityGroups). Default [443].
	Ports  []int32
	Quotas Quotas
}

// NewPlan computes the steps that make st hold exactly want, for the document with syncToken
// token. It makes no call: the same function serves the Lambda and `securestacks origin plan`.
func NewPlan(opts Options, st State, want Ranges, token string) (Plan, error) {
	p := Plan{Target: opts.Target, SyncToken: token, DesiredV4: len(want.V4), DesiredV6: len(want.V6), Steps: []Step{}}
	c, err := CompareTokens(token, st.SyncToken)
	if err != nil {
		return Plan{}, fmt.Errorf("syncToken: %w", err)
	}
	if c < 0 {
		p.Skipped = fmt.Sprintf("document syncToken %s is older than %s, the last one applied", token, st.SyncToken)
		return p, nil
	}
	var anchor string
	switch opts.Target {
	case TargetPrefixList:
		anchor, err = planPrefixLists(&p, st, want)
	case TargetSecurityGroups:
		anchor, err = planGroups(&p, opts, st, want)
	default:
		return Plan{}, fmt.Errorf("target: expected %s or %s, got %q", TargetPrefixList, TargetSecurityGroups, opts.Target)
	}
	if err != nil {
		return Plan{}, err
	}
	if c > 0 {
		p.Steps = append(p.Steps, Step{Kind: StepRecordToken, ResourceID: anchor, Token: token})
	}
	return p, nil
}

func planPrefixLists(p *Plan, st State, want Ranges) (string, error) {
	if len(st.PrefixLists) == 0 {
		return "", errors.New("prefix lists: the target has none")
	}
	lists := slices.Clone(st.PrefixLists)
	// IPv4 first: its list holds the token.
	slices.SortStableFunc(lists, func(a, b PrefixList) int { return boolInt(a.v6()) - boolInt(b.v6()) })
	seen := map[bool]bool{}
	for _, l := range lists {
		if seen[l.v6()] {
			return "", fmt.Errorf("prefix list %s: a second %s list; expected at most one per address family", l.ID, l.AddressFamily)
		}
		seen[l.v6()] = true
		desired := want.V4
		if l.v6() {
			desired = want.V6
		}
		if len(desired) > l.MaxEntries {
			return "", fmt.Errorf("prefix list %s: %w: %d %s ranges, MaxEntries %d; raise MaxEntries (every rule that references the list counts MaxEntries against its group's rule quota)",
				l.ID, ErrQuota, len(desired), l.AddressFamily, l.MaxEntries)
		}
	}
	if !seen[true] && len(want.V6) > 0 {
		p.Ignored = fmt.Sprintf("%d IPv6 ranges: the target has no IPv6 prefix list", len(want.V6))
	}
	for _, l := range lists {
		desired := want.V4
		if l.v6() {
			desired = want.V6
		}
		add, remove := diff(desired, sortPrefixes(slices.Clone(l.Entries)), comparePrefix)
		version := l.Version
		// Each call adds and removes at most MaxEntriesPerModify; the count moves one way, from
		// a size that fits to a size that fits, so every intermediate version fits too.
		for len(add) > 0 || len(remove) > 0 {
			a, r := min(len(add), MaxEntriesPerModify), min(len(remove), MaxEntriesPerModify)
			p.Steps = append(p.Steps, Step{Kind: StepModifyPrefixList, PrefixListID: l.ID, Version: version, Add: add[:a], Remove: remove[:r]})
			add, remove = add[a:], remove[r:]
			version++
		}
	}
	return lists[0].ID, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// diff returns what is in want and not in have, and what is in have and not in want; both
// inputs sorted by cmp and without duplicates.
func diff[T any](want, have []T, cmp func(a, b T) int) (add, remove []T) {
	i, j := 0, 0
	for i < len(want) || j < len(have) {
		switch {
		case j == len(have) || (i < len(want) && cmp(want[i], have[j]) < 0):
			add = append(add, want[i])
			i++
		case i == len(want) || cmp(want[i], have[j]) > 0:
			remove = append(remove, have[j])
			j++
		default:
			i++
			j++
		}
	}
	return add, remove
}

func planGroups(p *Plan, opts Options, st State, want Ranges) (string, error) {
	if len(st.Groups) == 0 {
		return "", errors.New("security groups: the target has none")
	}
	q := opts.Quotas.withDefaults()
	ports := opts.Ports
	if len(ports) == 0 {
		ports = []int32{443}
	}
	var desired []Rule
	for _, port := range ports {
		for _, c := range want.V4 {
			desired = append(desired, Rule{port, c})
		}
		for _, c := range want.V6 {
			desired = append(desired, Rule{port, c})
		}
	}
	slices.SortFunc(desired, compareRule)
	desired = slices.Compact(desired)

	// Who holds what now; a rule held twice is removed from the later group.
	type slot struct{ v4, v6 int }
	groups := slices.Clone(st.Groups)
	used := make([]slot, len(groups))
	holder := map[Rule]int{}
	removes := make([][]Rule, len(groups))
	for gi, g := range groups {
		used[gi] = slot{g.OtherV4, g.OtherV6}
		for _, r := range g.Rules {
			if r.v6() {
				used[gi].v6++
			} else {
				used[gi].v4++
			}
			if _, dup := holder[r]; dup {
				removes[gi] = append(removes[gi], r)
				continue
			}
			holder[r] = gi
		}
	}
	wanted := map[Rule]bool{}
	for _, r := range desired {
		wanted[r] = true
	}
	for r, gi := range holder {
		if !wanted[r] {
			removes[gi] = append(removes[gi], r)
		}
	}

	// Place each new rule in the first group with room, counting the rules still to be revoked:
	// they stay until every new rule is in place.
	adds := map[int][]Rule{}
	for _, r := range desired {
		if _, ok := holder[r]; ok {
			continue
		}
		gi := slices.IndexFunc(used, func(s slot) bool {
			if r.v6() {
				return s.v6 < q.RulesPerGroup
			}
			return s.v4 < q.RulesPerGroup
		})
		if gi < 0 {
			used = append(used, slot{})
			gi = len(used) - 1
		}
		if r.v6() {
			used[gi].v6++
		} else {
			used[gi].v4++
		}
		adds[gi] = append(adds[gi], r)
	}
	ids := make([]string, len(used))
	for gi := range used {
		if gi < len(groups) {
			ids[gi] = groups[gi].ID
		} else {
			ids[gi] = NewGroupPrefix + strconv.Itoa(gi-len(groups)+1)
		}
	}

	// Every owned group must be attached wherever the first one is.
	var attach []Step
	for _, ni := range st.Interfaces {
		missing := slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return slices.Contains(ni.Groups, id) })
		if len(missing) == 0 {
			continue
		}
		all := append(slices.Clone(ni.Groups), missing...)
		if len(all) > q.GroupsPerInterface {
			return "", fmt.Errorf("network interface %s: %w: %d security groups needed (%d rules per group per IP version, %d IPv4 and %d IPv6 ranges on %d ports), at most %d per interface",
				ni.ID, ErrQuota, len(all), q.RulesPerGroup, len(want.V4), len(want.V6), len(ports), q.GroupsPerInterface)
		}
		attach = append(attach, Step{Kind: StepAttach, InterfaceID: ni.ID, Groups: all})
	}
	if len(ids) > q.GroupsPerInterface {
		return "", fmt.Errorf("security groups: %w: %d groups needed (%d rules per group per IP version), at most %d per interface",
			ErrQuota, len(ids), q.RulesPerGroup, q.GroupsPerInterface)
	}

	for gi := len(groups); gi < len(used); gi++ {
		p.Steps = append(p.Steps, Step{Kind: StepCreateGroup, GroupID: ids[gi]})
	}
	for gi := range used {
		if rs := adds[gi]; len(rs) > 0 {
			p.Steps = append(p.Steps, Step{Kind: StepAuthorize, GroupID: ids[gi], Rules: rs})
		}
	}
	p.Steps = append(p.Steps, attach...)
	for gi := range groups {
		if rs := removes[gi]; len(rs) > 0 {
			slices.SortFunc(rs, compareRule)
			p.Steps = append(p.Steps, Step{Kind: StepRevoke, GroupID: ids[gi], Rules: rs})
		}
	}
	return groups[0].ID, nil
}

// Mutations is the number of mutating calls the plan makes.
func (p Plan) Mutations() int { return len(p.Steps) }

// String is the plan as the dry run logs it and the CLI prints it: one line per step.
func (p Plan) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "target %s, syncToken %s: %d IPv4 and %d IPv6 ranges\n", p.Target, p.SyncToken, p.DesiredV4, p.DesiredV6)
	if p.Ignored != "" {
		fmt.Fprintf(&b, "ignored: %s\n", p.Ignored)
	}
	if p.Skipped != "" {
		fmt.Fprintf(&b, "skipped: %s\n", p.Skipped)
		return b.String()
	}
	if len(p.Steps) == 0 {
		b.WriteString("up to date: no change\n")
		return b.String()
	}
	for i, s := range p.Steps {
		fmt.Fprintf(&b, "%d. %s", i+1, s.Kind)
		switch s.Kind {
		case StepCreateGroup:
			fmt.Fprintf(&b, " %s", s.GroupID)
		case StepAuthorize, StepRevoke:
			fmt.Fprintf(&b, " %s: %d rules: %s", s.GroupID, len(s.Rules), joinStrings(s.Rules))
		case StepAttach:
			fmt.Fprintf(&b, " %s: groups %s", s.InterfaceID, strings.Join(s.Groups, ","))
		case StepModifyPrefixList:
			fmt.Fprintf(&b, " %s at version %d: add %d [%s], remove %d [%s]", s.PrefixListID, s.Version, len(s.Add), joinStrings(s.Add), len(s.Remove), joinStrings(s.Remove))
		case StepRecordToken:
			fmt.Fprintf(&b, " %s: %s=%s", s.ResourceID, TokenTagKey, s.Token)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func joinStrings[T fmt.Stringer](xs []T) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = x.String()
	}
	return strings.Join(s, " ")
}
