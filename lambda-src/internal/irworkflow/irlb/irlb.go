// Package irlb implements irworkflow.AutoScaling and irworkflow.TargetGroups
// over the SDK's Auto Scaling and Elastic Load Balancing v2 clients, one
// interface per operation. Only the containment function links it.
package irlb

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/securestacks/securestacks/lambda-src/internal/irworkflow"
)

// DescribeAutoScalingInstancesAPI is autoscaling:DescribeAutoScalingInstances.
type DescribeAutoScalingInstancesAPI interface {
	DescribeAutoScalingInstances(context.Context, *autoscaling.DescribeAutoScalingInstancesInput, ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingInstancesOutput, error)
}

// EnterStandbyAPI is autoscaling:EnterStandby.
type EnterStandbyAPI interface {
	EnterStandby(context.Context, *autoscaling.EnterStandbyInput, ...func(*autoscaling.Options)) (*autoscaling.EnterStandbyOutput, error)
}

// DetachInstancesAPI is autoscaling:DetachInstances.
type DetachInstancesAPI interface {
	DetachInstances(context.Context, *autoscaling.DetachInstancesInput, ...func(*autoscaling.Options)) (*autoscaling.DetachInstancesOutput, error)
}

// DescribeTargetGroupsAPI is elasticloadbalancing:DescribeTargetGroups.
type DescribeTargetGroupsAPI interface {
	DescribeTargetGroups(context.Context, *elb.DescribeTargetGroupsInput, ...func(*elb.Options)) (*elb.DescribeTargetGroupsOutput, error)
}

// DescribeTargetHealthAPI is elasticloadbalancing:DescribeTargetHealth.
type DescribeTargetHealthAPI interface {
	DescribeTargetHealth(context.Context, *elb.DescribeTargetHealthInput, ...func(*elb.Options)) (*elb.DescribeTargetHealthOutput, error)
}

// DeregisterTargetsAPI is elasticloadbalancing:DeregisterTargets.
type DeregisterTargetsAPI interface {
	DeregisterTargets(context.Context, *elb.DeregisterTargetsInput, ...func(*elb.Options)) (*elb.DeregisterTargetsOutput, error)
}

// AutoScaling is irworkflow.AutoScaling.
type AutoScaling struct {
	DescribeAutoScalingInstances DescribeAutoScalingInstancesAPI
	EnterStandbyAPI              EnterStandbyAPI
	DetachInstances              DetachInstancesAPI
}

var _ irworkflow.AutoScaling = (*AutoScaling)(nil)

// GroupOf returns the instance's group and lifecycle state.
func (a *AutoScaling) GroupOf(ctx context.Context, instanceID string) (string, string, error) {
	out, err := a.DescribeAutoScalingInstances.DescribeAutoScalingInstances(ctx, &autoscaling.DescribeAutoScalingInstancesInput{InstanceIds: []string{instanceID}})
	if err != nil {
		return "", "", fmt.Errorf("autoscaling:DescribeAutoScalingInstances: %w", err)
	}
	for _, i := range out.AutoScalingInstances {
		if aws.ToString(i.InstanceId) == instanceID {
			return aws.ToString(i.AutoScalingGroupName), aws.ToString(i.LifecycleState), nil
		}
	}
	return "", "", nil
}

// EnterStandby moves the instance to standby.
func (a *AutoScaling) EnterStandby(ctx context.Context, group, instanceID string) error {
	_, err := a.EnterStandbyAPI.EnterStandby(ctx, &autoscaling.EnterStandbyInput{
		AutoScalingGroupName: aws.String(group), InstanceIds: []string{instanceID}, ShouldDecrementDesiredCapacity: aws.Bool(true),
	})
	if err != nil {
		return fmt.Errorf("autoscaling:EnterStandby: %w", err)
	}
	return nil
}

// Detach removes the instance from the group; the group replaces it.
func (a *AutoScaling) Detach(ctx context.Context, group, instanceID string) error {
	_, err := a.DetachInstances.DetachInstances(ctx, &autoscaling.DetachInstancesInput{
		AutoScalingGroupName: aws.String(group), InstanceIds: []string{instanceID}, ShouldDecrementDesiredCapacity: aws.Bool(false),
	})
	if err != nil {
		return fmt.Errorf("autoscaling:DetachInstances: %w", err)
	}
	return nil
}

// TargetGroups is irworkflow.TargetGroups.
type TargetGroups struct {
	DescribeTargetGroups DescribeTargetGroupsAPI
	DescribeTargetHealth DescribeTargetHealthAPI
	DeregisterTargets    DeregisterTargetsAPI
}

var _ irworkflow.TargetGroups = (*TargetGroups)(nil)

// Registrations lists every instance-type target group of vpc and asks
// each for the instance's health: a target that is not registered answers
// "unused" (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetHealth.html).
func (t *TargetGroups) Registrations(ctx context.Context, instanceID, vpc string) ([]irworkflow.Registration, error) {
	var groups []elbtypes.TargetGroup
	var marker *string
	for {
		out, err := t.DescribeTargetGroups.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{Marker: marker})
		if err != nil {
			return nil, fmt.Errorf("elasticloadbalancing:DescribeTargetGroups: %w", err)
		}
		groups = append(groups, out.TargetGroups...)
		if marker = out.NextMarker; marker == nil {
			break
		}
	}
	var regs []irworkflow.Registration
	var problems []string
	for _, g := range groups {
		if g.TargetType != elbtypes.TargetTypeEnumInstance || (vpc != "" && aws.ToString(g.VpcId) != vpc) {
			continue
		}
		h, err := t.DescribeTargetHealth.DescribeTargetHealth(ctx, &elb.DescribeTargetHealthInput{
			TargetGroupArn: g.TargetGroupArn, Targets: []elbtypes.TargetDescription{{Id: aws.String(instanceID)}},
		})
		if err != nil {
			problems = append(problems, "elasticloadbalancing:DescribeTargetHealth "+aws.ToString(g.TargetGroupArn)+": "+err.Error())
			continue
		}
		for _, d := range h.TargetHealthDescriptions {
			if d.Target == nil || aws.ToString(d.Target.Id) != instanceID {
				continue
			}
			if d.TargetHealth != nil && (d.TargetHealth.State == elbtypes.TargetHealthStateEnumUnused || d.TargetHealth.State == elbtypes.TargetHealthStateEnumDraining) {
				continue
			}
			regs = append(regs, irworkflow.Registration{TargetGroupARN: aws.ToString(g.TargetGroupArn), Port: aws.ToInt32(d.Target.Port), AvailabilityZone: aws.ToString(d.Target.AvailabilityZone)})
		}
	}
	if len(problems) > 0 {
		return regs, errors.New(strings.Join(problems, "; "))
	}
	return regs, nil
}

// Deregister removes one registration.
func (t *TargetGroups) Deregister(ctx context.Context, instanceID string, r irworkflow.Registration) error {
	target := elbtypes.TargetDescription{Id: aws.String(instanceID)}
	if r.Port != 0 {
		target.Port = aws.Int32(r.Port)
	}
	if _, err := t.DeregisterTargets.DeregisterTargets(ctx, &elb.DeregisterTargetsInput{TargetGroupArn: aws.String(r.TargetGroupARN), Targets: []elbtypes.TargetDescription{target}}); err != nil {
		return fmt.Errorf("elasticloadbalancing:DeregisterTargets %s: %w", r.TargetGroupARN, err)
	}
	return nil
}
