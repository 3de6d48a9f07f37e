package mtlssecret

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
)

// PBES2 with PBKDF2-HMAC-SHA256 and AES-256-CBC (RFC 8018), the scheme ACM
// ExportCertificate uses and `openssl pkey -passin` reads.
var (
	oidPBES2      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidHMACSHA256 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidAES256CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
)

// PBKDF2Iterations of EncryptPrivateKey. The passphrase is 64 random letters
// and digits (about 380 bits), so the count adds no strength that matters;
// it is OpenSSL's default order of magnitude.
const PBKDF2Iterations = 10000

type prfAlgorithm struct {
	Algorithm asn1.ObjectIdentifier
	Params    asn1.RawValue
}

type pbkdf2Params struct {
	Salt       []byte
	Iterations int
	PRF        prfAlgorithm
}

type kdfAlgorithm struct {
	Algorithm asn1.ObjectIdentifier
	Params    pbkdf2Params
}

type encryptionScheme struct {
	Algorithm asn1.ObjectIdentifier
	IV        []byte
}

type pbes2Params struct {
	KDF kdfAlgorithm
	Enc encryptionScheme
}

type pbes2Algorithm struct {
	Algorithm asn1.ObjectIdentifier
	Params    pbes2Params
}

type encryptedPrivateKeyInfo struct {
	Algorithm     pbes2Algorithm
	EncryptedData []byte
}

// EncryptPrivateKey encrypts a PKCS #8 PrivateKeyInfo (x509.MarshalPKCS8PrivateKey)
// under passphrase and returns one PEM "ENCRYPTED PRIVATE KEY" block: the
// form ACM ExportCertificate returns, so that the container decrypts a key
// generated here exactly as it decrypts an exported one (StartScript).
func EncryptPrivateKey(pkcs8 []byte, passphrase string) (string, error) {
	if err := ValidatePassphrase(passphrase); err != nil {
		return "", fmt.Errorf("mtlssecret: passphrase: expected %w", err)
	}
	salt := make([]byte, 16)
	iv := make([]byte, aes.BlockSize)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("mtlssecret: salt: %w", err)
	}
	if _, err := rand.Read(iv); err != nil {
		return "", fmt.Errorf("mtlssecret: IV: %w", err)
	}
	key, err := pbkdf2.Key(sha256.New, passphrase, salt, PBKDF2Iterations, 32)
	if err != nil {
		return "", fmt.Errorf("mtlssecret: deriving the key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return "", fmt.Errorf("mtlssecret: %w", err)
	}
	pad := aes.BlockSize - len(pkcs8)%aes.BlockSize
	plain := append(bytes.Clone(pkcs8), bytes.Repeat([]byte{byte(pad)}, pad)...)
	sealed := make([]byte, len(plain))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(sealed, plain)
	der, err := asn1.Marshal(encryptedPrivateKeyInfo{
		Algorithm: pbes2Algorithm{Algorithm: oidPBES2, Params: pbes2Params{
			KDF: kdfAlgorithm{Algorithm: oidPBKDF2, Params: pbkdf2Params{
				Salt: salt, Iterations: PBKDF2Iterations,
				PRF: prfAlgorithm{Algorithm: oidHMACSHA256, Params: asn1.NullRawValue},
			}},
			Enc: encryptionScheme{Algorithm: oidAES256CBC, IV: iv},
		}},
		EncryptedData: sealed,
	})
	if err != nil {
		return "", fmt.Errorf("mtlssecret: encoding the encrypted key: %w", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: PEMEncryptedPrivateKey, Bytes: der})), nil
}
