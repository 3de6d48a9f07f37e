// Package irfake is an in-memory EC2, Auto Scaling, ELBv2, S3, SNS and
// Systems Manager for the incident-response workflow's tests and
// benchmark: one instance, its interfaces, volumes, profile, Auto Scaling
// group and target groups, and a log of every call in order.
package irfake

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"

	"github.com/securestacks/securestacks/lambda-src/internal/irworkflow"
	"github.com/securestacks/securestacks/lambda-src/internal/irworkflow/irlb"
)

// Mutating lists the operations that change the instance, its network, its
// group or its load balancers (not the evidence writes).
var Mutating = map[string]bool{
	"ec2:ModifyInstanceAttribute": true, "ec2:DisassociateIamInstanceProfile": true, "ec2:AssociateIamInstanceProfile": true,
	"ec2:ModifyNetworkInterfaceAttribute": true, "ec2:CreateSecurityGroup": true, "ec2:AuthorizeSecurityGroupIngress": true,
	"ec2:AuthorizeSecurityGroupEgress": true, "ec2:RevokeSecurityGroupEgress": true, "ec2:DeleteSecurityGroup": true,
	"ec2:CreateTags": true, "ec2:DeleteTags": true, "autoscaling:EnterStandby": true, "autoscaling:DetachInstances": true,
	"elasticloadbalancing:DeregisterTargets": true, "ssm:SendCommand": true,
}

// Evidence lists the collect-phase operations.
var Evidence = map[string]bool{
	"ec2:DescribeInstances": true, "ec2:DescribeSecurityGroups": true, "ec2:GetConsoleScreenshot": true,
	"ec2:GetConsoleOutput": true, "ec2:CreateSnapshots": true, "s3:PutObject": true, "ssm:DescribeInstanceInformation": true,
}

// Call is one recorded call.
type Call struct {
	Op string
	// Arg is the main argument (an interface ID and group, a volume count...).
	Arg string
}

// Interface is a network interface of the fake instance.
type Interface struct {
	ID, VpcID string
	Groups    []string
}

// Cloud is the fake. Its zero value is not useful: use New.
type Cloud struct {
	mu         sync.Mutex
	InstanceID string
	State      string
	Platform   string
	Tags       map[string]string
	Interfaces []*Interface
	Volumes    []string
	// InstanceStore marks an instance with no EBS volume.
	ProfileARN      string
	association     string
	AutoScaling     string
	ASGState        string
	StandbyFails    bool
	TargetGroups    []string
	registered      map[string]bool
	SSMOnline       bool
	CommandStatus   string
	Groups          map[string]*ec2types.SecurityGroup
	Objects         map[string][]byte
	versions        int
	Published       []string
	Calls           []Call
	Fail            map[string]error
	TerminationProt bool
	Shutdown        string
	// RaceGroup, when set, runs once just before the first CreateSecurityGroup,
	// as another case creating the same group would.
	RaceGroup func(*Cloud)
	// Latency is added to every call, for the benchmark.
	Latency time.Duration
	nextID  int
}

// New returns an instance with the given interfaces (each with one
// original group) and EBS volumes.
func New(instanceID string, interfaces, volumes int) *Cloud {
	c := &Cloud{
		InstanceID: instanceID, State: "running", Tags: map[string]string{"Name": "web"},
		ProfileARN: "arn:aws:iam::111122223333:instance-profile/web", association: "iip-assoc-1",
		TargetGroups: nil, registered: map[string]bool{}, Groups: map[string]*ec2types.SecurityGroup{},
		Objects: map[string][]byte{}, Fail: map[string]error{}, CommandStatus: "Success", Shutdown: "terminate",
	}
	for i := range interfaces {
		id := fmt.Sprintf("eni-%017x", i+1)
		g := fmt.Sprintf("sg-%017x", 0xa00+i)
		c.Groups[g] = &ec2types.SecurityGroup{GroupId: aws.String(g), VpcId: aws.String("vpc-1"), GroupName: aws.String("app")}
		c.Interfaces = append(c.Interfaces, &Interface{ID: id, VpcID: "vpc-1", Groups: []string{g}})
	}
	for i := range volumes {
		c.Volumes = append(c.Volumes, fmt.Sprintf("vol-%017x", i+1))
	}
	return c
}

// InAutoScaling puts the instance InService in group.
func (c *Cloud) InAutoScaling(group string) *Cloud {
	c.AutoScaling, c.ASGState = group, "InService"
	return c
}

// InTargetGroups registers the instance in the target groups.
func (c *Cloud) InTargetGroups(arns ...string) *Cloud {
	c.TargetGroups = append(c.TargetGroups, arns...)
	for _, a := range arns {
		c.registered[a] = true
	}
	return c
}

// Registered reports whether the instance is still registered in arn.
func (c *Cloud) Registered(arn string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.registered[arn]
}

// Ops returns the operation names called, in order.
func (c *Cloud) Ops() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, len(c.Calls))
	for i, k := range c.Calls {
		out[i] = k.Op
	}
	return out
}

// MutatingCalls counts the calls in Mutating.
func (c *Cloud) MutatingCalls() int {
	n := 0
	for _, op := range c.Ops() {
		if Mutating[op] {
			n++
		}
	}
	return n
}

// Association returns the current profile ARN, "" when none.
func (c *Cloud) Association() string { c.mu.Lock(); defer c.mu.Unlock(); return c.ProfileARN }

func (c *Cloud) record(op, arg string) error {
	c.mu.Lock()
	c.Calls = append(c.Calls, Call{op, arg})
	err := c.Fail[op]
	d := c.Latency
	c.mu.Unlock()
	if d > 0 {
		time.Sleep(d)
	}
	return err
}

// APIError makes an error as the SDK returns it.
func APIError(code string) error { return &smithy.GenericAPIError{Code: code, Message: code} }

func (c *Cloud) newID(prefix string) string {
	c.nextID++
	return fmt.Sprintf("%s-%017x", prefix, 0xf000+c.nextID)
}

// Wire returns a workflow over c with every client set.
func (c *Cloud) Wire(cfg irworkflow.Config, store irworkflow.Store) *irworkflow.Workflow {
	return &irworkflow.Workflow{
		Config: cfg, Store: store,
		DescribeInstances: c, DescribeSecurityGroups: c, GetConsoleScreenshot: c, GetConsoleOutput: c, CreateSnapshots: c,
		ModifyInstanceAttribute: c, DescribeIamInstanceProfileAssociations: c, DisassociateIamInstanceProfile: c,
		AssociateIamInstanceProfile: c, ModifyNetworkInterfaceAttribute: c, CreateSecurityGroup: c,
		AuthorizeSecurityGroupIngress: c, AuthorizeSecurityGroupEgress: c, RevokeSecurityGroupEgress: c,
		DeleteSecurityGroup: c, CreateTags: c, DeleteTags: c,
		AutoScaling:  &irlb.AutoScaling{DescribeAutoScalingInstances: c, EnterStandbyAPI: c, DetachInstances: c},
		TargetGroups: &irlb.TargetGroups{DescribeTargetGroups: c, DescribeTargetHealth: c, DeregisterTargets: c},
		PutObject:    c,
		Publish:      c, SSM: ssmFake{c},
		Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() },
	}
}

func (c *Cloud) DescribeInstances(_ context.Context, in *ec2.DescribeInstancesInput, _ ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	if err := c.record("ec2:DescribeInstances", strings.Join(in.InstanceIds, ",")); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !slices.Contains(in.InstanceIds, c.InstanceID) {
		return &ec2.DescribeInstancesOutput{}, nil
	}
	i := ec2types.Instance{InstanceId: aws.String(c.InstanceID), State: &ec2types.InstanceState{Name: ec2types.InstanceStateName(c.State)},
		VpcId: aws.String("vpc-1"), InstanceType: ec2types.InstanceTypeT3Micro, Platform: ec2types.PlatformValues(c.Platform)}
	for k, v := range c.Tags {
		i.Tags = append(i.Tags, ec2types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	if c.State != "terminated" {
		for _, n := range c.Interfaces {
			ni := ec2types.InstanceNetworkInterface{NetworkInterfaceId: aws.String(n.ID), VpcId: aws.String(n.VpcID)}
			for _, g := range n.Groups {
				ni.Groups = append(ni.Groups, ec2types.GroupIdentifier{GroupId: aws.String(g)})
			}
			i.NetworkInterfaces = append(i.NetworkInterfaces, ni)
		}
		for _, v := range c.Volumes {
			i.BlockDeviceMappings = append(i.BlockDeviceMappings, ec2types.InstanceBlockDeviceMapping{Ebs: &ec2types.EbsInstanceBlockDevice{VolumeId: aws.String(v)}})
		}
	}
	if len(c.Volumes) == 0 {
		i.RootDeviceType = ec2types.DeviceTypeInstanceStore
	}
	return &ec2.DescribeInstancesOutput{Reservations: []ec2types.Reservation{{Instances: []ec2types.Instance{i}}}}, nil
}

func (c *Cloud) DescribeSecurityGroups(_ context.Context, in *ec2.DescribeSecurityGroupsInput, _ ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error) {
	if err := c.record("ec2:DescribeSecurityGroups", strings.Join(in.GroupIds, ",")); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	out := &ec2.DescribeSecurityGroupsOutput{}
	for id, g := range c.Groups {
		if len(in.GroupIds) > 0 && !slices.Contains(in.GroupIds, id) {
			continue
		}
		if !matches(g, in.Filters) {
			continue
		}
		out.SecurityGroups = append(out.SecurityGroups, *g)
	}
	return out, nil
}

func matches(g *ec2types.SecurityGroup, filters []ec2types.Filter) bool {
	for _, f := range filters {
		name := aws.ToString(f.Name)
		var v string
		switch {
		case name == "vpc-id":
			v = aws.ToString(g.VpcId)
		case strings.HasPrefix(name, "tag:"):
			for _, t := range g.Tags {
				if aws.ToString(t.Key) == strings.TrimPrefix(name, "tag:") {
					v = aws.ToString(t.Value)
				}
			}
		}
		if !slices.Contains(f.Values, v) {
			return false
		}
	}
	return true
}

func (c *Cloud) GetConsoleScreenshot(_ context.Context, in *ec2.GetConsoleScreenshotInput, _ ...func(*ec2.Options)) (*ec2.GetConsoleScreenshotOutput, error) {
	if err := c.record("ec2:GetConsoleScreenshot", aws.ToString(in.InstanceId)); err != nil {
		return nil, err
	}
	return &ec2.GetConsoleScreenshotOutput{ImageData: aws.String(base64.StdEncoding.EncodeToString([]byte("\xff\xd8\xff jpeg")))}, nil
}

func (c *Cloud) GetConsoleOutput(_ context.Context, in *ec2.GetConsoleOutputInput, _ ...func(*ec2.Options)) (*ec2.GetConsoleOutputOutput, error) {
	if err := c.record("ec2:GetConsoleOutput", aws.ToString(in.InstanceId)); err != nil {
		return nil, err
	}
	return &ec2.GetConsoleOutputOutput{Output: aws.String(base64.StdEncoding.EncodeToString([]byte("[    0.000000] Linux version 6.1\n")))}, nil
}

func (c *Cloud) CreateSnapshots(_ context.Context, in *ec2.CreateSnapshotsInput, _ ...func(*ec2.Options)) (*ec2.CreateSnapshotsOutput, error) {
	c.mu.Lock()
	n := len(c.Volumes)
	c.mu.Unlock()
	if err := c.record("ec2:CreateSnapshots", fmt.Sprint(n)); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	out := &ec2.CreateSnapshotsOutput{}
	for _, v := range c.Volumes {
		out.Snapshots = append(out.Snapshots, ec2types.SnapshotInfo{SnapshotId: aws.String(c.newID("snap")), VolumeId: aws.String(v), Tags: in.TagSpecifications[0].Tags})
	}
	return out, nil
}

func (c *Cloud) ModifyInstanceAttribute(_ context.Context, in *ec2.ModifyInstanceAttributeInput, _ ...func(*ec2.Options)) (*ec2.ModifyInstanceAttributeOutput, error) {
	arg := "shutdown"
	if in.DisableApiTermination != nil {
		arg = "termination"
	}
	if err := c.record("ec2:ModifyInstanceAttribute", arg); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if in.DisableApiTermination != nil {
		c.TerminationProt = aws.ToBool(in.DisableApiTermination.Value)
	}
	if in.InstanceInitiatedShutdownBehavior != nil {
		c.Shutdown = aws.ToString(in.InstanceInitiatedShutdownBehavior.Value)
	}
	return &ec2.ModifyInstanceAttributeOutput{}, nil
}

func (c *Cloud) DescribeIamInstanceProfileAssociations(context.Context, *ec2.DescribeIamInstanceProfileAssociationsInput, ...func(*ec2.Options)) (*ec2.DescribeIamInstanceProfileAssociationsOutput, error) {
	if err := c.record("ec2:DescribeIamInstanceProfileAssociations", ""); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	out := &ec2.DescribeIamInstanceProfileAssociationsOutput{}
	if c.ProfileARN != "" {
		out.IamInstanceProfileAssociations = []ec2types.IamInstanceProfileAssociation{{AssociationId: aws.String(c.association),
			InstanceId: aws.String(c.InstanceID), State: ec2types.IamInstanceProfileAssociationStateAssociated,
			IamInstanceProfile: &ec2types.IamInstanceProfile{Arn: aws.String(c.ProfileARN)}}}
	}
	return out, nil
}

func (c *Cloud) DisassociateIamInstanceProfile(_ context.Context, in *ec2.DisassociateIamInstanceProfileInput, _ ...func(*ec2.Options)) (*ec2.DisassociateIamInstanceProfileOutput, error) {
	if err := c.record("ec2:DisassociateIamInstanceProfile", aws.ToString(in.AssociationId)); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if aws.ToString(in.AssociationId) != c.association || c.ProfileARN == "" {
		return nil, APIError("InvalidAssociationID.NotFound")
	}
	c.ProfileARN = ""
	return &ec2.DisassociateIamInstanceProfileOutput{}, nil
}

func (c *Cloud) AssociateIamInstanceProfile(_ context.Context, in *ec2.AssociateIamInstanceProfileInput, _ ...func(*ec2.Options)) (*ec2.AssociateIamInstanceProfileOutput, error) {
	arn := aws.ToString(in.IamInstanceProfile.Arn)
	if err := c.record("ec2:AssociateIamInstanceProfile", arn); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ProfileARN != "" {
		return nil, APIError("IncorrectState")
	}
	c.ProfileARN, c.association = arn, c.newID("iip-assoc")
	return &ec2.AssociateIamInstanceProfileOutput{IamInstanceProfileAssociation: &ec2types.IamInstanceProfileAssociation{AssociationId: aws.String(c.association)}}, nil
}

func (c *Cloud) ModifyNetworkInterfaceAttribute(_ context.Context, in *ec2.ModifyNetworkInterfaceAttributeInput, _ ...func(*ec2.Options)) (*ec2.ModifyNetworkInterfaceAttributeOutput, error) {
	if err := c.record("ec2:ModifyNetworkInterfaceAttribute", aws.ToString(in.NetworkInterfaceId)+"="+strings.Join(in.Groups, ",")); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, g := range in.Groups {
		if _, ok := c.Groups[g]; !ok {
			return nil, APIError("InvalidGroup.NotFound")
		}
	}
	for _, n := range c.Interfaces {
		if n.ID == aws.ToString(in.NetworkInterfaceId) {
			n.Groups = slices.Clone(in.Groups)
			return &ec2.ModifyNetworkInterfaceAttributeOutput{}, nil
		}
	}
	return nil, APIError("InvalidNetworkInterfaceID.NotFound")
}

func (c *Cloud) CreateSecurityGroup(_ context.Context, in *ec2.CreateSecurityGroupInput, _ ...func(*ec2.Options)) (*ec2.CreateSecurityGroupOutput, error) {
	if err := c.record("ec2:CreateSecurityGroup", aws.ToString(in.GroupName)); err != nil {
		return nil, err
	}
	if race := c.RaceGroup; race != nil {
		c.RaceGroup = nil
		race(c)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, g := range c.Groups {
		if aws.ToString(g.GroupName) == aws.ToString(in.GroupName) && aws.ToString(g.VpcId) == aws.ToString(in.VpcId) {
			return nil, APIError("InvalidGroup.Duplicate")
		}
	}
	id := c.newID("sg")
	g := &ec2types.SecurityGroup{GroupId: aws.String(id), GroupName: in.GroupName, VpcId: in.VpcId,
		IpPermissionsEgress: []ec2types.IpPermission{{IpProtocol: aws.String("-1"), IpRanges: []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}}
	for _, ts := range in.TagSpecifications {
		g.Tags = append(g.Tags, ts.Tags...)
	}
	c.Groups[id] = g
	return &ec2.CreateSecurityGroupOutput{GroupId: aws.String(id)}, nil
}

func (c *Cloud) AuthorizeSecurityGroupIngress(_ context.Context, in *ec2.AuthorizeSecurityGroupIngressInput, _ ...func(*ec2.Options)) (*ec2.AuthorizeSecurityGroupIngressOutput, error) {
	if err := c.record("ec2:AuthorizeSecurityGroupIngress", aws.ToString(in.GroupId)); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.Groups[aws.ToString(in.GroupId)].IpPermissions = append(c.Groups[aws.ToString(in.GroupId)].IpPermissions, in.IpPermissions...)
	return &ec2.AuthorizeSecurityGroupIngressOutput{}, nil
}

func (c *Cloud) AuthorizeSecurityGroupEgress(_ context.Context, in *ec2.AuthorizeSecurityGroupEgressInput, _ ...func(*ec2.Options)) (*ec2.AuthorizeSecurityGroupEgressOutput, error) {
	if err := c.record("ec2:AuthorizeSecurityGroupEgress", aws.ToString(in.GroupId)); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	g := c.Groups[aws.ToString(in.GroupId)]
	g.IpPermissionsEgress = append(g.IpPermissionsEgress, in.IpPermissions...)
	return &ec2.AuthorizeSecurityGroupEgressOutput{}, nil
}

func (c *Cloud) RevokeSecurityGroupEgress(_ context.Context, in *ec2.RevokeSecurityGroupEgressInput, _ ...func(*ec2.Options)) (*ec2.RevokeSecurityGroupEgressOutput, error) {
	if err := c.record("ec2:RevokeSecurityGroupEgress", aws.ToString(in.GroupId)); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.Groups[aws.ToString(in.GroupId)].IpPermissionsEgress = nil
	return &ec2.RevokeSecurityGroupEgressOutput{}, nil
}

func (c *Cloud) DeleteSecurityGroup(_ context.Context, in *ec2.DeleteSecurityGroupInput, _ ...func(*ec2.Options)) (*ec2.DeleteSecurityGroupOutput, error) {
	id := aws.ToString(in.GroupId)
	if err := c.record("ec2:DeleteSecurityGroup", id); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range c.Interfaces {
		if slices.Contains(n.Groups, id) {
			return nil, APIError("DependencyViolation")
		}
	}
	delete(c.Groups, id)
	return &ec2.DeleteSecurityGroupOutput{}, nil
}

func (c *Cloud) CreateTags(_ context.Context, in *ec2.CreateTagsInput, _ ...func(*ec2.Options)) (*ec2.CreateTagsOutput, error) {
	if err := c.record("ec2:CreateTags", strings.Join(in.Resources, ",")); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, t := range in.Tags {
		c.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return &ec2.CreateTagsOutput{}, nil
}

func (c *Cloud) DeleteTags(_ context.Context, in *ec2.DeleteTagsInput, _ ...func(*ec2.Options)) (*ec2.DeleteTagsOutput, error) {
	if err := c.record("ec2:DeleteTags", strings.Join(in.Resources, ",")); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, t := range in.Tags {
		delete(c.Tags, aws.ToString(t.Key))
	}
	return &ec2.DeleteTagsOutput{}, nil
}

func (c *Cloud) DescribeAutoScalingInstances(context.Context, *autoscaling.DescribeAutoScalingInstancesInput, ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingInstancesOutput, error) {
	if err := c.record("autoscaling:DescribeAutoScalingInstances", ""); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	out := &autoscaling.DescribeAutoScalingInstancesOutput{}
	if c.AutoScaling != "" {
		out.AutoScalingInstances = []astypes.AutoScalingInstanceDetails{{InstanceId: aws.String(c.InstanceID),
			AutoScalingGroupName: aws.String(c.AutoScaling), LifecycleState: aws.String(c.ASGState)}}
	}
	return out, nil
}

func (c *Cloud) EnterStandby(context.Context, *autoscaling.EnterStandbyInput, ...func(*autoscaling.Options)) (*autoscaling.EnterStandbyOutput, error) {
	if err := c.record("autoscaling:EnterStandby", c.AutoScaling); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.StandbyFails {
		return nil, APIError("ValidationError")
	}
	c.ASGState = "Standby"
	return &autoscaling.EnterStandbyOutput{}, nil
}

func (c *Cloud) DetachInstances(context.Context, *autoscaling.DetachInstancesInput, ...func(*autoscaling.Options)) (*autoscaling.DetachInstancesOutput, error) {
	if err := c.record("autoscaling:DetachInstances", c.AutoScaling); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.AutoScaling, c.ASGState = "", ""
	return &autoscaling.DetachInstancesOutput{}, nil
}

func (c *Cloud) DescribeTargetGroups(context.Context, *elb.DescribeTargetGroupsInput, ...func(*elb.Options)) (*elb.DescribeTargetGroupsOutput, error) {
	if err := c.record("elasticloadbalancing:DescribeTargetGroups", ""); err != nil {
		return nil, err
	}
	out := &elb.DescribeTargetGroupsOutput{}
	for _, a := range c.TargetGroups {
		out.TargetGroups = append(out.TargetGroups, elbtypes.TargetGroup{TargetGroupArn: aws.String(a), TargetType: elbtypes.TargetTypeEnumInstance, VpcId: aws.String("vpc-1")})
	}
	out.TargetGroups = append(out.TargetGroups, elbtypes.TargetGroup{TargetGroupArn: aws.String("arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/ips/1"), TargetType: elbtypes.TargetTypeEnumIp, VpcId: aws.String("vpc-1")})
	return out, nil
}

func (c *Cloud) DescribeTargetHealth(_ context.Context, in *elb.DescribeTargetHealthInput, _ ...func(*elb.Options)) (*elb.DescribeTargetHealthOutput, error) {
	arn := aws.ToString(in.TargetGroupArn)
	if err := c.record("elasticloadbalancing:DescribeTargetHealth", arn); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	state := elbtypes.TargetHealthStateEnumUnused
	if c.registered[arn] {
		state = elbtypes.TargetHealthStateEnumHealthy
	}
	return &elb.DescribeTargetHealthOutput{TargetHealthDescriptions: []elbtypes.TargetHealthDescription{{
		Target: &elbtypes.TargetDescription{Id: aws.String(c.InstanceID), Port: aws.Int32(8080)}, TargetHealth: &elbtypes.TargetHealth{State: state}}}}, nil
}

func (c *Cloud) DeregisterTargets(_ context.Context, in *elb.DeregisterTargetsInput, _ ...func(*elb.Options)) (*elb.DeregisterTargetsOutput, error) {
	arn := aws.ToString(in.TargetGroupArn)
	if err := c.record("elasticloadbalancing:DeregisterTargets", arn); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.registered[arn] = false
	return &elb.DeregisterTargetsOutput{}, nil
}

func (c *Cloud) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	key := aws.ToString(in.Key)
	if err := c.record("s3:PutObject", key); err != nil {
		return nil, err
	}
	b, err := io.ReadAll(in.Body)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.Objects[key] = bytes.Clone(b)
	c.versions++
	return &s3.PutObjectOutput{VersionId: aws.String(fmt.Sprintf("v%d", c.versions))}, nil
}

func (c *Cloud) Publish(_ context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	if err := c.record("sns:Publish", aws.ToString(in.Subject)); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.Published = append(c.Published, aws.ToString(in.Subject)+"\n"+aws.ToString(in.Message))
	return &sns.PublishOutput{}, nil
}

type ssmFake struct{ c *Cloud }

func (s ssmFake) Managed(context.Context, string) (bool, string, error) {
	if err := s.c.record("ssm:DescribeInstanceInformation", ""); err != nil {
		return false, "", err
	}
	return s.c.SSMOnline, "Linux", nil
}

func (s ssmFake) SendCommand(_ context.Context, in irworkflow.SendCommandInput) (string, error) {
	if err := s.c.record("ssm:SendCommand", in.DocumentName); err != nil {
		return "", err
	}
	return "cmd-1", nil
}

func (s ssmFake) Invocation(context.Context, string, string) (irworkflow.Invocation, error) {
	if err := s.c.record("ssm:GetCommandInvocation", ""); err != nil {
		return irworkflow.Invocation{}, err
	}
	return irworkflow.Invocation{Status: s.c.CommandStatus, Stdout: "Linux web 6.1\n"}, nil
}

// Store is an in-memory case store.
type Store struct {
	mu    sync.Mutex
	cases map[string][]byte
	// Locks maps an instance to its open case.
	Locks map[string]string
}

// NewStore returns an empty store.
func NewStore() *Store { return &Store{cases: map[string][]byte{}, Locks: map[string]string{}} }

// ErrNotFound is Load's error for an unknown case.
var ErrNotFound = errors.New("case not found")
