package incidentresponse

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/gofunction"
	"github.com/securestacks/securestacks/internal/incident"
)

// The response roles act on instances, interfaces, groups and snapshots
// named at run time, so their EC2 statements name resource types, not
// resources, and narrow them with the conditions EC2 evaluates for each
// action (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html):
//   - instances: never one that carries the protected tag (aws:ResourceTag);
//   - security groups the workflow creates, changes or deletes: only those
//     tagged with this deployment (aws:RequestTag at creation, then
//     aws:ResourceTag), and tags only at creation (ec2:CreateAction);
//   - tags on instances: only the quarantine and case keys (aws:TagKeys);
//   - the forensic profile: the only role ec2 may be passed (iam:PassRole).

func arn(service, resource string) string {
	return "arn:" + *awscdk.Aws_PARTITION() + ":" + service + ":" + *awscdk.Aws_REGION() + ":" + *awscdk.Aws_ACCOUNT_ID() + ":" + resource
}

// notProtected is the condition that keeps a statement off protected instances.
func notProtected(key string, value *string) map[string]any {
	if value == nil {
		return map[string]any{"Null": map[string]any{"aws:ResourceTag/" + key: "true"}}
	}
	return map[string]any{"StringNotEquals": map[string]any{"aws:ResourceTag/" + key: *value}}
}

func statement(sid string, actions []string, resources []string, conditions map[string]any) awsiam.PolicyStatement {
	p := &awsiam.PolicyStatementProps{Sid: jsii.String(sid), Actions: jsii.Strings(actions...), Resources: jsii.Strings(resources...)}
	if conditions != nil {
		p.Conditions = &conditions
	}
	return awsiam.NewPolicyStatement(p)
}

func addAll(fn *gofunction.GoFunction, statements ...awsiam.PolicyStatement) {
	for _, s := range statements {
		fn.AddToRolePolicy(s)
	}
}

func (ir *IncidentResponse) grantCases(fn *gofunction.GoFunction, actions ...string) {
	addAll(fn, statement("Cases", actions, []string{*ir.Cases.TableArn()}, nil))
}

func (ir *IncidentResponse) grantEvidence(protectedKey string, protectedValue *string) {
	fn := ir.EvidenceFunction
	instance := arn("ec2", "instance/*")
	addAll(fn,
		statement("Describe", []string{"ec2:DescribeInstances", "ec2:DescribeSecurityGroups", "ssm:DescribeInstanceInformation"}, []string{"*"}, nil),
		statement("Console", []string{"ec2:GetConsoleScreenshot", "ec2:GetConsoleOutput"}, []string{instance}, notProtected(protectedKey, protectedValue)),
		statement("SnapshotInstance", []string{"ec2:CreateSnapshots"}, []string{instance}, notProtected(protectedKey, protectedValue)),
		statement("SnapshotVolumes", []string{"ec2:CreateSnapshots"}, []string{arn("ec2", "volume/*"),
			"arn:" + *awscdk.Aws_PARTITION() + ":ec2:" + *awscdk.Aws_REGION() + "::snapshot/*"}, nil),
		statement("TagSnapshots", []string{"ec2:CreateTags"}, []string{"arn:" + *awscdk.Aws_PARTITION() + ":ec2:" + *awscdk.Aws_REGION() + "::snapshot/*"},
			map[string]any{"StringEquals": map[string]any{"ec2:CreateAction": "CreateSnapshots"}}),
		statement("ForensicProfile", []string{"ec2:AssociateIamInstanceProfile", "ec2:DisassociateIamInstanceProfile"}, []string{instance}, notProtected(protectedKey, protectedValue)),
		statement("PassForensicRole", []string{"iam:PassRole"}, []string{*ir.ForensicRole.RoleArn()},
			map[string]any{"StringEquals": map[string]any{"iam:PassedToService": "ec2.amazonaws.com"}}),
		statement("ForensicCommand", []string{"ssm:SendCommand"}, []string{instance,
			// AWS-owned documents: their ARN has no account, which * matches.
			"arn:" + *awscdk.Aws_PARTITION() + ":ssm:" + *awscdk.Aws_REGION() + ":*:document/AWS-RunShellScript",
			"arn:" + *awscdk.Aws_PARTITION() + ":ssm:" + *awscdk.Aws_REGION() + ":*:document/AWS-RunPowerShellScript"}, nil),
		statement("ForensicResult", []string{"ssm:GetCommandInvocation"}, []string{"*"}, nil),
		statement("Artifacts", []string{"s3:PutObject"}, []string{*ir.EvidenceBucket.ArnForObjects(jsii.String("cases/*"))}, nil),
		statement("EncryptArtifacts", []string{"kms:GenerateDataKey"}, []string{*ir.EvidenceKey.KeyArn()}, nil),
		statement("Notify", []string{"sns:Publish"}, []string{*ir.Topic.TopicArn()}, nil),
	)
	ir.grantCases(fn, "dynamodb:GetItem", "dynamodb:PutItem")
	suppressResponseRole(fn)
}

func (ir *IncidentResponse) grantContain(protectedKey string, protectedValue *string, deployment string) {
	fn := ir.ContainFunction
	instance := arn("ec2", "instance/*")
	group := arn("ec2", "security-group/*")
	ours := map[string]any{"StringEquals": map[string]any{"aws:ResourceTag/" + incident.TagDeployment: deployment}}
	addAll(fn,
		statement("Describe", []string{"ec2:DescribeInstances", "ec2:DescribeSecurityGroups", "ec2:DescribeIamInstanceProfileAssociations",
			"autoscaling:DescribeAutoScalingInstances", "elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetHealth"}, []string{"*"}, nil),
		statement("ContainInstance", []string{"ec2:ModifyInstanceAttribute", "ec2:DisassociateIamInstanceProfile"}, []string{instance}, notProtected(protectedKey, protectedValue)),
		statement("SwapInterfaceGroups", []string{"ec2:ModifyNetworkInterfaceAttribute"}, []string{arn("ec2", "network-interface/*"), instance}, notProtected(protectedKey, protectedValue)),
		statement("SwapToOurGroups", []string{"ec2:ModifyNetworkInterfaceAttribute"}, []string{group}, ours),
		statement("CreateGroups", []string{"ec2:CreateSecurityGroup"}, []string{arn("ec2", "vpc/*")}, nil),
		statement("CreateOurGroups", []string{"ec2:CreateSecurityGroup"}, []string{group},
			map[string]any{"StringEquals": map[string]any{"aws:RequestTag/" + incident.TagDeployment: deployment}}),
		statement("TagOurGroups", []string{"ec2:CreateTags"}, []string{group}, map[string]any{"StringEquals": map[string]any{"ec2:CreateAction": "CreateSecurityGroup"}}),
		statement("ChangeOurGroups", []string{"ec2:AuthorizeSecurityGroupIngress", "ec2:AuthorizeSecurityGroupEgress", "ec2:RevokeSecurityGroupEgress", "ec2:DeleteSecurityGroup"}, []string{group}, ours),
		statement("QuarantineTag", []string{"ec2:CreateTags"}, []string{instance}, mergeConditions(notProtected(protectedKey, protectedValue),
			map[string]any{"ForAllValues:StringEquals": map[string]any{"aws:TagKeys": []string{incident.TagQuarantine, incident.TagCase}}})),
		statement("AutoScaling", []string{"autoscaling:EnterStandby", "autoscaling:DetachInstances"}, []string{arn("autoscaling", "autoScalingGroup:*:autoScalingGroupName/*")}, nil),
		statement("TargetGroups", []string{"elasticloadbalancing:DeregisterTargets"}, []string{arn("elasticloadbalancing", "targetgroup/*/*")}, nil),
	)
	ir.grantCases(fn, "dynamodb:GetItem", "dynamodb:PutItem")
	suppressResponseRole(fn)
}

func (ir *IncidentResponse) grantAPI(protectedKey string, protectedValue *string) {
	fn := ir.ApiFunction
	instance := arn("ec2", "instance/*")
	addAll(fn,
		statement("Describe", []string{"ec2:DescribeInstances"}, []string{"*"}, nil),
		statement("Start", []string{"states:StartExecution"}, []string{*ir.StateMachine.StateMachineArn()}, nil),
		statement("Status", []string{"states:DescribeExecution"}, []string{arn("states", "execution:"+*ir.StateMachine.StateMachineName()+":*")}, nil),
		// Release restores the saved groups (any group of the instance's
		// VPC) and the saved profile, whose role only ec2 may receive.
		statement("ReleaseInterfaces", []string{"ec2:ModifyNetworkInterfaceAttribute"}, []string{arn("ec2", "network-interface/*"), arn("ec2", "security-group/*"), instance}, notProtected(protectedKey, protectedValue)),
		statement("ReleaseProfile", []string{"ec2:AssociateIamInstanceProfile"}, []string{instance}, notProtected(protectedKey, protectedValue)),
		statement("PassOriginalRole", []string{"iam:PassRole"}, []string{"arn:" + *awscdk.Aws_PARTITION() + ":iam::" + *awscdk.Aws_ACCOUNT_ID() + ":role/*"},
			map[string]any{"StringEquals": map[string]any{"iam:PassedToService": "ec2.amazonaws.com"}}),
		statement("ReleaseTag", []string{"ec2:DeleteTags"}, []string{instance},
			map[string]any{"ForAllValues:StringEquals": map[string]any{"aws:TagKeys": []string{incident.TagQuarantine}}}),
	)
	ir.grantCases(fn, "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem")
	suppressResponseRole(fn)
}

func mergeConditions(a, b map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}
