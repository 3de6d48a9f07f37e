package mtls_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"gopkg.in/yaml.v3"

	"github.com/securestacks/securestacks/constructs/mtls"
	"github.com/securestacks/securestacks/internal/mtlssecret"
	"github.com/securestacks/securestacks/internal/nag"
)

// The three-endpoint system: the default gateway and backend, plus
// colorteller-blue in its own domain with its own hierarchy, in the VPC the
// construct creates (so that the whole stack must be nag-clean).
const (
	blueName   = "colorteller-blue"
	blueDomain = "blue.internal"
	blueDNS    = blueName + "." + blueDomain
	// blueId is the logical-id prefix of the blue backend's resources.
	blueId = "MtlsAdditionalBackendcolortellerblue"
)

var (
	threeStack    awscdk.Stack
	threeSystem   *mtls.MutualTls
	threeTemplate assertions.Template
)

// newThreeEndpointStack is called from TestMain, before the first synthesis.
func newThreeEndpointStack() {
	threeStack = awscdk.NewStack(app, jsii.String("Three"), &awscdk.StackProps{Env: govCloud})
	threeSystem = mtls.NewMutualTls(threeStack, "Mtls", &mtls.MutualTlsProps{
		AdditionalBackends: []*mtls.EndpointProps{{Name: jsii.String(blueName), Domain: jsii.String(blueDomain)}},
	})
}

// threeSides are the three endpoints by logical-id prefix and DNS name.
var threeSides = []struct{ id, dns string }{
	{"MtlsGateway", defaultGatewayDNS},
	{"MtlsBackend", defaultBackendDNS},
	{blueId, blueDNS},
}

func TestThreeEndpointsHaveOwnCertificatesSecretsAndServices(t *testing.T) {
	tpl := threeTemplate
	// GIVEN the three-endpoint system WHEN synthesized
	// THEN each endpoint has its own root CA, an exportable certificate for its name from
	// that root, a secret and a service waiting for its export
	tpl.ResourceCountIs(jsii.String("AWS::ACMPCA::CertificateAuthority"), jsii.Number(3))
	// (the gateway's client certificate comes from AWS Private CA, not ACM)
	tpl.ResourceCountIs(jsii.String("AWS::CertificateManager::Certificate"), jsii.Number(2))
	tpl.ResourceCountIs(jsii.String("AWS::SecretsManager::Secret"), jsii.Number(3))
	tpl.ResourceCountIs(jsii.String("AWS::ECS::Service"), jsii.Number(3))
	tpl.ResourceCountIs(jsii.String(mtls.ExportResourceType), jsii.Number(3))
	for _, side := range threeSides {
		tpl.HasResource(jsii.String("AWS::ECS::Service"), &map[string]any{
			"DependsOn": assertions.Match_ArrayWith(&[]any{assertions.Match_StringLikeRegexp(jsii.String("^" + side.id + "Export"))}),
		})
		if side.id == "MtlsGateway" {
			continue
		}
		tpl.HasResourceProperties(jsii.String("AWS::CertificateManager::Certificate"), &map[string]any{
			"DomainName":              side.dns,
			"CertificateExport":       "ENABLED",
			"CertificateAuthorityArn": map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("^" + side.id + "CaRoot")), "Arn"}},
		})
		tpl.HasResourceProperties(jsii.String(mtls.ExportResourceType), &map[string]any{
			"CertificateArn": refTo(side.id + "Certificate"),
			"SecretArn":      refTo(side.id + "Secret"),
		})
	}
	// AND both backends register under their names, each in its domain's namespace
	tpl.ResourceCountIs(jsii.String("AWS::ServiceDiscovery::PrivateDnsNamespace"), jsii.Number(2))
	tpl.HasResourceProperties(jsii.String("AWS::ServiceDiscovery::PrivateDnsNamespace"), &map[string]any{"Name": blueDomain})
	tpl.HasResourceProperties(jsii.String("AWS::ServiceDiscovery::Service"), &map[string]any{"Name": mtls.DefaultBackendName})
	tpl.HasResourceProperties(jsii.String("AWS::ServiceDiscovery::Service"), &map[string]any{
		"Name":        blueName,
		"NamespaceId": map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("^MtlsNamespaceblueinternal")), "Id"}},
	})
	// AND only the gateway may reach the blue backend's mTLS port
	tpl.HasResourceProperties(jsii.String("AWS::EC2::SecurityGroupIngress"), &map[string]any{
		"FromPort": mtls.BackendMtlsPort, "ToPort": mtls.BackendMtlsPort,
		"GroupId":               map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("^" + blueId + "SecurityGroup")), "GroupId"}},
		"SourceSecurityGroupId": map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("^MtlsGatewaySecurityGroup")), "GroupId"}},
	})
	// AND the blue app answers its name
	app := proxyContainer(t, tpl, blueId, "app")
	if fmt.Sprint(app["Command"]) != "[-listen=127.0.0.1:8080 -text="+blueName+"]" {
		t.Errorf("blue app command %v", app["Command"])
	}
	// AND the exposed fields list the endpoints in order
	if got := len(threeSystem.Endpoints()); got != 3 || threeSystem.AdditionalBackends[0].DnsName != blueDNS || threeSystem.Backends()[0] != threeSystem.Backend {
		t.Errorf("Endpoints %d, AdditionalBackends %v", got, threeSystem.AdditionalBackends)
	}
}

func TestThreeEndpointsSecretsAndIamAreLeastPrivilege(t *testing.T) {
	tpl := threeTemplate
	// GIVEN the three-endpoint system WHEN its secret policies are read
	// THEN each secret denies GetSecretValue to all but its own execution role and the
	// renew function
	policies := resources(tpl, "AWS::SecretsManager::ResourcePolicy")
	if len(policies) != 3 {
		t.Fatalf("%d secret policies", len(policies))
	}
	for _, side := range threeSides {
		found := false
		for _, p := range policies {
			props := p["Properties"].(map[string]any)
			if !strings.HasPrefix(fmt.Sprint(props["SecretId"]), "map[Ref:"+side.id+"Secret") {
				continue
			}
			found = true
			doc, _ := json.Marshal(props["ResourcePolicy"])
			s := string(doc)
			for _, want := range []string{`"Effect":"Deny"`, `"secretsmanager:GetSecretValue"`, side.id + "ExecutionRole", "MtlsRenewFunctionRole"} {
				if !strings.Contains(s, want) {
					t.Errorf("%s secret policy lacks %s: %s", side.id, want, s)
				}
			}
			if n := strings.Count(s, "ExecutionRole"); n != 1 {
				t.Errorf("%s secret readable by %d execution roles: %s", side.id, n, s)
			}
		}
		if !found {
			t.Errorf("no resource policy on the %s secret", side.id)
		}
	}

	// WHEN the managed policies are read
	statement := func(policyPrefix, sid string) map[string]any {
		t.Helper()
		for id, p := range resources(tpl, "AWS::IAM::ManagedPolicy") {
			if !strings.HasPrefix(id, policyPrefix) {
				continue
			}
			for _, s := range p["Properties"].(map[string]any)["PolicyDocument"].(map[string]any)["Statement"].([]any) {
				if s.(map[string]any)["Sid"] == sid {
					return s.(map[string]any)
				}
			}
		}
		t.Fatalf("no statement %s in %s*", sid, policyPrefix)
		return nil
	}
	// THEN export, renewal and redeploy name exactly the three certificates, secrets and services
	for _, c := range []struct{ policy, sid, resource string }{
		{"MtlsExportFunctionPolicy", "ExportCertificates", "Certificate"},
		{"MtlsExportFunctionPolicy", "WriteSecrets", "Secret"},
		{"MtlsRenewFunctionPolicy", "Certificates", "Certificate"},
		{"MtlsRenewFunctionPolicy", "Secrets", "Secret"},
		{"MtlsRenewFunctionPolicy", "Redeploy", "Service"},
	} {
		res := statement(c.policy, c.sid)["Resource"].([]any)
		// the gateway has no ACM certificate: AWS Private CA issues its client certificate
		sides := threeSides
		if c.resource == "Certificate" {
			sides = threeSides[1:]
		}
		if len(res) != len(sides) {
			t.Errorf("%s %s on %d resources, want %d: %v", c.policy, c.sid, len(res), len(sides), res)
		}
		for _, side := range sides {
			if !strings.Contains(fmt.Sprint(res), side.id+c.resource) {
				t.Errorf("%s %s misses %s%s: %v", c.policy, c.sid, side.id, c.resource, res)
			}
		}
	}
	// AND each execution role reads only its own secret
	for _, side := range threeSides {
		s := statement(side.id+"ExecutionPolicy", "Secret")
		if r := fmt.Sprint(s["Resource"]); !strings.Contains(r, side.id+"Secret") || strings.Count(r, "Secret") != 1 {
			t.Errorf("%s execution role reads %v", side.id, r)
		}
	}
}

// bootstrapOf parses the bootstrap the proxy container of prefix runs, and
// returns it with the container's environment (name → rendered value).
func bootstrapOf(t *testing.T, tpl assertions.Template, prefix string) (doc, map[string]string) {
	t.Helper()
	c := proxyContainer(t, tpl, prefix, mtls.ProxyContainerName)
	var d doc
	if err := yaml.Unmarshal([]byte(c["Command"].([]any)[4].(string)), &d); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, v := range c["Environment"].([]any) {
		kv := v.(map[string]any)
		raw, _ := json.Marshal(kv["Value"])
		env[kv["Name"].(string)] = string(raw)
	}
	return d, env
}

func TestThreeEndpointsGatewayRoutesToEachBackendWithItsOwnTrust(t *testing.T) {
	// GIVEN the three-endpoint system WHEN the gateway's bootstrap and environment are read
	d, env := bootstrapOf(t, threeTemplate, "MtlsGateway")

	// THEN there is one TLS cluster per backend, each reaching that backend by name, with
	// SNI, presenting the gateway certificate and validating that backend's chain and name
	clusters := d.at(t, "static_resources", "clusters").([]any)
	if len(clusters) != 2 {
		t.Fatalf("%d clusters, want 2", len(clusters))
	}
	for i, want := range []struct{ name, dns, trustEnv, rootCa string }{
		{"backend", defaultBackendDNS, mtlssecret.EnvPeerTrustBundle, "MtlsBackendCaRootCertificate"},
		{"backend_" + blueName, blueDNS, mtls.PeerTrustBundleEnv(blueName), blueId + "CaRootCertificate"},
	} {
		c := []any{"static_resources", "clusters", i}
		ctx := append(append([]any{}, c...), "transport_socket", "typed_config", "common_tls_context")
		for _, check := range []struct {
			path []any
			want any
		}{
			{append(append([]any{}, c...), "name"), want.name},
			{append(append([]any{}, c...), "load_assignment", "endpoints", 0, "lb_endpoints", 0, "endpoint", "address", "socket_address", "address"), want.dns},
			{append(append([]any{}, c...), "load_assignment", "endpoints", 0, "lb_endpoints", 0, "endpoint", "address", "socket_address", "port_value"), mtls.BackendMtlsPort},
			{append(append([]any{}, c...), "transport_socket", "typed_config", "sni"), want.dns},
			{append(append([]any{}, ctx...), "tls_certificates", 0, "certificate_chain", "environment_variable"), mtlssecret.EnvCertificateChain},
			{append(append([]any{}, ctx...), "validation_context", "trusted_ca", "environment_variable"), want.trustEnv},
			{append(append([]any{}, ctx...), "validation_context", "match_typed_subject_alt_names", 0, "matcher", "exact"), want.dns},
		} {
			if got := d.at(t, check.path...); got != check.want {
				t.Errorf("cluster %d %v = %v, want %v", i, check.path[3:], got, check.want)
			}
		}
		// AND the trust bundle variable holds that backend hierarchy's root certificate
		if v := env[want.trustEnv]; !strings.Contains(v, want.rootCa) {
			t.Errorf("%s = %s, want the root certificate %s*", want.trustEnv, v, want.rootCa)
		}
	}
	if len(env) != 2 {
		t.Errorf("gateway environment %v, want the two trust bundles only", env)
	}
	// AND /colorteller-blue/ goes to the blue cluster (prefix rewritten), anything else to
	// the default backend, in that order
	routes := []any{"static_resources", "listeners", 0, "filter_chains", 0, "filters", 0, "typed_config", "route_config", "virtual_hosts", 0, "routes"}
	for i, want := range []struct{ prefix, cluster string }{{"/" + blueName + "/", "backend_" + blueName}, {"/", "backend"}} {
		r := append(append([]any{}, routes...), i)
		if got := d.at(t, append(r, "match", "prefix")...); got != want.prefix {
			t.Errorf("route %d prefix %v", i, got)
		}
		if got := d.at(t, append(r, "route", "cluster")...); got != want.cluster {
			t.Errorf("route %d cluster %v", i, got)
		}
	}
	if got := d.at(t, append(routes, 0, "route", "prefix_rewrite")...); got != "/" {
		t.Errorf("blue route rewrites to %v", got)
	}
}

func TestThreeEndpointsEachBackendRequiresTheGatewayCertificate(t *testing.T) {
	for _, side := range threeSides[1:] {
		t.Run(side.id, func(t *testing.T) {
			// GIVEN the three-endpoint system WHEN the backend's bootstrap is read
			d, env := bootstrapOf(t, threeTemplate, side.id)
			tls := []any{"static_resources", "listeners", 0, "filter_chains", 0, "transport_socket", "typed_config"}

			// THEN its listener requires a client certificate of the gateway's hierarchy and name
			if got := d.at(t, append(tls, "require_client_certificate")...); got != true {
				t.Errorf("require_client_certificate = %v", got)
			}
			ctx := append(tls, "common_tls_context", "validation_context")
			if got := d.at(t, append(ctx, "trusted_ca", "environment_variable")...); got != mtlssecret.EnvPeerTrustBundle {
				t.Errorf("trusted_ca from %v", got)
			}
			if got := d.at(t, append(ctx, "match_typed_subject_alt_names", 0, "matcher", "exact")...); got != defaultGatewayDNS {
				t.Errorf("client SAN %v", got)
			}
			if v := env[mtlssecret.EnvPeerTrustBundle]; !strings.Contains(v, "MtlsGatewayCaRootCertificate") || len(env) != 1 {
				t.Errorf("environment %v, want only the gateway root", env)
			}
			// AND its node is named after the backend
			if got := d.at(t, "node", "id"); got != side.dns {
				t.Errorf("node id %v", got)
			}
		})
	}
}

func TestThreeEndpointsRenewal(t *testing.T) {
	tpl := threeTemplate
	// GIVEN the three-endpoint system WHEN the renewal resources are read
	// THEN the expiry rule matches the two ACM certificates (the gateway's comes from
	// AWS Private CA, which sends no ACM expiry event)
	var certs []any
	for _, side := range threeSides[1:] {
		certs = append(certs, refTo(side.id+"Certificate"))
	}
	tpl.HasResourceProperties(jsii.String("AWS::Events::Rule"), &map[string]any{
		"EventPattern": map[string]any{
			"source":      []any{"aws.acm"},
			"detail-type": []any{"ACM Certificate Approaching Expiration"},
			"resources":   certs,
		},
	})
	// AND the target map sends each of the three certificates to its own secret and service
	targets := renewTargets(t, tpl)
	if len(targets) != 3 {
		t.Fatalf("%d targets, want 3", len(targets))
	}
	for i, tg := range targets {
		id := threeSides[i].id
		if id == "MtlsGateway" {
			if _, ok := tg["issue"]; !ok || !strings.HasPrefix(tg["secretArn"].(string), id+"Secret") {
				t.Errorf("gateway target %v: expected its client certificate issued into its secret", tg)
			}
			continue
		}
		if !strings.HasPrefix(tg["certificateArn"].(string), id+"Certificate") || !strings.HasPrefix(tg["secretArn"].(string), id+"Secret") {
			t.Errorf("target %d: %s exports to %s, want %s", i, tg["certificateArn"], tg["secretArn"], id)
		}
		services := tg["services"].([]any)
		if len(services) != 1 || !strings.HasPrefix(services[0].(string), id+"Service") {
			t.Errorf("certificate %s redeploys %v", tg["certificateArn"], services)
		}
	}
}

func TestThreeEndpointsNagCleanAndPartitionFree(t *testing.T) {
	// GIVEN the three-endpoint stack in the VPC the construct creates WHEN the three packs
	// ran THEN the whole stack has no unsuppressed error
	if errs := nag.Errors(threeStack); len(errs) > 0 {
		t.Errorf("%d nag errors:\n%s", len(errs), strings.Join(errs, "\n"))
	}
	// AND no ARN hard-codes the aws partition
	if j := templateJSON(threeTemplate); strings.Contains(j, "arn:aws:") {
		t.Error("arn:aws: literal in the GovCloud stack")
	}
}
