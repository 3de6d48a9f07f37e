package mtlstest

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"hash"

	"github.com/securestacks/securestacks/internal/mtlssecret"
)

// Cipher is a PBES2 encryption scheme.
type Cipher string

// PRF is a PBKDF2 pseudo-random function.
type PRF string

// The PBES2 schemes and PBKDF2 functions EncryptPKCS8PEM supports.
const (
	AES256CBC  Cipher = "aes-256-cbc"
	AES128CBC  Cipher = "aes-128-cbc"
	DESEDE3CBC Cipher = "des-ede3-cbc"

	HMACSHA256 PRF = "hmacWithSHA256"
	HMACSHA512 PRF = "hmacWithSHA512"
	// HMACSHA1 is PBKDF2's DEFAULT PRF: DER leaves it out of the parameters.
	HMACSHA1 PRF = "hmacWithSHA1"
)

// PBES2Params selects how EncryptPKCS8PEM encrypts.
//
// ACM documents the format of the exported key (PKCS #8, PEM "ENCRYPTED
// PRIVATE KEY") but not its PBES2 parameters, so tests run the decryption
// over several combinations. ACMExport is the one AWS-compatible emulators
// produce and OpenSSL 3 itself writes by default.
type PBES2Params struct {
	Cipher     Cipher
	PRF        PRF
	Iterations int
	SaltLen    int
}

// ACMExport are the PBES2 parameters of ExportCertificate as far as public
// material shows: PBKDF2 with HMAC-SHA256 and AES-256-CBC.
var ACMExport = PBES2Params{Cipher: AES256CBC, PRF: HMACSHA256, Iterations: 2048, SaltLen: 16}

var (
	oidPBES2      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidHMACSHA256 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidHMACSHA512 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 11}
	oidAES128CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	oidAES256CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
	oidDESEDE3CBC = asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 7}
)

type algorithmIdentifier struct {
	Algorithm  asn1.ObjectIdentifier
	Parameters asn1.RawValue `asn1:"optional"`
}

// pbkdf2Params omits prf: DER requires leaving out the DEFAULT hmacWithSHA1.
type pbkdf2Params struct {
	Salt       []byte
	Iterations int
}

type pbkdf2ParamsWithPRF struct {
	Salt       []byte
	Iterations int
	PRF        algorithmIdentifier
}

type pbes2Params struct {
	KeyDerivationFunc algorithmIdentifier
	EncryptionScheme  algorithmIdentifier
}

type encryptedPrivateKeyInfo struct {
	EncryptionAlgorithm algorithmIdentifier
	EncryptedData       []byte
}

// EncryptPKCS8PEM encodes key as PKCS #8, encrypts it with PBES2 (RFC 8018)
// under passphrase and returns the PEM "ENCRYPTED PRIVATE KEY" block.
func EncryptPKCS8PEM(key any, passphrase []byte, p PBES2Params) (string, error) {
	plain, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", fmt.Errorf("mtlstest: %w", err)
	}
	var (
		newBlock func([]byte) (cipher.Block, error)
		keyLen   int
		encOID   asn1.ObjectIdentifier
	)
	switch p.Cipher {
	case AES256CBC:
		newBlock, keyLen, encOID = aes.NewCipher, 32, oidAES256CBC
	case AES128CBC:
		newBlock, keyLen, encOID = aes.NewCipher, 16, oidAES128CBC
	case DESEDE3CBC:
		newBlock, keyLen, encOID = des.NewTripleDESCipher, 24, oidDESEDE3CBC
	default:
		return "", fmt.Errorf("mtlstest: unknown cipher %q", p.Cipher)
	}
	var (
		h      func() hash.Hash
		prfOID asn1.ObjectIdentifier
	)
	switch p.PRF {
	case HMACSHA1:
		h = sha1.New
	case HMACSHA256:
		h, prfOID = sha256.New, oidHMACSHA256
	case HMACSHA512:
		h, prfOID = sha512.New, oidHMACSHA512
	default:
		return "", fmt.Errorf("mtlstest: unknown PRF %q", p.PRF)
	}
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	dk, err := pbkdf2.Key(h, string(passphrase), salt, p.Iterations, keyLen)
	if err != nil {
		return "", fmt.Errorf("mtlstest: %w", err)
	}
	block, err := newBlock(dk)
	if err != nil {
		return "", err
	}
	iv := make([]byte, block.BlockSize())
	if _, err := rand.Read(iv); err != nil {
		return "", err
	}
	pad := block.BlockSize() - len(plain)%block.BlockSize()
	padded := append(append([]byte(nil), plain...), bytes.Repeat([]byte{byte(pad)}, pad)...)
	ct := make([]byte, len(padded))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(ct, padded)

	var kdfParams []byte
	if prfOID == nil {
		kdfParams, err = asn1.Marshal(pbkdf2Params{Salt: salt, Iterations: p.Iterations})
	} else {
		kdfParams, err = asn1.Marshal(pbkdf2ParamsWithPRF{Salt: salt, Iterations: p.Iterations,
			PRF: algorithmIdentifier{Algorithm: prfOID, Parameters: asn1.NullRawValue}})
	}
	if err != nil {
		return "", err
	}
	ivDER, err := asn1.Marshal(iv)
	if err != nil {
		return "", err
	}
	schemeDER, err := asn1.Marshal(pbes2Params{
		KeyDerivationFunc: algorithmIdentifier{Algorithm: oidPBKDF2, Parameters: asn1.RawValue{FullBytes: kdfParams}},
		EncryptionScheme:  algorithmIdentifier{Algorithm: encOID, Parameters: asn1.RawValue{FullBytes: ivDER}},
	})
	if err != nil {
		return "", err
	}
	der, err := asn1.Marshal(encryptedPrivateKeyInfo{
		EncryptionAlgorithm: algorithmIdentifier{Algorithm: oidPBES2, Parameters: asn1.RawValue{FullBytes: schemeDER}},
		EncryptedData:       ct,
	})
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: mtlssecret.PEMEncryptedPrivateKey, Bytes: der})), nil
}
