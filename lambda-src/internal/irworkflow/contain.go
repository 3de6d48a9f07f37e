package irworkflow

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/securestacks/securestacks/internal/incident"
)

func (w *Workflow) protect(ctx context.Context, c *Case) (string, error) {
	var problems []string
	cctx, cancel := w.call(ctx)
	_, err := w.ModifyInstanceAttribute.ModifyInstanceAttribute(cctx, &ec2.ModifyInstanceAttributeInput{
		InstanceId: aws.String(c.InstanceID), DisableApiTermination: &ec2types.AttributeBooleanValue{Value: aws.Bool(true)},
	})
	cancel()
	if err != nil {
		problems = append(problems, "termination protection: "+err.Error())
	}
	// One attribute per ModifyInstanceAttribute call.
	cctx, cancel = w.call(ctx)
	_, err = w.ModifyInstanceAttribute.ModifyInstanceAttribute(cctx, &ec2.ModifyInstanceAttributeInput{
		InstanceId: aws.String(c.InstanceID), InstanceInitiatedShutdownBehavior: &ec2types.AttributeValue{Value: aws.String("stop")},
	})
	cancel()
	if err != nil {
		problems = append(problems, "shutdown behaviour stop: "+err.Error())
	}
	if len(problems) > 0 {
		return "", errors.New(strings.Join(problems, "; "))
	}
	return "termination protection on, shutdown behaviour stop", nil
}

func (w *Workflow) profile(ctx context.Context, c *Case) (string, error) {
	cctx, cancel := w.call(ctx)
	out, err := w.DescribeIamInstanceProfileAssociations.DescribeIamInstanceProfileAssociations(cctx, &ec2.DescribeIamInstanceProfileAssociationsInput{
		Filters: []ec2types.Filter{{Name: aws.String("instance-id"), Values: []string{c.InstanceID}}},
	})
	cancel()
	if err != nil {
		return "", fmt.Errorf("ec2:DescribeIamInstanceProfileAssociations: %w", err)
	}
	var detached []string
	for _, a := range out.IamInstanceProfileAssociations {
		if a.State != ec2types.IamInstanceProfileAssociationStateAssociated && a.State != ec2types.IamInstanceProfileAssociationStateAssociating {
			continue
		}
		arn := ""
		if a.IamInstanceProfile != nil {
			arn = aws.ToString(a.IamInstanceProfile.Arn)
		}
		// The forensic profile is ours, never the one to restore.
		if c.Saved.ProfileARN == "" && arn != w.Config.ForensicProfileARN {
			c.Saved.ProfileARN = arn
		}
		cctx, cancel := w.call(ctx)
		_, err := w.DisassociateIamInstanceProfile.DisassociateIamInstanceProfile(cctx, &ec2.DisassociateIamInstanceProfileInput{AssociationId: a.AssociationId})
		cancel()
		if err != nil {
			return "", fmt.Errorf("ec2:DisassociateIamInstanceProfile %s: %w", arn, err)
		}
		detached = append(detached, arn)
	}
	if len(detached) == 0 {
		return "", skip("no instance profile associated")
	}
	return "disassociated " + strings.Join(detached, ", "), nil
}

func (w *Workflow) autoScaling(ctx context.Context, c *Case) (string, error) {
	cctx, cancel := w.call(ctx)
	group, state, err := w.AutoScaling.GroupOf(cctx, c.InstanceID)
	cancel()
	if err != nil {
		return "", err
	}
	if group == "" {
		return "", skip("not in an Auto Scaling group")
	}
	c.Saved.AutoScalingGroup = group
	if strings.HasPrefix(state, "Standby") || strings.HasPrefix(state, "EnteringStandby") {
		c.Saved.AutoScaling = "standby"
		return "already in standby in " + group, nil
	}
	// Standby keeps the instance in the group without replacing it; the
	// desired capacity drops by one, which the group refuses at its minimum
	// size. Detach then, without decrementing: the group launches a
	// replacement and keeps serving.
	cctx, cancel = w.call(ctx)
	err = w.AutoScaling.EnterStandby(cctx, group, c.InstanceID)
	cancel()
	if err == nil {
		c.Saved.AutoScaling = "standby"
		return "standby in " + group, nil
	}
	standbyErr := err
	cctx, cancel = w.call(ctx)
	err = w.AutoScaling.Detach(cctx, group, c.InstanceID)
	cancel()
	if err != nil {
		return "", fmt.Errorf("%v; %w", standbyErr, err)
	}
	c.Saved.AutoScaling = "detached"
	return "detached from " + group + " (standby refused: " + oneLine(standbyErr.Error()) + ")", nil
}

func (w *Workflow) targets(ctx context.Context, c *Case) (string, error) {
	vpc := ""
	if c.Instance != nil {
		vpc = c.Instance.VpcID
	}
	regs, err := w.TargetGroups.Registrations(ctx, c.InstanceID, vpc)
	if err != nil && len(regs) == 0 {
		return "", err
	}
	var problems []string
	if err != nil {
		problems = append(problems, err.Error())
	}
	n := 0
	for _, reg := range regs {
		cctx, cancel := w.call(ctx)
		err := w.TargetGroups.Deregister(cctx, c.InstanceID, reg)
		cancel()
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		if !slices.Contains(c.Saved.Targets, reg) {
			c.Saved.Targets = append(c.Saved.Targets, reg)
		}
		n++
	}
	if len(problems) > 0 {
		return fmt.Sprintf("deregistered from %d", n), errors.New(strings.Join(problems, "; "))
	}
	if n == 0 {
		return "", skip("registered in no instance target group")
	}
	return fmt.Sprintf("deregistered from %d target groups", n), nil
}

// isolate moves every interface to the all-access group and then to the
// containment group. Changing the groups of an interface does not end the
// connections the old groups tracked; a flow that an allow-all rule pair
// admits (0.0.0.0/0 and ::/0, every protocol, both directions) is not
// tracked, so passing through the all-access group first turns the
// existing flows untracked, and the containment group (no rules) then drops
// them (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/security-group-connection-tracking.html,
// the AWSSupport-ContainEC2Instance runbook). The all-access group exists
// only for the swap of this case and is deleted after it.
func (w *Workflow) isolate(ctx context.Context, c *Case) (string, error) {
	inst, err := w.describe(ctx, c.InstanceID)
	if err != nil {
		return "", err
	}
	now := FactsOf(inst)
	if c.Saved.ContainmentGroups == nil {
		c.Saved.ContainmentGroups = map[string]string{}
	}
	allAccess := map[string]string{}
	defer w.deleteAllAccess(ctx, allAccess)
	var problems []string
	moved := 0
	for _, it := range now.Interfaces {
		containment, err := w.containmentGroup(ctx, c, it.VpcID)
		if err != nil {
			problems = append(problems, it.ID+": "+err.Error())
			continue
		}
		if slices.Equal(it.Groups, []string{containment}) {
			continue
		}
		if !slices.ContainsFunc(c.Saved.Interfaces, func(s Interface) bool { return s.ID == it.ID }) {
			c.Saved.Interfaces = append(c.Saved.Interfaces, it)
		}
		open, ok := allAccess[it.VpcID]
		if !ok {
			if open, err = w.createAllAccess(ctx, c, it.VpcID); err != nil {
				problems = append(problems, it.ID+": "+err.Error())
				continue
			}
			allAccess[it.VpcID] = open
		}
		for _, g := range []string{open, containment} {
			cctx, cancel := w.call(ctx)
			_, err = w.ModifyNetworkInterfaceAttribute.ModifyNetworkInterfaceAttribute(cctx, &ec2.ModifyNetworkInterfaceAttributeInput{
				NetworkInterfaceId: aws.String(it.ID), Groups: []string{g},
			})
			cancel()
			if err != nil {
				break
			}
		}
		if err != nil {
			problems = append(problems, it.ID+": ec2:ModifyNetworkInterfaceAttribute: "+err.Error())
			continue
		}
		moved++
	}
	if len(problems) > 0 {
		return fmt.Sprintf("%d of %d interfaces contained", moved, len(now.Interfaces)), errors.New(strings.Join(problems, "; "))
	}
	t := w.now()
	if c.ContainedAt == nil {
		c.ContainedAt = &t
	}
	if moved == 0 {
		return fmt.Sprintf("all %d interfaces already in the containment group", len(now.Interfaces)), nil
	}
	return fmt.Sprintf("%d interfaces moved through the all-access group to the containment group", moved), nil
}

// containmentGroup finds or creates the deployment's group without rules
// in vpc. A new group has an allow-all egress rule, which is revoked.
func (w *Workflow) containmentGroup(ctx context.Context, c *Case, vpc string) (string, error) {
	if id, ok := c.Saved.ContainmentGroups[vpc]; ok {
		return id, nil
	}
	id, err := w.findOrCreateContainment(ctx, c, vpc)
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode() == "InvalidGroup.Duplicate" {
		// Another case created it between our look and our create.
		id, err = w.findOrCreateContainment(ctx, c, vpc)
	}
	if err != nil {
		return "", err
	}
	c.Saved.ContainmentGroups[vpc] = id
	return id, nil
}

func (w *Workflow) findOrCreateContainment(ctx context.Context, c *Case, vpc string) (string, error) {
	cctx, cancel := w.call(ctx)
	out, err := w.DescribeSecurityGroups.DescribeSecurityGroups(cctx, &ec2.DescribeSecurityGroupsInput{Filters: []ec2types.Filter{
		{Name: aws.String("vpc-id"), Values: []string{vpc}},
		{Name: aws.String("tag:" + incident.TagGroupRole), Values: []string{incident.GroupRoleContainment}},
		{Name: aws.String("tag:" + incident.TagDeployment), Values: []string{w.Config.Deployment}},
	}})
	cancel()
	if err != nil {
		return "", fmt.Errorf("ec2:DescribeSecurityGroups: %w", err)
	}
	if len(out.SecurityGroups) > 0 {
		return aws.ToString(out.SecurityGroups[0].GroupId), nil
	}
	id, err := w.createGroup(ctx, vpc, "securestacks-ir-containment-"+w.Config.Deployment,
		"No rules: isolates instances under incident response", incident.GroupRoleContainment, c.CaseID)
	if err != nil {
		return "", err
	}
	cctx, cancel = w.call(ctx)
	_, err = w.RevokeSecurityGroupEgress.RevokeSecurityGroupEgress(cctx, &ec2.RevokeSecurityGroupEgressInput{
		GroupId: aws.String(id), IpPermissions: []ec2types.IpPermission{{IpProtocol: aws.String("-1"), IpRanges: []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}},
	})
	cancel()
	if err != nil {
		return "", fmt.Errorf("ec2:RevokeSecurityGroupEgress %s: %w", id, err)
	}
	return id, nil
}

// createAllAccess creates the case's all-access group in vpc: every
// protocol from and to 0.0.0.0/0 and ::/0 (a new group already allows all
// IPv4 egress).
func (w *Workflow) createAllAccess(ctx context.Context, c *Case, vpc string) (string, error) {
	id, err := w.createGroup(ctx, vpc, "securestacks-ir-all-access-"+c.CaseID,
		"Transient: untracks connections before containment", incident.GroupRoleAllAccess, c.CaseID)
	if err != nil {
		return "", err
	}
	all := []ec2types.IpPermission{{IpProtocol: aws.String("-1"),
		IpRanges: []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}, Ipv6Ranges: []ec2types.Ipv6Range{{CidrIpv6: aws.String("::/0")}}}}
	cctx, cancel := w.call(ctx)
	_, err = w.AuthorizeSecurityGroupIngress.AuthorizeSecurityGroupIngress(cctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(id), IpPermissions: all})
	cancel()
	if err != nil {
		return "", fmt.Errorf("ec2:AuthorizeSecurityGroupIngress %s: %w", id, err)
	}
	cctx, cancel = w.call(ctx)
	_, err = w.AuthorizeSecurityGroupEgress.AuthorizeSecurityGroupEgress(cctx, &ec2.AuthorizeSecurityGroupEgressInput{GroupId: aws.String(id),
		IpPermissions: []ec2types.IpPermission{{IpProtocol: aws.String("-1"), Ipv6Ranges: []ec2types.Ipv6Range{{CidrIpv6: aws.String("::/0")}}}}})
	cancel()
	if err != nil {
		return "", fmt.Errorf("ec2:AuthorizeSecurityGroupEgress %s: %w", id, err)
	}
	return id, nil
}

func (w *Workflow) createGroup(ctx context.Context, vpc, name, description, role, caseID string) (string, error) {
	cctx, cancel := w.call(ctx)
	defer cancel()
	out, err := w.CreateSecurityGroup.CreateSecurityGroup(cctx, &ec2.CreateSecurityGroupInput{
		GroupName: aws.String(name), Description: aws.String(description), VpcId: aws.String(vpc),
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeSecurityGroup, Tags: []ec2types.Tag{
			{Key: aws.String(incident.TagGroupRole), Value: aws.String(role)},
			{Key: aws.String(incident.TagDeployment), Value: aws.String(w.Config.Deployment)},
			{Key: aws.String(incident.TagCase), Value: aws.String(caseID)},
		}}},
	})
	if err != nil {
		return "", fmt.Errorf("ec2:CreateSecurityGroup %s in %s: %w", name, vpc, err)
	}
	return aws.ToString(out.GroupId), nil
}

// deleteAllAccess removes the case's all-access groups; one still attached
// (a swap that failed half-way) stays, and the failure is in the record.
func (w *Workflow) deleteAllAccess(ctx context.Context, groups map[string]string) {
	for _, id := range groups {
		cctx, cancel := w.call(context.WithoutCancel(ctx))
		_, err := w.DeleteSecurityGroup.DeleteSecurityGroup(cctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(id)})
		cancel()
		if err != nil {
			w.logger().Warn("all-access group not deleted", "group", id, "error", err.Error())
		}
	}
}

func (w *Workflow) tag(ctx context.Context, c *Case) (string, error) {
	cctx, cancel := w.call(ctx)
	defer cancel()
	_, err := w.CreateTags.CreateTags(cctx, &ec2.CreateTagsInput{Resources: []string{c.InstanceID}, Tags: []ec2types.Tag{
		{Key: aws.String(incident.TagQuarantine), Value: aws.String("true")},
		{Key: aws.String(incident.TagCase), Value: aws.String(c.CaseID)},
	}})
	if err != nil {
		return "", fmt.Errorf("ec2:CreateTags: %w", err)
	}
	return "tagged " + incident.TagQuarantine + "=true, " + incident.TagCase + "=" + c.CaseID, nil
}
