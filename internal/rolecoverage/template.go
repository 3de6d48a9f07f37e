package rolecoverage

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Env is what the pseudo parameters of a template resolve to. An
// environment-agnostic template (the sandbox) gets stand-in values.
type Env struct {
	Account, Region, Partition string
}

// Template is one synthesized CloudFormation template whose intrinsic
// functions can be resolved to the strings they take at deploy time. A
// resource's Ref and Fn::GetAtt resolve to its physical name when the
// template sets one, otherwise to a stand-in derived from its logical id.
type Template struct {
	Stack     string
	Env       Env
	Resources map[string]*Resource
}

// Resource is one entry of Resources.
type Resource struct {
	ID         string
	Type       string
	Properties map[string]any
}

// NewTemplate reads a template (the decoded JSON) synthesized for stack.
func NewTemplate(stack string, env Env, template map[string]any) (*Template, error) {
	t := &Template{Stack: stack, Env: env, Resources: map[string]*Resource{}}
	res, _ := template["Resources"].(map[string]any)
	if res == nil {
		return nil, fmt.Errorf("rolecoverage: %s: template has no Resources", stack)
	}
	for id, v := range res {
		m, _ := v.(map[string]any)
		typ, _ := m["Type"].(string)
		props, _ := m["Properties"].(map[string]any)
		if props == nil {
			props = map[string]any{}
		}
		t.Resources[id] = &Resource{ID: id, Type: typ, Properties: props}
	}
	return t, nil
}

// IDs returns the logical ids of the resources of type typ, sorted.
func (t *Template) IDs(typ string) []string {
	var ids []string
	for id, r := range t.Resources {
		if r.Type == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// Resolve returns v with every intrinsic function resolved.
func (t *Template) Resolve(v any) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 1 {
			for k, arg := range x {
				if k == "Ref" || strings.HasPrefix(k, "Fn::") {
					return t.intrinsic(k, arg)
				}
			}
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			r, err := t.Resolve(e)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	case []any:
		out := make([]any, 0, len(x))
		for _, e := range x {
			r, err := t.Resolve(e)
			if err != nil {
				return nil, err
			}
			if r == noValue {
				continue
			}
			out = append(out, r)
		}
		return out, nil
	case float64:
		return json.Number(fmt.Sprint(x)).String(), nil
	default:
		return v, nil
	}
}

// String resolves v, which must come out as a string.
func (t *Template) String(v any) (string, error) {
	r, err := t.Resolve(v)
	if err != nil {
		return "", err
	}
	s, ok := r.(string)
	if !ok {
		return "", fmt.Errorf("rolecoverage: %s: expected a string, got %v", t.Stack, r)
	}
	return s, nil
}

type noValueT struct{}

var noValue = noValueT{}

var subVar = regexp.MustCompile(`\$\{([^}!]+)\}`)

func (t *Template) intrinsic(fn string, arg any) (any, error) {
	switch fn {
	case "Ref":
		name, _ := arg.(string)
		return t.ref(name)
	case "Fn::GetAtt":
		var id, attr string
		switch a := arg.(type) {
		case []any:
			if len(a) == 2 {
				id, _ = a[0].(string)
				attr, _ = a[1].(string)
			}
		case string:
			id, attr, _ = strings.Cut(a, ".")
		}
		return t.getAtt(id, attr)
	case "Fn::Join":
		a, _ := arg.([]any)
		if len(a) != 2 {
			return nil, fmt.Errorf("rolecoverage: %s: Fn::Join %v", t.Stack, arg)
		}
		sep, _ := a[0].(string)
		parts, err := t.Resolve(a[1])
		if err != nil {
			return nil, err
		}
		list, _ := parts.([]any)
		ss := make([]string, len(list))
		for i, p := range list {
			s, ok := p.(string)
			if !ok {
				return nil, fmt.Errorf("rolecoverage: %s: Fn::Join of a non-string %v", t.Stack, p)
			}
			ss[i] = s
		}
		return strings.Join(ss, sep), nil
	case "Fn::Sub":
		var format string
		vars := map[string]any{}
		switch a := arg.(type) {
		case string:
			format = a
		case []any:
			if len(a) == 2 {
				format, _ = a[0].(string)
				vars, _ = a[1].(map[string]any)
			}
		}
		var err error
		out := subVar.ReplaceAllStringFunc(format, func(m string) string {
			name := m[2 : len(m)-1]
			var v any
			var e error
			if val, ok := vars[name]; ok {
				v, e = t.Resolve(val)
			} else if id, attr, ok := strings.Cut(name, "."); ok {
				v, e = t.getAtt(id, attr)
			} else {
				v, e = t.ref(name)
			}
			if e != nil {
				err = e
				return ""
			}
			s, _ := v.(string)
			return s
		})
		return out, err
	case "Fn::Select":
		a, _ := arg.([]any)
		if len(a) != 2 {
			return nil, fmt.Errorf("rolecoverage: %s: Fn::Select %v", t.Stack, arg)
		}
		idx, err := t.String(a[0])
		if err != nil {
			return nil, err
		}
		list, err := t.Resolve(a[1])
		if err != nil {
			return nil, err
		}
		l, _ := list.([]any)
		var i int
		if _, err := fmt.Sscan(idx, &i); err != nil || i < 0 || i >= len(l) {
			return nil, fmt.Errorf("rolecoverage: %s: Fn::Select index %s of %v", t.Stack, idx, list)
		}
		return l[i], nil
	case "Fn::Split":
		a, _ := arg.([]any)
		if len(a) != 2 {
			return nil, fmt.Errorf("rolecoverage: %s: Fn::Split %v", t.Stack, arg)
		}
		sep, _ := a[0].(string)
		s, err := t.String(a[1])
		if err != nil {
			return nil, err
		}
		var out []any
		for _, p := range strings.Split(s, sep) {
			out = append(out, p)
		}
		return out, nil
	}
	return nil, fmt.Errorf("rolecoverage: %s: cannot resolve %s", t.Stack, fn)
}

func (t *Template) ref(name string) (any, error) {
	switch name {
	case "AWS::AccountId":
		return t.Env.Account, nil
	case "AWS::Region":
		return t.Env.Region, nil
	case "AWS::Partition":
		return t.Env.Partition, nil
	case "AWS::URLSuffix":
		return "amazonaws.com", nil
	case "AWS::StackName":
		return t.Stack, nil
	case "AWS::NoValue":
		return noValue, nil
	}
	r, ok := t.Resources[name]
	if !ok {
		return nil, fmt.Errorf("rolecoverage: %s: Ref to %q, which is no resource", t.Stack, name)
	}
	switch r.Type {
	case "AWS::SecretsManager::Secret", "AWS::CertificateManager::Certificate", "AWS::SNS::Topic",
		"AWS::ACMPCA::CertificateAuthority", "AWS::ECS::Service", "AWS::IAM::ManagedPolicy", "AWS::SageMaker::NotebookInstance",
		"AWS::StepFunctions::StateMachine":
		return t.getAtt(name, "Arn")
	case "AWS::SQS::Queue":
		return "https://sqs." + t.Env.Region + ".amazonaws.com/" + t.Env.Account + "/" + t.name(r, "QueueName"), nil
	case "AWS::EC2::VPCEndpoint":
		return "vpce-" + strings.ToLower(name), nil
	case "AWS::EC2::VPC":
		return "vpc-" + strings.ToLower(name), nil
	}
	return t.name(r, physicalNameProperty[r.Type]), nil
}

// physicalNameProperty is the property that names a resource, where the
// user can set it.
var physicalNameProperty = map[string]string{
	"AWS::S3::Bucket":                  "BucketName",
	"AWS::IAM::Role":                   "RoleName",
	"AWS::Lambda::Function":            "FunctionName",
	"AWS::Logs::LogGroup":              "LogGroupName",
	"AWS::SSM::Parameter":              "Name",
	"AWS::AppStream::Fleet":            "Name",
	"AWS::AppStream::Stack":            "Name",
	"AWS::ECS::Cluster":                "ClusterName",
	"AWS::ECS::Service":                "ServiceName",
	"AWS::SecretsManager::Secret":      "Name",
	"AWS::SageMaker::NotebookInstance": "NotebookInstanceName",
	"AWS::Events::Rule":                "Name",
	"AWS::SNS::Topic":                  "TopicName",
	"AWS::DynamoDB::Table":             "TableName",
	"AWS::StepFunctions::StateMachine": "StateMachineName",
	"AWS::IAM::InstanceProfile":        "InstanceProfileName",
}

// name is the resource's physical name: the property prop when set, else a
// stand-in CloudFormation would generate (lower case for S3's sake).
func (t *Template) name(r *Resource, prop string) string {
	if v, ok := r.Properties[prop]; ok && prop != "" {
		if s, err := t.String(v); err == nil {
			return s
		}
	}
	return strings.ToLower(t.Stack + "-" + r.ID)
}

func (t *Template) getAtt(id, attr string) (any, error) {
	r, ok := t.Resources[id]
	if !ok {
		return nil, fmt.Errorf("rolecoverage: %s: Fn::GetAtt of %q, which is no resource", t.Stack, id)
	}
	p, reg, acct := t.Env.Partition, t.Env.Region, t.Env.Account
	arn := func(service, region, account, resource string) string {
		return "arn:" + p + ":" + service + ":" + region + ":" + account + ":" + resource
	}
	key := r.Type + "." + attr
	switch key {
	case "AWS::S3::Bucket.Arn":
		return arn("s3", "", "", t.name(r, "BucketName")), nil
	case "AWS::KMS::Key.Arn":
		return arn("kms", reg, acct, "key/"+strings.ToLower(id)), nil
	case "AWS::KMS::Key.KeyId":
		return strings.ToLower(id), nil
	case "AWS::IAM::Role.Arn":
		path, _ := r.Properties["Path"].(string)
		if path == "" {
			path = "/"
		}
		return arn("iam", "", acct, "role"+path+t.name(r, "RoleName")), nil
	case "AWS::IAM::ManagedPolicy.Arn", "AWS::IAM::ManagedPolicy.PolicyArn":
		return arn("iam", "", acct, "policy/"+t.name(r, "ManagedPolicyName")), nil
	case "AWS::Lambda::Function.Arn":
		return arn("lambda", reg, acct, "function:"+t.name(r, "FunctionName")), nil
	case "AWS::Logs::LogGroup.Arn":
		return arn("logs", reg, acct, "log-group:"+t.name(r, "LogGroupName")+":*"), nil
	case "AWS::SQS::Queue.Arn":
		return arn("sqs", reg, acct, t.name(r, "QueueName")), nil
	case "AWS::SQS::Queue.QueueName":
		return t.name(r, "QueueName"), nil
	case "AWS::SecretsManager::Secret.Arn", "AWS::SecretsManager::Secret.Id":
		return arn("secretsmanager", reg, acct, "secret:"+t.name(r, "Name")+"-AbCdEf"), nil
	case "AWS::CertificateManager::Certificate.Arn":
		return arn("acm", reg, acct, "certificate/"+strings.ToLower(id)), nil
	case "AWS::ACMPCA::CertificateAuthority.Arn":
		return arn("acm-pca", reg, acct, "certificate-authority/"+strings.ToLower(id)), nil
	case "AWS::ECS::Cluster.Arn":
		return arn("ecs", reg, acct, "cluster/"+t.name(r, "ClusterName")), nil
	case "AWS::ECS::Service.Arn", "AWS::ECS::Service.ServiceArn":
		cluster, err := t.String(r.Properties["Cluster"])
		if err != nil {
			return nil, err
		}
		cluster = cluster[strings.LastIndex(cluster, "/")+1:]
		return arn("ecs", reg, acct, "service/"+cluster+"/"+t.name(r, "ServiceName")), nil
	case "AWS::ECS::Service.Name":
		return t.name(r, "ServiceName"), nil
	case "AWS::SNS::Topic.Arn", "AWS::SNS::Topic.TopicArn":
		return arn("sns", reg, acct, t.name(r, "TopicName")), nil
	case "AWS::SageMaker::NotebookInstance.Arn":
		return arn("sagemaker", reg, acct, "notebook-instance/"+strings.ToLower(t.name(r, "NotebookInstanceName"))), nil
	case "AWS::SageMaker::NotebookInstance.NotebookInstanceName":
		return t.name(r, "NotebookInstanceName"), nil
	case "AWS::Events::Rule.Arn":
		return arn("events", reg, acct, "rule/"+t.name(r, "Name")), nil
	case "AWS::DynamoDB::Table.Arn":
		return arn("dynamodb", reg, acct, "table/"+t.name(r, "TableName")), nil
	case "AWS::EC2::VPC.DefaultSecurityGroup", "AWS::EC2::SecurityGroup.GroupId":
		return "sg-" + strings.ToLower(id), nil
	case "AWS::EC2::PrefixList.PrefixListId":
		return "pl-" + strings.ToLower(id), nil
	case "AWS::EC2::PrefixList.Arn":
		return arn("ec2", reg, acct, "prefix-list/pl-"+strings.ToLower(id)), nil
	case "AWS::AppStream::Fleet.Arn":
		return arn("appstream", reg, acct, "fleet/"+t.name(r, "Name")), nil
	case "AWS::IAM::InstanceProfile.Arn":
		return arn("iam", "", acct, "instance-profile/"+t.name(r, "InstanceProfileName")), nil
	case "AWS::StepFunctions::StateMachine.Arn":
		return arn("states", reg, acct, "stateMachine:"+t.name(r, "StateMachineName")), nil
	case "AWS::StepFunctions::StateMachine.Name":
		return t.name(r, "StateMachineName"), nil
	}
	return nil, fmt.Errorf("rolecoverage: %s: Fn::GetAtt %s.%s (%s): add it to rolecoverage.Template.getAtt", t.Stack, id, attr, r.Type)
}
