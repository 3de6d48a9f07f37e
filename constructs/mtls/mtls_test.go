package mtls_test

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscertificatemanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/jsii-runtime-go"
	"gopkg.in/yaml.v3"

	"github.com/securestacks/securestacks/constructs/mtls"
	"github.com/securestacks/securestacks/constructs/privateca"
	"github.com/securestacks/securestacks/internal/mtlssecret"
	"github.com/securestacks/securestacks/internal/nag"
)

// One App for the binary; every stack is built before the first synthesis.
var (
	app                      awscdk.App
	envoyStack, appMeshStack awscdk.Stack
	variantStack             awscdk.Stack
	envoySystem, meshSystem  *mtls.MutualTls
	variantSystem            *mtls.MutualTls
	envoyTemplate, meshTpl   assertions.Template
	variantTemplate          assertions.Template
	envoyJSON, meshJSON      string
	govCloud                 = &awscdk.Environment{Account: jsii.String("123456789012"), Region: jsii.String("us-gov-west-1")}
	defaultGatewayDNS        = mtls.DefaultGatewayName + "." + mtls.DefaultDomain
	defaultBackendDNS        = mtls.DefaultBackendName + "." + mtls.DefaultDomain
)

func TestMain(m *testing.M) {
	app = awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{"aws:cdk:bundling-stacks": []any{}}})
	nag.ApplyPacks(app)

	envoyStack = awscdk.NewStack(app, jsii.String("Envoy"), &awscdk.StackProps{Env: govCloud})
	envoySystem = mtls.NewMutualTls(envoyStack, "Mtls", &mtls.MutualTlsProps{Vpc: newVpc(envoyStack)})

	appMeshStack = awscdk.NewStack(app, jsii.String("AppMesh"), &awscdk.StackProps{Env: govCloud})
	// The App Mesh plane in the VPC the construct creates.
	meshSystem = mtls.NewMutualTls(appMeshStack, "Mtls", &mtls.MutualTlsProps{Plane: mtls.PlaneAppMesh})

	// Env-agnostic, flat hierarchies as in the walkthrough, EC keys, own names.
	variantStack = awscdk.NewStack(app, jsii.String("Variant"), nil)
	flat := privateca.NewCaHierarchy(variantStack, "SharedCa", &privateca.CaHierarchyProps{Flat: true})
	variantSystem = mtls.NewMutualTls(variantStack, "Mtls", &mtls.MutualTlsProps{
		Domain:      jsii.String("svc.example.internal"),
		Gateway:     &mtls.EndpointProps{Name: jsii.String("front"), CaHierarchy: flat, KeyAlgorithm: awscertificatemanager.KeyAlgorithm_EC_PRIME256V1()},
		Backend:     &mtls.EndpointProps{Name: jsii.String("back"), CaHierarchyProps: &privateca.CaHierarchyProps{Flat: true}},
		BackendText: jsii.String("blue"),
	})

	// Three endpoints: the defaults plus a backend in its own domain (three_test.go).
	newThreeEndpointStack()

	envoyTemplate = assertions.Template_FromStack(envoyStack, nil)
	meshTpl = assertions.Template_FromStack(appMeshStack, nil)
	variantTemplate = assertions.Template_FromStack(variantStack, nil)
	threeTemplate = assertions.Template_FromStack(threeStack, nil)
	envoyJSON = templateJSON(envoyTemplate)
	meshJSON = templateJSON(meshTpl)
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}

func newVpc(stack awscdk.Stack) awsec2.Vpc {
	return awsec2.NewVpc(stack, jsii.String("Vpc"), &awsec2.VpcProps{MaxAzs: jsii.Number(2), NatGateways: jsii.Number(1)})
}

func templateJSON(tpl assertions.Template) string {
	raw, _ := json.Marshal(tpl.ToJSON())
	return string(raw)
}

// resources returns the template's resources of type typ, by logical id.
func resources(tpl assertions.Template, typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range *tpl.FindResources(jsii.String(typ), nil) {
		out[id] = *r
	}
	return out
}

func refTo(prefix string) map[string]any {
	return map[string]any{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^" + prefix))}
}

func TestCertificatesAreExportablePrivateCertificatesOfSeparateHierarchies(t *testing.T) {
	// GIVEN the Envoy plane with default endpoints
	tpl := envoyTemplate

	// WHEN its certificates and CAs are read
	// THEN each endpoint has its own root CA, which issues its certificate (the
	// walkthrough's two CAs, not four)
	tpl.ResourceCountIs(jsii.String("AWS::ACMPCA::CertificateAuthority"), jsii.Number(2))
	tpl.AllResourcesProperties(jsii.String("AWS::ACMPCA::CertificateAuthority"), &map[string]any{"Type": "ROOT"})
	// AND the backend has an exportable ACM private certificate for its DNS name from its
	// root, requested only once that CA is active and ACM may use it
	tpl.ResourceCountIs(jsii.String("AWS::CertificateManager::Certificate"), jsii.Number(1))
	tpl.HasResource(jsii.String("AWS::CertificateManager::Certificate"), &map[string]any{
		"Properties": map[string]any{
			"DomainName":              defaultBackendDNS,
			"CertificateExport":       "ENABLED",
			"KeyAlgorithm":            "RSA_2048",
			"CertificateAuthorityArn": map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("^MtlsBackendCaRoot")), "Arn"}},
		},
		"DependsOn": assertions.Match_ArrayWith(&[]any{
			assertions.Match_StringLikeRegexp(jsii.String("^MtlsBackendCaAcmPermission")),
			assertions.Match_StringLikeRegexp(jsii.String("^MtlsBackendCaRootActivation")),
		}),
	})
	// AND the gateway, the mTLS client, has none: ACM issues no certificate with the
	// clientAuth extended key usage since 2025-06-11
	// (https://docs.aws.amazon.com/acm/latest/userguide/acm-concepts.html), and a backend
	// Envoy refuses a client certificate without it. Its export resource has its own root
	// issue one with AWS Private CA's clientAuth template instead, once that CA is active
	tpl.HasResource(jsii.String(mtls.ExportResourceType), &map[string]any{
		"Properties": map[string]any{
			"Issue": map[string]any{
				"certificateAuthorityArn": map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("^MtlsGatewayCaRoot")), "Arn"}},
				"templateArn":             partitionJoin(":acm-pca:::template/EndEntityClientAuthCertificate/V1"),
				"signingAlgorithm":        "SHA256WITHRSA",
				"validityDays":            395,
				"dnsName":                 defaultGatewayDNS,
				"keyAlgorithm":            "RSA_2048",
			},
			"CertificateArn": assertions.Match_Absent(),
		},
		"DependsOn": assertions.Match_ArrayWith(&[]any{assertions.Match_StringLikeRegexp(jsii.String("^MtlsGatewayCaRootActivation"))}),
	})
	// AND the export and renew functions may issue from the gateway root with that
	// template only (acm-pca:TemplateArn, Service Authorization Reference)
	for _, policy := range []string{"MtlsExportFunctionPolicy", "MtlsRenewFunctionPolicy"} {
		tpl.HasResourceProperties(jsii.String("AWS::IAM::ManagedPolicy"), &map[string]any{
			"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
				"Sid": "IssueClientCertificate", "Action": "acm-pca:IssueCertificate",
				"Resource":  map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("^MtlsGatewayCaRoot")), "Arn"}},
				"Condition": map[string]any{"StringEquals": map[string]any{"acm-pca:TemplateArn": partitionJoin(":acm-pca:::template/EndEntityClientAuthCertificate/V1")}},
			})})},
		})
		_ = policy
	}
}

func partitionJoin(rest string) map[string]any {
	return map[string]any{"Fn::Join": []any{"", []any{"arn:", map[string]any{"Ref": "AWS::Partition"}, rest}}}
}

func TestSecretsAreEncryptedEmptyAndReadableOnlyByTheirEndpoint(t *testing.T) {
	tpl := envoyTemplate
	// GIVEN the Envoy plane WHEN its secrets are read
	// THEN there are two, under the customer key, without a generated value
	secrets := resources(tpl, "AWS::SecretsManager::Secret")
	if len(secrets) != 2 {
		t.Fatalf("%d secrets", len(secrets))
	}
	for id, s := range secrets {
		props := s["Properties"].(map[string]any)
		if _, ok := props["GenerateSecretString"]; ok {
			t.Errorf("%s generates a value", id)
		}
		if !strings.Contains(fmt.Sprint(props["KmsKeyId"]), "MtlsSecretsKey") {
			t.Errorf("%s is not under the secrets key: %v", id, props["KmsKeyId"])
		}
	}
	// AND each secret's policy denies GetSecretValue to all but its own execution role and
	// the renew function
	for _, side := range []string{"MtlsGateway", "MtlsBackend"} {
		other := map[string]string{"MtlsGateway": "MtlsBackend", "MtlsBackend": "MtlsGateway"}[side]
		policies := resources(tpl, "AWS::SecretsManager::ResourcePolicy")
		found := false
		for _, p := range policies {
			props := p["Properties"].(map[string]any)
			if !strings.HasPrefix(fmt.Sprint(props["SecretId"]), "map[Ref:"+side+"Secret") {
				continue
			}
			found = true
			doc, _ := json.Marshal(props["ResourcePolicy"])
			s := string(doc)
			for _, want := range []string{`"Effect":"Deny"`, `"secretsmanager:GetSecretValue"`, `"aws:PrincipalArn"`, side + "ExecutionRole", "MtlsRenewFunctionRole"} {
				if !strings.Contains(s, want) {
					t.Errorf("%s secret policy lacks %s: %s", side, want, s)
				}
			}
			if strings.Contains(s, other+"ExecutionRole") {
				t.Errorf("%s secret readable by the other endpoint: %s", side, s)
			}
		}
		if !found {
			t.Errorf("no resource policy on the %s secret", side)
		}
	}
}

func TestIamIsLeastPrivilege(t *testing.T) {
	tpl := envoyTemplate
	// GIVEN the Envoy plane WHEN its managed policies are read
	statements := map[string][]map[string]any{}
	for id, p := range resources(tpl, "AWS::IAM::ManagedPolicy") {
		for _, s := range p["Properties"].(map[string]any)["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			statements[id] = append(statements[id], s.(map[string]any))
		}
	}
	find := func(policyPrefix, sid string) map[string]any {
		for id, ss := range statements {
			if strings.HasPrefix(id, policyPrefix) {
				for _, s := range ss {
					if s["Sid"] == sid {
						return s
					}
				}
			}
		}
		t.Fatalf("no statement %s in %s*", sid, policyPrefix)
		return nil
	}
	// THEN acm:ExportCertificate names exactly the backend's certificate (the gateway has
	// no ACM certificate: its client certificate comes from AWS Private CA)
	export := find("MtlsExportFunctionPolicy", "ExportCertificates")
	if res := fmt.Sprint(export["Resource"]); !strings.Contains(res, "MtlsBackendCertificate") || strings.Contains(res, "MtlsGateway") {
		t.Errorf("ExportCertificate on %v", export["Resource"])
	}
	// AND the renew function may redeploy only the two services
	redeploy := find("MtlsRenewFunctionPolicy", "Redeploy")
	if export["Effect"] != "Allow" || len(redeploy["Resource"].([]any)) != 2 || !strings.Contains(fmt.Sprint(redeploy["Resource"]), "MtlsGatewayService") {
		t.Errorf("UpdateService on %v", redeploy["Resource"])
	}
	// AND each execution role reads only its own secret
	for _, side := range []string{"MtlsGateway", "MtlsBackend"} {
		s := find(side+"ExecutionPolicy", "Secret")
		if r := fmt.Sprint(s["Resource"]); !strings.Contains(r, side+"Secret") || s["Action"] != "secretsmanager:GetSecretValue" {
			t.Errorf("%s execution role reads %v with %v", side, r, s["Action"])
		}
	}
	// AND no statement but GetRandomPassword (which has no resource type) uses "*"
	for id, ss := range statements {
		for _, s := range ss {
			if fmt.Sprint(s["Resource"]) == "*" && s["Action"] != "secretsmanager:GetRandomPassword" {
				t.Errorf("%s: %v on *", id, s["Action"])
			}
		}
	}
	// AND no inline policy was added behind the managed ones
	if n := len(resources(tpl, "AWS::IAM::Policy")); n != 1 {
		t.Errorf("%d inline policies; only the provider framework's is expected", n)
	}
}

// proxyContainer returns the envoy container definition of the task
// definition whose logical id starts with prefix.
func proxyContainer(t *testing.T, tpl assertions.Template, prefix, name string) map[string]any {
	t.Helper()
	for id, td := range resources(tpl, "AWS::ECS::TaskDefinition") {
		if !strings.HasPrefix(id, prefix) {
			continue
		}
		for _, c := range td["Properties"].(map[string]any)["ContainerDefinitions"].([]any) {
			if c.(map[string]any)["Name"] == name {
				return c.(map[string]any)
			}
		}
	}
	t.Fatalf("no container %s in %s*", name, prefix)
	return nil
}

func TestEnvoyTasksDecryptAtStartAndRunTheRenderedBootstrap(t *testing.T) {
	for _, side := range []struct {
		prefix, peerCa, peerDNS string
		server                  bool
	}{
		{"MtlsGateway", "MtlsBackendCaRootCertificate", defaultBackendDNS, false},
		{"MtlsBackend", "MtlsGatewayCaRootCertificate", defaultGatewayDNS, true},
	} {
		t.Run(side.prefix, func(t *testing.T) {
			// GIVEN the Envoy plane WHEN the endpoint's proxy container is read
			c := proxyContainer(t, envoyTemplate, side.prefix, mtls.ProxyContainerName)

			// THEN it is the official Envoy image pinned by version, non-root, read-only
			if c["Image"] != mtls.DefaultEnvoyImage || c["User"] != mtls.EnvoyUser || c["ReadonlyRootFilesystem"] != true {
				t.Errorf("image %v user %v readonly %v", c["Image"], c["User"], c["ReadonlyRootFilesystem"])
			}
			// AND it runs the shared start script, then Envoy with the rendered bootstrap
			cmd := c["Command"].([]any)
			entry := c["EntryPoint"].([]any)
			if fmt.Sprint(entry) != "[/bin/sh -c]" || cmd[0] != mtlssecret.StartScript || cmd[2] != "envoy" || cmd[3] != "--config-yaml" {
				t.Fatalf("entrypoint %v command %v", entry, cmd[:4])
			}
			var boot map[string]any
			if err := yaml.Unmarshal([]byte(cmd[4].(string)), &boot); err != nil {
				t.Fatal(err)
			}
			y := cmd[4].(string)
			if side.server != strings.Contains(y, "require_client_certificate: true") {
				t.Errorf("server=%t but bootstrap require_client_certificate presence differs", side.server)
			}
			if !strings.Contains(y, "exact: "+side.peerDNS) || !strings.Contains(y, "environment_variable: "+mtlssecret.EnvPeerTrustBundle) {
				t.Errorf("bootstrap does not validate the peer %s against its trust bundle", side.peerDNS)
			}
			// AND the four secret variables come from this endpoint's secret, by JSON key
			secrets := map[string]string{}
			for _, s := range c["Secrets"].([]any) {
				sm := s.(map[string]any)
				raw, _ := json.Marshal(sm["ValueFrom"])
				secrets[sm["Name"].(string)] = string(raw)
			}
			for name, key := range mtlssecret.SecretEnvironment() {
				if v := secrets[name]; !strings.Contains(v, side.prefix+"Secret") || !strings.Contains(v, ":"+key+"::") {
					t.Errorf("secret %s from %s", name, v)
				}
			}
			if len(secrets) != 4 {
				t.Errorf("%d secrets, want 4", len(secrets))
			}
			// AND the peer trust bundle is the peer hierarchy's root certificate
			env, _ := json.Marshal(c["Environment"])
			if !strings.Contains(string(env), mtlssecret.EnvPeerTrustBundle) || !strings.Contains(string(env), side.peerCa) {
				t.Errorf("environment %s", env)
			}
		})
	}
	// AND the backend app answers on localhost only, as nobody
	app := proxyContainer(t, envoyTemplate, "MtlsBackend", "app")
	if fmt.Sprint(app["Command"]) != "[-listen=127.0.0.1:8080 -text=yellow]" || app["User"] != mtls.AppUser || app["Image"] != mtls.DefaultAppImage {
		t.Errorf("app container %v %v %v", app["Command"], app["User"], app["Image"])
	}
}

func TestServicesAndPublicEntry(t *testing.T) {
	tpl := envoyTemplate
	// GIVEN the Envoy plane WHEN its network is read
	// THEN the backend registers as colorteller in the mtls.internal namespace
	tpl.HasResourceProperties(jsii.String("AWS::ServiceDiscovery::PrivateDnsNamespace"), &map[string]any{"Name": mtls.DefaultDomain})
	tpl.HasResourceProperties(jsii.String("AWS::ServiceDiscovery::Service"), &map[string]any{"Name": mtls.DefaultBackendName})
	// AND only the gateway may reach the backend's mTLS port
	tpl.HasResourceProperties(jsii.String("AWS::EC2::SecurityGroupIngress"), &map[string]any{
		"FromPort": mtls.BackendMtlsPort, "ToPort": mtls.BackendMtlsPort, "IpProtocol": "tcp",
		"SourceSecurityGroupId": map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("^MtlsGatewaySecurityGroup")), "GroupId"}},
	})
	// AND an internet-facing NLB forwards TCP 80 to the gateway, without the
	// access-log setting and bucket: "Access logs are created only if the load
	// balancer has a TLS listener"
	// (https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-access-logs.html)
	tpl.HasResourceProperties(jsii.String("AWS::ElasticLoadBalancingV2::LoadBalancer"), &map[string]any{"Type": "network", "Scheme": "internet-facing"})
	if raw, _ := json.Marshal(tpl.FindResources(jsii.String("AWS::ElasticLoadBalancingV2::LoadBalancer"), nil)); strings.Contains(string(raw), "access_logs") {
		t.Errorf("TCP load balancer has an access-log setting: %s", raw)
	}
	for id := range resources(tpl, "AWS::S3::Bucket") {
		if strings.Contains(id, "LoadBalancerAccessLogs") {
			t.Errorf("bucket %s would stay empty: NLBs log TLS listeners only", id)
		}
	}
	tpl.HasResourceProperties(jsii.String("AWS::ElasticLoadBalancingV2::Listener"), &map[string]any{"Port": 80, "Protocol": "TCP"})
	// AND the cluster has Container Insights, and each service waits for its export
	tpl.HasResourceProperties(jsii.String("AWS::ECS::Cluster"), &map[string]any{
		"ClusterSettings": []any{map[string]any{"Name": "containerInsights", "Value": "enabled"}},
	})
	for _, side := range []string{"MtlsGateway", "MtlsBackend"} {
		tpl.HasResource(jsii.String("AWS::ECS::Service"), &map[string]any{
			"DependsOn": assertions.Match_ArrayWith(&[]any{assertions.Match_StringLikeRegexp(jsii.String("^" + side + "Export"))}),
		})
	}
}

func TestRenewalAutomation(t *testing.T) {
	tpl := envoyTemplate
	// GIVEN the Envoy plane WHEN the renewal resources are read
	// THEN a rule matches "ACM Certificate Approaching Expiration" for exactly the ACM
	// certificate, and a daily schedule catches missed events and reissues the gateway's
	tpl.HasResourceProperties(jsii.String("AWS::Events::Rule"), &map[string]any{
		"EventPattern": map[string]any{
			"source":      []any{"aws.acm"},
			"detail-type": []any{"ACM Certificate Approaching Expiration"},
			"resources":   []any{refTo("MtlsBackendCertificate")},
		},
	})
	tpl.HasResourceProperties(jsii.String("AWS::Events::Rule"), &map[string]any{"ScheduleExpression": "rate(1 day)"})
	// AND EventBridge may invoke the renew function for exactly these two rules: a Lambda
	// target needs a resource-policy statement for events.amazonaws.com scoped by the rule's
	// ARN (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html#eb-lambda-permissions)
	for _, rule := range []string{"MtlsRenewOnExpiry", "MtlsRenewDaily"} {
		tpl.HasResourceProperties(jsii.String("AWS::Lambda::Permission"), &map[string]any{
			"Action": "lambda:InvokeFunction", "Principal": "events.amazonaws.com",
			"FunctionName": map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("^MtlsRenewFunction")), "Arn"}},
			"SourceArn":    map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("^" + rule)), "Arn"}},
		})
	}
	// AND the function runs alone, with a dead-letter queue
	tpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), &map[string]any{
		"ReservedConcurrentExecutions": 1,
		"DeadLetterConfig":             map[string]any{"TargetArn": map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("^MtlsRenewDeadLetterQueue")), "Arn"}}},
	})
	// AND failures, dead letters and each issuing CA's approaching end alarm to the topic
	tpl.ResourceCountIs(jsii.String("AWS::CloudWatch::Alarm"), jsii.Number(4))
	tpl.AllResourcesProperties(jsii.String("AWS::CloudWatch::Alarm"), &map[string]any{
		"AlarmActions": []any{refTo("MtlsAlarmTopic")},
	})
	// AND an issuing CA alarms 485 days before its end (395-day certificates + 90 days to
	// renew it): AWS Private CA refuses a certificate that outlives its CA
	// (https://docs.aws.amazon.com/acm/latest/userguide/private-certificates.title.html), so
	// from 395 days before its end the CA issues and renews nothing. The metric comes from
	// the renew function's daily run, which may describe exactly those CAs
	for _, side := range []string{"MtlsGateway", "MtlsBackend"} {
		tpl.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), &map[string]any{
			"Namespace": mtls.IssuingCaMetricNamespace, "MetricName": mtls.IssuingCaMetricName, "Statistic": "Minimum", "Period": 86400,
			"Dimensions":         []any{map[string]any{"Name": "CertificateAuthorityArn", "Value": map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("^" + side + "CaRoot")), "Arn"}}}},
			"Threshold":          485,
			"ComparisonOperator": "LessThanThreshold",
		})
	}
	caCheck := false
	for _, s := range policyStatements(tpl, "MtlsRenewFunctionPolicy") {
		caCheck = caCheck || s["Sid"] == "IssuingCaExpiry" && s["Action"] == "acm-pca:DescribeCertificateAuthority" && len(s["Resource"].([]any)) == 2
	}
	if !caCheck {
		t.Error("the renew function may not describe the two issuing CAs")
	}
	// AND CloudWatch may publish to the topic, whose EnforceSSL policy replaced SNS's
	// default one, for this account's alarms only, and use its key
	// (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services)
	tpl.HasResourceProperties(jsii.String("AWS::SNS::TopicPolicy"), &map[string]any{
		"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
			"Sid": "CloudWatchAlarmsPublish", "Effect": "Allow", "Action": "sns:Publish",
			"Principal": map[string]any{"Service": "cloudwatch.amazonaws.com"},
			"Condition": map[string]any{
				"StringEquals": map[string]any{"aws:SourceAccount": "123456789012"},
				"ArnLike":      map[string]any{"aws:SourceArn": assertions.Match_AnyValue()},
			},
		})})},
	})
	tpl.HasResourceProperties(jsii.String("AWS::KMS::Key"), &map[string]any{
		"KeyPolicy": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
			"Sid": "CloudWatchAlarmsPublish", "Principal": map[string]any{"Service": "cloudwatch.amazonaws.com"},
			"Action": []any{"kms:Decrypt", "kms:GenerateDataKey*"}, "Condition": assertions.Match_Absent(),
		})})},
	})
	// AND its target map sends each certificate to its own secret and its own service
	targets := renewTargets(t, tpl)
	if len(targets) != 2 {
		t.Fatalf("%d targets", len(targets))
	}
	for _, tg := range targets {
		secret := tg["secretArn"].(string)
		side := secret[:strings.Index(secret, "Secret")]
		if issue, ok := tg["issue"].(map[string]any); ok {
			// the gateway's client certificate, issued again by its own root
			if side != "MtlsGateway" || !strings.HasPrefix(issue["certificateAuthorityArn"].(string), "MtlsGatewayCaRoot") || tg["certificateArn"] != nil {
				t.Errorf("issued target %v", tg)
			}
		} else if !strings.HasPrefix(tg["certificateArn"].(string), side+"Certificate") {
			t.Errorf("certificate %s exports to %s", tg["certificateArn"], tg["secretArn"])
		}
		services := tg["services"].([]any)
		if len(services) != 1 || !strings.HasPrefix(services[0].(string), side+"Service") {
			t.Errorf("certificate %s redeploys %v", tg["certificateArn"], services)
		}
	}
}

func TestRenewFunctionTimeoutScalesWithEndpoints(t *testing.T) {
	cases := []struct {
		name        string
		tpl         assertions.Template
		wantTimeout float64 // seconds: 2 minutes + N × (3 minutes MaxWait + 1 minute)
	}{
		{"two endpoints", envoyTemplate, 600},
		{"three endpoints", threeTemplate, 840},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// GIVEN a system of N endpoints WHEN the renew function is read
			fn := renewFunction(t, tc.tpl)

			// THEN its timeout leaves every target its wait and margin, and the wait it
			// was computed from is the one the function is told to use
			if got := fn["Timeout"]; got != tc.wantTimeout {
				t.Errorf("Timeout = %v, want %v", got, tc.wantTimeout)
			}
			vars := fn["Environment"].(map[string]any)["Variables"].(map[string]any)
			if got := vars["MTLS_MAX_WAIT_SECONDS"]; got != "180" {
				t.Errorf("MTLS_MAX_WAIT_SECONDS = %v, want \"180\"", got)
			}
		})
	}
}

// renewFunction returns the properties of the renew function.
func renewFunction(t *testing.T, tpl assertions.Template) map[string]any {
	t.Helper()
	for id, fn := range resources(tpl, "AWS::Lambda::Function") {
		if strings.HasPrefix(id, "MtlsRenewFunction") {
			return fn["Properties"].(map[string]any)
		}
	}
	t.Fatal("no renew function")
	return nil
}

// renewTargets reads MTLS_TARGETS, with every {"Ref": X} replaced by X.
// policyStatements are the statements of the managed policies whose logical
// id starts with prefix.
func policyStatements(tpl assertions.Template, prefix string) []map[string]any {
	var out []map[string]any
	for id, p := range resources(tpl, "AWS::IAM::ManagedPolicy") {
		if strings.HasPrefix(id, prefix) {
			for _, s := range p["Properties"].(map[string]any)["PolicyDocument"].(map[string]any)["Statement"].([]any) {
				out = append(out, s.(map[string]any))
			}
		}
	}
	return out
}

func renewTargets(t *testing.T, tpl assertions.Template) []map[string]any {
	t.Helper()
	for _, fn := range resources(tpl, "AWS::Lambda::Function") {
		env, ok := fn["Properties"].(map[string]any)["Environment"].(map[string]any)
		if !ok {
			continue
		}
		raw, ok := env["Variables"].(map[string]any)["MTLS_TARGETS"]
		if !ok {
			continue
		}
		var b strings.Builder
		for _, part := range raw.(map[string]any)["Fn::Join"].([]any)[1].([]any) {
			switch p := part.(type) {
			case string:
				b.WriteString(p)
			case map[string]any:
				if r, ok := p["Ref"]; ok {
					b.WriteString(r.(string))
				} else if g, ok := p["Fn::GetAtt"]; ok {
					b.WriteString(g.([]any)[0].(string))
				}
			}
		}
		var out []map[string]any
		if err := json.Unmarshal([]byte(b.String()), &out); err != nil {
			t.Fatalf("MTLS_TARGETS is not JSON: %v\n%s", err, b.String())
		}
		return out
	}
	t.Fatal("no function with MTLS_TARGETS")
	return nil
}

func TestAppMeshPlane(t *testing.T) {
	tpl := meshTpl
	// GIVEN the App Mesh plane WHEN synthesized
	// THEN it warns that App Mesh reached end of support
	assertions.Annotations_FromStack(appMeshStack).HasWarning(jsii.String("/AppMesh/Mtls"),
		assertions.Match_StringLikeRegexp(jsii.String("AWS App Mesh reached end of support on 2026-09-30; this plane cannot be deployed to new resources")))
	// AND the virtual node's listener is TLS STRICT with the backend's ACM certificate and
	// requires the gateway's client certificate from the trust file
	tpl.HasResourceProperties(jsii.String("AWS::AppMesh::VirtualNode"), &map[string]any{"Spec": map[string]any{
		"Listeners": []any{map[string]any{
			"PortMapping": map[string]any{"Port": mtls.AppPort, "Protocol": "http"},
			"TLS": map[string]any{
				"Mode":        "STRICT",
				"Certificate": map[string]any{"ACM": map[string]any{"CertificateArn": refTo("MtlsBackendCertificate")}},
				"Validation": map[string]any{
					"Trust":                   map[string]any{"File": map[string]any{"CertificateChain": "/keys/" + mtlssecret.FilePeerTrustBundle}},
					"SubjectAlternativeNames": map[string]any{"Match": map[string]any{"Exact": []any{defaultGatewayDNS}}},
				},
			},
		}},
		"ServiceDiscovery": map[string]any{"AWSCloudMap": assertions.Match_ObjectLike(&map[string]any{"ServiceName": assertions.Match_AnyValue()})},
	}})
	// AND the gateway's client policy enforces TLS, trusts the backend root CA through
	// ACM Private CA and presents the exported certificate from files
	tpl.HasResourceProperties(jsii.String("AWS::AppMesh::VirtualGateway"), &map[string]any{"Spec": assertions.Match_ObjectLike(&map[string]any{
		"BackendDefaults": map[string]any{"ClientPolicy": map[string]any{"TLS": map[string]any{
			"Enforce": true,
			"Validation": map[string]any{
				"Trust": map[string]any{"ACM": map[string]any{"CertificateAuthorityArns": []any{
					map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("^MtlsBackendCaRoot")), "Arn"}},
				}}},
				"SubjectAlternativeNames": map[string]any{"Match": map[string]any{"Exact": []any{defaultBackendDNS}}},
			},
			"Certificate": map[string]any{"File": map[string]any{
				"CertificateChain": "/keys/" + mtlssecret.FileCertificateChain,
				"PrivateKey":       "/keys/" + mtlssecret.FilePrivateKey,
			}},
		}}},
	})})
	tpl.ResourceCountIs(jsii.String("AWS::AppMesh::GatewayRoute"), jsii.Number(1))
	tpl.HasResourceProperties(jsii.String("AWS::AppMesh::VirtualService"), &map[string]any{"VirtualServiceName": defaultBackendDNS})
	// AND the backend task uses the APPMESH proxy configuration
	tpl.HasResourceProperties(jsii.String("AWS::ECS::TaskDefinition"), &map[string]any{
		"ProxyConfiguration": map[string]any{"Type": "APPMESH", "ContainerName": mtls.ProxyContainerName, "ProxyConfigurationProperties": assertions.Match_AnyValue()},
	})
	// AND the gateway's init container runs the same start script, writing /keys for uid 1337
	init := proxyContainer(t, tpl, "MtlsGateway", mtls.InitContainerName)
	if init["Command"].([]any)[0] != mtlssecret.StartScript || init["Essential"] != false {
		t.Errorf("init container %v", init["Command"])
	}
	envoy := proxyContainer(t, tpl, "MtlsGateway", mtls.ProxyContainerName)
	if envoy["User"] != mtls.AppMeshProxyUser || !strings.Contains(fmt.Sprint(envoy["DependsOn"]), "SUCCESS") {
		t.Errorf("App Mesh envoy %v %v", envoy["User"], envoy["DependsOn"])
	}
	if envoySystem.Mesh != nil || meshSystem.Mesh == nil {
		t.Error("plane fields set on the wrong plane")
	}
}

func TestVariantProps(t *testing.T) {
	tpl := variantTemplate
	// GIVEN flat hierarchies, EC keys and own names WHEN synthesized
	// THEN the names, key algorithm, hierarchies and text follow the props
	tpl.HasResourceProperties(jsii.String(mtls.ExportResourceType), &map[string]any{"Issue": assertions.Match_ObjectLike(&map[string]any{"dnsName": "front.svc.example.internal", "keyAlgorithm": "EC_prime256v1"})})
	tpl.HasResourceProperties(jsii.String("AWS::CertificateManager::Certificate"), &map[string]any{"DomainName": "back.svc.example.internal"})
	tpl.ResourceCountIs(jsii.String("AWS::ACMPCA::CertificateAuthority"), jsii.Number(2))
	app := proxyContainer(t, tpl, "MtlsBackend", "app")
	if fmt.Sprint(app["Command"]) != "[-listen=127.0.0.1:8080 -text=blue]" {
		t.Errorf("app command %v", app["Command"])
	}
	if variantSystem.Gateway.DnsName != "front.svc.example.internal" {
		t.Errorf("DnsName %s", variantSystem.Gateway.DnsName)
	}
}

func TestNagCleanAndPartitionFree(t *testing.T) {
	for name, c := range map[string]struct {
		stack awscdk.Stack
		json  string
	}{"envoy": {envoyStack, envoyJSON}, "appmesh": {appMeshStack, meshJSON}, "variant": {variantStack, templateJSON(variantTemplate)}} {
		t.Run(name, func(t *testing.T) {
			// GIVEN the plane's stack WHEN the three nag packs ran THEN the construct's own
			// resources have no unsuppressed error (the test VPC is the stack's concern)
			var errs []string
			for _, e := range nag.Errors(c.stack) {
				if strings.Contains(e, "/Mtls/") || strings.Contains(e, "/SharedCa/") {
					errs = append(errs, e)
				}
			}
			if len(errs) > 0 {
				t.Errorf("%d nag errors:\n%s", len(errs), strings.Join(errs, "\n"))
			}
			// AND no ARN hard-codes the aws partition
			if strings.Contains(c.json, "arn:aws:") {
				i := strings.Index(c.json, "arn:aws:")
				t.Errorf("arn:aws: literal near %q", c.json[max(0, i-80):min(len(c.json), i+80)])
			}
		})
	}
}

func TestInvalidPropsPanic(t *testing.T) {
	cases := []struct {
		name  string
		props func(stack awscdk.Stack) *mtls.MutualTlsProps
		want  string
	}{
		{"NAT gateways for a given VPC", func(s awscdk.Stack) *mtls.MutualTlsProps {
			return &mtls.MutualTlsProps{Vpc: newVpc(s), NatGateways: jsii.Number(2)}
		}, "mtls: NatGateways conflicts with Vpc"},
		{"unknown plane", func(s awscdk.Stack) *mtls.MutualTlsProps {
			return &mtls.MutualTlsProps{Vpc: newVpc(s), Plane: "istio"}
		}, `mtls: Plane "istio"`},
		{"same names", func(s awscdk.Stack) *mtls.MutualTlsProps {
			return &mtls.MutualTlsProps{Vpc: newVpc(s), Gateway: &mtls.EndpointProps{Name: jsii.String("colorteller")}}
		}, "both \"colorteller\""},
		{"bad name", func(s awscdk.Stack) *mtls.MutualTlsProps {
			return &mtls.MutualTlsProps{Vpc: newVpc(s), Backend: &mtls.EndpointProps{Name: jsii.String("Color_Teller")}}
		}, "mtls: Backend.Name"},
		{"additional backends on the App Mesh plane", func(s awscdk.Stack) *mtls.MutualTlsProps {
			return &mtls.MutualTlsProps{Vpc: newVpc(s), Plane: mtls.PlaneAppMesh, AdditionalBackends: []*mtls.EndpointProps{{Name: jsii.String("blue")}}}
		}, "mtls: AdditionalBackends conflicts with PlaneAppMesh"},
		{"additional backend without a name", func(s awscdk.Stack) *mtls.MutualTlsProps {
			return &mtls.MutualTlsProps{Vpc: newVpc(s), AdditionalBackends: []*mtls.EndpointProps{{Name: jsii.String("blue")}, {}}}
		}, "mtls: AdditionalBackends[1].Name: expected the backend's DNS label"},
		{"additional backend named like the gateway", func(s awscdk.Stack) *mtls.MutualTlsProps {
			return &mtls.MutualTlsProps{Vpc: newVpc(s), AdditionalBackends: []*mtls.EndpointProps{{Name: jsii.String("colorgateway")}}}
		}, `mtls: AdditionalBackends[0].Name "colorgateway" is also Gateway.Name`},
		{"additional backends with the same name", func(s awscdk.Stack) *mtls.MutualTlsProps {
			return &mtls.MutualTlsProps{Vpc: newVpc(s), AdditionalBackends: []*mtls.EndpointProps{{Name: jsii.String("blue")}, {Name: jsii.String("blue")}}}
		}, `mtls: AdditionalBackends[1].Name "blue" is also AdditionalBackends[0].Name`},
		{"bad additional backend domain", func(s awscdk.Stack) *mtls.MutualTlsProps {
			return &mtls.MutualTlsProps{Vpc: newVpc(s), AdditionalBackends: []*mtls.EndpointProps{{Name: jsii.String("blue"), Domain: jsii.String("blue_internal")}}}
		}, "mtls: AdditionalBackends[0].Name \"blue\" with Domain \"blue_internal\""},
		{"own domain on the backend", func(s awscdk.Stack) *mtls.MutualTlsProps {
			return &mtls.MutualTlsProps{Vpc: newVpc(s), Backend: &mtls.EndpointProps{Domain: jsii.String("other.internal")}}
		}, "mtls: Backend.Domain conflicts with MutualTlsProps.Domain"},
		// The issuing CA must outlive a certificate validity, its renewal window
		// and the time to renew the CA: AWS Private CA refuses a certificate
		// that outlives its CA (https://docs.aws.amazon.com/acm/latest/userguide/private-certificates.title.html).
		{"issuing CA too short-lived", func(s awscdk.Stack) *mtls.MutualTlsProps {
			return &mtls.MutualTlsProps{Vpc: newVpc(s), Backend: &mtls.EndpointProps{CaHierarchyProps: &privateca.CaHierarchyProps{SubordinateValidity: awscdk.Duration_Days(jsii.Number(500))}}}
		}, "mtls: Backend.CaHierarchy: the issuing CA is valid 500 days, expected at least 530 (certificate validity 395 + RenewBefore 45 + 90 days to renew the CA)"},
		{"flat CA too short-lived for the renewal window", func(s awscdk.Stack) *mtls.MutualTlsProps {
			return &mtls.MutualTlsProps{Vpc: newVpc(s), RenewBefore: awscdk.Duration_Days(jsii.Number(100)), Gateway: &mtls.EndpointProps{CaHierarchyProps: &privateca.CaHierarchyProps{Flat: true, RootValidity: awscdk.Duration_Days(jsii.Number(550))}}}
		}, "mtls: Gateway.CaHierarchy: the issuing CA is valid 550 days, expected at least 585"},
		{"Docker Hub secret without the pull-through cache prefix", func(s awscdk.Stack) *mtls.MutualTlsProps {
			return &mtls.MutualTlsProps{Vpc: newVpc(s), DockerHubCredentials: awssecretsmanager.Secret_FromSecretCompleteArn(s, jsii.String("Hub"),
				jsii.String("arn:aws:secretsmanager:eu-west-1:123456789012:secret:docker-hub-AbCdEf"))}
		}, "mtls: DockerHubCredentials arn:aws:secretsmanager:eu-west-1:123456789012:secret:docker-hub-AbCdEf: expected a secret whose name starts with ecr-pullthroughcache/"},
		{"Docker Hub secret with both images given", func(s awscdk.Stack) *mtls.MutualTlsProps {
			img := awsecs.ContainerImage_FromRegistry(jsii.String("public.ecr.aws/example/app:1"), nil)
			return &mtls.MutualTlsProps{Vpc: newVpc(s), EnvoyImage: img, AppImage: img, DockerHubCredentials: awssecretsmanager.Secret_FromSecretCompleteArn(s, jsii.String("Hub"),
				jsii.String("arn:aws:secretsmanager:eu-west-1:123456789012:secret:ecr-pullthroughcache/docker-hub-AbCdEf"))}
		}, "mtls: DockerHubCredentials conflicts with giving both EnvoyImage and AppImage"},
		{"App Mesh image on the Envoy plane", func(s awscdk.Stack) *mtls.MutualTlsProps {
			return &mtls.MutualTlsProps{Vpc: newVpc(s), AppMeshEnvoyImage: nil, Plane: mtls.PlaneEnvoy, RenewBefore: awscdk.Duration_Days(jsii.Number(400))}
		}, "mtls: RenewBefore"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// GIVEN invalid props WHEN the construct is created THEN it panics naming the prop
			stack := awscdk.NewStack(awscdk.NewApp(nil), jsii.String("Invalid"), nil)
			props := tc.props(stack)
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), tc.want) {
					t.Fatalf("panic %v, want %q", r, tc.want)
				}
			}()
			mtls.NewMutualTls(stack, "Mtls", props)
		})
	}
}
