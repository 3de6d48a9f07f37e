// Package fieldencryption is field-level encryption at the edge, after the AWS
// Security blog post "How to protect sensitive data for its entire lifecycle
// in AWS": a CloudFront distribution whose Lambda@Edge origin-request
// function (Include Body) encrypts chosen JSON or form fields with KMS RSA
// public keys as #<key id>#<base64>#10#, before the protected body reaches an
// origin that stores it. Only principals granted decryption get plaintext.
//
// The edge function is edge/index.js: plain JavaScript with no dependencies
// (Lambda@Edge runs Node.js or Python, not Go), tested under the pinned Node.
package fieldencryption
