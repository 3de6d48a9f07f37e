package mtlssecret

import "fmt"

// Passphrase rules. PassphraseLength is what the export Lambda asks
// GetRandomPassword for; ValidatePassphrase accepts MinPassphraseLength to
// MaxPassphraseLength so that a payload written by an older version with a
// different length still parses.
const (
	// PassphraseLength is the GetRandomPassword PasswordLength: 64 letters
	// and digits, about 380 bits.
	PassphraseLength = 64
	// MinPassphraseLength is the shortest passphrase a payload may hold.
	MinPassphraseLength = 32
	// MaxPassphraseLength is ACM's limit on ExportCertificate's Passphrase.
	MaxPassphraseLength = 128
)

// GetRandomPassword options that produce a passphrase ValidatePassphrase
// accepts: letters and digits only. ACM forbids #, $ and % in a passphrase,
// and a passphrase without punctuation or spaces survives any shell or
// environment unquoted.
const (
	PasswordExcludePunctuation      = true
	PasswordIncludeSpace            = false
	PasswordRequireEachIncludedType = true
)

// ValidatePassphrase checks that p is MinPassphraseLength to
// MaxPassphraseLength ASCII letters and digits. The message never quotes p.
func ValidatePassphrase(p string) error {
	if len(p) < MinPassphraseLength || len(p) > MaxPassphraseLength {
		return fmt.Errorf("a passphrase of %d to %d letters and digits, got %d characters", MinPassphraseLength, MaxPassphraseLength, len(p))
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return fmt.Errorf("a passphrase of %d to %d letters and digits, got a character other than A-Z, a-z and 0-9 at position %d", MinPassphraseLength, MaxPassphraseLength, i+1)
		}
	}
	return nil
}

// ExportPassphrase returns the bytes to put in ExportCertificateInput's
// Passphrase for the stored passphrase p: the bytes of p itself. The SDK
// base64-encodes a blob on the wire, so encoding it here as well would make
// ACM encrypt the key under the base64 text (the walkthrough's mistake).
func ExportPassphrase(p string) ([]byte, error) {
	if err := ValidatePassphrase(p); err != nil {
		return nil, fmt.Errorf("mtlssecret: passphrase: expected %w", err)
	}
	return []byte(p), nil
}
