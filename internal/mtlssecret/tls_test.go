package mtlssecret_test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/securestacks/securestacks/internal/mtlssecret"
	"github.com/securestacks/securestacks/internal/mtlssecret/mtlstest"
)

const (
	gatewayName = "colorgateway.mtls.internal"
	tellerName  = "colorteller.mtls.internal"
)

// world is the seed's setup: two separate CA hierarchies (root and issuing
// subordinate each) that trust each other, the gateway's and the teller's
// material as the export Lambda stores it and as the start script turns it
// into proxy input, and the certificates a rogue client might present.
type world struct {
	gateway, teller *mtlssecret.Payload
	// gatewayTLS and tellerTLS are what the start script produced from the
	// two secrets.
	gatewayTLS, tellerTLS *mtlstest.StartResult
	gatewayCA, tellerCA   *mtlstest.Hierarchy
	wrongCA, expired      tls.Certificate
	// acmOnly is an ACM private certificate of the gateway's name and CA:
	// since 2025-06-11 it has no clientAuth EKU, so no server accepts it as a
	// client certificate.
	acmOnly tls.Certificate
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{
		gatewayCA: mtlstest.NewHierarchy(t, "ColorGateway", mtlstest.HierarchyOptions{}),
		tellerCA:  mtlstest.NewHierarchy(t, "ColorTeller", mtlstest.HierarchyOptions{}),
	}
	rogue := mtlstest.NewHierarchy(t, "Rogue", mtlstest.HierarchyOptions{})

	// The gateway's certificate is the client certificate AWS Private CA
	// issues (EndEntityClientAuthCertificate/V1); ACM's carry serverAuth only.
	w.gateway = w.gatewayCA.Stored(t, w.gatewayCA.Issue(t, gatewayName, mtlstest.LeafOptions{ClientAuth: true}))
	w.teller = w.tellerCA.Stored(t, w.tellerCA.Issue(t, tellerName, mtlstest.LeafOptions{KeyAlgorithm: mtlstest.ECPrime256v1}))
	var err error
	// Each side's trust bundle is the peer's root, as the construct sets it.
	if w.gatewayTLS, err = mtlstest.RunStartScript(t, w.gateway, w.tellerCA.Root.PEM()); err != nil {
		t.Fatalf("gateway start script: %v", err)
	}
	if w.tellerTLS, err = mtlstest.RunStartScript(t, w.teller, w.gatewayCA.Root.PEM()); err != nil {
		t.Fatalf("teller start script: %v", err)
	}

	// Same name, wrong CA: a certificate the gateway CA never issued.
	w.wrongCA = pair(t, rogue, rogue.Issue(t, gatewayName, mtlstest.LeafOptions{ClientAuth: true}))
	// Right CA, right name, but what ACM issues since 2025-06-11: serverAuth only.
	w.acmOnly = pair(t, w.gatewayCA, w.gatewayCA.Issue(t, gatewayName, mtlstest.LeafOptions{}))
	// Right CA, right name, but expired yesterday.
	past := time.Now().AddDate(0, 0, -400)
	w.expired = pair(t, w.gatewayCA, w.gatewayCA.Issue(t, gatewayName, mtlstest.LeafOptions{ClientAuth: true, NotBefore: past, NotAfter: time.Now().AddDate(0, 0, -1)}))
	return w
}

func pair(t *testing.T, h *mtlstest.Hierarchy, leaf *mtlstest.Leaf) tls.Certificate {
	t.Helper()
	return tls.Certificate{Certificate: [][]byte{leaf.Cert.Raw, h.Issuing.Cert.Raw}, PrivateKey: leaf.Key}
}

func keyPair(t *testing.T, r *mtlstest.StartResult) tls.Certificate {
	t.Helper()
	c, err := tls.X509KeyPair([]byte(r.CertificateChain), []byte(r.PrivateKey))
	if err != nil {
		t.Fatalf("start script output is not a key pair: %v", err)
	}
	return c
}

func pool(t *testing.T, pemCerts string) *x509.CertPool {
	t.Helper()
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM([]byte(pemCerts)) {
		t.Fatal("no certificate in bundle")
	}
	return p
}

// clientCases are the handshakes the issues ask for: certs returns the
// client certificate to present (nil: none).
var clientCases = []struct {
	name  string
	certs func(t *testing.T, w *world) []tls.Certificate
	ok    bool
}{
	{"exported gateway certificate", func(t *testing.T, w *world) []tls.Certificate {
		return []tls.Certificate{keyPair(t, w.gatewayTLS)}
	}, true},
	{"no client certificate", func(t *testing.T, w *world) []tls.Certificate { return nil }, false},
	{"certificate from the wrong CA", func(t *testing.T, w *world) []tls.Certificate { return []tls.Certificate{w.wrongCA} }, false},
	{"expired certificate", func(t *testing.T, w *world) []tls.Certificate { return []tls.Certificate{w.expired} }, false},
	// ACM issues no clientAuth EKU since 2025-06-11
	// (https://docs.aws.amazon.com/acm/latest/userguide/acm-concepts.html;
	// CloudFront, which needs a client certificate from ACM's store, sends
	// users to AWS Private CA's EndEntityClientAuthCertificate template:
	// https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/origin-certificate-management-certificate-manager.html).
	// An ACM certificate as the client fails the handshake: the gateway's
	// certificate must come from AWS Private CA directly.
	{"ACM certificate without clientAuth", func(t *testing.T, w *world) []tls.Certificate { return []tls.Certificate{w.acmOnly} }, false},
}

// clientConfig is the gateway side: it trusts only the teller's root and
// expects the teller's name. It presents certs[0] whatever CAs the server
// asks for: a Go client would otherwise withhold a certificate from another
// CA, and the wrong-CA case would test nothing but the client.
func clientConfig(t *testing.T, w *world, certs []tls.Certificate) *tls.Config {
	cfg := &tls.Config{
		RootCAs:    pool(t, w.tellerCA.Root.PEM()),
		ServerName: tellerName,
		MinVersion: tls.VersionTLS12,
	}
	if len(certs) > 0 {
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &certs[0], nil }
	}
	return cfg
}

func TestMutualTLSWithGoServer(t *testing.T) {
	w := newWorld(t)

	// GIVEN a Go TLS server with the teller's exported material that requires a client
	// certificate chaining to the gateway root (the start script's trust bundle)
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{keyPair(t, w.tellerTLS)},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool(t, w.gatewayCA.Root.PEM()),
		MinVersion:   tls.VersionTLS12,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go serveVerifiedName(l)

	wantAlert := map[string]string{
		"no client certificate":         "certificate required",
		"certificate from the wrong CA": "unknown certificate authority",
		"expired certificate":           "expired certificate",
		// x509: certificate specifies an incompatible key usage
		"ACM certificate without clientAuth": "bad certificate",
	}
	for _, tc := range clientCases {
		t.Run(tc.name, func(t *testing.T) {
			// WHEN a client connects presenting that certificate (or none) and reads the answer
			conn, err := tls.Dial("tcp", l.Addr().String(), clientConfig(t, w, tc.certs(t, w)))
			var body []byte
			if err == nil {
				_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
				body, err = io.ReadAll(conn)
				conn.Close()
			}

			// THEN only the exported gateway certificate gets through; the others are
			// refused in the handshake with the matching TLS alert
			if tc.ok {
				if err != nil {
					t.Fatalf("handshake failed: %v", err)
				}
				if want := "verified CN=" + gatewayName; string(body) != want {
					t.Fatalf("server answered %q, want %q", body, want)
				}
				return
			}
			if err == nil {
				t.Fatalf("server accepted the client and answered %q", body)
			}
			if !strings.Contains(err.Error(), wantAlert[tc.name]) {
				t.Fatalf("got %v, want the alert %q", err, wantAlert[tc.name])
			}
		})
	}
}

// serveVerifiedName answers every connection whose handshake succeeds with
// the verified client subject; a failed handshake just closes.
func serveVerifiedName(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func(c *tls.Conn) {
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(10 * time.Second))
			if err := c.Handshake(); err != nil {
				return
			}
			chains := c.ConnectionState().VerifiedChains
			if len(chains) == 0 {
				return
			}
			_, _ = io.WriteString(c, "verified "+chains[0][0].Subject.String())
		}(c.(*tls.Conn))
	}
}

func TestMutualTLSWithNginx(t *testing.T) {
	w := newWorld(t)

	// GIVEN Debian nginx as an independent peer, serving the teller material the start
	// script produced, with ssl_verify_client on against the gateway root
	addr := mtlstest.StartNginx(t, mtlstest.NginxServer{
		CertificateChain: w.tellerTLS.CertificateChain,
		PrivateKey:       w.tellerTLS.PrivateKey,
		ClientCAs:        w.gatewayCA.Root.PEM(),
	})

	wantBody := map[string]string{
		"no client certificate":         "No required SSL certificate was sent",
		"certificate from the wrong CA": "The SSL certificate error",
		"expired certificate":           "The SSL certificate error",
		// OpenSSL checks the sslclient purpose: no clientAuth EKU, no entry
		"ACM certificate without clientAuth": "The SSL certificate error",
	}
	for _, tc := range clientCases {
		t.Run(tc.name, func(t *testing.T) {
			// WHEN a client requests / presenting that certificate (or none)
			client := &http.Client{
				Timeout:   10 * time.Second,
				Transport: &http.Transport{TLSClientConfig: clientConfig(t, w, tc.certs(t, w)), DisableKeepAlives: true},
			}
			resp, err := client.Get("https://" + addr + "/")
			if err != nil {
				t.Fatalf("request failed: %v", err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil && !errors.Is(err, io.EOF) {
				t.Fatal(err)
			}

			// THEN nginx verifies only the exported gateway certificate; it answers the
			// others with 400 and its client-certificate error page
			if tc.ok {
				if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "verified CN="+gatewayName) {
					t.Fatalf("got %d %q, want 200 verified CN=%s", resp.StatusCode, body, gatewayName)
				}
				return
			}
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), wantBody[tc.name]) {
				t.Fatalf("got %d %q, want 400 with %q", resp.StatusCode, body, wantBody[tc.name])
			}
		})
	}
}

func TestEncryptPrivateKeyIsWhatTheStartScriptDecrypts(t *testing.T) {
	// GIVEN a client certificate from AWS Private CA whose key was generated and
	// encrypted here (the gateway's), not exported by ACM
	h := mtlstest.NewHierarchy(t, "ColorGateway", mtlstest.HierarchyOptions{})
	leaf := h.Issue(t, gatewayName, mtlstest.LeafOptions{ClientAuth: true, KeyAlgorithm: mtlstest.ECPrime256v1})
	der, err := x509.MarshalPKCS8PrivateKey(leaf.Key)
	if err != nil {
		t.Fatal(err)
	}
	pass := mtlstest.Passphrase(t)
	enc, err := mtlssecret.EncryptPrivateKey(der, pass)
	if err != nil {
		t.Fatal(err)
	}
	p := &mtlssecret.Payload{
		CertificateArn:      "arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/11111111-2222-3333-4444-555555555555/certificate/0a1b2c3d",
		Certificate:         leaf.PEM(),
		Chain:               h.Chain(),
		EncryptedPrivateKey: enc,
		Passphrase:          pass,
	}
	if err := p.Validate(); err != nil {
		t.Fatalf("payload of an AWS Private CA certificate is refused: %v", err)
	}

	// WHEN the container's start script (openssl pkey) decrypts it
	res, err := mtlstest.RunStartScript(t, p, h.Root.PEM())

	// THEN the key matches the certificate
	if err != nil {
		t.Fatalf("start script: %v", err)
	}
	keyPair(t, res)
	// AND a wrong passphrase is refused before anything is encrypted
	if _, err := mtlssecret.EncryptPrivateKey(der, "short"); err == nil {
		t.Error("a 5-character passphrase was accepted")
	}
}
