package stacks_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/mtls"
	"github.com/securestacks/securestacks/internal/mtlssecret/mtlstest"
	"github.com/securestacks/securestacks/internal/nag"
	"github.com/securestacks/securestacks/stacks"
)

func TestMtlsStackExternalRoot(t *testing.T) {
	// GIVEN one app with two environments on an external root (Root_CA.crt of the post,
	// here made in Go): "ext" before the import, one subordinate per endpoint, and
	// "extdone" after it, one subordinate shared by every endpoint
	rootPEM := mtlstest.NewHierarchy(t, "Example", mtlstest.HierarchyOptions{Flat: true}).Root.PEM()
	chainFile := filepath.Join(t.TempDir(), "root.pem")
	if err := os.WriteFile(chainFile, []byte(rootPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	app := awscdk.NewApp(&awscdk.AppProps{Context: cdkContext(t), Outdir: jsii.String(t.TempDir())})
	pending := stacks.NewMtlsStack(app, "Ext-Mtls", mtlsProps("ext", "123456789012", "eu-west-1", &stacks.MtlsConfig{
		Ca: &stacks.MtlsCaConfig{ExternalRoot: &stacks.MtlsExternalRootConfig{CertificateChainFile: chainFile}},
	}))
	imported := stacks.NewMtlsStack(app, "Extdone-Mtls", mtlsProps("extdone", "123456789012", "eu-west-1", &stacks.MtlsConfig{
		AdditionalBackends: []stacks.MtlsBackendConfig{{Name: "colorteller-blue"}},
		Ca:                 &stacks.MtlsCaConfig{KeyAlgorithm: "EC_prime256v1", ExternalRoot: &stacks.MtlsExternalRootConfig{CertificateChain: rootPEM, Shared: true, Imported: true}},
	}))
	nag.ApplyPacks(app)

	// WHEN they are synthesized
	pendingTpl := assertions.Template_FromStack(pending, nil)
	importedTpl := assertions.Template_FromStack(imported, nil)

	t.Run("before the import: the subordinates alone, and the next step at synth", func(t *testing.T) {
		// THEN each endpoint has a subordinate CA in PENDING_CERTIFICATE with no activation,
		// no ACM permission (nothing acts on a CA without its certificate), and nothing else
		pendingTpl.ResourceCountIs(jsii.String("AWS::ACMPCA::CertificateAuthority"), jsii.Number(2))
		pendingTpl.AllResourcesProperties(jsii.String("AWS::ACMPCA::CertificateAuthority"), &map[string]any{"Type": "SUBORDINATE"})
		pendingTpl.HasResourceProperties(jsii.String("AWS::ACMPCA::CertificateAuthority"), &map[string]any{"Subject": map[string]any{"CommonName": "colorteller Issuing CA"}})
		raw, _ := json.Marshal(pendingTpl.ToJSON())
		for _, typ := range []string{"AWS::ACMPCA::CertificateAuthorityActivation", "AWS::ACMPCA::Certificate\"", "AWS::ACMPCA::Permission", "AWS::CertificateManager::Certificate", "AWS::ECS::Service", "AWS::EC2::VPC\""} {
			if strings.Contains(string(raw), typ) {
				t.Errorf("pending stack has %s", typ)
			}
		}
		// AND the ARNs are outputs named after the endpoints, for securestacks pca csr|import
		for _, out := range []string{"SubordinateCaArnColorgateway", "SubordinateCaArnColorteller"} {
			pendingTpl.HasOutput(jsii.String(out), &map[string]any{"Value": map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("^ExternalRootCa")), "Arn"}}})
		}
		// AND synth prints the next step in one line
		assertions.Annotations_FromStack(pending).HasWarning(jsii.String("/Ext-Mtls"), assertions.Match_StringLikeRegexp(jsii.String(
			"^mtls.ca.externalRoot: the subordinate CA\\(s\\) are created in PENDING_CERTIFICATE and nothing else is deployed; next: for each output SubordinateCaArn\\* of Ext-Mtls run `securestacks pca csr --ca-arn ARN --out sub.csr`.*set environments.ext.mtls.ca.externalRoot.imported to true and deploy again[^\n]*$")))
	})

	t.Run("after the import: the mTLS system on one shared subordinate", func(t *testing.T) {
		// THEN one subordinate CA (EC, the section's key algorithm), still without an activation
		// (securestacks pca import installed its certificate), which ACM may now use
		importedTpl.ResourceCountIs(jsii.String("AWS::ACMPCA::CertificateAuthority"), jsii.Number(1))
		importedTpl.HasResourceProperties(jsii.String("AWS::ACMPCA::CertificateAuthority"), &map[string]any{"Type": "SUBORDINATE", "KeyAlgorithm": "EC_prime256v1"})
		importedTpl.ResourceCountIs(jsii.String("AWS::ACMPCA::CertificateAuthorityActivation"), jsii.Number(0))
		importedTpl.ResourceCountIs(jsii.String("AWS::ACMPCA::Permission"), jsii.Number(1))
		// AND both backends' ACM certificates come from it, and the peers trust the external root
		caArn := map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("^ExternalRootCaSubordinate")), "Arn"}}
		importedTpl.ResourceCountIs(jsii.String("AWS::CertificateManager::Certificate"), jsii.Number(2))
		importedTpl.AllResourcesProperties(jsii.String("AWS::CertificateManager::Certificate"), &map[string]any{"CertificateAuthorityArn": caArn})
		raw, _ := json.Marshal(importedTpl.ToJSON())
		if !strings.Contains(string(raw), strings.TrimSpace(strings.Split(rootPEM, "\n")[1])) {
			t.Error("the external root is not in the template (the peers' trust bundle)")
		}
		// AND one expiry alarm watches the subordinate, at 485 days left (395 + 90): the
		// renewal warning of the re-sign steps
		ca := 0
		for _, a := range alarms(importedTpl) {
			if a["MetricName"] == mtls.IssuingCaMetricName {
				ca++
				if a["Threshold"] != float64(mtls.IssuingCaAlarmDays) || a["ComparisonOperator"] != "LessThanThreshold" {
					t.Errorf("issuing-CA alarm %v", a)
				}
			}
		}
		if ca != 1 {
			t.Errorf("%d issuing-CA alarms, want 1 for the shared subordinate", ca)
		}
		importedTpl.HasOutput(jsii.String("SubordinateCaArn"), &map[string]any{"Value": caArn})
		if w := *assertions.Annotations_FromStack(imported).FindWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("externalRoot"))); len(w) != 0 {
			t.Errorf("imported stack still warns: %v", w)
		}
	})

	t.Run("both are nag-clean", func(t *testing.T) {
		for _, s := range []awscdk.Stack{pending, imported} {
			if errs := nag.Errors(s); len(errs) > 0 {
				t.Errorf("%s: %d nag errors:\n%s", *s.StackName(), len(errs), strings.Join(errs, "\n"))
			}
		}
	})
}

// alarms returns the Properties of every CloudWatch alarm of tpl.
func alarms(tpl assertions.Template) []map[string]any {
	var out []map[string]any
	for _, r := range *tpl.FindResources(jsii.String("AWS::CloudWatch::Alarm"), nil) {
		if p, ok := (*r)["Properties"].(map[string]any); ok {
			out = append(out, p)
		}
	}
	return out
}

func TestMtlsExternalRootConfigErrors(t *testing.T) {
	root := mtlstest.NewHierarchy(t, "Example", mtlstest.HierarchyOptions{}).Root.PEM()
	sub := mtlstest.NewHierarchy(t, "Example", mtlstest.HierarchyOptions{})
	cases := []struct {
		ca   map[string]any
		want string
	}{
		{map[string]any{"externalRoot": map[string]any{}}, "environments.prod.mtls.ca.externalRoot.certificateChain: expected exactly one of certificateChain (the PEM chain of the external root, root last) and certificateChainFile"},
		{map[string]any{"externalRoot": map[string]any{"certificateChain": root, "certificateChainFile": "root.pem"}}, "environments.prod.mtls.ca.externalRoot.certificateChain: expected exactly one of"},
		{map[string]any{"externalRoot": map[string]any{"certificateChainFile": "/nonexistent/root.pem"}}, "environments.prod.mtls.ca.externalRoot.certificateChainFile: expected a readable PEM file: open /nonexistent/root.pem"},
		{map[string]any{"externalRoot": map[string]any{"certificateChain": "root"}}, "environments.prod.mtls.ca.externalRoot.certificateChain: expected the PEM chain of the external root, the root last: chain: expected PEM CERTIFICATE blocks only"},
		{map[string]any{"externalRoot": map[string]any{"certificateChain": sub.Issuing.PEM()}}, "environments.prod.mtls.ca.externalRoot.certificateChain: expected the PEM chain of the external root, the root last: broken chain: the last chain certificate (CN=Example Issuing CA,O=securestacks test) is not self-signed"},
		{map[string]any{"flat": true, "externalRoot": map[string]any{"certificateChain": root}}, "environments.prod.mtls.ca.flat: expected no flat: true with externalRoot"},
		{map[string]any{"rootValidityDays": 3650, "externalRoot": map[string]any{"certificateChain": root}}, "environments.prod.mtls.ca.rootValidityDays: expected no value with externalRoot"},
		{map[string]any{"subordinateValidityDays": 1000, "externalRoot": map[string]any{"certificateChain": root}}, "environments.prod.mtls.ca.subordinateValidityDays: expected no value with externalRoot"},
		{map[string]any{"externalRoot": map[string]any{"certificateChain": root, "imported": "yes"}}, "environments.prod.mtls.ca.externalRoot.imported: expected"},
		{map[string]any{"externalRoot": map[string]any{"certificateChain": root, "certificate": "x"}}, "environments.prod.mtls.ca.externalRoot.certificate: unknown key"},
	}
	for _, tc := range cases {
		raw, _ := json.Marshal(tc.ca)
		t.Run(string(raw), func(t *testing.T) {
			// GIVEN an mtls section with this ca
			cfg := map[string]any{"prod": map[string]any{"account": "123456789012", "region": "eu-west-1", "mtls": map[string]any{"ca": tc.ca}}}
			// WHEN the config is loaded
			_, err := stacks.LoadConfig(cfg)
			// THEN it fails with one line naming the key and what was expected
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
	// AND a chain of an intermediate and its root, root last, loads
	valid := map[string]any{"prod": map[string]any{"account": "123456789012", "region": "eu-west-1", "mtls": map[string]any{
		"ca": map[string]any{"externalRoot": map[string]any{"certificateChain": sub.Chain(), "shared": true}},
	}}}
	if _, err := stacks.LoadConfig(valid); err != nil {
		t.Fatalf("valid section rejected: %v", err)
	}
}
