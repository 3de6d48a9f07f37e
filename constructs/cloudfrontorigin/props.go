package cloudfrontorigin

import (
	"errors"
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
)

// Mode is how the origin is restricted to CloudFront.
type Mode string

const (
	// ModePrefixList (default) adds one ingress rule per port that references AWS's managed
	// prefix list com.amazonaws.global.cloudfront.origin-facing (and its IPv6 twin when
	// DualStack). No Lambda runs after deploy and nothing polls.
	ModePrefixList Mode = "PrefixList"
	// ModeVpcOrigin makes a CloudFront VPC origin for an origin in private subnets: the origin
	// needs no public address at all.
	ModeVpcOrigin Mode = "VpcOrigin"
	// ModeUpdater runs the seed's design in Go: a Lambda subscribed to AmazonIpSpaceChanged
	// keeps a customer-managed prefix list (or security-group rules) equal to the ranges of
	// Service in ip-ranges.json. For services that have no managed prefix list.
	ModeUpdater Mode = "Updater"
)

// Updater targets (OriginProps.UpdaterTarget).
const (
	TargetPrefixList     = "prefix-list"
	TargetSecurityGroups = "security-groups"
)

// AWS-managed prefix lists of CloudFront's origin-facing servers and their weight, which is
// what a rule that references one counts against the security group's rule quota
// (https://docs.aws.amazon.com/vpc/latest/userguide/working-with-aws-managed-prefix-lists.html).
const (
	PrefixListName     = "com.amazonaws.global.cloudfront.origin-facing"
	IPv6PrefixListName = "com.amazonaws.global.ipv6.cloudfront.origin-facing"
	PrefixListWeight   = 55
)

// DefaultRulesPerGroup is a fresh account's quota of inbound rules per security group, per IP
// version (https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html#vpc-limits-security-groups).
const DefaultRulesPerGroup = 60

// DefaultMaxEntries is the size of the updater's customer-managed lists: AWS's own list for
// the same ranges has weight 55, so the updater's list costs the group the same.
const DefaultMaxEntries = 55

// OriginProps configures an Origin. nil means all defaults, which needs ExistingVpc or
// ExistingSecurityGroup.
type OriginProps struct {
	// Mode: ModePrefixList (default), ModeVpcOrigin or ModeUpdater.
	Mode Mode
	// ExistingVpc is the origin's VPC. Required for ModeUpdater and when ExistingSecurityGroup
	// is nil (a new group is made in it).
	ExistingVpc awsec2.IVpc
	// ExistingSecurityGroup receives the ingress rules (ModePrefixList, ModeUpdater with the
	// prefix-list target). Default: a new group in ExistingVpc, exposed as SecurityGroup, that
	// you attach to the origin. Conflicts with ModeVpcOrigin.
	ExistingSecurityGroup awsec2.ISecurityGroup
	// Ports are the TCP ports CloudFront may reach. Default [443]. Each port is one rule per
	// IP version, and each such rule weighs PrefixListWeight (or MaxEntries).
	Ports []float64
	// DualStack adds the IPv6 rules. Default false.
	DualStack bool
	// RulesPerGroup is your account's inbound-rules-per-group quota, if you raised it.
	// Default DefaultRulesPerGroup. The synth-time check uses it.
	RulesPerGroup float64
	// PrefixListIds skips the deploy-time lookup of the managed lists' regional IDs
	// (ModePrefixList): [IPv4 ID] or [IPv4 ID, IPv6 ID]. Default: looked up at deploy by a
	// custom resource, which works in environment-agnostic stacks.
	PrefixListIds []*string

	// UpdaterTarget (ModeUpdater): TargetPrefixList (default) or TargetSecurityGroups.
	UpdaterTarget string
	// Service and IpRangesRegion select the ranges (ModeUpdater). Default
	// CLOUDFRONT_ORIGIN_FACING in GLOBAL.
	Service, IpRangesRegion *string
	// MaxEntries of each customer-managed list (ModeUpdater, prefix-list target). Default
	// DefaultMaxEntries.
	MaxEntries float64
	// DryRun makes the updater log its plans and change nothing. Default false.
	DryRun bool
	// ExistingConnectable (ModeUpdater, security-groups target): the ALB or instance the
	// updater's first group is added to. Default: none; attach Origin.SecurityGroup yourself.
	ExistingConnectable awsec2.IConnectable

	// VpcOriginArn (ModeVpcOrigin, required): the ARN of the private ALB, NLB or EC2 instance.
	VpcOriginArn *string
	// VpcOriginName names the VPC origin. Default: the construct's unique id.
	VpcOriginName *string

	// LogsKey encrypts the log groups of the construct's functions. Default: a new key.
	LogsKey awskms.IKey
}

// Validate collects every problem with the props.
func (p *OriginProps) Validate() error {
	var errs []error
	add := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("cloudfrontorigin: "+format, args...))
	}
	switch p.Mode {
	case "", ModePrefixList, ModeUpdater, ModeVpcOrigin:
	default:
		add("Mode: expected PrefixList, VpcOrigin or Updater, got %q", p.Mode)
	}
	for _, port := range p.Ports {
		if port < 1 || port > 65535 || port != float64(int(port)) {
			add("Ports: expected TCP ports 1-65535, got %v", port)
		}
	}
	switch p.Mode {
	case ModeVpcOrigin:
		if p.VpcOriginArn == nil {
			add("VpcOriginArn: expected the ARN of a private ALB, NLB or EC2 instance for Mode VpcOrigin")
		}
		if p.ExistingSecurityGroup != nil {
			add("ExistingSecurityGroup conflicts with Mode VpcOrigin: CloudFront reaches the origin through its own service-managed group")
		}
	case ModeUpdater:
		if p.ExistingVpc == nil {
			add("ExistingVpc: expected the origin's VPC for Mode Updater")
		}
		if p.UpdaterTarget != "" && p.UpdaterTarget != TargetPrefixList && p.UpdaterTarget != TargetSecurityGroups {
			add("UpdaterTarget: expected %s or %s, got %q", TargetPrefixList, TargetSecurityGroups, p.UpdaterTarget)
		}
		if p.MaxEntries < 0 || p.MaxEntries > 1000 {
			add("MaxEntries: expected 1-1000, got %v", p.MaxEntries)
		}
	default:
		if p.ExistingVpc == nil && p.ExistingSecurityGroup == nil {
			add("ExistingVpc or ExistingSecurityGroup: expected one, got neither")
		}
		if n := len(p.PrefixListIds); n != 0 && n != 1 && n != 2 {
			add("PrefixListIds: expected [IPv4 ID] or [IPv4 ID, IPv6 ID], got %d IDs", n)
		}
		if p.DualStack && len(p.PrefixListIds) == 1 {
			add("PrefixListIds: DualStack needs the IPv6 list's ID too")
		}
	}
	if p.Mode != ModeUpdater && (p.UpdaterTarget != "" || p.Service != nil || p.IpRangesRegion != nil || p.MaxEntries != 0 || p.DryRun || p.ExistingConnectable != nil) {
		add("UpdaterTarget, Service, IpRangesRegion, MaxEntries, DryRun and ExistingConnectable apply to Mode Updater only")
	}
	return errors.Join(errs...)
}
