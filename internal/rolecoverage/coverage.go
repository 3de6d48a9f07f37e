package rolecoverage

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/securestacks/securestacks/internal/iamsim"
)

// Target is one resource an operation acts on at run time, with the
// request context the call carries (condition keys such as
// kms:EncryptionAlgorithm or iam:PolicyARN).
type Target struct {
	Resource string
	Context  map[string]any
	// Actions replaces ActionsFor(op) when the call needs other actions on
	// this target (e.g. s3:ListBucket on the bucket, so that a missing
	// object is NoSuchKey and not AccessDenied).
	Actions []string
}

// Requirement is one IAM action the function's role must be allowed.
type Requirement struct {
	Function *Function
	// Source says what needs it: an operation ("s3.GetObject"), or what the
	// template implies ("logging", "tracing", "VPC", "dead-letter queue",
	// "s3.PutObject via SSE-KMS").
	Source   string
	Action   string
	Resource string
	Context  map[string]any
	// Endpoint is the VPC endpoint the call goes through, if any.
	Endpoint *Endpoint
}

// actionOverrides are the operations whose IAM action is not
// <service>:<Operation>, from the Service Authorization Reference
// (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html).
var actionOverrides = map[string][]string{
	"s3.GetBucketNotificationConfiguration": {"s3:GetBucketNotification"},
	"s3.PutBucketNotificationConfiguration": {"s3:PutBucketNotification"},
	"s3.ListObjectsV2":                      {"s3:ListBucket"},
	"s3.ListObjects":                        {"s3:ListBucket"},
	"s3.HeadObject":                         {"s3:GetObject"},
	"s3.HeadBucket":                         {"s3:ListBucket"},
	"s3.DeleteObjects":                      {"s3:DeleteObject"},
	"s3.ListObjectVersions":                 {"s3:ListBucketVersions"},
}

// iamPrefix maps an SDK service package to its IAM service prefix where
// they differ.
var iamPrefix = map[string]string{
	"acmpca":                 "acm-pca",
	"cloudwatch":             "cloudwatch",
	"cloudwatchlogs":         "logs",
	"eventbridge":            "events",
	"sfn":                    "states",
	"elasticloadbalancingv2": "elasticloadbalancing",
}

// ActionsFor returns the IAM actions op needs on its own resource.
func ActionsFor(op Operation) []string {
	if a, ok := actionOverrides[op.String()]; ok {
		return a
	}
	prefix := op.Service
	if p, ok := iamPrefix[op.Service]; ok {
		prefix = p
	}
	return []string{prefix + ":" + op.Name}
}

// endpointService maps an SDK service package to the VPC endpoint service
// name suffix (com.amazonaws.<region>.<suffix>) its calls go through.
var endpointService = map[string]string{
	"appstream":      "appstream.api",
	"sagemaker":      "sagemaker.api",
	"cloudwatch":     "monitoring",
	"cloudwatchlogs": "logs",
}

// Requirements returns what op needs on targets: its own actions, plus the
// KMS actions the target's customer managed key implies.
func (f *Function) Requirements(op Operation, targets []Target) ([]Requirement, error) {
	endpoints, err := f.VPCEndpoints()
	if err != nil {
		return nil, err
	}
	var endpoint *Endpoint
	if endpoints != nil {
		name := op.Service
		if n, ok := endpointService[name]; ok {
			name = n
		}
		e, ok := endpoints[name]
		if !ok && !f.T.hasInternetRoute() {
			return nil, fmt.Errorf("%s: %s: the function runs in a VPC without a route to the internet and without a %s endpoint", f.Name(), op, name)
		}
		if ok {
			endpoint = &e
		}
	}
	var out []Requirement
	for _, tg := range targets {
		actions := tg.Actions
		if actions == nil {
			actions = ActionsFor(op)
		}
		for _, a := range actions {
			out = append(out, Requirement{Function: f, Source: op.String(), Action: a, Resource: tg.Resource, Context: f.context(tg.Resource, endpoint, tg.Context), Endpoint: endpoint})
		}
		if tg.Actions != nil {
			continue
		}
		kms, err := f.impliedKMS(op, tg.Resource)
		if err != nil {
			return nil, err
		}
		out = append(out, kms...)
	}
	return out, nil
}

// impliedKMS is what a call on a resource encrypted with a customer managed
// key needs on that key. S3 SSE-KMS:
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html
// (GetObject: kms:Decrypt; PutObject: kms:GenerateDataKey). Secrets Manager:
// https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html#security-encryption-authz
// (GetSecretValue: kms:Decrypt; PutSecretValue: kms:GenerateDataKey, and
// kms:Decrypt when it writes an existing version again, which an idempotent
// retry with the same ClientRequestToken does).
func (f *Function) impliedKMS(op Operation, resource string) ([]Requirement, error) {
	var actions []string
	switch op.String() {
	case "s3.GetObject", "s3.HeadObject":
		actions = []string{"kms:Decrypt"}
	case "s3.PutObject":
		actions = []string{"kms:GenerateDataKey"}
	case "secretsmanager.GetSecretValue":
		actions = []string{"kms:Decrypt"}
	case "secretsmanager.PutSecretValue", "secretsmanager.UpdateSecret", "secretsmanager.CreateSecret":
		actions = []string{"kms:GenerateDataKey", "kms:Decrypt"}
	case "sqs.SendMessage", "sqs.ReceiveMessage":
		actions = []string{"kms:GenerateDataKey", "kms:Decrypt"}
	default:
		return nil, nil
	}
	t := f.T
	owner, err := t.Owner(resource)
	if err != nil || owner == "" {
		return nil, err
	}
	key, bucketKey, err := t.KMSKeyOf(owner)
	if err != nil || key == "" {
		return nil, err
	}
	ctx := map[string]any{"kms:CallerAccount": t.Env.Account, "aws:ViaAWSService": "true"}
	switch op.Service {
	case "s3":
		ctx["kms:ViaService"] = "s3." + t.Env.Region + ".amazonaws.com"
		ec := resource
		if bucketKey {
			ec, _ = t.String(map[string]any{"Fn::GetAtt": []any{owner, "Arn"}})
		}
		ctx["kms:EncryptionContext:aws:s3:arn"] = ec
		ctx["kms:EncryptionContextKeys"] = []string{"aws:s3:arn"}
	case "secretsmanager":
		ctx["kms:ViaService"] = "secretsmanager." + t.Env.Region + ".amazonaws.com"
		ctx["kms:EncryptionContext:SecretARN"] = resource
		ctx["kms:EncryptionContext:SecretVersionId"] = "00000000-0000-0000-0000-000000000000"
		ctx["kms:EncryptionContextKeys"] = []string{"SecretARN", "SecretVersionId"}
	case "sqs":
		ctx["kms:ViaService"] = "sqs." + t.Env.Region + ".amazonaws.com"
		ctx["kms:EncryptionContext:aws:sqs:arn"] = resource
		ctx["kms:EncryptionContextKeys"] = []string{"aws:sqs:arn"}
	}
	var out []Requirement
	for _, a := range actions {
		out = append(out, Requirement{Function: f, Source: op.String() + " on a resource encrypted with " + owner + "'s key", Action: a, Resource: key, Context: f.context(key, nil, ctx)})
	}
	return out, nil
}

// Implied returns what the function's configuration needs whatever its
// code does: its log group (CloudWatch Logs authorizes the log stream ARN,
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/iam-access-control-overview-cwl.html),
// X-Ray with active tracing
// (https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html), network
// interfaces in a VPC (https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html;
// AWS's own set is AWSLambdaVPCAccessExecutionRole v3, which added
// ec2:DescribeSubnets:
// https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLambdaVPCAccessExecutionRole.html), and a
// dead-letter queue (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html),
// which Lambda writes with the execution role.
func (f *Function) Implied() ([]Requirement, error) {
	t := f.T
	var out []Requirement
	add := func(source, action, resource string, ctx map[string]any) {
		out = append(out, Requirement{Function: f, Source: source, Action: action, Resource: resource, Context: f.context(resource, nil, ctx)})
	}
	logGroup := "/aws/lambda/" + t.name(t.Resources[f.ID], "FunctionName")
	if lc, err := f.Prop("LoggingConfig"); err != nil {
		return nil, err
	} else if m, ok := lc.(map[string]any); ok && m["LogGroup"] != nil {
		logGroup, _ = m["LogGroup"].(string)
	}
	stream := "arn:" + t.Env.Partition + ":logs:" + t.Env.Region + ":" + t.Env.Account + ":log-group:" + logGroup + ":log-stream:2026/01/01/[$LATEST]0123456789abcdef"
	add("logging", "logs:CreateLogStream", stream, nil)
	add("logging", "logs:PutLogEvents", stream, nil)
	if tc, err := f.Prop("TracingConfig"); err != nil {
		return nil, err
	} else if m, ok := tc.(map[string]any); ok && m["Mode"] == "Active" {
		add("tracing", "xray:PutTraceSegments", "*", nil)
		add("tracing", "xray:PutTelemetryRecords", "*", nil)
	}
	if _, ok := f.props["VpcConfig"]; ok {
		eni := "arn:" + t.Env.Partition + ":ec2:" + t.Env.Region + ":" + t.Env.Account + ":network-interface/eni-0123456789abcdef0"
		for _, a := range []string{"ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"} {
			add("VPC", a, eni, nil)
		}
		add("VPC", "ec2:DescribeNetworkInterfaces", "*", nil)
		add("VPC", "ec2:DescribeSubnets", "*", nil)
	}
	if dlc, err := f.Prop("DeadLetterConfig"); err != nil {
		return nil, err
	} else if m, ok := dlc.(map[string]any); ok {
		target, _ := m["TargetArn"].(string)
		op := Operation{Service: "sqs", Name: "SendMessage"}
		if strings.HasPrefix(target, "arn:"+t.Env.Partition+":sns:") {
			op = Operation{Service: "sns", Name: "Publish"}
		}
		add("dead-letter queue", ActionsFor(op)[0], target, nil)
		kms, err := f.impliedKMS(op, target)
		if err != nil {
			return nil, err
		}
		for _, k := range kms {
			k.Source = "dead-letter queue"
			out = append(out, k)
		}
	}
	return out, nil
}

// context is the request context of a call by the function's role on
// resource, with extra on top.
func (f *Function) context(resource string, endpoint *Endpoint, extra map[string]any) map[string]any {
	t := f.T
	ctx := map[string]any{
		"aws:PrincipalArn":     f.RoleARN,
		"aws:PrincipalAccount": t.Env.Account,
		"aws:PrincipalType":    "AssumedRole",
		"aws:SecureTransport":  "true",
		"aws:ResourceAccount":  t.Env.Account,
		"aws:RequestedRegion":  t.Env.Region,
	}
	if strings.HasPrefix(resource, "arn:"+t.Env.Partition+":s3:") {
		ctx["s3:ResourceAccount"] = t.Env.Account
		ctx["s3:TlsVersion"] = "1.3"
		ctx["s3:authType"] = "REST-HEADER"
		ctx["s3:signatureversion"] = "AWS4-HMAC-SHA256"
	}
	if endpoint != nil {
		ctx["aws:SourceVpce"] = endpoint.ID
		ctx["aws:SourceVpc"] = endpoint.VPC
	}
	for k, v := range extra {
		ctx[k] = v
	}
	return ctx
}

func (t *Template) hasInternetRoute() bool {
	return len(t.IDs("AWS::EC2::NatGateway")) > 0 || len(t.IDs("AWS::EC2::InternetGateway")) > 0
}

// Name is "<stack>/<construct id>", for messages.
func (f *Function) Name() string { return f.T.Stack + "/" + ConstructID(f.ID) }

// Outcome is the evaluation of one Requirement.
type Outcome struct {
	Requirement
	iamsim.Result
}

// Failed reports whether the role is not allowed what it needs.
func (o Outcome) Failed() bool { return o.Error != "" || o.Decision != iamsim.Allowed }

func (o Outcome) String() string {
	why := o.Decision
	if o.Error != "" {
		why = "not evaluated: " + o.Error
	}
	res := o.Resource
	if o.WildcardOnly {
		res = `"*" (the action supports no resource-level permissions)`
	}
	return fmt.Sprintf("%s: %s needs %s on %s: %s", o.Function.Name(), o.Source, o.Action, res, why)
}

// Evaluate runs every requirement through the simulator, against the
// function's identity policies, the resource policy of the resource it
// targets and the VPC endpoint policy it calls through, in one process.
func Evaluate(ctx context.Context, moduleDir string, reqs []Requirement) ([]Outcome, error) {
	sims := make([]iamsim.Request, len(reqs))
	policies := map[*Function][]iamsim.Policy{}
	for i, r := range reqs {
		ids, ok := policies[r.Function]
		if !ok {
			var err error
			if ids, err = r.Function.IdentityPolicies(); err != nil {
				return nil, err
			}
			policies[r.Function] = ids
		}
		rp, err := r.Function.T.ResourcePolicy(r.Resource)
		if err != nil {
			return nil, err
		}
		sim := iamsim.Request{Principal: r.Function.RoleARN, Action: r.Action, Resource: r.Resource, ResourceAccount: r.Function.T.Env.Account, Context: r.Context, IdentityPolicies: ids, ResourcePolicy: rp}
		if r.Endpoint != nil {
			pol := r.Endpoint.Policy
			if pol == nil { // the default endpoint policy
				pol = map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}}}
			}
			sim.VPCEndpointPolicies = []iamsim.Policy{{Name: r.Endpoint.ID, Document: pol}}
		}
		sims[i] = sim
	}
	res, err := iamsim.Run(ctx, moduleDir, sims)
	if err != nil {
		return nil, err
	}
	out := make([]Outcome, len(reqs))
	for i := range reqs {
		out[i] = Outcome{Requirement: reqs[i], Result: res[i]}
	}
	return out, nil
}

// Unused returns, for each function, what its identity policies' Allow
// statements grant that no allowed requirement used through that statement:
// each action, and each resource, as "<function>: <policy>#<statement>
// grants ...".
func Unused(outcomes []Outcome) ([]string, error) {
	type use struct{ action, resource string }
	used := map[*Function]map[string][]use{} // statement -> what it allowed
	for _, o := range outcomes {
		if used[o.Function] == nil {
			used[o.Function] = map[string][]use{}
		}
		if o.Decision != iamsim.Allowed {
			continue
		}
		res := o.Resource
		if o.WildcardOnly {
			res = "*"
		}
		for _, s := range o.IdentityAllowedBy {
			used[o.Function][s] = append(used[o.Function][s], use{o.Action, res})
		}
	}
	var out []string
	for f, byStatement := range used {
		pols, err := f.IdentityPolicies()
		if err != nil {
			return nil, err
		}
		for _, p := range pols {
			doc, _ := p.Document.(map[string]any)
			stmts, ok := doc["Statement"].([]any)
			if !ok {
				stmts = []any{doc["Statement"]}
			}
			for i, s := range stmts {
				m, _ := s.(map[string]any)
				if m["Effect"] != "Allow" {
					continue
				}
				id := fmt.Sprint(i + 1)
				if sid, ok := m["Sid"].(string); ok {
					id = sid
				}
				key := p.Name + "#" + id
				uses := byStatement[key]
				for _, a := range stringList(m["Action"]) {
					if !slices.ContainsFunc(uses, func(u use) bool { return wildcardMatch(strings.ToLower(a), strings.ToLower(u.action)) }) {
						out = append(out, fmt.Sprintf("%s: %s grants %s, which no code path or configuration uses", f.Name(), key, a))
					}
				}
				for _, r := range stringList(m["Resource"]) {
					if len(uses) > 0 && !slices.ContainsFunc(uses, func(u use) bool { return wildcardMatch(r, u.resource) }) {
						out = append(out, fmt.Sprintf("%s: %s grants its actions on %s, which no code path or configuration targets", f.Name(), key, r))
					}
				}
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

// wildcardMatch reports whether s matches the IAM pattern (* any run of
// characters, ? one character). Actions compare case-insensitively: the
// caller lowers them.
func wildcardMatch(pattern, s string) bool {
	for len(pattern) > 0 {
		switch pattern[0] {
		case '*':
			for i := len(s); i >= 0; i-- {
				if wildcardMatch(pattern[1:], s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if s == "" {
				return false
			}
		default:
			if s == "" || s[0] != pattern[0] {
				return false
			}
		}
		pattern, s = pattern[1:], s[1:]
	}
	return s == ""
}

func stringList(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
