package pcaimport_test

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/securestacks/securestacks/internal/mtlssecret/mtlstest"
	"github.com/securestacks/securestacks/internal/pcaimport"
	"github.com/securestacks/securestacks/internal/pcaimport/pcaimporttest"
)

const (
	gatewayName = "colorgateway.mtls.internal"
	tellerName  = "colorteller.mtls.internal"
)

// importedSubordinate is one endpoint's subordinate after the post's flow: the CSR AWS
// Private CA makes, the openssl root's signature with ext.conf, the local checks of
// securestacks pca import; then the CA issues as AWS Private CA would.
func importedSubordinate(t *testing.T, root *pcaimporttest.Root, name string, alg mtlstest.KeyAlgorithm) *mtlstest.Hierarchy {
	t.Helper()
	sub := pcaimporttest.NewSubordinate(t, pkix.Name{Organization: []string{"Example Corp"}, CommonName: name + " Issuing CA"}, alg)
	cert := root.Sign(t, sub.CsrPEM, pcaimporttest.PostExtensions, 3650)
	if _, err := pcaimport.Check(pcaimport.Input{Csr: sub.CsrPEM, Certificate: cert, Chain: root.PEM(t), MinValidityDays: minDays, WarnValidityDays: warnDays}); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return sub.Hierarchy(t, root, cert)
}

// startTLS is what the endpoint's container gets: the exported certificate as the export
// Lambda stores it, through the start script, with the external root as trust bundle.
func startTLS(t *testing.T, h *mtlstest.Hierarchy, leaf *mtlstest.Leaf, trust string) (*mtlstest.StartResult, tls.Certificate) {
	t.Helper()
	res, err := mtlstest.RunStartScript(t, h.Stored(t, leaf), trust)
	if err != nil {
		t.Fatalf("start script: %v", err)
	}
	c, err := tls.X509KeyPair([]byte(res.CertificateChain), []byte(res.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	return res, c
}

func TestMutualTLSUnderTheExternalRoot(t *testing.T) {
	// GIVEN the post's openssl root, one imported subordinate per endpoint under it, the
	// gateway's client certificate (AWS Private CA's clientAuth template) and the teller's
	// ACM certificate, as each container gets them; and a client of another external root
	root := pcaimporttest.NewRoot(t, "Example Root CA", pcaimporttest.RootOptions{})
	rootPEM := string(root.PEM(t))
	gatewayCA := importedSubordinate(t, root, "colorgateway", mtlstest.RSA2048)
	tellerCA := importedSubordinate(t, root, "colorteller", mtlstest.ECPrime256v1)
	_, gateway := startTLS(t, gatewayCA, gatewayCA.Issue(t, gatewayName, mtlstest.LeafOptions{ClientAuth: true}), rootPEM)
	tellerStart, teller := startTLS(t, tellerCA, tellerCA.Issue(t, tellerName, mtlstest.LeafOptions{KeyAlgorithm: mtlstest.ECPrime256v1}), rootPEM)
	otherRoot := pcaimporttest.NewRoot(t, "Other Root CA", pcaimporttest.RootOptions{})
	otherCA := importedSubordinate(t, otherRoot, "rogue", mtlstest.RSA2048)
	_, rogue := startTLS(t, otherCA, otherCA.Issue(t, gatewayName, mtlstest.LeafOptions{ClientAuth: true}), string(otherRoot.PEM(t)))

	// The gateway's chain is leaf, its subordinate, and ends in the external root.
	if n := len(gateway.Certificate); n != 3 {
		t.Fatalf("gateway presents %d certificates, want leaf, subordinate, root", n)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM([]byte(rootPEM))

	// AND Debian nginx serving the teller, verifying clients against the external root
	// (leaf, subordinate, root: depth 2)
	addr := mtlstest.StartNginx(t, mtlstest.NginxServer{
		CertificateChain: tellerStart.CertificateChain, PrivateKey: tellerStart.PrivateKey, ClientCAs: rootPEM,
	})

	cases := []struct {
		name   string
		client *tls.Certificate
		status int
		body   string
	}{
		{"the gateway", &gateway, http.StatusOK, "verified CN=" + gatewayName},
		{"a client of another external root", &rogue, http.StatusBadRequest, "The SSL certificate error"},
		{"no client certificate", nil, http.StatusBadRequest, "No required SSL certificate was sent"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// WHEN the client, trusting only the external root, requests / from the teller
			cfg := &tls.Config{RootCAs: pool, ServerName: tellerName, MinVersion: tls.VersionTLS12}
			if tc.client != nil {
				c := tc.client
				cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return c, nil }
			}
			client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true}}
			resp, err := client.Get("https://" + addr + "/")

			// THEN the handshake verifies the teller's chain up to the external root, and
			// nginx verifies the gateway's chain to it too; the others get 400
			if err != nil {
				t.Fatalf("request failed: %v", err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status || !strings.Contains(string(body), tc.body) {
				t.Fatalf("got %d %q, want %d with %q", resp.StatusCode, body, tc.status, tc.body)
			}
		})
	}

	t.Run("Go on both ends", func(t *testing.T) {
		// WHEN a Go server with the teller's material requires a client certificate of the
		// external root and the gateway connects
		l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{teller}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool, MinVersion: tls.VersionTLS12})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		done := make(chan string, 1)
		go func() {
			c, err := l.Accept()
			if err != nil {
				done <- err.Error()
				return
			}
			defer c.Close()
			tc := c.(*tls.Conn)
			_ = tc.SetDeadline(time.Now().Add(10 * time.Second))
			if err := tc.Handshake(); err != nil {
				done <- err.Error()
				return
			}
			chain := tc.ConnectionState().VerifiedChains[0]
			done <- chain[0].Subject.CommonName + " <- " + chain[len(chain)-1].Subject.CommonName
		}()
		conn, err := tls.Dial("tcp", l.Addr().String(), &tls.Config{RootCAs: pool, ServerName: tellerName, Certificates: []tls.Certificate{gateway}, MinVersion: tls.VersionTLS12})
		if err != nil {
			t.Fatalf("handshake: %v", err)
		}
		server := conn.ConnectionState().VerifiedChains[0]
		conn.Close()
		// THEN each side verified the other's chain up to the external root
		if got, want := <-done, gatewayName+" <- Example Root CA"; got != want {
			t.Errorf("server verified %q, want %q", got, want)
		}
		if got := server[len(server)-1].Subject.CommonName; got != "Example Root CA" || len(server) != 3 {
			t.Errorf("client verified a chain of %d ending in %q", len(server), got)
		}
	})
}
