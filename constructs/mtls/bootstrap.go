package mtls

import (
	"fmt"
	"regexp"

	"gopkg.in/yaml.v3"

	"github.com/securestacks/securestacks/internal/mtlssecret"
)

// Ports of the Envoy plane.
const (
	// GatewayPort is the gateway Envoy's plain HTTP listener, the target of
	// the public load balancer.
	GatewayPort = 8080
	// BackendMtlsPort is the backend Envoy's mTLS listener. 15000 is the
	// walkthrough's port, so its stats read listener.0.0.0.0_15000.ssl.*.
	BackendMtlsPort = 15000
	// AppPort is where the backend application listens, on localhost only.
	AppPort = 8080
	// AdminPort is the Envoy admin interface, bound to 127.0.0.1.
	AdminPort = 9901
)

// Envoy type URLs the bootstraps use.
const (
	typeHCM        = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
	typeRouter     = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"
	typeDownstream = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext"
	typeUpstream   = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext"
)

var dnsNameRe = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)

// GatewayBootstrap renders the gateway Envoy's bootstrap: a plain HTTP
// listener on GatewayPort whose every request goes to the backend at
// backendDNS:BackendMtlsPort over TLS. The gateway presents its certificate
// as client certificate, and accepts only a server certificate that chains
// to the backend's trust bundle and names backendDNS.
//
// The certificate, key and trust bundle are not in the YAML: Envoy reads them
// from the environment variables the start script sets
// (mtlssecret.EnvCertificateChain, EnvPrivateKey, EnvPeerTrustBundle), so the
// YAML holds no secret and no deploy-time value.
func GatewayBootstrap(gatewayDNS, backendDNS string) (string, error) {
	if err := checkDNS("gateway", gatewayDNS); err != nil {
		return "", err
	}
	if err := checkDNS("backend", backendDNS); err != nil {
		return "", err
	}
	cfg := m{
		"node":  m{"id": gatewayDNS, "cluster": gatewayDNS},
		"admin": admin(),
		"static_resources": m{
			"listeners": []any{m{
				"name":    "ingress",
				"address": socket("0.0.0.0", GatewayPort),
				"filter_chains": []any{m{
					"filters": []any{httpManager("ingress", "backend")},
				}},
			}},
			"clusters": []any{m{
				"name":              "backend",
				"type":              "STRICT_DNS",
				"dns_lookup_family": "V4_ONLY",
				"connect_timeout":   "5s",
				"load_assignment":   assignment("backend", backendDNS, BackendMtlsPort),
				"transport_socket": m{
					"name": "envoy.transport_sockets.tls",
					"typed_config": m{
						"@type":              typeUpstream,
						"sni":                backendDNS,
						"common_tls_context": tlsContext(backendDNS),
					},
				},
			}},
		},
	}
	return render(cfg)
}

// BackendBootstrap renders the backend Envoy's bootstrap: an mTLS listener
// on BackendMtlsPort that requires a client certificate chaining to the
// gateway's trust bundle and naming gatewayDNS, and forwards to the
// application on 127.0.0.1:AppPort.
func BackendBootstrap(backendDNS, gatewayDNS string) (string, error) {
	if err := checkDNS("backend", backendDNS); err != nil {
		return "", err
	}
	if err := checkDNS("gateway", gatewayDNS); err != nil {
		return "", err
	}
	cfg := m{
		"node":  m{"id": backendDNS, "cluster": backendDNS},
		"admin": admin(),
		"static_resources": m{
			"listeners": []any{m{
				"name":    "mtls_ingress",
				"address": socket("0.0.0.0", BackendMtlsPort),
				"filter_chains": []any{m{
					"filters": []any{httpManager("mtls_ingress", "local_app")},
					"transport_socket": m{
						"name": "envoy.transport_sockets.tls",
						"typed_config": m{
							"@type":                      typeDownstream,
							"require_client_certificate": true,
							"common_tls_context":         tlsContext(gatewayDNS),
						},
					},
				}},
			}},
			"clusters": []any{m{
				"name":            "local_app",
				"type":            "STATIC",
				"connect_timeout": "1s",
				"load_assignment": assignment("local_app", "127.0.0.1", AppPort),
			}},
		},
	}
	return render(cfg)
}

type m = map[string]any

// admin binds the admin interface to localhost: it can change Envoy's state
// (and dump its configuration), so nothing outside the task may reach it.
func admin() m {
	return m{"address": socket("127.0.0.1", AdminPort)}
}

func socket(addr string, port int) m {
	return m{"socket_address": m{"address": addr, "port_value": port}}
}

func assignment(cluster, host string, port int) m {
	return m{
		"cluster_name": cluster,
		"endpoints": []any{m{"lb_endpoints": []any{m{
			"endpoint": m{"address": socket(host, port)},
		}}}},
	}
}

func httpManager(prefix, cluster string) m {
	return m{
		"name": "envoy.filters.network.http_connection_manager",
		"typed_config": m{
			"@type":       typeHCM,
			"stat_prefix": prefix,
			"route_config": m{
				"name": prefix,
				"virtual_hosts": []any{m{
					"name":    prefix,
					"domains": []any{"*"},
					"routes":  []any{m{"match": m{"prefix": "/"}, "route": m{"cluster": cluster}}},
				}},
			},
			"http_filters": []any{m{"name": "envoy.filters.http.router", "typed_config": m{"@type": typeRouter}}},
		},
	}
}

// tlsContext presents this endpoint's certificate and accepts only a peer
// that chains to the peer's trust bundle and carries peerDNS as a DNS SAN:
// trusting the peer's root alone would accept any certificate that root's
// CAs ever issue.
func tlsContext(peerDNS string) m {
	return m{
		"tls_params": m{"tls_minimum_protocol_version": "TLSv1_2"},
		"tls_certificates": []any{m{
			"certificate_chain": m{"environment_variable": mtlssecret.EnvCertificateChain},
			"private_key":       m{"environment_variable": mtlssecret.EnvPrivateKey},
		}},
		"validation_context": m{
			"trusted_ca": m{"environment_variable": mtlssecret.EnvPeerTrustBundle},
			"match_typed_subject_alt_names": []any{m{
				"san_type": "DNS",
				"matcher":  m{"exact": peerDNS},
			}},
		},
	}
}

func checkDNS(which, name string) error {
	if len(name) > 253 || !dnsNameRe.MatchString(name) {
		return fmt.Errorf("mtls: %s DNS name %q: expected a lower-case fully qualified name such as colorteller.mtls.internal", which, name)
	}
	return nil
}

func render(cfg m) (string, error) {
	out, err := yaml.Marshal(cfg)
	if err != nil {
		return "", fmt.Errorf("mtls: rendering the Envoy bootstrap: %w", err)
	}
	return string(out), nil
}
