package mtlssecret

// Environment variables of the proxy container. The four secret ones come
// from the endpoint's secret through ECS `secrets` (one JSON key each, see
// SecretEnvironment); EnvPeerTrustBundle is public and set in the task
// definition. StartScript turns them into EnvCertificateChain and
// EnvPrivateKey, which the proxy configuration reads.
const (
	EnvCertificate         = "MTLS_CERTIFICATE"
	EnvChain               = "MTLS_CHAIN"
	EnvEncryptedPrivateKey = "MTLS_ENCRYPTED_PRIVATE_KEY"
	EnvPassphrase          = "MTLS_PASSPHRASE"
	// EnvPeerTrustBundle holds the CA certificates (PEM) that the peer's
	// certificate must chain to.
	EnvPeerTrustBundle = "MTLS_PEER_TRUST_BUNDLE"

	// EnvCertificateChain is the end-entity certificate followed by its
	// chain, as a TLS server or client presents it.
	EnvCertificateChain = "MTLS_CERTIFICATE_CHAIN"
	// EnvPrivateKey is the decrypted private key, PEM "PRIVATE KEY" (PKCS #8).
	EnvPrivateKey = "MTLS_PRIVATE_KEY"

	// EnvKeyDir, when set, makes the scripts also write their outputs as
	// files (FileCertificateChain, FilePrivateKey, FilePeerTrustBundle) into
	// that directory, for a proxy that reads only files (the App Mesh
	// Envoy). Unset for the Envoy plane, which reads the environment.
	EnvKeyDir = "MTLS_KEY_DIR"
	// EnvKeyOwner, with EnvKeyDir, is the uid[:gid] the files are given to,
	// for a proxy that runs as another user than the script.
	EnvKeyOwner = "MTLS_KEY_OWNER"
)

// Files the scripts write into EnvKeyDir: the private key mode 0600, the
// others 0644.
const (
	FileCertificateChain = "certificate_chain.pem"
	FilePrivateKey       = "private_key.pem"
	FilePeerTrustBundle  = "peer_trust_bundle.pem"
)

// SecretEnvironment maps each secret environment variable of the proxy
// container to the payload key it is read from.
func SecretEnvironment() map[string]string {
	return map[string]string{
		EnvCertificate:         KeyCertificate,
		EnvChain:               KeyChain,
		EnvEncryptedPrivateKey: KeyEncryptedPrivateKey,
		EnvPassphrase:          KeyPassphrase,
	}
}

// StartScript is the POSIX sh program the proxy container runs before the
// proxy, as `sh -c StartScript mtls-start PROXY-COMMAND...`. It needs only
// sh and the openssl command (the official Envoy image has both: its
// ca-certificates package depends on openssl).
//
// It decrypts the key with `openssl pkey -passin env:MTLS_PASSPHRASE`, so
// the passphrase never appears in a process's arguments, and pkey rather
// than rsa reads RSA and EC keys alike. It checks that the key belongs to
// the certificate, exports EnvCertificateChain and EnvPrivateKey, removes the
// encrypted key and the passphrase from the environment, and execs the proxy
// command. The decrypted key lives only in the proxy process's environment:
// it is never written to a file system (Fargate offers no tmpfs mounts).
//
// With EnvKeyDir set, it also writes the chain, the key (mode 0600) and the
// peer trust bundle as files there, owned by EnvKeyOwner when that is set.
//
// Every failure exits non-zero with one "mtls-start: ..." line on stderr that
// names what is wrong and never prints secret material, so ECS stops the
// task instead of starting a proxy without mTLS.
const StartScript = `set -eu
fail() { echo "mtls-start: $*" >&2; exit 1; }
[ -n "${MTLS_CERTIFICATE:-}" ] || fail "MTLS_CERTIFICATE is empty: expected the certificate key of the endpoint secret"
[ -n "${MTLS_CHAIN:-}" ] || fail "MTLS_CHAIN is empty: expected the chain key of the endpoint secret"
[ -n "${MTLS_ENCRYPTED_PRIVATE_KEY:-}" ] || fail "MTLS_ENCRYPTED_PRIVATE_KEY is empty: expected the encrypted_private_key key of the endpoint secret"
[ -n "${MTLS_PASSPHRASE:-}" ] || fail "MTLS_PASSPHRASE is empty: expected the passphrase key of the endpoint secret"
[ -n "${MTLS_PEER_TRUST_BUNDLE:-}" ] || fail "MTLS_PEER_TRUST_BUNDLE is empty: expected the PEM CA certificates of the peer"
[ "$#" -gt 0 ] || fail "no proxy command given after the script name"
nl='
'
key=$(printf '%s\n' "$MTLS_ENCRYPTED_PRIVATE_KEY" | openssl pkey -passin env:MTLS_PASSPHRASE 2>/dev/null) ||
  fail "cannot decrypt MTLS_ENCRYPTED_PRIVATE_KEY with MTLS_PASSPHRASE: expected a PKCS #8 key encrypted under the passphrase of the same secret"
key_pub=$(printf '%s\n' "$key" | openssl pkey -pubout) || fail "cannot read the decrypted private key"
cert_pub=$(printf '%s\n' "$MTLS_CERTIFICATE" | openssl x509 -noout -pubkey) || fail "MTLS_CERTIFICATE: expected a PEM certificate"
[ "$key_pub" = "$cert_pub" ] || fail "the private key does not belong to MTLS_CERTIFICATE: expected both from the same export"
MTLS_PRIVATE_KEY="$key$nl"
MTLS_CERTIFICATE_CHAIN="$MTLS_CERTIFICATE$nl$MTLS_CHAIN$nl"
unset key MTLS_ENCRYPTED_PRIVATE_KEY MTLS_PASSPHRASE MTLS_CERTIFICATE MTLS_CHAIN
if [ -n "${MTLS_KEY_DIR:-}" ]; then
  umask 077
  printf '%s' "$MTLS_PRIVATE_KEY" > "$MTLS_KEY_DIR/private_key.pem" || fail "cannot write to MTLS_KEY_DIR"
  umask 022
  printf '%s' "$MTLS_CERTIFICATE_CHAIN" > "$MTLS_KEY_DIR/certificate_chain.pem" || fail "cannot write to MTLS_KEY_DIR"
  printf '%s\n' "$MTLS_PEER_TRUST_BUNDLE" > "$MTLS_KEY_DIR/peer_trust_bundle.pem" || fail "cannot write to MTLS_KEY_DIR"
  if [ -n "${MTLS_KEY_OWNER:-}" ]; then
    chown "$MTLS_KEY_OWNER" "$MTLS_KEY_DIR/private_key.pem" "$MTLS_KEY_DIR/certificate_chain.pem" "$MTLS_KEY_DIR/peer_trust_bundle.pem" ||
      fail "cannot give the files in MTLS_KEY_DIR to MTLS_KEY_OWNER"
  fi
fi
export MTLS_PRIVATE_KEY MTLS_CERTIFICATE_CHAIN
exec "$@"
`

// TrustBundleScript is StartScript for an endpoint that needs only its
// peer's trust bundle as a file (the App Mesh backend, whose own certificate
// App Mesh takes from ACM): it writes EnvPeerTrustBundle to
// EnvKeyDir/FilePeerTrustBundle and execs its arguments.
const TrustBundleScript = `set -eu
fail() { echo "mtls-start: $*" >&2; exit 1; }
[ -n "${MTLS_PEER_TRUST_BUNDLE:-}" ] || fail "MTLS_PEER_TRUST_BUNDLE is empty: expected the PEM CA certificates of the peer"
[ -n "${MTLS_KEY_DIR:-}" ] || fail "MTLS_KEY_DIR is empty: expected the directory to write the trust bundle to"
umask 022
printf '%s\n' "$MTLS_PEER_TRUST_BUNDLE" > "$MTLS_KEY_DIR/peer_trust_bundle.pem" || fail "cannot write to MTLS_KEY_DIR"
exec "$@"
`
