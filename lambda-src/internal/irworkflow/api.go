package irworkflow

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// One interface per AWS operation: a step names exactly the calls it makes,
// and the fakes record their order.

// DescribeInstancesAPI is ec2:DescribeInstances.
type DescribeInstancesAPI interface {
	DescribeInstances(context.Context, *ec2.DescribeInstancesInput, ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
}

// DescribeSecurityGroupsAPI is ec2:DescribeSecurityGroups.
type DescribeSecurityGroupsAPI interface {
	DescribeSecurityGroups(context.Context, *ec2.DescribeSecurityGroupsInput, ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error)
}

// GetConsoleScreenshotAPI is ec2:GetConsoleScreenshot.
type GetConsoleScreenshotAPI interface {
	GetConsoleScreenshot(context.Context, *ec2.GetConsoleScreenshotInput, ...func(*ec2.Options)) (*ec2.GetConsoleScreenshotOutput, error)
}

// GetConsoleOutputAPI is ec2:GetConsoleOutput.
type GetConsoleOutputAPI interface {
	GetConsoleOutput(context.Context, *ec2.GetConsoleOutputInput, ...func(*ec2.Options)) (*ec2.GetConsoleOutputOutput, error)
}

// CreateSnapshotsAPI is ec2:CreateSnapshots.
type CreateSnapshotsAPI interface {
	CreateSnapshots(context.Context, *ec2.CreateSnapshotsInput, ...func(*ec2.Options)) (*ec2.CreateSnapshotsOutput, error)
}

// ModifyInstanceAttributeAPI is ec2:ModifyInstanceAttribute.
type ModifyInstanceAttributeAPI interface {
	ModifyInstanceAttribute(context.Context, *ec2.ModifyInstanceAttributeInput, ...func(*ec2.Options)) (*ec2.ModifyInstanceAttributeOutput, error)
}

// DescribeIamInstanceProfileAssociationsAPI is ec2:DescribeIamInstanceProfileAssociations.
type DescribeIamInstanceProfileAssociationsAPI interface {
	DescribeIamInstanceProfileAssociations(context.Context, *ec2.DescribeIamInstanceProfileAssociationsInput, ...func(*ec2.Options)) (*ec2.DescribeIamInstanceProfileAssociationsOutput, error)
}

// DisassociateIamInstanceProfileAPI is ec2:DisassociateIamInstanceProfile.
type DisassociateIamInstanceProfileAPI interface {
	DisassociateIamInstanceProfile(context.Context, *ec2.DisassociateIamInstanceProfileInput, ...func(*ec2.Options)) (*ec2.DisassociateIamInstanceProfileOutput, error)
}

// AssociateIamInstanceProfileAPI is ec2:AssociateIamInstanceProfile.
type AssociateIamInstanceProfileAPI interface {
	AssociateIamInstanceProfile(context.Context, *ec2.AssociateIamInstanceProfileInput, ...func(*ec2.Options)) (*ec2.AssociateIamInstanceProfileOutput, error)
}

// ModifyNetworkInterfaceAttributeAPI is ec2:ModifyNetworkInterfaceAttribute.
type ModifyNetworkInterfaceAttributeAPI interface {
	ModifyNetworkInterfaceAttribute(context.Context, *ec2.ModifyNetworkInterfaceAttributeInput, ...func(*ec2.Options)) (*ec2.ModifyNetworkInterfaceAttributeOutput, error)
}

// CreateSecurityGroupAPI is ec2:CreateSecurityGroup.
type CreateSecurityGroupAPI interface {
	CreateSecurityGroup(context.Context, *ec2.CreateSecurityGroupInput, ...func(*ec2.Options)) (*ec2.CreateSecurityGroupOutput, error)
}

// AuthorizeSecurityGroupIngressAPI is ec2:AuthorizeSecurityGroupIngress.
type AuthorizeSecurityGroupIngressAPI interface {
	AuthorizeSecurityGroupIngress(context.Context, *ec2.AuthorizeSecurityGroupIngressInput, ...func(*ec2.Options)) (*ec2.AuthorizeSecurityGroupIngressOutput, error)
}

// AuthorizeSecurityGroupEgressAPI is ec2:AuthorizeSecurityGroupEgress.
type AuthorizeSecurityGroupEgressAPI interface {
	AuthorizeSecurityGroupEgress(context.Context, *ec2.AuthorizeSecurityGroupEgressInput, ...func(*ec2.Options)) (*ec2.AuthorizeSecurityGroupEgressOutput, error)
}

// RevokeSecurityGroupEgressAPI is ec2:RevokeSecurityGroupEgress.
type RevokeSecurityGroupEgressAPI interface {
	RevokeSecurityGroupEgress(context.Context, *ec2.RevokeSecurityGroupEgressInput, ...func(*ec2.Options)) (*ec2.RevokeSecurityGroupEgressOutput, error)
}

// DeleteSecurityGroupAPI is ec2:DeleteSecurityGroup.
type DeleteSecurityGroupAPI interface {
	DeleteSecurityGroup(context.Context, *ec2.DeleteSecurityGroupInput, ...func(*ec2.Options)) (*ec2.DeleteSecurityGroupOutput, error)
}

// CreateTagsAPI is ec2:CreateTags.
type CreateTagsAPI interface {
	CreateTags(context.Context, *ec2.CreateTagsInput, ...func(*ec2.Options)) (*ec2.CreateTagsOutput, error)
}

// DeleteTagsAPI is ec2:DeleteTags.
type DeleteTagsAPI interface {
	DeleteTags(context.Context, *ec2.DeleteTagsInput, ...func(*ec2.Options)) (*ec2.DeleteTagsOutput, error)
}

// AutoScaling is the Auto Scaling part of containment, over
// autoscaling:DescribeAutoScalingInstances, EnterStandby and DetachInstances
// (irworkflow/irlb has the SDK implementation; the interface keeps the
// Auto Scaling and ELB packages out of the evidence function's binary).
type AutoScaling interface {
	// GroupOf returns the instance's group and lifecycle state; "" when it
	// is in none.
	GroupOf(ctx context.Context, instanceID string) (group, lifecycleState string, err error)
	// EnterStandby moves the instance to standby, decrementing the desired capacity.
	EnterStandby(ctx context.Context, group, instanceID string) error
	// Detach removes the instance from the group without decrementing.
	Detach(ctx context.Context, group, instanceID string) error
}

// TargetGroups is the load-balancer part of containment, over
// elasticloadbalancing:DescribeTargetGroups, DescribeTargetHealth and
// DeregisterTargets.
type TargetGroups interface {
	// Registrations lists the instance's registrations in instance-type
	// target groups of vpc (every VPC when vpc is ""). A partial list comes
	// with an error for the groups it could not read.
	Registrations(ctx context.Context, instanceID, vpc string) ([]Registration, error)
	// Deregister removes one registration.
	Deregister(ctx context.Context, instanceID string, r Registration) error
}

// PutObjectAPI is s3:PutObject.
type PutObjectAPI interface {
	PutObject(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// PublishAPI is sns:Publish.
type PublishAPI interface {
	Publish(context.Context, *sns.PublishInput, ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// SSM is the part of Systems Manager the forensics step uses (over
// lambda-src/internal/awsjson: the SDK's ssm package would push the binary
// past the size limit).
type SSM interface {
	// Managed reports whether the instance's agent is online, and its platform
	// type ("Linux", "Windows", "MacOS").
	Managed(ctx context.Context, instanceID string) (online bool, platform string, err error)
	// SendCommand runs document with commands, output to bucket/prefix, and
	// returns the command ID.
	SendCommand(ctx context.Context, in SendCommandInput) (string, error)
	// Invocation returns the command's status on the instance ("Pending",
	// "InProgress", "Success", "Failed", "TimedOut", ...) and its output
	// (at most 24,000 characters each, as ssm:GetCommandInvocation returns them).
	Invocation(ctx context.Context, commandID, instanceID string) (Invocation, error)
}

// SendCommandInput is the forensic command.
type SendCommandInput struct {
	InstanceID     string
	DocumentName   string
	Commands       []string
	TimeoutSeconds int
	Bucket         string
	KeyPrefix      string
	Comment        string
}

// Invocation is a command's result on one instance.
type Invocation struct {
	Status string
	Stdout string
	Stderr string
}

// Store keeps the case records (a DynamoDB table in the deployment).
type Store interface {
	Load(ctx context.Context, caseID string) (*Case, error)
	Save(ctx context.Context, c *Case) error
}

// Cases opens and closes cases: one open case per instance.
type Cases interface {
	Store
	// Open stores c as the instance's open case, or returns the ID of the
	// instance's open case and created false: the caller joins that one.
	Open(ctx context.Context, c *Case) (caseID string, created bool, err error)
	// Close ends the instance's open case caseID, so a later request opens a
	// new one.
	Close(ctx context.Context, instanceID, caseID string) error
}
