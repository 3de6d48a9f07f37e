package mtls

import (
	"fmt"
	"regexp"
	"strings"

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

// Upstream is a backend the gateway Envoy routes to besides its default
// backend (see GatewayBootstrap).
type Upstream struct {
	// Name is the backend's DNS label. The gateway sends requests under
	// /Name/ to it, with that prefix replaced by "/"; its cluster is
	// "backend_" + Name and its trust bundle comes from the environment
	// variable PeerTrustBundleEnv(Name).
	Name string
	// DnsName is the name the backend's certificate carries and the gateway
	// resolves, such as colorteller-blue.mtls.internal.
	DnsName string
}

// PeerTrustBundleEnv is the environment variable of the gateway's proxy
// container that holds the trust bundle (PEM) of the additional backend
// name: MTLS_PEER_TRUST_BUNDLE_ followed by name in upper case with "-" as
// "_". The default backend's bundle stays in mtlssecret.EnvPeerTrustBundle,
// which the start script requires.
func PeerTrustBundleEnv(name string) string {
	return mtlssecret.EnvPeerTrustBundle + "_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

var labelRe = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// GatewayBootstrap renders the gateway Envoy's bootstrap: a plain HTTP
// listener on GatewayPort whose requests go over TLS to backendDNS
// (cluster "backend") or, for a path under /Name/ of one of additional,
// to that backend (cluster "backend_" + Name, prefix rewritten to "/"),
// each at BackendMtlsPort. To every backend the gateway presents its
// certificate as client certificate, and from each it accepts only a
// server certificate that chains to that backend's own trust bundle and
// names that backend's DnsName.
//
// The certificate, key and trust bundles are not in the YAML: Envoy reads
// them from the environment variables the start script sets
// (mtlssecret.EnvCertificateChain, EnvPrivateKey) and the task definition
// sets (mtlssecret.EnvPeerTrustBundle for backendDNS, PeerTrustBundleEnv
// for the others), so the YAML holds no secret and no deploy-time value.
// Names of additional must be distinct DNS labels, and every DnsName
// distinct.
func GatewayBootstrap(gatewayDNS, backendDNS string, additional ...Upstream) (string, error) {
	if err := checkDNS("gateway", gatewayDNS); err != nil {
		return "", err
	}
	if err := checkDNS("backend", backendDNS); err != nil {
		return "", err
	}
	clusters := []any{upstreamCluster("backend", backendDNS, mtlssecret.EnvPeerTrustBundle)}
	var routes []any
	seen := map[string]bool{backendDNS: true}
	names := map[string]bool{}
	for i, u := range additional {
		if !labelRe.MatchString(u.Name) || names[u.Name] {
			return "", fmt.Errorf("mtls: additional backend %d name %q: expected a distinct lower-case DNS label such as colorteller-blue", i, u.Name)
		}
		names[u.Name] = true
		if err := checkDNS(fmt.Sprintf("additional backend %q", u.Name), u.DnsName); err != nil {
			return "", err
		}
		if seen[u.DnsName] || u.DnsName == gatewayDNS {
			return "", fmt.Errorf("mtls: additional backend %q DNS name %q: expected a name no other endpoint has", u.Name, u.DnsName)
		}
		seen[u.DnsName] = true
		cluster := "backend_" + u.Name
		clusters = append(clusters, upstreamCluster(cluster, u.DnsName, PeerTrustBundleEnv(u.Name)))
		routes = append(routes, m{"match": m{"prefix": "/" + u.Name + "/"}, "route": m{"cluster": cluster, "prefix_rewrite": "/"}})
	}
	// The default route last: Envoy takes the first route that matches.
	routes = append(routes, m{"match": m{"prefix": "/"}, "route": m{"cluster": "backend"}})
	cfg := m{
		"node":  m{"id": gatewayDNS, "cluster": gatewayDNS},
		"admin": admin(),
		"static_resources": m{
			"listeners": []any{m{
				"name":    "ingress",
				"address": socket("0.0.0.0", GatewayPort),
				"filter_chains": []any{m{
					"filters": []any{httpManager("ingress", routes)},
				}},
			}},
			"clusters": clusters,
		},
	}
	return render(cfg)
}

// upstreamCluster reaches dns:BackendMtlsPort over TLS with SNI, presenting
// the gateway's certificate and validating the server against the trust
// bundle in trustEnv and the name dns.
func upstreamCluster(name, dns, trustEnv string) m {
	return m{
		"name":              name,
		"type":              "STRICT_DNS",
		"dns_lookup_family": "V4_ONLY",
		"connect_timeout":   "5s",
		"load_assignment":   assignment(name, dns, BackendMtlsPort),
		"transport_socket": m{
			"name": "envoy.transport_sockets.tls",
			"typed_config": m{
				"@type":              typeUpstream,
				"sni":                dns,
				"common_tls_context": tlsContext(dns, trustEnv),
			},
		},
	}
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
					"filters": []any{httpManager("mtls_ingress", []any{m{"match": m{"prefix": "/"}, "route": m{"cluster": "local_app"}}})},
					"transport_socket": m{
						"name": "envoy.transport_sockets.tls",
						"typed_config": m{
							"@type":                      typeDownstream,
							"require_client_certificate": true,
							"common_tls_context":         tlsContext(gatewayDNS, mtlssecret.EnvPeerTrustBundle),
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

func httpManager(prefix string, routes []any) m {
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
					"routes":  routes,
				}},
			},
			"http_filters": []any{m{"name": "envoy.filters.http.router", "typed_config": m{"@type": typeRouter}}},
		},
	}
}

// tlsContext presents this endpoint's certificate and accepts only a peer
// that chains to the peer's trust bundle (in the environment variable
// trustEnv) and carries peerDNS as a DNS SAN:
// trusting the peer's root alone would accept any certificate that root's
// CAs ever issue.
func tlsContext(peerDNS, trustEnv string) m {
	return m{
		"tls_params": m{"tls_minimum_protocol_version": "TLSv1_2"},
		"tls_certificates": []any{m{
			"certificate_chain": m{"environment_variable": mtlssecret.EnvCertificateChain},
			"private_key":       m{"environment_variable": mtlssecret.EnvPrivateKey},
		}},
		"validation_context": m{
			"trusted_ca": m{"environment_variable": trustEnv},
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
