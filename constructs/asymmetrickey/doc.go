// Package asymmetrickey provides KMS asymmetric keys with least-privilege
// roles and public-key publication, after the AWS Security blog posts "How to
// verify AWS KMS asymmetric key signatures locally with OpenSSL" and "How to
// protect sensitive data for its entire lifecycle in AWS":
//
//   - SigningKey: a SIGN_VERIFY key, a SignerRole that may only sign and an
//     OfflineVerifierRole that may only download the public key.
//   - EncryptionKey: an RSA ENCRYPT_DECRYPT key for field-level encryption,
//     an EncryptorRole that may only download the public key, a DecryptorRole
//     and a decrypt Lambda that may only decrypt with RSAES_OAEP_SHA_256.
//   - Publication: a custom resource that copies a key's public half to S3
//     (DER and PEM) and SSM (PEM), for verifiers and encrypting clients
//     without any KMS permission.
//
// Invalid props panic with a one-line message prefixed "asymmetrickey:".
package asymmetrickey
