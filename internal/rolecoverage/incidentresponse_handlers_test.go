package rolecoverage_test

import (
	"github.com/securestacks/securestacks/internal/incident"
	"github.com/securestacks/securestacks/internal/rolecoverage"
)

// The incident-response handlers share lambda-src/internal/irworkflow, so
// each links every operation of the workflow; the ones its main does not
// wire are never called (irTargets(nil)).
func init() {
	handlers["ir-api"] = handler{functions: []string{"IncidentResponseApiFunction"}, targets: irTargets(irOperations, map[string]targetsFunc{
		"ec2.DescribeInstances": anyResource,
		// Release: the saved groups (any group) back on each interface.
		"ec2.ModifyNetworkInterfaceAttribute": irResources(irENI, "security-group/sg-0123456789abcdef0", irInstance),
		"ec2.AssociateIamInstanceProfile": func(f *rolecoverage.Function) ([]rolecoverage.Target, error) {
			ts, err := irResources(irInstance)(f)
			e := f.T.Env
			return append(ts, rolecoverage.Target{Resource: "arn:" + e.Partition + ":iam::" + e.Account + ":role/WebServer",
				Actions: []string{"iam:PassRole"}, Context: map[string]any{"iam:PassedToService": "ec2.amazonaws.com"}}), err
		},
		"ec2.DeleteTags":        withContext(map[string]any{"aws:TagKeys": []string{incident.TagQuarantine}}, irResources(irInstance)),
		"dynamodb.GetItem":      irTable,
		"dynamodb.PutItem":      irTable,
		"dynamodb.DeleteItem":   irTable,
		"sfn.StartExecution":    each(env(incident.EnvStateMachineARN)),
		"sfn.DescribeExecution": irExecution,
	})}
	handlers["ir-evidence"] = handler{functions: []string{"IncidentResponseEvidenceFunction"}, targets: irTargets(append(irOperations, irSSMOperations...), map[string]targetsFunc{
		"ec2.DescribeInstances":      anyResource,
		"ec2.DescribeSecurityGroups": anyResource,
		"ec2.GetConsoleScreenshot":   irResources(irInstance),
		"ec2.GetConsoleOutput":       irResources(irInstance),
		"ec2.CreateSnapshots": func(f *rolecoverage.Function) ([]rolecoverage.Target, error) {
			ts, err := irResources(irInstance, "volume/vol-0123456789abcdef0")(f)
			e := f.T.Env
			snap := "arn:" + e.Partition + ":ec2:" + e.Region + "::snapshot/snap-0123456789abcdef0"
			return append(ts, rolecoverage.Target{Resource: snap},
				rolecoverage.Target{Resource: snap, Actions: []string{"ec2:CreateTags"}, Context: map[string]any{"ec2:CreateAction": "CreateSnapshots"}}), err
		},
		"ec2.AssociateIamInstanceProfile": func(f *rolecoverage.Function) ([]rolecoverage.Target, error) {
			ts, err := irResources(irInstance)(f)
			role, err2 := forensicRole(f)
			if err == nil {
				err = err2
			}
			return append(ts, rolecoverage.Target{Resource: role, Actions: []string{"iam:PassRole"}, Context: map[string]any{"iam:PassedToService": "ec2.amazonaws.com"}}), err
		},
		"ec2.DisassociateIamInstanceProfile": irResources(irInstance),
		"ssm.DescribeInstanceInformation":    anyResource,
		"ssm.SendCommand": func(f *rolecoverage.Function) ([]rolecoverage.Target, error) {
			ts, err := irResources(irInstance)(f)
			e := f.T.Env
			// AWS-owned documents are evaluated with an empty account, which
			// the policy's * account matches; the simulator needs an account.
			for _, d := range []string{"AWS-RunShellScript", "AWS-RunPowerShellScript"} {
				ts = append(ts, rolecoverage.Target{Resource: "arn:" + e.Partition + ":ssm:" + e.Region + ":" + e.Account + ":document/" + d})
			}
			return ts, err
		},
		"ssm.GetCommandInvocation": anyResource,
		"s3.PutObject":             object(env(incident.EnvBucket), "cases/20261203T120000Z-i-0123456789abcdef0/manifest.json"),
		"sns.Publish":              each(env(incident.EnvTopicARN)),
		"dynamodb.GetItem":         irTable,
		"dynamodb.PutItem":         irTable,
	})}
	handlers["ir-contain"] = handler{functions: []string{"IncidentResponseContainFunction"}, targets: irTargets(append(irOperations, irLBOperations...), map[string]targetsFunc{
		"ec2.DescribeInstances":                      anyResource,
		"ec2.DescribeSecurityGroups":                 anyResource,
		"ec2.DescribeIamInstanceProfileAssociations": anyResource,
		"ec2.ModifyInstanceAttribute":                irResources(irInstance),
		"ec2.DisassociateIamInstanceProfile":         irResources(irInstance),
		"ec2.ModifyNetworkInterfaceAttribute": func(f *rolecoverage.Function) ([]rolecoverage.Target, error) {
			ts, err := irResources(irENI, irInstance)(f)
			g, _ := ours(irResources("security-group/sg-0123456789abcdef0"))(f)
			return append(ts, g...), err
		},
		"ec2.CreateSecurityGroup": func(f *rolecoverage.Function) ([]rolecoverage.Target, error) {
			ts, err := irResources("vpc/vpc-0123456789abcdef0")(f)
			g, _ := irResources("security-group/*")(f)
			create := rolecoverage.Target{Resource: g[0].Resource, Context: map[string]any{"aws:RequestTag/" + incident.TagDeployment: f.Env[incident.EnvDeployment]}}
			tag := rolecoverage.Target{Resource: g[0].Resource, Actions: []string{"ec2:CreateTags"}, Context: map[string]any{"ec2:CreateAction": "CreateSecurityGroup"}}
			return append(ts, create, tag), err
		},
		"ec2.AuthorizeSecurityGroupIngress":           ours(irResources("security-group/sg-0123456789abcdef0")),
		"ec2.AuthorizeSecurityGroupEgress":            ours(irResources("security-group/sg-0123456789abcdef0")),
		"ec2.RevokeSecurityGroupEgress":               ours(irResources("security-group/sg-0123456789abcdef0")),
		"ec2.DeleteSecurityGroup":                     ours(irResources("security-group/sg-0123456789abcdef0")),
		"ec2.CreateTags":                              withContext(map[string]any{"aws:TagKeys": []string{incident.TagQuarantine, incident.TagCase}}, irResources(irInstance)),
		"autoscaling.DescribeAutoScalingInstances":    anyResource,
		"autoscaling.EnterStandby":                    irASG,
		"autoscaling.DetachInstances":                 irASG,
		"elasticloadbalancingv2.DescribeTargetGroups": anyResource,
		"elasticloadbalancingv2.DescribeTargetHealth": anyResource,
		"elasticloadbalancingv2.DeregisterTargets": func(f *rolecoverage.Function) ([]rolecoverage.Target, error) {
			e := f.T.Env
			return []rolecoverage.Target{{Resource: "arn:" + e.Partition + ":elasticloadbalancing:" + e.Region + ":" + e.Account + ":targetgroup/web/0123456789abcdef"}}, nil
		},
		"dynamodb.GetItem": irTable,
		"dynamodb.PutItem": irTable,
	})}
}

const (
	irInstance = "instance/i-0123456789abcdef0"
	irENI      = "network-interface/eni-0123456789abcdef0"
)

// irOperations are every operation the workflow package links.
var irOperations = []string{
	"ec2.DescribeInstances", "ec2.DescribeSecurityGroups", "ec2.GetConsoleScreenshot", "ec2.GetConsoleOutput", "ec2.CreateSnapshots",
	"ec2.ModifyInstanceAttribute", "ec2.DescribeIamInstanceProfileAssociations", "ec2.DisassociateIamInstanceProfile",
	"ec2.AssociateIamInstanceProfile", "ec2.ModifyNetworkInterfaceAttribute", "ec2.CreateSecurityGroup",
	"ec2.AuthorizeSecurityGroupIngress", "ec2.AuthorizeSecurityGroupEgress", "ec2.RevokeSecurityGroupEgress",
	"ec2.DeleteSecurityGroup", "ec2.CreateTags", "ec2.DeleteTags", "s3.PutObject", "sns.Publish",
	"dynamodb.GetItem", "dynamodb.PutItem", "dynamodb.DeleteItem",
}

// irSSMOperations are those of irssm, which only ir-evidence links.
var irSSMOperations = []string{"ssm.DescribeInstanceInformation", "ssm.SendCommand", "ssm.GetCommandInvocation"}

// irLBOperations are those of irworkflow/irlb, which only ir-contain links.
var irLBOperations = []string{
	"autoscaling.DescribeAutoScalingInstances", "autoscaling.EnterStandby", "autoscaling.DetachInstances",
	"elasticloadbalancingv2.DescribeTargetGroups", "elasticloadbalancingv2.DescribeTargetHealth", "elasticloadbalancingv2.DeregisterTargets",
}

// ours adds the deployment tag of the function's groups to each target.
func ours(next targetsFunc) targetsFunc {
	return func(f *rolecoverage.Function) ([]rolecoverage.Target, error) {
		ts, err := next(f)
		for i := range ts {
			ts[i].Context = map[string]any{"aws:ResourceTag/" + incident.TagDeployment: f.Env[incident.EnvDeployment]}
		}
		return ts, err
	}
}

// irTargets completes used with "never called" for the workflow's other operations.
func irTargets(ops []string, used map[string]targetsFunc) map[string]targetsFunc {
	for _, op := range ops {
		if _, ok := used[op]; !ok {
			used[op] = func(*rolecoverage.Function) ([]rolecoverage.Target, error) { return nil, nil }
		}
	}
	return used
}

// irResources are EC2 resources of this account and region.
func irResources(resources ...string) targetsFunc {
	return func(f *rolecoverage.Function) ([]rolecoverage.Target, error) {
		e := f.T.Env
		var out []rolecoverage.Target
		for _, r := range resources {
			out = append(out, rolecoverage.Target{Resource: "arn:" + e.Partition + ":ec2:" + e.Region + ":" + e.Account + ":" + r})
		}
		return out, nil
	}
}

func irTable(f *rolecoverage.Function) ([]rolecoverage.Target, error) {
	return arnOf("dynamodb", "table/", env(incident.EnvTable))(f)
}

func irExecution(f *rolecoverage.Function) ([]rolecoverage.Target, error) {
	sm, err := env(incident.EnvStateMachineARN)(f)
	if err != nil {
		return nil, err
	}
	name := sm[0][len("arn:"+f.T.Env.Partition+":states:"+f.T.Env.Region+":"+f.T.Env.Account+":stateMachine:"):]
	return arnOf("states", "execution:"+name+":", func(*rolecoverage.Function) ([]string, error) {
		return []string{"20261203T120000Z-i-0123456789abcdef0"}, nil
	})(f)
}

func irASG(f *rolecoverage.Function) ([]rolecoverage.Target, error) {
	e := f.T.Env
	return []rolecoverage.Target{{Resource: "arn:" + e.Partition + ":autoscaling:" + e.Region + ":" + e.Account +
		":autoScalingGroup:01234567-89ab-cdef-0123-456789abcdef:autoScalingGroupName/web"}}, nil
}

// forensicRole is the role of the forensic instance profile the function attaches.
func forensicRole(f *rolecoverage.Function) (string, error) {
	for _, r := range f.T.Resources {
		if r.Type == "AWS::IAM::Role" && len(r.ID) > len("IncidentResponseForensicRole") && r.ID[:len("IncidentResponseForensicRole")] == "IncidentResponseForensicRole" {
			v, err := f.T.String(map[string]any{"Fn::GetAtt": []any{r.ID, "Arn"}})
			return v, err
		}
	}
	return "", nil
}
