package mtlstest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/securestacks/securestacks/internal/mtlssecret"
	"github.com/securestacks/securestacks/internal/testenv"
)

// Command returns the path of the Debian command name (searched in PATH, then
// /usr/sbin and /usr/bin). A missing command fails the test, never skips it:
// `make test` installs the packages (scripts/ensure-debs.sh), so a missing
// one is a broken machine, not an optional feature.
func Command(t testing.TB, name, debianPackage string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/usr/bin"} {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	t.Fatalf("mtlstest: %s not found: install the Debian package %s (make test does, through scripts/ensure-debs.sh)", name, debianPackage)
	return ""
}

// StartResult is what the proxy command received from the start script.
type StartResult struct {
	// CertificateChain and PrivateKey are the values of
	// mtlssecret.EnvCertificateChain and mtlssecret.EnvPrivateKey.
	CertificateChain string
	PrivateKey       string
	// LeakedSecrets lists the secret input variables still set in the proxy
	// command's environment (the script must unset them).
	LeakedSecrets []string
}

// RunStartScript runs mtlssecret.StartScript exactly as the proxy container
// does (`sh -c StartScript mtls-start COMMAND...`) with the secret
// environment of payload, peerTrustBundle and extraEnv ("NAME=value").
// Instead of the proxy, the command records what it would have received. It
// returns the script's stderr as the error text when the script fails.
func RunStartScript(t testing.TB, payload *mtlssecret.Payload, peerTrustBundle string, extraEnv ...string) (*StartResult, error) {
	t.Helper()
	Command(t, "openssl", "openssl")
	dir := t.TempDir()
	out := filepath.Join(dir, "env")
	// The "proxy": print the two outputs and any secret input still set,
	// NUL-separated.
	const record = `printf '%s\0%s\0' "$MTLS_CERTIFICATE_CHAIN" "$MTLS_PRIVATE_KEY" > "$1"
for v in MTLS_CERTIFICATE MTLS_CHAIN MTLS_ENCRYPTED_PRIVATE_KEY MTLS_PASSPHRASE; do
  if env | grep -q "^$v="; then printf '%s\0' "$v" >> "$1"; fi
done`
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", mtlssecret.StartScript, "mtls-start", "sh", "-c", record, "proxy", out)
	env := append([]string{"PATH=" + os.Getenv("PATH"), mtlssecret.EnvPeerTrustBundle + "=" + peerTrustBundle}, extraEnv...)
	for name, key := range mtlssecret.SecretEnvironment() {
		env = append(env, name+"="+field(payload, key))
	}
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%w: %s", err, strings.TrimSpace(stderr.String()))
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("mtlstest: the start script did not run the proxy command: %v", err)
	}
	parts := strings.Split(strings.TrimSuffix(string(raw), "\x00"), "\x00")
	if len(parts) < 2 {
		t.Fatalf("mtlstest: unexpected proxy record with %d parts", len(parts))
	}
	return &StartResult{CertificateChain: parts[0], PrivateKey: parts[1], LeakedSecrets: parts[2:]}, nil
}

func field(p *mtlssecret.Payload, key string) string {
	switch key {
	case mtlssecret.KeyCertificate:
		return p.Certificate
	case mtlssecret.KeyChain:
		return p.Chain
	case mtlssecret.KeyEncryptedPrivateKey:
		return p.EncryptedPrivateKey
	case mtlssecret.KeyPassphrase:
		return p.Passphrase
	}
	panic("mtlstest: unknown payload key " + key)
}

// NginxServer is the TLS material of an nginx server that requires client
// certificates.
type NginxServer struct {
	// CertificateChain and PrivateKey are the server's PEM certificate chain
	// and key.
	CertificateChain string
	PrivateKey       string
	// ClientCAs is the PEM bundle client certificates must chain to.
	ClientCAs string
	// VerifyDepth is ssl_verify_depth. Default 2 (end entity, issuing CA,
	// root).
	VerifyDepth int
}

// StartNginx runs nginx (Debian package nginx) in the foreground on a free
// loopback port with `ssl_verify_client on` and returns its address. A
// request with a verified client certificate gets 200 and the body
// "verified <client subject DN>"; nginx answers a missing or unverifiable
// one with 400. The process is killed when the test ends.
func StartNginx(t testing.TB, s NginxServer) string {
	t.Helper()
	bin := Command(t, "nginx", "nginx")
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	depth := s.VerifyDepth
	if depth == 0 {
		depth = 2
	}
	port := testenv.FreePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	conf := fmt.Sprintf(`daemon off;
master_process off;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log info;
events { worker_connections 64; }
http {
  access_log %[1]s/access.log;
  client_body_temp_path %[1]s/client_body;
  proxy_temp_path %[1]s/proxy;
  fastcgi_temp_path %[1]s/fastcgi;
  uwsgi_temp_path %[1]s/uwsgi;
  scgi_temp_path %[1]s/scgi;
  server {
    listen %[2]s ssl;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_certificate %[3]s;
    ssl_certificate_key %[4]s;
    ssl_client_certificate %[5]s;
    ssl_verify_client on;
    ssl_verify_depth %[6]d;
    location / {
      default_type text/plain;
      return 200 "verified $ssl_client_s_dn\n";
    }
  }
}
`, dir, addr, write("server-chain.pem", s.CertificateChain), write("server-key.pem", s.PrivateKey), write("client-cas.pem", s.ClientCAs), depth)
	confPath := write("nginx.conf", conf)
	var stderr bytes.Buffer
	cmd := exec.Command(bin, "-p", dir, "-c", confPath, "-e", filepath.Join(dir, "error.log"))
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("mtlstest: starting nginx: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Fatalf("mtlstest: nginx exited: %v\n%s%s", err, stderr.String(), log)
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return addr
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("mtlstest: nginx did not listen on %s within 10s", addr)
	return ""
}
