package mtls_test

import (
	"fmt"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/securestacks/securestacks/constructs/mtls"
	"github.com/securestacks/securestacks/internal/mtlssecret"
)

const (
	gatewayDNS = "colorgateway.mtls.internal"
	backendDNS = "colorteller.mtls.internal"
)

// doc is a parsed bootstrap; at walks it by keys and list indexes.
type doc map[string]any

func (d doc) at(t *testing.T, path ...any) any {
	t.Helper()
	var cur any = map[string]any(d)
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := asMap(cur)
			if !ok {
				t.Fatalf("at %v: %v is not a map", path, cur)
			}
			cur, ok = m[k]
			if !ok {
				t.Fatalf("at %v: no key %q", path, k)
			}
		case int:
			l, ok := cur.([]any)
			if !ok || k >= len(l) {
				t.Fatalf("at %v: no index %d", path, k)
			}
			cur = l[k]
		}
	}
	return cur
}

func asMap(v any) (map[string]any, bool) {
	switch m := v.(type) {
	case map[string]any:
		return m, true
	case doc:
		return m, true
	}
	return nil, false
}

func parse(t *testing.T, y string, err error) doc {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	var d doc
	if err := yaml.Unmarshal([]byte(y), &d); err != nil {
		t.Fatalf("bootstrap is not YAML: %v", err)
	}
	return d
}

func TestBackendBootstrapRequiresTheGatewayCertificate(t *testing.T) {
	// GIVEN the backend's bootstrap
	y, err := mtls.BackendBootstrap(backendDNS, gatewayDNS)
	d := parse(t, y, err)

	// WHEN its mTLS listener is read
	listener := []any{"static_resources", "listeners", 0}
	tls := append(append([]any{}, listener...), "filter_chains", 0, "transport_socket", "typed_config")

	// THEN it listens on 15000, requires a client certificate, validates it against the
	// peer (gateway) trust bundle and requires the gateway's DNS name
	if got := d.at(t, append(listener, "address", "socket_address", "port_value")...); got != mtls.BackendMtlsPort {
		t.Errorf("listener port %v", got)
	}
	if got := d.at(t, append(tls, "@type")...); got != "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext" {
		t.Errorf("transport socket %v", got)
	}
	if got := d.at(t, append(tls, "require_client_certificate")...); got != true {
		t.Fatalf("require_client_certificate = %v", got)
	}
	ctx := append(tls, "common_tls_context")
	if got := d.at(t, append(ctx, "validation_context", "trusted_ca", "environment_variable")...); got != mtlssecret.EnvPeerTrustBundle {
		t.Errorf("trusted_ca from %v", got)
	}
	if got := d.at(t, append(ctx, "validation_context", "match_typed_subject_alt_names", 0, "matcher", "exact")...); got != gatewayDNS {
		t.Errorf("client SAN must be %s, got %v", gatewayDNS, got)
	}
	// AND it presents its own exported chain and decrypted key
	if got := d.at(t, append(ctx, "tls_certificates", 0, "certificate_chain", "environment_variable")...); got != mtlssecret.EnvCertificateChain {
		t.Errorf("certificate_chain from %v", got)
	}
	if got := d.at(t, append(ctx, "tls_certificates", 0, "private_key", "environment_variable")...); got != mtlssecret.EnvPrivateKey {
		t.Errorf("private_key from %v", got)
	}
	// AND forwards to the app on localhost only
	if got := d.at(t, "static_resources", "clusters", 0, "load_assignment", "endpoints", 0, "lb_endpoints", 0, "endpoint", "address", "socket_address", "address"); got != "127.0.0.1" {
		t.Errorf("app address %v", got)
	}
	assertAdminOnLocalhost(t, d)
}

func TestGatewayBootstrapPresentsItsCertificateAndValidatesTheBackend(t *testing.T) {
	// GIVEN the gateway's bootstrap
	y, err := mtls.GatewayBootstrap(gatewayDNS, backendDNS)
	d := parse(t, y, err)

	// WHEN its upstream cluster is read
	cluster := []any{"static_resources", "clusters", 0}
	tls := append(append([]any{}, cluster...), "transport_socket", "typed_config")

	// THEN it reaches the backend by name on 15000 over TLS with SNI, presents the
	// exported gateway certificate, and accepts only the backend's name from the backend CA
	if got := d.at(t, append(cluster, "load_assignment", "endpoints", 0, "lb_endpoints", 0, "endpoint", "address", "socket_address", "address")...); got != backendDNS {
		t.Errorf("upstream %v", got)
	}
	if got := d.at(t, append(cluster, "load_assignment", "endpoints", 0, "lb_endpoints", 0, "endpoint", "address", "socket_address", "port_value")...); got != mtls.BackendMtlsPort {
		t.Errorf("upstream port %v", got)
	}
	if got := d.at(t, append(tls, "@type")...); got != "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext" {
		t.Errorf("transport socket %v", got)
	}
	if got := d.at(t, append(tls, "sni")...); got != backendDNS {
		t.Errorf("sni %v", got)
	}
	ctx := append(tls, "common_tls_context")
	if got := d.at(t, append(ctx, "tls_certificates", 0, "certificate_chain", "environment_variable")...); got != mtlssecret.EnvCertificateChain {
		t.Errorf("client certificate from %v", got)
	}
	if got := d.at(t, append(ctx, "validation_context", "trusted_ca", "environment_variable")...); got != mtlssecret.EnvPeerTrustBundle {
		t.Errorf("server validated against %v", got)
	}
	if got := d.at(t, append(ctx, "validation_context", "match_typed_subject_alt_names", 0, "matcher", "exact")...); got != backendDNS {
		t.Errorf("server SAN must be %s, got %v", backendDNS, got)
	}
	if got := d.at(t, "static_resources", "listeners", 0, "address", "socket_address", "port_value"); got != mtls.GatewayPort {
		t.Errorf("ingress port %v", got)
	}
	assertAdminOnLocalhost(t, d)
}

func assertAdminOnLocalhost(t *testing.T, d doc) {
	t.Helper()
	if got := d.at(t, "admin", "address", "socket_address", "address"); got != "127.0.0.1" {
		t.Errorf("admin bound to %v, want 127.0.0.1", got)
	}
}

func TestBootstrapHoldsNoSecretOrDeployTimeValue(t *testing.T) {
	// GIVEN both bootstraps WHEN rendered THEN they hold no PEM and no token: the material
	// comes from the environment at start
	for _, render := range []func() (string, error){
		func() (string, error) { return mtls.GatewayBootstrap(gatewayDNS, backendDNS) },
		func() (string, error) { return mtls.BackendBootstrap(backendDNS, gatewayDNS) },
	} {
		y, err := render()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(y, "BEGIN") || strings.Contains(y, "${Token") || strings.Contains(y, "inline_") {
			t.Errorf("bootstrap carries material or tokens:\n%s", y)
		}
	}
}

func TestBootstrapRejectsBadNames(t *testing.T) {
	for _, name := range []string{"", "colorteller", "ColorTeller.mtls.internal", "a..b", "x.y_z"} {
		// GIVEN a malformed DNS name WHEN a bootstrap is rendered THEN it fails naming it
		if _, err := mtls.BackendBootstrap(name, gatewayDNS); err == nil || !strings.Contains(err.Error(), "mtls: backend DNS name") {
			t.Errorf("BackendBootstrap(%q) = %v", name, err)
		}
		if _, err := mtls.GatewayBootstrap(gatewayDNS, name); err == nil || !strings.Contains(err.Error(), "mtls: backend DNS name") {
			t.Errorf("GatewayBootstrap(_, %q) = %v", name, err)
		}
	}
}

func TestGatewayBootstrapWithAdditionalBackends(t *testing.T) {
	// GIVEN the default backend plus two more, one in another domain
	extra := []mtls.Upstream{{Name: "blue", DnsName: "blue.mtls.internal"}, {Name: "green-2", DnsName: "green-2.other.internal"}}

	// WHEN the gateway's bootstrap is rendered
	y, err := mtls.GatewayBootstrap(gatewayDNS, backendDNS, extra...)
	d := parse(t, y, err)

	// THEN each backend has its cluster, reached by its name with its own trust bundle and SAN
	for i, want := range []struct{ cluster, dns, env string }{
		{"backend", backendDNS, mtlssecret.EnvPeerTrustBundle},
		{"backend_blue", "blue.mtls.internal", "MTLS_PEER_TRUST_BUNDLE_BLUE"},
		{"backend_green-2", "green-2.other.internal", "MTLS_PEER_TRUST_BUNDLE_GREEN_2"},
	} {
		c := []any{"static_resources", "clusters", i}
		ctx := append(append([]any{}, c...), "transport_socket", "typed_config", "common_tls_context", "validation_context")
		if got := d.at(t, append(c, "name")...); got != want.cluster {
			t.Errorf("cluster %d named %v", i, got)
		}
		if got := d.at(t, append(c, "transport_socket", "typed_config", "sni")...); got != want.dns {
			t.Errorf("cluster %d sni %v", i, got)
		}
		if got := d.at(t, append(ctx, "trusted_ca", "environment_variable")...); got != want.env {
			t.Errorf("cluster %d trusts %v", i, got)
		}
		if got := d.at(t, append(ctx, "match_typed_subject_alt_names", 0, "matcher", "exact")...); got != want.dns {
			t.Errorf("cluster %d SAN %v", i, got)
		}
	}
	// AND the routes send /blue/ and /green-2/ to their clusters before the catch-all
	routes := d.at(t, "static_resources", "listeners", 0, "filter_chains", 0, "filters", 0, "typed_config", "route_config", "virtual_hosts", 0, "routes").([]any)
	var got []string
	for _, r := range routes {
		rm, _ := asMap(r)
		match, _ := asMap(rm["match"])
		route, _ := asMap(rm["route"])
		got = append(got, fmt.Sprint(match["prefix"], "→", route["cluster"]))
	}
	if strings.Join(got, " ") != "/blue/→backend_blue /green-2/→backend_green-2 /→backend" {
		t.Errorf("routes %v", got)
	}
	// AND without additional backends the output is the two-endpoint bootstrap
	two, _ := mtls.GatewayBootstrap(gatewayDNS, backendDNS)
	if strings.Contains(two, "backend_") || strings.Contains(two, "prefix_rewrite") {
		t.Errorf("two-endpoint bootstrap has additional routes:\n%s", two)
	}
}

func TestGatewayBootstrapRejectsBadAdditionalBackends(t *testing.T) {
	cases := []struct {
		name  string
		extra []mtls.Upstream
		want  string
	}{
		{"bad label", []mtls.Upstream{{Name: "Blue", DnsName: "blue.mtls.internal"}}, `mtls: additional backend 0 name "Blue"`},
		{"same name twice", []mtls.Upstream{{Name: "blue", DnsName: "blue.mtls.internal"}, {Name: "blue", DnsName: "blue.other.internal"}}, `mtls: additional backend 1 name "blue"`},
		{"bad DNS name", []mtls.Upstream{{Name: "blue", DnsName: "blue"}}, `mtls: additional backend "blue" DNS name "blue"`},
		{"the default backend's DNS name", []mtls.Upstream{{Name: "blue", DnsName: backendDNS}}, `expected a name no other endpoint has`},
		{"the gateway's DNS name", []mtls.Upstream{{Name: "blue", DnsName: gatewayDNS}}, `expected a name no other endpoint has`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// GIVEN a bad additional backend WHEN the gateway bootstrap is rendered THEN it fails naming it
			if _, err := mtls.GatewayBootstrap(gatewayDNS, backendDNS, tc.extra...); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want %q", err, tc.want)
			}
		})
	}
}
