package devsecops_test

import (
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"

	"github.com/securestacks/securestacks/constructs/devsecops"
)

// TestEksAccessEntries checks the deploy roles' cluster access: one AWS::EKS::AccessEntry per
// stage with AmazonEKSEditPolicy scoped to the namespace
// (https://docs.aws.amazon.com/eks/latest/userguide/access-policies.html,
// https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-eks-accessentry.html),
// never cluster-admin and never the aws-auth ConfigMap.
func TestEksAccessEntries(t *testing.T) {
	tp := template(t, eksStack)
	entries := tp.ofType("AWS::EKS::AccessEntry")
	clusters := []string{}
	for id, e := range entries {
		clusters = append(clusters, e["ClusterName"].(string))
		if e["Type"] != "STANDARD" || e["KubernetesGroups"] != nil {
			t.Errorf("%s: type %v groups %v, want STANDARD and no Kubernetes groups", id, e["Type"], e["KubernetesGroups"])
		}
		policies := e["AccessPolicies"].([]any)
		if len(policies) != 1 {
			t.Fatalf("%s: %d access policies, want 1", id, len(policies))
		}
		ap := policies[0].(map[string]any)
		if !strings.HasSuffix(js(ap["PolicyArn"]), `:eks::aws:cluster-access-policy/AmazonEKSEditPolicy"]]}`) {
			t.Errorf("%s: policy %s, want AmazonEKSEditPolicy", id, js(ap["PolicyArn"]))
		}
		if got := js(ap["AccessScope"]); got != `{"Namespaces":["shop"],"Type":"namespace"}` {
			t.Errorf("%s: scope %s, want the namespace shop only", id, got)
		}
		if !strings.Contains(js(e["PrincipalArn"]), "EksDeploy") {
			t.Errorf("%s: principal %s is not a deploy project's role", id, js(e["PrincipalArn"]))
		}
	}
	sort.Strings(clusters)
	if strings.Join(clusters, ",") != "shop-production,shop-staging" {
		t.Errorf("access entries for %v, want shop-production and shop-staging", clusters)
	}
	for _, forbidden := range []string{"ClusterAdmin", "AmazonEKSAdminPolicy", "aws-auth", "system:masters"} {
		if strings.Contains(tp.raw, forbidden) {
			t.Errorf("the template mentions %s", forbidden)
		}
	}
}

func TestEksDeployRoleOnlyDescribesItsCluster(t *testing.T) {
	tp := template(t, eksStack)
	eks := map[string]bool{}
	for _, p := range tp.ofType("AWS::IAM::Policy") {
		for _, st := range p["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			st := st.(map[string]any)
			for _, a := range list(st["Action"]) {
				if strings.HasPrefix(a, "eks:") {
					eks[a+" "+js(st["Resource"])] = true
				}
			}
		}
	}
	want := map[string]bool{
		`eks:DescribeCluster {"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":eks:eu-west-1:123456789012:cluster/shop-staging"]]}`:    true,
		`eks:DescribeCluster {"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":eks:eu-west-1:123456789012:cluster/shop-production"]]}`: true,
	}
	if js(eks) != js(want) {
		t.Errorf("EKS permissions %v\nwant %v", eks, want)
	}
}

func TestEksDeployBuildspec(t *testing.T) {
	tp := template(t, eksStack)
	specs := buildspecs(t, tp)
	spec := specs["kubectl deploy to EKS shop-staging/shop"]
	for _, want := range []string{
		"fetch " + devsecops.Kubectl.URL + " " + devsecops.Kubectl.SHA256 + " /usr/local/bin/kubectl",
		`kubectl rollout status "$workload" --namespace "$K8S_NAMESPACE" --timeout "${ROLLOUT_TIMEOUT}s"`,
		`kubectl rollout undo "$workload"`,
	} {
		if !strings.Contains(spec, want) {
			t.Errorf("the staging deploy buildspec lacks %q:\n%s", want, spec)
		}
	}
	if strings.Index(spec, "fetch "+devsecops.Kubectl.URL) > strings.Index(spec, "kubectl apply") {
		t.Error("kubectl is used before its checksum is checked")
	}
	timeouts := map[string]string{}
	for _, p := range tp.ofType("AWS::CodeBuild::Project") {
		for _, v := range p["Environment"].(map[string]any)["EnvironmentVariables"].([]any) {
			v := v.(map[string]any)
			if v["Name"] == "ROLLOUT_TIMEOUT" {
				timeouts[p["Description"].(string)] = v["Value"].(string)
			}
		}
	}
	if js(timeouts) != `{"kubectl deploy to EKS shop-production/shop (Production)":"600","kubectl deploy to EKS shop-staging/shop (Staging)":"300"}` {
		t.Errorf("rollout timeouts %v", timeouts)
	}
}

// TestRuntimeFindings checks the Falco path: a subscription filter on the given log group to
// the falco-ingest function, which CloudWatch Logs may invoke from that log group only
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/SubscriptionFilters.html#LambdaFunctionExample),
// and a role that can do exactly its job.
func TestRuntimeFindings(t *testing.T) {
	tp := template(t, eksStack)
	filters := tp.ofType("AWS::Logs::SubscriptionFilter")
	if len(filters) != 1 {
		t.Fatalf("%d subscription filters, want 1", len(filters))
	}
	fnID := logical(t, eksStack, eksPipe.RuntimeFunction)
	for _, f := range filters {
		if f["LogGroupName"] != "/eks/staging/falco" || js(f["DestinationArn"]) != `{"Fn::GetAtt":["`+fnID+`","Arn"]}` || f["FilterPattern"] != "" {
			t.Errorf("subscription filter %s", js(f))
		}
	}
	invoke := 0
	for _, perm := range tp.ofType("AWS::Lambda::Permission") {
		if js(perm["FunctionName"]) == `{"Fn::GetAtt":["`+fnID+`","Arn"]}` {
			invoke++
			if perm["Principal"] != "logs.amazonaws.com" || !strings.Contains(js(perm["SourceArn"]), ":log-group:/eks/staging/falco:*") {
				t.Errorf("permission %s, want logs.amazonaws.com from the Falco log group only", js(perm))
			}
		}
	}
	if invoke != 1 {
		t.Errorf("%d permissions on the runtime function, want 1", invoke)
	}
	actions := []string{}
	for _, p := range tp.ofType("AWS::IAM::ManagedPolicy") {
		if !strings.HasPrefix(p["Description"].(string), "falco-ingest") {
			continue
		}
		for _, st := range p["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			st := st.(map[string]any)
			for _, a := range list(st["Action"]) {
				actions = append(actions, a+" "+js(st["Resource"]))
			}
		}
	}
	sort.Strings(actions)
	bucket := logical(t, eksStack, eksPipe.ArtifactBucket)
	key := logical(t, eksStack, eksPipe.Key)
	want := []string{
		`kms:GenerateDataKey {"Fn::GetAtt":["` + key + `","Arn"]}`,
		`logs:CreateLogStream {"Fn::GetAtt":["` + logicalPrefix(t, tp, "PipelineRuntimeFunctionLogs") + `","Arn"]}`,
		`logs:PutLogEvents {"Fn::GetAtt":["` + logicalPrefix(t, tp, "PipelineRuntimeFunctionLogs") + `","Arn"]}`,
		`s3:PutObject {"Fn::Join":["",[{"Fn::GetAtt":["` + bucket + `","Arn"]},"/runtime/*"]]}`,
		`securityhub:BatchImportFindings {"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":securityhub:eu-west-1:123456789012:product/123456789012/default"]]}`,
		`xray:PutTelemetryRecords "*"`,
		`xray:PutTraceSegments "*"`,
	}
	if strings.Join(actions, "\n") != strings.Join(want, "\n") {
		t.Errorf("runtime role:\n%s\nwant:\n%s", strings.Join(actions, "\n"), strings.Join(want, "\n"))
	}
}

func TestDastInTheVpcAndSnykToken(t *testing.T) {
	tp := template(t, eksStack)
	for _, p := range tp.ofType("AWS::CodeBuild::Project") {
		desc := p["Description"].(string)
		vpc := js(p["VpcConfig"])
		switch {
		case strings.HasPrefix(desc, "Dynamic scan"):
			if vpc != `{"SecurityGroupIds":["sg-0a1b2c3d4e5f60718"],"Subnets":["subnet-0a1b2c3d4e5f60718","subnet-1a1b2c3d4e5f60718"],"VpcId":"vpc-0a1b2c3d4e5f60718"}` {
				t.Errorf("DAST VpcConfig %s", vpc)
			}
		case p["VpcConfig"] != nil:
			t.Errorf("%s is in a VPC", desc)
		}
		if strings.Contains(desc, "(snyk)") {
			if !strings.Contains(js(p["Environment"]), `{"Name":"SNYK_TOKEN","Type":"SECRETS_MANAGER","Value":"arn:aws:secretsmanager:eu-west-1:123456789012:secret:devsecops/snyk-token-StUvWx"}`) {
				t.Errorf("%s: SNYK_TOKEN is not a secrets-manager variable: %s", desc, js(p["Environment"]))
			}
		}
	}
}

// logical is the logical id of c's CloudFormation resource in stack.
func logical(t *testing.T, stack awscdk.Stack, c constructs.IConstruct) string {
	t.Helper()
	el, ok := c.(awscdk.CfnElement)
	if !ok {
		el = c.Node().DefaultChild().(awscdk.CfnElement)
	}
	return *stack.GetLogicalId(el)
}

// logicalPrefix is the one logical id that starts with prefix.
func logicalPrefix(t *testing.T, tp tmpl, prefix string) string {
	t.Helper()
	var ids []string
	for id := range tp.Resources {
		if strings.HasPrefix(id, prefix) {
			ids = append(ids, id)
		}
	}
	if len(ids) != 1 {
		t.Fatalf("logical ids starting %s: %v", prefix, ids)
	}
	return ids[0]
}
