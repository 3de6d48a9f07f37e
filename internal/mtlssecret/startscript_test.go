package mtlssecret_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/securestacks/securestacks/internal/mtlssecret"
	"github.com/securestacks/securestacks/internal/mtlssecret/mtlstest"
)

func TestStartScriptDecryptsWhatACMExports(t *testing.T) {
	h := mtlstest.NewHierarchy(t, "ColorGateway", mtlstest.HierarchyOptions{})
	peer := mtlstest.NewHierarchy(t, "ColorTeller", mtlstest.HierarchyOptions{Flat: true})
	cases := []struct {
		name   string
		alg    mtlstest.KeyAlgorithm
		params mtlstest.PBES2Params
	}{
		{"RSA 2048, ACM export parameters", mtlstest.RSA2048, mtlstest.ACMExport},
		{"EC P-256, ACM export parameters", mtlstest.ECPrime256v1, mtlstest.ACMExport},
		{"EC P-384, ACM export parameters", mtlstest.ECSecp384r1, mtlstest.ACMExport},
		{"RSA 2048, AES-256 with the default HMAC-SHA1 PRF", mtlstest.RSA2048, mtlstest.PBES2Params{Cipher: mtlstest.AES256CBC, PRF: mtlstest.HMACSHA1, Iterations: 2048, SaltLen: 8}},
		{"RSA 2048, 3DES with HMAC-SHA256", mtlstest.RSA2048, mtlstest.PBES2Params{Cipher: mtlstest.DESEDE3CBC, PRF: mtlstest.HMACSHA256, Iterations: 2048, SaltLen: 8}},
		{"EC P-256, AES-128 with HMAC-SHA512 and 10000 iterations", mtlstest.ECPrime256v1, mtlstest.PBES2Params{Cipher: mtlstest.AES128CBC, PRF: mtlstest.HMACSHA512, Iterations: 10000, SaltLen: 16}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// GIVEN a certificate exported as ACM does, stored and read back as the secret value
			leaf := h.Issue(t, "colorgateway.mtls.internal", mtlstest.LeafOptions{KeyAlgorithm: tc.alg})
			stored := h.Export(t, leaf, mtlstest.Passphrase(t), tc.params)
			raw, err := stored.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			payload, err := mtlssecret.Parse(raw)
			if err != nil {
				t.Fatal(err)
			}

			// WHEN the container start script runs on it
			got, err := mtlstest.RunStartScript(t, payload, peer.Root.PEM())

			// THEN the proxy receives the certificate chain and the plaintext PKCS #8 key of
			// that certificate, and no secret input is left in its environment
			if err != nil {
				t.Fatalf("start script failed: %v", err)
			}
			pair, err := tls.X509KeyPair([]byte(got.CertificateChain), []byte(got.PrivateKey))
			if err != nil {
				t.Fatalf("outputs are not a key pair: %v", err)
			}
			if len(pair.Certificate) != 3 {
				t.Errorf("chain has %d certificates, want leaf, issuing CA and root", len(pair.Certificate))
			}
			block, _ := pem.Decode([]byte(got.PrivateKey))
			if block == nil || block.Type != "PRIVATE KEY" {
				t.Fatalf("key is not a PEM PRIVATE KEY block")
			}
			if _, err := x509.ParsePKCS8PrivateKey(block.Bytes); err != nil {
				t.Errorf("key is not PKCS #8: %v", err)
			}
			if len(got.LeakedSecrets) != 0 {
				t.Errorf("secret inputs still in the proxy environment: %v", got.LeakedSecrets)
			}
		})
	}
}

func TestStartScriptRefusesBadMaterial(t *testing.T) {
	h := mtlstest.NewHierarchy(t, "ColorGateway", mtlstest.HierarchyOptions{Flat: true})
	leaf := h.Issue(t, "colorgateway.mtls.internal", mtlstest.LeafOptions{KeyAlgorithm: mtlstest.ECPrime256v1})
	other := h.Issue(t, "colorgateway.mtls.internal", mtlstest.LeafOptions{KeyAlgorithm: mtlstest.ECPrime256v1})
	good := h.Export(t, leaf, mtlstest.Passphrase(t), mtlstest.ACMExport)
	bundle := h.Root.PEM()

	cases := []struct {
		name   string
		edit   func(p *mtlssecret.Payload)
		bundle string
		want   string
	}{
		{"another passphrase", func(p *mtlssecret.Payload) { p.Passphrase = mtlstest.Passphrase(t) }, bundle, "cannot decrypt"},
		{"the base64 of the passphrase (the walkthrough's encoding)", func(p *mtlssecret.Payload) {
			p.Passphrase = base64.StdEncoding.EncodeToString([]byte(p.Passphrase))
		}, bundle, "cannot decrypt"},
		{"the key of another certificate", func(p *mtlssecret.Payload) {
			p.EncryptedPrivateKey = h.Export(t, other, p.Passphrase, mtlstest.ACMExport).EncryptedPrivateKey
		}, bundle, "does not belong"},
		{"no peer trust bundle", func(p *mtlssecret.Payload) {}, "", "MTLS_PEER_TRUST_BUNDLE is empty"},
		{"no passphrase", func(p *mtlssecret.Payload) { p.Passphrase = "" }, bundle, "MTLS_PASSPHRASE is empty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// GIVEN secret material that does not fit together
			p := *good
			tc.edit(&p)

			// WHEN the container start script runs on it
			_, err := mtlstest.RunStartScript(t, &p, tc.bundle)

			// THEN it stops before the proxy with one line naming the problem, without secrets
			if err == nil {
				t.Fatal("start script ran the proxy")
			}
			msg := err.Error()
			if !strings.Contains(msg, "mtls-start: ") || !strings.Contains(msg, tc.want) {
				t.Fatalf("error %q does not contain %q", msg, tc.want)
			}
			if strings.Contains(msg, good.Passphrase) || strings.Contains(msg, "PRIVATE KEY-----") {
				t.Fatalf("error leaks secret material: %q", msg)
			}
		})
	}
}

func TestStartScriptWritesFilesForAFileOnlyProxy(t *testing.T) {
	// GIVEN exported material and a key directory, as the App Mesh init container has
	h := mtlstest.NewHierarchy(t, "ColorGateway", mtlstest.HierarchyOptions{Flat: true})
	leaf := h.Issue(t, "colorgateway.mtls.internal", mtlstest.LeafOptions{KeyAlgorithm: mtlstest.ECPrime256v1})
	payload := h.Export(t, leaf, mtlstest.Passphrase(t), mtlstest.ACMExport)
	dir := t.TempDir()

	// WHEN the start script runs with MTLS_KEY_DIR
	got, err := mtlstest.RunStartScript(t, payload, h.Root.PEM(), mtlssecret.EnvKeyDir+"="+dir)

	// THEN the files hold what the environment holds, and only the key is private
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]struct {
		content string
		mode    os.FileMode
	}{
		mtlssecret.FilePrivateKey:       {got.PrivateKey, 0o600},
		mtlssecret.FileCertificateChain: {got.CertificateChain, 0o644},
		mtlssecret.FilePeerTrustBundle:  {h.Root.PEM() + "\n", 0o644},
	} {
		p := filepath.Join(dir, name)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := os.Stat(p)
		if string(b) != want.content || fi.Mode().Perm() != want.mode {
			t.Errorf("%s: mode %v, content match %t", name, fi.Mode().Perm(), string(b) == want.content)
		}
	}
}

func TestTrustBundleScript(t *testing.T) {
	for name, tc := range map[string]struct {
		env  []string
		want string
	}{
		"writes the bundle":    {[]string{mtlssecret.EnvPeerTrustBundle + "=PEM"}, ""},
		"refuses no bundle":    {nil, "MTLS_PEER_TRUST_BUNDLE is empty"},
		"refuses no directory": {[]string{mtlssecret.EnvPeerTrustBundle + "=PEM", mtlssecret.EnvKeyDir + "="}, "MTLS_KEY_DIR is empty"},
	} {
		t.Run(name, func(t *testing.T) {
			// GIVEN the App Mesh backend's init environment
			dir := t.TempDir()
			cmd := exec.Command("sh", "-c", mtlssecret.TrustBundleScript, "mtls-start", "true")
			cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), mtlssecret.EnvKeyDir + "=" + dir}, tc.env...)

			// WHEN the script runs
			out, err := cmd.CombinedOutput()

			// THEN it writes the peer bundle, or fails naming what is missing
			if tc.want != "" {
				if err == nil || !strings.Contains(string(out), tc.want) {
					t.Fatalf("err=%v out=%q, want %q", err, out, tc.want)
				}
				return
			}
			b, rerr := os.ReadFile(filepath.Join(dir, mtlssecret.FilePeerTrustBundle))
			if err != nil || rerr != nil || string(b) != "PEM\n" {
				t.Fatalf("err=%v read=%v content=%q", err, rerr, b)
			}
		})
	}
}
