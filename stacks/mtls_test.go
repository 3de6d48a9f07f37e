package stacks_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/mtls"
	"github.com/securestacks/securestacks/internal/nag"
	"github.com/securestacks/securestacks/stacks"
)

// cdkContext is cdk.json's context (the feature flags `cdk synth` uses) with
// bundling skipped.
func cdkContext(t *testing.T) *map[string]any {
	t.Helper()
	raw, err := os.ReadFile("../cdk.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	doc.Context["aws:cdk:bundling-stacks"] = []any{}
	return &doc.Context
}

func mtlsProps(name, account, region string, section *stacks.MtlsConfig) *stacks.SystemProps {
	p := &stacks.SystemProps{Config: stacks.Environment{Name: name, Account: account, Region: region, Mtls: section}}
	p.StackName = jsii.String(stacks.Environment{Name: name}.StackPrefix() + "-Mtls")
	if account != "" {
		p.Env = &awscdk.Environment{Account: jsii.String(account), Region: jsii.String(region)}
	}
	return p
}

func TestMtlsStack(t *testing.T) {
	// GIVEN one app with cdk.json's flags and two environments: sandbox with every default
	// (environment-agnostic), and prod in a GovCloud account on the App Mesh plane with
	// its options set
	app := awscdk.NewApp(&awscdk.AppProps{Context: cdkContext(t), Outdir: jsii.String(t.TempDir())})
	sandbox := stacks.NewMtlsStack(app, "Sandbox-Mtls", mtlsProps("sandbox", "", "", nil))
	off := false
	prod := stacks.NewMtlsStack(app, "Prod-Mtls", mtlsProps("prod", "123456789012", "us-gov-west-1", &stacks.MtlsConfig{
		Plane:                          "appmesh",
		Domain:                         "svc.prod.internal",
		CertificateKeyAlgorithm:        "EC_prime256v1",
		Ca:                             &stacks.MtlsCaConfig{Flat: &off, KeyAlgorithm: "EC_prime256v1", RootValidityDays: 3000, SubordinateValidityDays: 1000, Revocation: "crl"},
		RenewBeforeDays:                30,
		DesiredCount:                   2,
		PublicCertificateArn:           "arn:aws-us-gov:acm:us-gov-west-1:123456789012:certificate/abcd-1234",
		LoadBalancerDeletionProtection: &off,
		AlarmEmail:                     "pki-team@example.com",
		DockerHubCredentialsSecretArn:  "arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:ecr-pullthroughcache/docker-hub-AbCdEf",
	}))
	// AND a third environment with a third endpoint in its own domain and flat hierarchies
	three := stacks.NewMtlsStack(app, "Three-Mtls", mtlsProps("three", "", "", &stacks.MtlsConfig{
		AdditionalBackends: []stacks.MtlsBackendConfig{{Name: "colorteller-blue", Domain: "blue.internal"}},
		Ca:                 &stacks.MtlsCaConfig{KeyAlgorithm: "RSA_2048", KeyStorageSecurityStandard: "FIPS_140_2_LEVEL_3_OR_HIGHER"},
	}))
	nag.ApplyPacks(app)

	// WHEN they are synthesized
	sandboxTpl := assertions.Template_FromStack(sandbox, nil)
	prodTpl := assertions.Template_FromStack(prod, nil)
	threeTpl := assertions.Template_FromStack(three, nil)

	t.Run("sandbox runs the Envoy plane with pinned public images and no App Mesh", func(t *testing.T) {
		// THEN the proxy is the official Envoy image by version, and nothing of App Mesh exists
		sandboxTpl.HasResourceProperties(jsii.String("AWS::ECS::TaskDefinition"), &map[string]any{
			"ContainerDefinitions": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{"Image": mtls.DefaultEnvoyImage})}),
		})
		sandboxTpl.ResourceCountIs(jsii.String("AWS::AppMesh::Mesh"), jsii.Number(0))
		// AND from Docker Hub, with one line saying so (no pull-through cache in the sandbox)
		sandboxTpl.ResourceCountIs(jsii.String("AWS::ECR::PullThroughCacheRule"), jsii.Number(0))
		if w := *assertions.Annotations_FromStack(sandbox).FindWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String(".*"+mtls.DockerHubWarningId+".*"))); len(w) != 1 {
			t.Errorf("%d Docker Hub warnings, want 1", len(w))
		}
		if warnings := *assertions.Annotations_FromStack(sandbox).FindWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("App Mesh"))); len(warnings) != 0 {
			t.Errorf("sandbox warns about App Mesh: %v", warnings)
		}
		// AND the VPC has flow logs, and interface endpoints for Secrets Manager and Logs only
		sandboxTpl.ResourceCountIs(jsii.String("AWS::EC2::FlowLog"), jsii.Number(1))
		sandboxTpl.ResourceCountIs(jsii.String("AWS::EC2::VPCEndpoint"), jsii.Number(2))
		// AND the entry is plain TCP 80 behind a protected load balancer
		sandboxTpl.HasResourceProperties(jsii.String("AWS::ElasticLoadBalancingV2::Listener"), &map[string]any{"Port": 80, "Protocol": "TCP"})
		sandboxTpl.HasResourceProperties(jsii.String("AWS::ElasticLoadBalancingV2::LoadBalancer"), &map[string]any{
			"LoadBalancerAttributes": assertions.Match_ArrayWith(&[]any{map[string]any{"Key": "deletion_protection.enabled", "Value": "true"}}),
		})
		sandboxTpl.HasOutput(jsii.String("Url"), &map[string]any{"Value": assertions.Match_AnyValue()})
		// AND it creates two general-purpose CAs, the walkthrough's two root CAs,
		// not four: 2 x 400 USD a month at list price (https://aws.amazon.com/private-ca/pricing/)
		sandboxTpl.ResourceCountIs(jsii.String("AWS::ACMPCA::CertificateAuthority"), jsii.Number(2))
		sandboxTpl.AllResourcesProperties(jsii.String("AWS::ACMPCA::CertificateAuthority"), &map[string]any{"Type": "ROOT", "UsageMode": "GENERAL_PURPOSE",
			// level 3, AWS Private CA's default, is refused in some Regions
			// (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-acmpca-certificateauthority.html)
			"KeyStorageSecurityStandard": "FIPS_140_2_LEVEL_2_OR_HIGHER"})
		// AND no access-log setting on the TCP entry: NLBs log TLS listeners only
		// (https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-access-logs.html)
		lb := sandboxTpl.FindResources(jsii.String("AWS::ElasticLoadBalancingV2::LoadBalancer"), nil)
		raw, _ := json.Marshal(lb)
		if strings.Contains(string(raw), "access_logs.s3.enabled") {
			t.Errorf("TCP-only load balancer enables access logs, which NLBs never write for TCP: %s", raw)
		}
	})

	t.Run("prod follows its section on the App Mesh plane", func(t *testing.T) {
		// THEN App Mesh is there with its end-of-support warning
		prodTpl.ResourceCountIs(jsii.String("AWS::AppMesh::VirtualGateway"), jsii.Number(1))
		// AND the Envoy init image comes through the pull-through cache of the given secret
		prodTpl.HasResourceProperties(jsii.String("AWS::ECR::PullThroughCacheRule"), &map[string]any{
			"UpstreamRegistryUrl": "registry-1.docker.io",
			"CredentialArn":       "arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:ecr-pullthroughcache/docker-hub-AbCdEf",
		})
		assertions.Annotations_FromStack(prod).HasWarning(jsii.String("/Prod-Mtls/Mtls"),
			assertions.Match_StringLikeRegexp(jsii.String("AWS App Mesh reached end of support on 2026-09-30")))
		// AND the section's names, algorithms, validity, revocation and counts are applied
		prodTpl.HasResourceProperties(jsii.String("AWS::CertificateManager::Certificate"), &map[string]any{"DomainName": "colorteller.svc.prod.internal", "KeyAlgorithm": "EC_prime256v1"})
		prodTpl.AllResourcesProperties(jsii.String("AWS::ACMPCA::CertificateAuthority"), &map[string]any{
			"KeyAlgorithm": "EC_prime256v1", "SigningAlgorithm": "SHA256WITHECDSA",
			"RevocationConfiguration": map[string]any{"CrlConfiguration": assertions.Match_ObjectLike(&map[string]any{"Enabled": true})},
		})
		prodTpl.HasResourceProperties(jsii.String("AWS::ACMPCA::Certificate"), &map[string]any{"Validity": map[string]any{"Type": "DAYS", "Value": 1000}})
		prodTpl.AllResourcesProperties(jsii.String("AWS::ECS::Service"), &map[string]any{"DesiredCount": 2})
		prodTpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), &map[string]any{
			"Environment": map[string]any{"Variables": assertions.Match_ObjectLike(&map[string]any{"MTLS_RENEW_BEFORE_DAYS": "30"})},
		})
		// AND the entry is TLS 443 with the given certificate, and the alarms mail the team
		prodTpl.HasResourceProperties(jsii.String("AWS::ElasticLoadBalancingV2::Listener"), &map[string]any{
			"Port": 443, "Protocol": "TLS",
			"Certificates": []any{map[string]any{"CertificateArn": "arn:aws-us-gov:acm:us-gov-west-1:123456789012:certificate/abcd-1234"}},
		})
		prodTpl.HasResourceProperties(jsii.String("AWS::SNS::Subscription"), &map[string]any{"Protocol": "email", "Endpoint": "pki-team@example.com"})
		// AND the TLS entry writes access logs, which NLBs do for TLS listeners
		prodTpl.HasResourceProperties(jsii.String("AWS::ElasticLoadBalancingV2::LoadBalancer"), &map[string]any{
			"LoadBalancerAttributes": assertions.Match_ArrayWith(&[]any{map[string]any{"Key": "access_logs.s3.enabled", "Value": "true"}}),
		})
		// AND flat: false gives each endpoint a root and a subordinate
		prodTpl.ResourceCountIs(jsii.String("AWS::ACMPCA::CertificateAuthority"), jsii.Number(4))
		// AND the App Mesh proxies reach ACM, ACM Private CA and App Mesh through endpoints
		prodTpl.ResourceCountIs(jsii.String("AWS::EC2::VPCEndpoint"), jsii.Number(5))
		// AND no ARN names the commercial partition
		raw, _ := json.Marshal(prodTpl.ToJSON())
		if strings.Contains(string(raw), "arn:aws:") {
			t.Error("arn:aws: literal in the GovCloud stack")
		}
	})

	t.Run("additionalBackends add a third endpoint", func(t *testing.T) {
		// THEN each of the three endpoints has its own flat hierarchy, certificate, secret
		// and service
		threeTpl.ResourceCountIs(jsii.String("AWS::ACMPCA::CertificateAuthority"), jsii.Number(3))
		// (ca.keyStorageSecurityStandard reaches every CA; the default is level 2, see the sandbox)
		threeTpl.AllResourcesProperties(jsii.String("AWS::ACMPCA::CertificateAuthority"), &map[string]any{"KeyStorageSecurityStandard": "FIPS_140_2_LEVEL_3_OR_HIGHER"})
		threeTpl.ResourceCountIs(jsii.String("AWS::SecretsManager::Secret"), jsii.Number(3))
		threeTpl.ResourceCountIs(jsii.String("AWS::ECS::Service"), jsii.Number(3))
		// (the gateway's client certificate is issued by AWS Private CA, not ACM)
		for _, dns := range []string{"colorteller.mtls.internal", "colorteller-blue.blue.internal"} {
			threeTpl.HasResourceProperties(jsii.String("AWS::CertificateManager::Certificate"), &map[string]any{"DomainName": dns, "CertificateExport": "ENABLED"})
		}
		threeTpl.HasResourceProperties(jsii.String("AWS::ServiceDiscovery::PrivateDnsNamespace"), &map[string]any{"Name": "blue.internal"})
		// AND the gateway Envoy has a cluster for the new backend, and the renew map covers it
		threeTpl.HasResourceProperties(jsii.String("AWS::ECS::TaskDefinition"), &map[string]any{
			"ContainerDefinitions": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
				"Command": assertions.Match_ArrayWith(&[]any{assertions.Match_StringLikeRegexp(jsii.String("name: backend_colorteller-blue"))}),
			})}),
		})
		raw, _ := json.Marshal(threeTpl.ToJSON())
		if n, m := strings.Count(string(raw), `certificateArn\"`), strings.Count(string(raw), `certificateAuthorityArn\"`); n != 2 || m != 1 {
			t.Errorf("renew map has %d ACM certificates and %d issued , want 2 and 1 (the gateway)", n, m)
		}
	})

	t.Run("all are nag-clean", func(t *testing.T) {
		// THEN no stack has an unsuppressed error of the three packs
		for _, s := range []awscdk.Stack{sandbox, prod, three} {
			if errs := nag.Errors(s); len(errs) > 0 {
				t.Errorf("%s: %d nag errors:\n%s", *s.StackName(), len(errs), strings.Join(errs, "\n"))
			}
		}
	})
}

func TestMtlsConfigErrors(t *testing.T) {
	cases := []struct {
		section string
		want    string
	}{
		{`{"plane": "istio"}`, `config: environments.prod.mtls.plane: expected envoy or appmesh, got "istio"`},
		{`{"domain": "Mtls.Internal"}`, `environments.prod.mtls.domain: expected a lower-case DNS domain`},
		{`{"gatewayName": "color_gateway"}`, `environments.prod.mtls.gatewayName: expected a lower-case DNS label`},
		{`{"backendName": "colorgateway"}`, `environments.prod.mtls.backendName: expected a name other than the gateway's`},
		{`{"certificateKeyAlgorithm": "RSA_4096"}`, `environments.prod.mtls.certificateKeyAlgorithm: expected RSA_2048, EC_prime256v1 or EC_secp384r1`},
		{`{"renewBeforeDays": 400}`, `environments.prod.mtls.renewBeforeDays: expected a whole number from 1 to 365`},
		{`{"publicCertificateArn": "my-cert"}`, `environments.prod.mtls.publicCertificateArn: expected an ACM certificate ARN`},
		{`{"alarmEmail": "nobody"}`, `environments.prod.mtls.alarmEmail: expected an e-mail address`},
		{`{"dockerHubCredentialsSecretArn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:docker-hub-AbCdEf"}`, `environments.prod.mtls.dockerHubCredentialsSecretArn: expected the complete ARN of a Secrets Manager secret whose name starts with ecr-pullthroughcache/`},
		{`{"ca": {"keyAlgorithm": "RSA_1024"}}`, `environments.prod.mtls.ca.keyAlgorithm: expected RSA_2048`},
		{`{"ca": {"revocation": "always"}}`, `environments.prod.mtls.ca.revocation: expected none, crl or ocsp`},
		{`{"ca": {"flat": false, "rootValidityDays": 365, "subordinateValidityDays": 365}}`, `environments.prod.mtls.ca.subordinateValidityDays: expected fewer days than rootValidityDays (365)`},
		{`{"ca": {"flat": true, "subordinateValidityDays": 100}}`, `environments.prod.mtls.ca.subordinateValidityDays: expected no value with flat: true`},
		{`{"ca": {"subordinateValidityDays": 1000}}`, `environments.prod.mtls.ca.subordinateValidityDays: expected no value with flat: true, the default`},
		// The issuing CA must outlive a 395-day certificate, its renewal window
		// and the time to renew the CA: AWS Private CA refuses a certificate
		// that outlives its CA (https://docs.aws.amazon.com/acm/latest/userguide/private-certificates.title.html).
		{`{"ca": {"flat": false, "subordinateValidityDays": 400}}`, `environments.prod.mtls.ca.subordinateValidityDays: expected at least 530 days (certificate validity 395 + renewBeforeDays 45 + 90 days to renew the CA), got 400`},
		{`{"ca": {"rootValidityDays": 500}, "renewBeforeDays": 30}`, `environments.prod.mtls.ca.rootValidityDays: expected at least 515 days`},
		{`{"ca": {"flatt": true}}`, `environments.prod.mtls.ca.flatt: unknown key`},
		{`{"ca": {"keyStorageSecurityStandard": "FIPS_140_3"}}`, `environments.prod.mtls.ca.keyStorageSecurityStandard: expected FIPS_140_2_LEVEL_2_OR_HIGHER`},
		{`{"desiredCount": "2"}`, `environments.prod.mtls.desiredCount: expected a whole number`},
		{`{"additionalBackends": [{"name": "Blue"}]}`, `environments.prod.mtls.additionalBackends[0].name: expected a lower-case DNS label`},
		{`{"additionalBackends": [{"domain": "blue.internal"}]}`, `environments.prod.mtls.additionalBackends[0].name: expected a lower-case DNS label such as colorteller-blue, got ""`},
		{`{"additionalBackends": [{"name": "colorteller"}]}`, `environments.prod.mtls.additionalBackends[0].name: expected a name other than the backend's "colorteller"`},
		{`{"additionalBackends": [{"name": "blue"}, {"name": "blue"}]}`, `environments.prod.mtls.additionalBackends[1].name: expected a name other than additionalBackends[0]'s "blue"`},
		{`{"additionalBackends": [{"name": "blue", "domain": "Blue.Internal"}]}`, `environments.prod.mtls.additionalBackends[0].domain: expected a lower-case DNS domain`},
		{`{"additionalBackends": [{"name": "blue", "port": 1}]}`, `environments.prod.mtls.additionalBackends[0].port: unknown key`},
		{`{"additionalBackends": {"name": "blue"}}`, `environments.prod.mtls.additionalBackends: expected a list`},
		{`{"plane": "appmesh", "additionalBackends": [{"name": "blue"}]}`, `environments.prod.mtls.additionalBackends: expected no entry with plane appmesh`},
	}
	for _, tc := range cases {
		t.Run(tc.section, func(t *testing.T) {
			// GIVEN an environment with this mtls section
			var section any
			if err := json.Unmarshal([]byte(tc.section), &section); err != nil {
				t.Fatal(err)
			}
			raw := map[string]any{"prod": map[string]any{"account": "123456789012", "region": "eu-west-1", "mtls": section}}

			// WHEN the config is loaded
			_, err := stacks.LoadConfig(raw)

			// THEN it fails with one line naming the key and what was expected
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
	// AND a complete valid section loads
	valid := map[string]any{"prod": map[string]any{"account": "123456789012", "region": "eu-west-1", "mtls": map[string]any{
		"plane": "appmesh", "domain": "svc.internal", "gatewayName": "front", "backendName": "back",
		"ca": map[string]any{"flat": true, "keyAlgorithm": "EC_secp384r1", "revocation": "ocsp"},
	}}}
	if _, err := stacks.LoadConfig(valid); err != nil {
		t.Fatalf("valid section rejected: %v", err)
	}
	// AND so does an Envoy section with additional backends, and they are decoded in order
	valid = map[string]any{"prod": map[string]any{"account": "123456789012", "region": "eu-west-1", "mtls": map[string]any{
		"plane": "envoy", "backendName": "back",
		"additionalBackends": []any{map[string]any{"name": "blue"}, map[string]any{"name": "green", "domain": "green.internal"}},
	}}}
	cfg, err := stacks.LoadConfig(valid)
	if err != nil {
		t.Fatalf("valid section rejected: %v", err)
	}
	var got []stacks.MtlsBackendConfig
	if m := cfg.Environments["prod"].Mtls; m != nil {
		got = m.AdditionalBackends
	}
	if len(got) != 2 || got[0] != (stacks.MtlsBackendConfig{Name: "blue"}) || got[1] != (stacks.MtlsBackendConfig{Name: "green", Domain: "green.internal"}) {
		t.Errorf("additionalBackends decoded as %+v", got)
	}
}
