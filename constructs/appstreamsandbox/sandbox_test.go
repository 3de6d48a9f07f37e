package appstreamsandbox_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/appstreamsandbox"
	"github.com/securestacks/securestacks/constructs/internal/policytest"
	"github.com/securestacks/securestacks/internal/iampolicy"
	"github.com/securestacks/securestacks/internal/nag"
)

// reference is AWS's Service Authorization Reference, which every template
// that build synthesizes is checked against.
var reference *iampolicy.Reference

// TestMain owns the one jsii runtime (node process) of this test binary.
func TestMain(m *testing.M) {
	var err error
	if reference, err = iampolicy.LoadNearest(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}

// resource is one resource of a synthesized template, as plain JSON.
type resource struct {
	Type       string         `json:"Type"`
	Properties map[string]any `json:"Properties"`
	DependsOn  []string       `json:"DependsOn"`
}

type tmpl struct {
	Resources map[string]resource `json:"Resources"`
}

// ofType returns the logical ids of the resources of type t, sorted.
func (t tmpl) ofType(typ string) []string {
	var ids []string
	for id, r := range t.Resources {
		if r.Type == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

func (t tmpl) one(tt *testing.T, typ string) (string, resource) {
	tt.Helper()
	ids := t.ofType(typ)
	if len(ids) != 1 {
		tt.Fatalf("want exactly one %s, got %v", typ, ids)
	}
	return ids[0], t.Resources[ids[0]]
}

// build synthesizes a Sandbox in a fresh app (bundling skipped) with the three nag packs, and
// returns the stack, its template as JSON and the assertions view.
func build(t *testing.T, env *awscdk.Environment, props *appstreamsandbox.SandboxProps) (awscdk.Stack, *appstreamsandbox.Sandbox, tmpl, assertions.Template) {
	t.Helper()
	app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{"aws:cdk:bundling-stacks": []any{}}})
	stack := awscdk.NewStack(app, jsii.String("Sandbox"), &awscdk.StackProps{Env: env})
	s := appstreamsandbox.NewSandbox(stack, "Sandbox", props)
	nag.ApplyPacks(app)
	tpl := assertions.Template_FromStack(stack, nil)
	b, err := json.Marshal(tpl.ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	var out tmpl
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	// Every policy must be one AWS can evaluate as written: actions that exist,
	// resources of the forms the actions authorize, condition keys in the
	// actions' request context.
	findings, _, err := reference.CheckTemplate(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range findings {
		t.Errorf("Service Authorization Reference: %s", f)
	}
	if dir := os.Getenv("APPSTREAMSANDBOX_TEMPLATE_DIR"); dir != "" {
		// For running cfn-guard over the template by hand.
		_ = os.WriteFile(dir+"/"+strings.ReplaceAll(t.Name(), "/", "_")+".template.json", b, 0o644)
	}
	return stack, s, out, tpl
}

func placeholder() *appstreamsandbox.SandboxProps {
	return &appstreamsandbox.SandboxProps{ImageName: jsii.String(appstreamsandbox.PlaceholderImageName)}
}

func asJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// statements returns every statement of every identity policy (managed or inline) in t, with
// the logical id of its policy.
func (t tmpl) statements() map[string][]map[string]any {
	out := map[string][]map[string]any{}
	for id, r := range t.Resources {
		if r.Type != "AWS::IAM::ManagedPolicy" && r.Type != "AWS::IAM::Policy" {
			continue
		}
		doc := r.Properties["PolicyDocument"].(map[string]any)
		for _, s := range doc["Statement"].([]any) {
			out[id] = append(out[id], s.(map[string]any))
		}
	}
	return out
}

// arnText renders the Fn::Join and Ref intrinsics in v as cdk-nag writes them
// ("arn:<AWS::Partition>:..."), recursively; other values stay as they are.
func arnText(v any) any { return policytest.Render(v) }

func list(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

func TestDefaultSandboxIsIsolated(t *testing.T) {
	// GIVEN the sandbox with defaults and the placeholder image, in an environment-agnostic stack
	stack, s, tp, tpl := build(t, nil, placeholder())

	t.Run("no internet gateway, no NAT, no public subnet, no default route", func(t *testing.T) {
		// THEN the VPC has two isolated subnets and no way out but its endpoints
		for _, typ := range []string{"AWS::EC2::InternetGateway", "AWS::EC2::NatGateway", "AWS::EC2::VPCGatewayAttachment", "AWS::EC2::EgressOnlyInternetGateway", "AWS::EC2::Route", "AWS::EC2::EIP"} {
			tpl.ResourceCountIs(jsii.String(typ), jsii.Number(0))
		}
		subnets := tp.ofType("AWS::EC2::Subnet")
		if len(subnets) != 2 {
			t.Fatalf("subnets = %v, want 2", subnets)
		}
		azs := map[string]bool{}
		for _, id := range subnets {
			p := tp.Resources[id].Properties
			if p["MapPublicIpOnLaunch"] != false {
				t.Errorf("subnet %s MapPublicIpOnLaunch = %v", id, p["MapPublicIpOnLaunch"])
			}
			azs[asJSON(p["AvailabilityZone"])] = true
		}
		if len(azs) != 2 {
			t.Errorf("subnets span %d AZs, want 2", len(azs))
		}
		tpl.HasResourceProperties(jsii.String("AWS::EC2::VPC"), map[string]any{
			"CidrBlock": appstreamsandbox.DefaultVpcCidr, "EnableDnsHostnames": true, "EnableDnsSupport": true,
		})
	})

	t.Run("flow logs of all traffic to an encrypted log group with retention", func(t *testing.T) {
		_, fl := tp.one(t, "AWS::EC2::FlowLog")
		if fl.Properties["TrafficType"] != "ALL" || fl.Properties["LogDestinationType"] != "cloud-watch-logs" {
			t.Errorf("flow log = %v", fl.Properties)
		}
		group := fl.Properties["LogGroupName"].(map[string]any)["Ref"].(string)
		lg := tp.Resources[group].Properties
		if lg["RetentionInDays"] != float64(365) || lg["KmsKeyId"] == nil {
			t.Errorf("flow log group %s = %v, want one year and a KMS key", group, lg)
		}
	})

	t.Run("every endpoint, private DNS, account-only policies where supported", func(t *testing.T) {
		want := map[string]bool{ // service name suffix → has an endpoint policy
			".s3": true, ".ssm": true, ".sts": true, ".kms": true, ".logs": true,
			".sagemaker.api": true, ".sagemaker.runtime": true, ".notebook": false, ".appstream.api": false,
		}
		got := map[string]bool{}
		for _, id := range tp.ofType("AWS::EC2::VPCEndpoint") {
			p := tp.Resources[id].Properties
			name := asJSON(p["ServiceName"])
			var suffix string
			for w := range want {
				if strings.HasSuffix(name, w+`"]]}`) {
					suffix = w
				}
			}
			if suffix == "" {
				t.Errorf("unexpected endpoint %s", name)
				continue
			}
			got[suffix] = true
			if suffix == ".s3" {
				if p["VpcEndpointType"] != "Gateway" {
					t.Errorf("S3 endpoint type %v, want Gateway", p["VpcEndpointType"])
				}
			} else if p["PrivateDnsEnabled"] != true || p["VpcEndpointType"] != "Interface" {
				t.Errorf("%s: PrivateDnsEnabled %v type %v", suffix, p["PrivateDnsEnabled"], p["VpcEndpointType"])
			}
			doc, hasPolicy := p["PolicyDocument"].(map[string]any)
			if hasPolicy != want[suffix] {
				t.Errorf("%s: endpoint policy present = %v, want %v", suffix, hasPolicy, want[suffix])
			}
			if hasPolicy {
				st := doc["Statement"].([]any)
				cond := asJSON(st[0].(map[string]any)["Condition"])
				if len(st) != 1 || !strings.Contains(cond, `"aws:PrincipalAccount":{"Ref":"AWS::AccountId"}`) ||
					!strings.Contains(cond, `"aws:ResourceAccount":{"Ref":"AWS::AccountId"}`) {
					t.Errorf("%s: endpoint policy %v, want one statement limited to this account", suffix, asJSON(doc))
				}
			}
		}
		if len(got) != len(want) {
			t.Errorf("endpoints %v, want %v", got, want)
		}
		if _, ok := s.InterfaceEndpoints["appstream-streaming"]; ok {
			t.Error("the streaming endpoint is opt-in")
		}
	})

	t.Run("security groups: only 443, only from the VPC or the fleet", func(t *testing.T) {
		ingress := 0
		for _, id := range tp.ofType("AWS::EC2::SecurityGroup") {
			for _, rule := range list(tp.Resources[id].Properties["SecurityGroupIngress"]) {
				if rule == nil {
					continue
				}
				ingress++
				r := rule.(map[string]any)
				if r["CidrIp"] != appstreamsandbox.DefaultVpcCidr || r["FromPort"] != float64(443) || r["ToPort"] != float64(443) || r["IpProtocol"] != "tcp" {
					t.Errorf("%s ingress %v, want 443 from the VPC CIDR only", id, r)
				}
			}
			for _, rule := range list(tp.Resources[id].Properties["SecurityGroupEgress"]) {
				r := rule.(map[string]any)
				if r["CidrIp"] == "255.255.255.255/32" { // CDK's "no egress" marker
					continue
				}
				if r["FromPort"] != float64(443) || r["ToPort"] != float64(443) {
					t.Errorf("%s egress %v, want 443 only", id, r)
				}
			}
		}
		if ingress != 1 {
			t.Errorf("%d inline ingress rules, want 1 (the endpoints')", ingress)
		}
		_, rule := tp.one(t, "AWS::EC2::SecurityGroupIngress")
		notebookSG := *stack.GetLogicalId(s.NotebookSecurityGroup.Node().DefaultChild().(awscdk.CfnElement))
		fleetSG := *stack.GetLogicalId(s.FleetSecurityGroup.Node().DefaultChild().(awscdk.CfnElement))
		if asJSON(rule.Properties["GroupId"]) != asJSON(map[string]any{"Fn::GetAtt": []any{notebookSG, "GroupId"}}) ||
			asJSON(rule.Properties["SourceSecurityGroupId"]) != asJSON(map[string]any{"Fn::GetAtt": []any{fleetSG, "GroupId"}}) ||
			rule.Properties["FromPort"] != float64(443) || rule.Properties["ToPort"] != float64(443) {
			t.Errorf("notebook ingress %v, want 443 from the fleet's group only", rule.Properties)
		}
	})

	t.Run("fleet in the isolated subnets, without internet", func(t *testing.T) {
		_, fleet := tp.one(t, "AWS::AppStream::Fleet")
		p := fleet.Properties
		subnets := asJSON(p["VpcConfig"].(map[string]any)["SubnetIds"])
		for _, id := range tp.ofType("AWS::EC2::Subnet") {
			if !strings.Contains(subnets, `"`+id+`"`) {
				t.Errorf("fleet subnets %s miss %s", subnets, id)
			}
		}
		if p["EnableDefaultInternetAccess"] != false || p["FleetType"] != appstreamsandbox.DefaultFleetType ||
			p["ImageName"] != appstreamsandbox.PlaceholderImageName || p["InstanceType"] != appstreamsandbox.DefaultInstanceType ||
			asJSON(p["ComputeCapacity"]) != `{"DesiredInstances":1}` || p["DisconnectTimeoutInSeconds"] != float64(900) ||
			p["IdleDisconnectTimeoutInSeconds"] != float64(900) || len(list(p["VpcConfig"].(map[string]any)["SecurityGroupIds"])) != 1 {
			t.Errorf("fleet = %s", asJSON(p))
		}
	})

	t.Run("stack user settings exactly as listed, home folders, no persistence", func(t *testing.T) {
		tpl.HasResourceProperties(jsii.String("AWS::AppStream::Stack"), map[string]any{
			"UserSettings": []any{
				map[string]any{"Action": "CLIPBOARD_COPY_FROM_LOCAL_DEVICE", "Permission": "DISABLED"},
				map[string]any{"Action": "CLIPBOARD_COPY_TO_LOCAL_DEVICE", "Permission": "DISABLED"},
				map[string]any{"Action": "FILE_UPLOAD", "Permission": "DISABLED"},
				map[string]any{"Action": "FILE_DOWNLOAD", "Permission": "DISABLED"},
				map[string]any{"Action": "PRINTING_TO_LOCAL_DEVICE", "Permission": "DISABLED"},
			},
			"StorageConnectors":   []any{map[string]any{"ConnectorType": "HOMEFOLDERS"}},
			"ApplicationSettings": map[string]any{"Enabled": false},
			"AccessEndpoints":     assertions.Match_Absent(),
		})
		_, assoc := tp.one(t, "AWS::AppStream::StackFleetAssociation")
		fleetID, _ := tp.one(t, "AWS::AppStream::Fleet")
		stackID, _ := tp.one(t, "AWS::AppStream::Stack")
		if asJSON(assoc.Properties) != asJSON(map[string]any{"FleetName": map[string]any{"Ref": fleetID}, "StackName": map[string]any{"Ref": stackID}}) {
			t.Errorf("association = %v", assoc.Properties)
		}
	})

	t.Run("fleet role: the scripts prefix and its own parameter, nothing else", func(t *testing.T) {
		roleID := *stack.GetLogicalId(s.FleetRole.Node().DefaultChild().(awscdk.CfnElement))
		policyID := *stack.GetLogicalId(s.FleetPolicy.Node().DefaultChild().(awscdk.CfnElement))
		paramID, param := tp.one(t, "AWS::SSM::Parameter")
		st := tp.statements()[policyID]
		got := asJSON(st)
		if len(st) != 3 || !strings.Contains(got, `"Action":"s3:GetObject"`) || !strings.Contains(got, `/appstream-scripts/*"`) ||
			!strings.Contains(got, `"Action":"ssm:GetParameter"`) || !strings.Contains(got, `"kms:ViaService"`) {
			t.Errorf("fleet policy = %s", got)
		}
		for _, s := range st {
			if s["Action"] == "ssm:GetParameter" && !strings.Contains(asJSON(s["Resource"]), paramID) {
				t.Errorf("ssm:GetParameter on %v, want only the scripts-bucket parameter %s", s["Resource"], paramID)
			}
			if strings.Contains(asJSON(s), "sagemaker") || asJSON(s["Resource"]) == `"*"` {
				t.Errorf("fleet statement %s: no SageMaker and no * for the fleet", asJSON(s))
			}
		}
		if param.Properties["Type"] != "String" || param.Properties["Name"] != appstreamsandbox.ScriptsBucketParameterName(*s.AppStreamStackName) {
			t.Errorf("parameter = %v", param.Properties)
		}
		// only the fleet policy is attached to the fleet role
		for id, r := range tp.Resources {
			if (r.Type == "AWS::IAM::ManagedPolicy" || r.Type == "AWS::IAM::Policy") && strings.Contains(asJSON(r.Properties["Roles"]), `"`+roleID+`"`) && id != policyID {
				t.Errorf("policy %s is also attached to the fleet role", id)
			}
		}
		tpl.HasResourceProperties(jsii.String("AWS::IAM::Role"), map[string]any{
			"AssumeRolePolicyDocument": map[string]any{"Statement": []any{map[string]any{
				"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": map[string]any{"Service": "appstream.amazonaws.com"},
			}}},
			"ManagedPolicyArns": assertions.Match_Absent(),
		})
	})

	t.Run("no * resource except where the API requires it", func(t *testing.T) {
		// The exceptions, listed in README.md: usage-report subscriptions and DescribeFleets
		// (no resource-level permissions), Lambda VPC ENIs, and the framework's and CDK's own
		// grants (which name ARNs, not *).
		allowed := map[string]bool{
			"appstream:DescribeFleets":                   true,
			"appstream:DescribeUsageReportSubscriptions": true, "appstream:CreateUsageReportSubscription": true,
			"appstream:DeleteUsageReportSubscription": true, "ec2:CreateNetworkInterface": true,
			"ec2:DescribeNetworkInterfaces": true, "ec2:DescribeSubnets": true, "ec2:DeleteNetworkInterface": true,
			"ec2:AssignPrivateIpAddresses": true, "ec2:UnassignPrivateIpAddresses": true,
		}
		for id, sts := range tp.statements() {
			for _, s := range sts {
				if !slices.Contains(list(s["Resource"]), any("*")) {
					continue
				}
				for _, a := range list(s["Action"]) {
					if !allowed[a.(string)] {
						t.Errorf("%s grants %v on *", id, a)
					}
				}
			}
		}
	})

	t.Run("notebook: isolated, no internet, no root, KMS with rotation", func(t *testing.T) {
		_, nb := tp.one(t, "AWS::SageMaker::NotebookInstance")
		p := nb.Properties
		keyID := p["KmsKeyId"].(map[string]any)["Ref"].(string)
		subnet := p["SubnetId"].(map[string]any)["Ref"].(string)
		if p["DirectInternetAccess"] != "Disabled" || p["RootAccess"] != "Disabled" || tp.Resources[keyID].Properties["EnableKeyRotation"] != true ||
			tp.Resources[subnet].Type != "AWS::EC2::Subnet" || p["InstanceType"] != appstreamsandbox.DefaultNotebookInstanceType ||
			p["NotebookInstanceName"] != *s.NotebookName {
			t.Errorf("notebook = %s", asJSON(p))
		}
	})

	t.Run("validator: in the VPC, URLs bound to the sandbox's endpoints, home-folder trigger", func(t *testing.T) {
		fnID := *stack.GetLogicalId(s.Validator.Node().DefaultChild().(awscdk.CfnElement))
		fn := tp.Resources[fnID].Properties
		env := asJSON(fn["Environment"])
		for _, want := range []string{appstreamsandbox.EnvHomeBucket, appstreamsandbox.EnvBucketOwner, `"` + *s.AppStreamStackName + `"`,
			`"` + *s.FleetName + `"`, `"` + *s.NotebookName + `"`, `"SESSION_EXPIRY_SECONDS":"1800"`, appstreamsandbox.DefaultMetricNamespace} {
			if !strings.Contains(env, want) {
				t.Errorf("validator environment %s lacks %s", env, want)
			}
		}
		if fn["VpcConfig"] == nil || fn["DeadLetterConfig"] == nil || fn["Runtime"] != "provided.al2023" || asJSON(fn["Architectures"]) != `["arm64"]` {
			t.Errorf("validator = %s", asJSON(fn))
		}
		policyID := *stack.GetLogicalId(s.ValidatorPolicy.Node().DefaultChild().(awscdk.CfnElement))
		got := asJSON(tp.statements()[policyID])
		for _, want := range []string{
			`"Action":"sagemaker:CreatePresignedNotebookInstanceUrl","Condition":{"StringEquals":{"aws:SourceVpce":[`,
			`notebook-instance/` + strings.ToLower(*s.NotebookName),
			`/user/*/` + *s.AppStreamStackName + `/session.json"`, `/user/*/` + *s.AppStreamStackName + `/session_url.txt"`, `"s3:ResourceAccount"`,
			`"Action":"appstream:DescribeSessions"`, `:stack/` + *s.AppStreamStackName, `:fleet/` + *s.FleetName,
		} {
			if !strings.Contains(got, want) {
				t.Errorf("validator policy lacks %s: %s", want, got)
			}
		}
		_, perm := tp.one(t, "AWS::Lambda::Permission")
		if perm.Properties["Principal"] != "s3.amazonaws.com" || perm.Properties["SourceAccount"] == nil ||
			!strings.Contains(asJSON(perm.Properties["SourceArn"]), appstreamsandbox.HomeFolderBucketPrefix) {
			t.Errorf("permission = %v", perm.Properties)
		}
		tpl.HasResourceProperties(jsii.String(appstreamsandbox.HomeFolderResourceType), map[string]any{
			"Prefix": "user/", "Suffix": "/" + *s.AppStreamStackName + "/session.json",
			"FunctionArn": map[string]any{"Fn::GetAtt": []any{fnID, "Arn"}},
		})
	})

	t.Run("custom resources and their order", func(t *testing.T) {
		rolesID, roles := tp.one(t, appstreamsandbox.ServiceRolesResourceType)
		if asJSON(roles.Properties["Partition"]) != `{"Ref":"AWS::Partition"}` || roles.Properties["RetainOnDelete"] != "true" {
			t.Errorf("service roles = %v", roles.Properties)
		}
		fleetID, fleet := tp.one(t, "AWS::AppStream::Fleet")
		stackID, _ := tp.one(t, "AWS::AppStream::Stack")
		assocID, _ := tp.one(t, "AWS::AppStream::StackFleetAssociation")
		if !slices.Contains(fleet.DependsOn, rolesID) || !slices.Contains(tp.Resources[stackID].DependsOn, rolesID) {
			t.Errorf("fleet and stack must wait for the service roles: %v / %v", fleet.DependsOn, tp.Resources[stackID].DependsOn)
		}
		_, life := tp.one(t, appstreamsandbox.FleetLifecycleResourceType)
		if !slices.Contains(life.DependsOn, assocID) || asJSON(life.Properties["FleetName"]) != `{"Ref":"`+fleetID+`"}` ||
			life.Properties["StopTimeoutSeconds"] != "600" {
			t.Errorf("fleet lifecycle = %v depends on %v", life.Properties, life.DependsOn)
		}
		usageID, usage := tp.one(t, appstreamsandbox.UsageReportsResourceType)
		if !slices.Contains(usage.DependsOn, rolesID) {
			t.Errorf("%s must wait for the service roles", usageID)
		}
		// the account-wide subscription outlives this sandbox: other environments' use it
		if usage.Properties["RetainOnDelete"] != "true" {
			t.Errorf("usage reports RetainOnDelete = %v, want true", usage.Properties["RetainOnDelete"])
		}
		_, notify := tp.one(t, appstreamsandbox.HomeFolderResourceType)
		if !slices.Contains(notify.DependsOn, stackID) {
			t.Error("the notification must wait for the AppStream stack that makes the bucket")
		}
		// every custom-resource function is a provided.al2023 arm64 Go function with a timeout
		for _, c := range []*appstreamsandbox.CustomResource{s.ServiceRoles, s.FleetLifecycle, s.UsageReports, s.HomeFolderNotification} {
			fn := tp.Resources[*stack.GetLogicalId(c.Function.Node().DefaultChild().(awscdk.CfnElement))].Properties
			if fn["Runtime"] != "provided.al2023" || fn["Handler"] != "bootstrap" || fn["Timeout"] == nil {
				t.Errorf("custom resource function = %s", asJSON(fn))
			}
		}
	})

	t.Run("service-roles policy: GetRole at any path, writes only under /service-role/", func(t *testing.T) {
		// THEN the exact statements: GetRole finds an existing role wherever its path puts it;
		// creating, tagging, listing, attaching and deleting stay on /service-role/, deleting
		// only on tagged roles and attaching only the two service policies
		policyID := *stack.GetLogicalId(s.ServiceRoles.Policy.Node().DefaultChild().(awscdk.CfnElement))
		const (
			appstream = "AmazonAppStreamServiceAccess"
			scaling   = "ApplicationAutoScalingForAmazonAppStreamAccess"
			role      = "arn:<AWS::Partition>:iam::<AWS::AccountId>:role/"
		)
		serviceRoles := []string{role + "service-role/" + appstream, role + "service-role/" + scaling}
		want := map[string]string{
			"FindServiceRolesAtAnyPath": asJSON(map[string]any{"Action": "iam:GetRole",
				"Resource": []string{role + appstream, role + "*/" + appstream, role + scaling, role + "*/" + scaling}}),
			"CreateAndListServiceRoles": asJSON(map[string]any{"Action": []string{"iam:CreateRole", "iam:TagRole", "iam:ListAttachedRolePolicies", "iam:ListRolePolicies"},
				"Resource": serviceRoles}),
			"AttachOnlyTheServicePolicies": asJSON(map[string]any{"Action": "iam:AttachRolePolicy", "Resource": serviceRoles,
				"Condition": map[string]any{"ArnEquals": map[string]any{"iam:PolicyARN": []string{
					"arn:<AWS::Partition>:iam::aws:policy/service-role/" + appstream, "arn:<AWS::Partition>:iam::aws:policy/service-role/" + scaling}}}}),
			"DeleteOnlyTaggedServiceRoles": asJSON(map[string]any{"Action": []string{"iam:DetachRolePolicy", "iam:DeleteRolePolicy", "iam:DeleteRole"},
				"Resource": serviceRoles, "Condition": map[string]any{"Null": map[string]any{"aws:ResourceTag/" + appstreamsandbox.OwnerTag: "false"}}}),
		}
		got := map[string]string{}
		for _, st := range tp.statements()[policyID] {
			sid, _ := st["Sid"].(string)
			if sid == "Logs" {
				continue
			}
			if st["Effect"] != "Allow" {
				t.Errorf("statement %s: Effect %v", sid, st["Effect"])
			}
			view := map[string]any{"Action": st["Action"], "Resource": arnText(st["Resource"])}
			if c, ok := st["Condition"]; ok {
				view["Condition"] = arnText(c)
			}
			got[sid] = asJSON(view)
		}
		for sid, w := range want {
			if got[sid] != w {
				t.Errorf("statement %s =\n %s\nwant\n %s", sid, got[sid], w)
			}
		}
		if len(got) != len(want) {
			t.Errorf("statements %v, want exactly %d besides Logs", slices.Sorted(maps.Keys(got)), len(want))
		}
	})

	t.Run("security alarms on both metrics, to an encrypted topic", func(t *testing.T) {
		topicID, topic := tp.one(t, "AWS::SNS::Topic")
		if topic.Properties["KmsMasterKeyId"] == nil {
			t.Error("alarm topic is not encrypted")
		}
		for _, metric := range []string{appstreamsandbox.MetricSpoofAttempts, appstreamsandbox.MetricInvalidSessions} {
			tpl.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), map[string]any{
				"MetricName": metric, "Namespace": appstreamsandbox.DefaultMetricNamespace,
				"Dimensions":   []any{map[string]any{"Name": appstreamsandbox.MetricDimension, "Value": *s.AppStreamStackName}},
				"Threshold":    1,
				"AlarmActions": []any{map[string]any{"Ref": topicID}},
			})
		}
	})

	t.Run("scripts bucket: KMS, versioned, logged; the two scripts under their prefix", func(t *testing.T) {
		bucketID := *stack.GetLogicalId(s.ScriptsBucket.Node().DefaultChild().(awscdk.CfnElement))
		b := tp.Resources[bucketID].Properties
		if !strings.Contains(asJSON(b["BucketEncryption"]), `"aws:kms"`) || asJSON(b["VersioningConfiguration"]) != `{"Status":"Enabled"}` || b["LoggingConfiguration"] == nil {
			t.Errorf("scripts bucket = %s", asJSON(b))
		}
		tpl.HasResourceProperties(jsii.String("Custom::CDKBucketDeployment"), map[string]any{
			"DestinationBucketKeyPrefix": appstreamsandbox.ScriptsPrefix,
			"DestinationBucketName":      map[string]any{"Ref": bucketID},
			"SourceObjectKeys":           assertions.Match_AnyValue(),
		})
	})

	t.Run("nag-clean under the three packs", func(t *testing.T) {
		if errs := nag.Errors(stack); len(errs) > 0 {
			t.Errorf("unsuppressed nag errors:\n%s", strings.Join(errs, "\n"))
		}
	})
}

func TestSandboxVariants(t *testing.T) {
	tests := []struct {
		name  string
		env   *awscdk.Environment
		props *appstreamsandbox.SandboxProps
		check func(t *testing.T, s *appstreamsandbox.Sandbox, tp tmpl, tpl assertions.Template, raw string)
	}{
		{
			name: "streaming endpoint opted in",
			props: &appstreamsandbox.SandboxProps{ImageName: jsii.String("DataSandbox-Image"), StreamingEndpoint: jsii.Bool(true),
				EnvironmentName: jsii.String("DataSandbox"), VpcCidr: jsii.String("10.50.0.0/20")},
			check: func(t *testing.T, s *appstreamsandbox.Sandbox, tp tmpl, tpl assertions.Template, raw string) {
				if !strings.Contains(raw, `".appstream.streaming"`) {
					t.Error("no streaming endpoint")
				}
				tpl.HasResourceProperties(jsii.String("AWS::AppStream::Stack"), map[string]any{
					"Name":            "DataSandbox-Stack",
					"AccessEndpoints": []any{map[string]any{"EndpointType": "STREAMING", "VpceId": assertions.Match_AnyValue()}},
				})
				tpl.HasResourceProperties(jsii.String("AWS::EC2::VPC"), map[string]any{"CidrBlock": "10.50.0.0/20"})
				tpl.HasResourceProperties(jsii.String("AWS::EC2::Subnet"), map[string]any{"CidrBlock": "10.50.0.0/22"})
			},
		},
		{
			name: "paste allowed, always-on fleet of three",
			props: &appstreamsandbox.SandboxProps{ImageName: jsii.String("img"), AllowPasteFromLocal: jsii.Bool(true),
				FleetType: jsii.String(appstreamsandbox.FleetTypeAlwaysOn), DesiredInstances: jsii.Number(3),
				InstanceType: jsii.String("stream.standard.medium"), IdleDisconnectTimeoutSeconds: jsii.Number(0)},
			check: func(t *testing.T, s *appstreamsandbox.Sandbox, tp tmpl, tpl assertions.Template, raw string) {
				tpl.HasResourceProperties(jsii.String("AWS::AppStream::Stack"), map[string]any{
					"UserSettings": assertions.Match_ArrayWith(&[]any{
						map[string]any{"Action": "CLIPBOARD_COPY_FROM_LOCAL_DEVICE", "Permission": "ENABLED"},
						map[string]any{"Action": "CLIPBOARD_COPY_TO_LOCAL_DEVICE", "Permission": "DISABLED"},
					}),
				})
				tpl.HasResourceProperties(jsii.String("AWS::AppStream::Fleet"), map[string]any{
					"FleetType": "ALWAYS_ON", "ComputeCapacity": map[string]any{"DesiredInstances": 3},
					"InstanceType": "stream.standard.medium", "IdleDisconnectTimeoutInSeconds": 0,
				})
			},
		},
		{
			name:  "SAML role for an identity provider",
			props: &appstreamsandbox.SandboxProps{ImageName: jsii.String("img"), IdpName: jsii.String("CorpIdP")},
			check: func(t *testing.T, s *appstreamsandbox.Sandbox, tp tmpl, tpl assertions.Template, raw string) {
				if s.SamlRole == nil {
					t.Fatal("no SAML role")
				}
				tpl.HasResourceProperties(jsii.String("AWS::IAM::Role"), map[string]any{
					"AssumeRolePolicyDocument": map[string]any{"Statement": []any{map[string]any{
						"Action":    "sts:AssumeRoleWithSAML",
						"Condition": map[string]any{"StringEquals": map[string]any{"SAML:aud": map[string]any{"Fn::FindInMap": assertions.Match_AnyValue()}}},
						"Principal": map[string]any{"Federated": map[string]any{"Fn::Join": []any{"", []any{
							"arn:", map[string]any{"Ref": "AWS::Partition"}, ":iam::", map[string]any{"Ref": "AWS::AccountId"}, ":saml-provider/CorpIdP"}}}},
						"Effect": "Allow",
					}}},
				})
				tpl.HasResourceProperties(jsii.String("AWS::IAM::ManagedPolicy"), map[string]any{
					"PolicyDocument": map[string]any{"Statement": []any{map[string]any{
						"Action":    "appstream:Stream",
						"Condition": map[string]any{"StringEquals": map[string]any{"appstream:userId": "${saml:sub}"}},
						"Effect":    "Allow",
						"Resource":  assertions.Match_AnyValue(),
						"Sid":       "StreamThisStackAsYourself",
					}}},
				})
				if !strings.Contains(raw, `":stack/`+*s.AppStreamStackName+`"`) {
					t.Error("appstream:Stream is not scoped to this stack")
				}
			},
		},
		{
			name:  "pinned GovCloud environment: partition-aware, no aws literal",
			env:   &awscdk.Environment{Account: jsii.String("123456789012"), Region: jsii.String("us-gov-west-1")},
			props: &appstreamsandbox.SandboxProps{ImageName: jsii.String("img"), IdpName: jsii.String("CorpIdP")},
			check: func(t *testing.T, s *appstreamsandbox.Sandbox, tp tmpl, tpl assertions.Template, raw string) {
				if strings.Contains(raw, `arn:aws:`) {
					t.Error("the template holds an arn:aws: literal")
				}
				if !strings.Contains(raw, `"appstream2-36fb080bb8-us-gov-west-1-123456789012"`) {
					t.Error("home-folder bucket name not resolved for the pinned environment")
				}
				if got := *s.HomeFolderBucketName(); got != "appstream2-36fb080bb8-us-gov-west-1-123456789012" {
					t.Errorf("HomeFolderBucketName = %s", got)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN the case's props (and environment) WHEN the sandbox is synthesized
			stack, s, tp, tpl := build(t, tt.env, tt.props)
			raw := asJSON(tpl.ToJSON())
			// THEN the variant shows in the template, and the stack stays nag-clean
			tt.check(t, s, tp, tpl, raw)
			if errs := nag.Errors(stack); len(errs) > 0 {
				t.Errorf("unsuppressed nag errors:\n%s", strings.Join(errs, "\n"))
			}
		})
	}
}

func TestInvalidPropsPanic(t *testing.T) {
	img := jsii.String("img")
	tests := []struct {
		name  string
		props *appstreamsandbox.SandboxProps
		want  string
	}{
		{"nil props: the image is required", nil, "ImageName"},
		{"not a CIDR", &appstreamsandbox.SandboxProps{ImageName: img, VpcCidr: jsii.String("10.0.0.0")}, "VpcCidr"},
		{"CIDR too small", &appstreamsandbox.SandboxProps{ImageName: img, VpcCidr: jsii.String("10.0.0.0/28")}, "VpcCidr"},
		{"CIDR not a network address", &appstreamsandbox.SandboxProps{ImageName: img, VpcCidr: jsii.String("10.0.0.1/16")}, "VpcCidr"},
		{"elastic fleet", &appstreamsandbox.SandboxProps{ImageName: img, FleetType: jsii.String("ELASTIC")}, "FleetType"},
		{"no capacity", &appstreamsandbox.SandboxProps{ImageName: img, DesiredInstances: jsii.Number(0)}, "DesiredInstances"},
		{"half an instance", &appstreamsandbox.SandboxProps{ImageName: img, DesiredInstances: jsii.Number(1.5)}, "DesiredInstances"},
		{"notebook session over the bound", &appstreamsandbox.SandboxProps{ImageName: img, NotebookSessionSeconds: jsii.Number(3600)}, "NotebookSessionSeconds"},
		{"environment name with an underscore", &appstreamsandbox.SandboxProps{ImageName: img, EnvironmentName: jsii.String("data_sandbox")}, "EnvironmentName"},
		{"SAML audience without a provider", &appstreamsandbox.SandboxProps{ImageName: img, SamlAudience: jsii.String("https://x")}, "SamlAudience"},
		{"EC2 instance type", &appstreamsandbox.SandboxProps{ImageName: img, InstanceType: jsii.String("t3.small")}, "InstanceType"},
		{"disconnect timeout too short", &appstreamsandbox.SandboxProps{ImageName: img, DisconnectTimeoutSeconds: jsii.Number(10)}, "DisconnectTimeoutSeconds"},
		{"stop timeout beyond Lambda's reach", &appstreamsandbox.SandboxProps{ImageName: img, FleetStopTimeout: awscdk.Duration_Minutes(jsii.Number(20))}, "FleetStopTimeout"},
		{"AWS namespace", &appstreamsandbox.SandboxProps{ImageName: img, MetricNamespace: jsii.String("AWS/AppStream")}, "MetricNamespace"},
		{"unknown trail mode", &appstreamsandbox.SandboxProps{ImageName: img, Audit: &appstreamsandbox.AuditProps{Trail: jsii.String("org")}}, "Audit.Trail"},
		{"existing trail without its logs", &appstreamsandbox.SandboxProps{ImageName: img, Audit: &appstreamsandbox.AuditProps{Trail: jsii.String(appstreamsandbox.TrailExisting)}}, "Audit.ExistingTrailLogsUri"},
		{"existing trail logs not a CloudTrail folder", &appstreamsandbox.SandboxProps{ImageName: img, Audit: &appstreamsandbox.AuditProps{Trail: jsii.String(appstreamsandbox.TrailExisting), ExistingTrailLogsUri: jsii.String("s3://logs/AWSLogs/")}}, "Audit.ExistingTrailLogsUri"},
		{"logs URI with a created trail", &appstreamsandbox.SandboxProps{ImageName: img, Audit: &appstreamsandbox.AuditProps{ExistingTrailLogsUri: jsii.String("s3://logs/AWSLogs/123456789012/CloudTrail/")}}, "Audit.ExistingTrailLogsUri"},
		{"CloudWatch Logs on someone else's trail", &appstreamsandbox.SandboxProps{ImageName: img, Audit: &appstreamsandbox.AuditProps{Trail: jsii.String(appstreamsandbox.TrailNone), CloudWatchLogs: jsii.Bool(true)}}, "Audit.CloudWatchLogs"},
		{"retention beyond ten years", &appstreamsandbox.SandboxProps{ImageName: img, Audit: &appstreamsandbox.AuditProps{TrailRetentionDays: jsii.Number(4000)}}, "Audit.TrailRetentionDays"},
		{"not a region", &appstreamsandbox.SandboxProps{ImageName: img, Audit: &appstreamsandbox.AuditProps{AthenaRegions: jsii.Strings("Ireland")}}, "Audit.AthenaRegions"},
		{"projection start not a day", &appstreamsandbox.SandboxProps{ImageName: img, Audit: &appstreamsandbox.AuditProps{ProjectionStart: jsii.String("2025-01-01")}}, "Audit.ProjectionStart"},
	}
	app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{"aws:cdk:bundling-stacks": []any{}}})
	stack := awscdk.NewStack(app, jsii.String("Invalid"), nil)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN props with one bad value WHEN the sandbox is built
			defer func() {
				// THEN it panics with one line naming the prop, prefixed by the package
				msg := fmt.Sprint(recover())
				if !strings.HasPrefix(msg, "appstreamsandbox: "+tt.want) || strings.Contains(msg, "\n") {
					t.Errorf("panic = %q, want one line starting with appstreamsandbox: %s", msg, tt.want)
				}
			}()
			appstreamsandbox.NewSandbox(stack, fmt.Sprintf("Bad%d", i), tt.props)
		})
	}
}

func TestSessionScriptsMatchTheValidator(t *testing.T) {
	// GIVEN the embedded scripts
	launcher, session := appstreamsandbox.LauncherScript, appstreamsandbox.SessionScript

	// THEN the launcher finds the bucket through the parameter name the construct creates,
	// with the fleet role, and fetches the session script from the scripts prefix
	for _, want := range []string{appstreamsandbox.ScriptsBucketParameterPrefix + "$stack/scripts-bucket", "appstream_machine_role",
		appstreamsandbox.ScriptsPrefix + appstreamsandbox.SessionScriptName, "AppStream_Stack_Name"} {
		if !strings.Contains(launcher, want) {
			t.Errorf("launcher lacks %q", want)
		}
	}
	// AND the session script writes exactly the claims the validator reads, as UTF-8 without a
	// BOM, into the synced home folder, and opens only https URLs
	for _, want := range []string{"user      = $env:AppStream_UserName", "sessionId = $env:AppStream_Session_ID",
		"stackName = $env:AppStream_Stack_Name", "fleetName = $env:AppStream_Resource_Name", "authType  = $env:AppStream_User_Access_Mode",
		"'session.json'", "'session_url.txt'", "UTF8Encoding($false)", "'^https://", `My Files\Home Folder`,
		// in the stack's own folder, which is what the notification's suffix filters on
		"$sessionFolder = Join-Path $homeFolder $env:AppStream_Stack_Name", "$request = Join-Path $sessionFolder 'session.json'",
		"$reply = Join-Path $sessionFolder 'session_url.txt'"} {
		if !strings.Contains(session, want) {
			t.Errorf("session script lacks %q", want)
		}
	}
}

// s3FiltersOverlap is Amazon S3's rule for two notification configurations on one bucket and
// the same event type: S3 refuses the second when both their prefixes and their suffixes
// overlap, that is when one prefix starts the other and one suffix ends the other (an absent
// filter is the empty string, which overlaps everything). Amazon S3 User Guide, "Configuring
// event notifications using object key name filtering", examples of valid and invalid
// configurations: https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-how-to-filtering.html
// (and https://repost.aws/knowledge-center/lambda-s3-event-configuration-error).
func s3FiltersOverlap(prefixA, suffixA, prefixB, suffixB string) bool {
	prefixes := strings.HasPrefix(prefixA, prefixB) || strings.HasPrefix(prefixB, prefixA)
	suffixes := strings.HasSuffix(suffixA, suffixB) || strings.HasSuffix(suffixB, suffixA)
	return prefixes && suffixes
}

func TestS3FilterOverlapRule(t *testing.T) {
	// Cases that show the rule: a filter left out overlaps everything; a shared prefix is
	// fine while the suffixes differ; one suffix ending the other is an overlap.
	for _, tt := range []struct {
		pa, sa, pb, sb string
		overlap        bool
	}{
		{"images/", "", "", "jpg", true},            // invalid: overlapping prefix and suffix
		{"images/", "jpg", "images/", "png", false}, // valid: same prefix, different suffixes
		{"images/", "", "logs/", "", false},         // valid: different prefixes
		{"", "jpg", "", "pg", true},                 // invalid: "pg" ends "jpg"
	} {
		if got := s3FiltersOverlap(tt.pa, tt.sa, tt.pb, tt.sb); got != tt.overlap {
			t.Errorf("overlap(%q %q, %q %q) = %v, want %v", tt.pa, tt.sa, tt.pb, tt.sb, got, tt.overlap)
		}
	}
}

// TestSeveralSandboxesShareTheHomeFolderBucket builds three environments' sandboxes in one
// account and region, where AppStream gives them one home-folder bucket, and checks that their
// notifications can all be written (no two overlap) and that no other physical name collides.
func TestSeveralSandboxesShareTheHomeFolderBucket(t *testing.T) {
	// GIVEN three environments in the same account and region
	app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{"aws:cdk:bundling-stacks": []any{}}})
	env := &awscdk.Environment{Account: jsii.String("123456789012"), Region: jsii.String("eu-west-1")}
	var stacks []awscdk.Stack
	// "Prod" and "PreProd" end alike: suffixes must not overlap even then.
	for _, name := range []string{"Staging", "Prod", "PreProd"} {
		stack := awscdk.NewStack(app, jsii.String(name+"-AppStreamSandbox"), &awscdk.StackProps{Env: env})
		props := placeholder()
		props.EnvironmentName = jsii.String(name + "-DataSandbox")
		appstreamsandbox.NewSandbox(stack, "Sandbox", props)
		stacks = append(stacks, stack)
	}
	type notification struct{ stack, bucket, prefix, suffix string }
	var notifications []notification
	names := map[string]string{}
	for _, stack := range stacks {
		// WHEN their templates are read
		b, _ := json.Marshal(assertions.Template_FromStack(stack, nil).ToJSON())
		var tp tmpl
		if err := json.Unmarshal(b, &tp); err != nil {
			t.Fatal(err)
		}
		for _, id := range tp.ofType(appstreamsandbox.HomeFolderResourceType) {
			p := tp.Resources[id].Properties
			notifications = append(notifications, notification{*stack.StackName(), asJSON(p["BucketName"]), p["Prefix"].(string), p["Suffix"].(string)})
		}
		var own []string
		for typ, field := range map[string]string{
			"AWS::AppStream::Stack": "Name", "AWS::AppStream::Fleet": "Name",
			"AWS::SageMaker::NotebookInstance": "NotebookInstanceName", "AWS::SSM::Parameter": "Name",
		} {
			for _, id := range tp.ofType(typ) {
				own = append(own, typ+" "+asJSON(tp.Resources[id].Properties[field]))
			}
		}
		for _, n := range own {
			if other, dup := names[n]; dup {
				t.Errorf("%s and %s both name %s", other, *stack.StackName(), n)
			}
			names[n] = *stack.StackName()
		}
	}
	// THEN all of them write into the one home-folder bucket
	if len(notifications) != 3 || notifications[0].bucket != notifications[1].bucket || notifications[1].bucket != notifications[2].bucket {
		t.Fatalf("notifications %+v: want three on one bucket", notifications)
	}
	// AND no two of their ObjectCreated notifications overlap, so S3 accepts every one
	for i, a := range notifications {
		for _, b := range notifications[i+1:] {
			if s3FiltersOverlap(a.prefix, a.suffix, b.prefix, b.suffix) {
				t.Errorf("%s (%s…%s) and %s (%s…%s) overlap: S3 refuses the second", a.stack, a.prefix, a.suffix, b.stack, b.prefix, b.suffix)
			}
		}
	}
}

// TestServicePrincipals checks that every AWS service that writes into the sandbox's resources
// finds the resource-policy statements its documentation requires.
func TestServicePrincipals(t *testing.T) {
	// GIVEN the default sandbox in a pinned environment
	env := &awscdk.Environment{Account: jsii.String("123456789012"), Region: jsii.String("eu-west-1")}
	_, s, tp, tpl := build(t, env, placeholder())
	raw := *tpl.ToJSON()

	t.Run("S3 notifications to the validator", func(t *testing.T) {
		// https://docs.aws.amazon.com/AmazonS3/latest/userguide/grant-destinations-permissions-to-s3.html:
		// the function's resource policy lets s3.amazonaws.com invoke it, for the source bucket
		// (aws:SourceArn) of the expected owner (aws:SourceAccount). AWS's AddPermission example
		// for S3 (AWS SDK for .NET reference, https://docs.amazonaws.cn/sdkfornet/v3/apidocs/items/Lambda/TAddPermissionResponse.html):
		//   Action "lambda:InvokeFunction", Principal "s3.amazonaws.com",
		//   SourceAccount "123456789012", SourceArn "arn:aws:s3:::my-bucket-1xpuxmplzrlbh/*"
		// and AWS::Lambda::Permission: "If you grant permission to a service principal without
		// specifying the source, other accounts could potentially configure resources in their
		// account to invoke your Lambda function."
		_, perm := tp.one(t, "AWS::Lambda::Permission")
		if perm.Properties["Action"] != "lambda:InvokeFunction" || perm.Properties["Principal"] != "s3.amazonaws.com" ||
			perm.Properties["SourceAccount"] != "123456789012" ||
			fmt.Sprint(arnText(perm.Properties["SourceArn"])) != "arn:<AWS::Partition>:s3:::"+*s.HomeFolderBucketName() {
			t.Errorf("permission = %s", asJSON(perm.Properties))
		}
	})

	t.Run("CloudWatch alarms to the encrypted alarm topic", func(t *testing.T) {
		// Topic policy, https://repost.aws/knowledge-center/cloudwatch-receive-sns-for-alarm-trigger:
		//   {"Principal": {"Service": ["cloudwatch.amazonaws.com"]}, "Action": "sns:Publish", "Resource": <topic>,
		//    "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:cloudwatch:REGION:ACCOUNT_ID:alarm:ALARM_NAME"}}}
		// The TLS-only topic policy replaces SNS's default one, so without it nobody hears the alarms.
		want := `:alarm:` + s.AlarmNamePrefix() + `*"`
		pub := policytest.AllowsService(raw, "cloudwatch.amazonaws.com", "sns:Publish")
		if len(pub) != 1 {
			t.Fatalf("%d statements allow CloudWatch sns:Publish", len(pub))
		}
		if cond := pub[0].Condition(); !strings.Contains(cond, `"ArnLike":{"aws:SourceArn":`) || !strings.Contains(cond, want) || !strings.Contains(cond, `"aws:SourceAccount":"123456789012"`) {
			t.Errorf("sns:Publish is not limited to the sandbox's alarms: %s", cond)
		}
		// Key policy, https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services
		// and https://repost.aws/knowledge-center/cloudwatch-configure-alarm-sns:
		//   {"Principal": {"Service": "cloudwatch.amazonaws.com"}, "Action": ["kms:GenerateDataKey*", "kms:Decrypt"], "Resource": "*"}
		// without condition: AWS documents none for this path.
		for _, action := range []string{"kms:GenerateDataKey*", "kms:Decrypt"} {
			sts := policytest.AllowsService(raw, "cloudwatch.amazonaws.com", action)
			if len(sts) != 1 || sts[0].Type != "AWS::KMS::Key" || sts[0].Condition() != "" {
				t.Errorf("key statements for CloudWatch %s: %v", action, sts)
			}
		}
		for _, id := range tp.ofType("AWS::CloudWatch::Alarm") {
			if name, _ := tp.Resources[id].Properties["AlarmName"].(string); !strings.HasPrefix(name, s.AlarmNamePrefix()) {
				t.Errorf("alarm %s is named %q, outside %s*", id, name, s.AlarmNamePrefix())
			}
		}
	})

	t.Run("CloudWatch Logs to the logs key", func(t *testing.T) {
		// https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html:
		// logs.<region>.amazonaws.com may use the key, limited by the aws:logs:arn encryption
		// context.
		sts := policytest.AllowsService(raw, "logs.eu-west-1.<AWS::URLSuffix>", "kms:GenerateDataKey*")
		if len(sts) == 0 {
			sts = policytest.AllowsService(raw, "logs.eu-west-1.amazonaws.com", "kms:GenerateDataKey*")
		}
		if len(sts) != 1 || !strings.Contains(sts[0].Condition(), "kms:EncryptionContext:aws:logs:arn") {
			t.Errorf("logs key statements %s", asJSON(sts))
		}
	})

	// AppStream writes home folders and usage reports only into the buckets it creates and owns
	// itself (appstream2-36fb080bb8-<region>-<account>): the sandbox creates no bucket AppStream
	// writes to, and its fleet reads the scripts bucket with the fleet role's identity policy.
	// EventBridge targets nothing in the sandbox.
	if n := len(tp.ofType("AWS::Events::Rule")); n != 0 {
		t.Errorf("%d EventBridge rules: their targets need resource policies checked here", n)
	}
}

// statementBySid returns the one identity-policy statement of t with this Sid.
func (t tmpl) statementBySid(tt *testing.T, sid string) map[string]any {
	tt.Helper()
	var found []map[string]any
	for _, sts := range t.statements() {
		for _, st := range sts {
			if st["Sid"] == sid {
				found = append(found, st)
			}
		}
	}
	if len(found) != 1 {
		tt.Fatalf("want one statement %s, got %d", sid, len(found))
	}
	return found[0]
}

func TestRolesNameResourcesInTheFormsTheirActionsAuthorize(t *testing.T) {
	// GIVEN the default sandbox
	_, _, tp, _ := build(t, nil, placeholder())
	// THEN appstream:DescribeFleets, which supports no resource-level permissions
	// (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonappstream2.0.html),
	// is granted on "*", and start/stop stay on the fleet
	describe := tp.statementBySid(t, "DescribeFleets")
	if describe["Action"] != "appstream:DescribeFleets" || describe["Resource"] != "*" {
		t.Errorf("DescribeFleets statement = %s", asJSON(describe))
	}
	startStop := tp.statementBySid(t, "StartStopThisFleet")
	if got := asJSON(startStop["Action"]); got != `["appstream:StartFleet","appstream:StopFleet"]` {
		t.Errorf("StartStopThisFleet actions = %s", got)
	}
	if r := fmt.Sprint(arnText(startStop["Resource"])); !strings.Contains(r, ":appstream:<AWS::Region>:<AWS::AccountId>:fleet/") {
		t.Errorf("StartStopThisFleet resource = %s, want the fleet's ARN", r)
	}
	// AND the notebook's log-group actions name the group as CloudWatch Logs
	// authorizes them, with the trailing ":*"
	// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/iam-access-control-overview-cwl.html),
	// and the stream actions name its streams
	group := tp.statementBySid(t, "NotebookLogGroup")
	if got := asJSON(group["Action"]); got != `["logs:CreateLogGroup","logs:DescribeLogStreams"]` {
		t.Errorf("NotebookLogGroup actions = %s", got)
	}
	if r := fmt.Sprint(arnText(group["Resource"])); !strings.HasSuffix(r, ":log-group:"+appstreamsandbox.NotebookLogGroup+":*") {
		t.Errorf("NotebookLogGroup resource = %s, want the log group's ARN with :*", r)
	}
	streams := tp.statementBySid(t, "NotebookLogStreams")
	if got := asJSON(streams["Action"]); got != `["logs:CreateLogStream","logs:PutLogEvents"]` {
		t.Errorf("NotebookLogStreams actions = %s", got)
	}
}
