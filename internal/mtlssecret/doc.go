// Package mtlssecret is the contract between the code that exports an ACM
// private certificate into Secrets Manager (the mtls-cert-export and
// mtls-cert-renew Lambdas) and the container that reads it at start (the
// Envoy tasks of constructs/mtls). Both sides import this package, so the
// field names, the passphrase encoding and the decryption command cannot
// drift apart.
//
// # Secret payload
//
// One secret per endpoint holds one JSON object (see Payload):
//
//	{"certificate_arn": "...", "certificate": "<PEM>", "chain": "<PEM...>",
//	 "encrypted_private_key": "<PEM ENCRYPTED PRIVATE KEY>", "passphrase": "..."}
//
// # Passphrase encoding
//
// The passphrase is the text Secrets Manager GetRandomPassword returns with
// PasswordOptions: PassphraseLength characters of [A-Za-z0-9] only (no
// punctuation, no space), which ACM accepts (it forbids #, $ and %) and a
// shell passes through unquoted. It is stored in the secret as that text.
//
// ExportCertificate receives the bytes of that text, unchanged
// (ExportPassphrase): the SDK base64-encodes the blob on the wire and ACM
// decodes it, so ACM encrypts the key under exactly those bytes. The
// container hands the same text to openssl through the environment
// (`openssl pkey -passin env:MTLS_PASSPHRASE`), which reads it byte for byte.
// No side base64-encodes the passphrase. (The App Mesh walkthrough this
// follows base64-encoded the password before handing it to boto3, so the
// key was really encrypted under the base64 text, and its Envoy start script
// had to base64 it again to match; here both sides use the plain text.)
//
// # Private key
//
// ACM returns the key as PKCS #8 EncryptedPrivateKeyInfo in a PEM block
// "ENCRYPTED PRIVATE KEY" (password-based encryption scheme PBES2). The key
// may be RSA or EC, depending on the certificate's key algorithm, so the
// container decrypts it with `openssl pkey`, not `openssl rsa` (see
// StartScript).
package mtlssecret
