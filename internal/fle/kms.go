package fle

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// DecryptAPI is the one KMS operation KMSDecryptFunc calls.
type DecryptAPI interface {
	Decrypt(ctx context.Context, in *kms.DecryptInput, optFns ...func(*kms.Options)) (*kms.DecryptOutput, error)
}

var _ DecryptAPI = (*kms.Client)(nil)

// RetryFunc runs op, calling it again on throttling and transient errors
// within bounds of its own, and returns op's last error.
type RetryFunc func(ctx context.Context, op func(ctx context.Context) error) error

// KMSDecryptFunc returns the DecryptFunc that has KMS decrypt each ciphertext
// under keyID with RSAES_OAEP_SHA_256, the algorithm Encryptor and the seed's
// edge function encrypt with. keyID is a key id, key ARN or alias; KMS needs
// it for RSA ciphertexts, and naming it keeps a ciphertext from choosing its
// key. An empty keyID fails every call without calling KMS.
//
// retry runs each Decrypt call: the fle-decrypt Lambda passes
// lambda-src/internal/awsretry.Do with its policy (its SDK client makes one
// attempt per call); the CLI passes nil and relies on the SDK's standard
// retryer. Default (nil): one call per ciphertext.
//
// Errors start with "kms Decrypt: " and wrap the SDK's error, which never
// holds the plaintext.
func KMSDecryptFunc(api DecryptAPI, keyID string, retry RetryFunc) DecryptFunc {
	return func(ctx context.Context, ciphertext []byte) ([]byte, error) {
		if keyID == "" {
			return nil, errors.New("kms Decrypt: key id: expected the KMS key id, key ARN or alias, got none")
		}
		var plaintext []byte
		call := func(ctx context.Context) error {
			out, err := api.Decrypt(ctx, &kms.DecryptInput{
				KeyId:               &keyID,
				CiphertextBlob:      ciphertext,
				EncryptionAlgorithm: types.EncryptionAlgorithmSpecRsaesOaepSha256,
			})
			if err != nil {
				return err
			}
			plaintext = out.Plaintext
			return nil
		}
		var err error
		if retry != nil {
			err = retry(ctx, call)
		} else {
			err = call(ctx)
		}
		if err != nil {
			return nil, fmt.Errorf("kms Decrypt: %w", err)
		}
		return plaintext, nil
	}
}
