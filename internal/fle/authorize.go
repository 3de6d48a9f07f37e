package fle

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// MaxAuthorizationLifetime bounds how far in the future an Authorization may
// expire: a token lives minutes, not days.
const MaxAuthorizationLifetime = 5 * time.Minute

// MacAlgorithm is the KMS MAC algorithm of Authorization.Mac.
const MacAlgorithm = "HMAC_SHA_256"

// Authorization proves that the caller of the decrypt function may have
// this body decrypted: Mac is what KMS GenerateMac returned for Message
// under the function's invoke key (HMAC_256), which only the principals the
// key policy and IAM allow kms:GenerateMac may compute. Lambda cannot keep a
// principal of the account that holds lambda:InvokeFunction from invoking
// the function, but it can keep it from getting anything decrypted.
type Authorization struct {
	// Message is AuthorizationMessage's output.
	Message []byte `json:"message"`
	// Mac is GenerateMac's Mac for Message.
	Mac []byte `json:"mac"`
}

type authorizationMessage struct {
	Audience string `json:"aud"`
	Expires  int64  `json:"exp"`
	Sha256   string `json:"sha256"`
}

// AuthorizationMessage is the message a caller has KMS GenerateMac sign for
// one request: the function it is for (audience, the function name), when
// it expires (at most MaxAuthorizationLifetime ahead) and the SHA-256 of the
// format and body, so a token opens one request only.
func AuthorizationMessage(audience string, expires time.Time, format, body string) []byte {
	m, _ := json.Marshal(authorizationMessage{Audience: audience, Expires: expires.Unix(), Sha256: requestDigest(format, body)})
	return m
}

// CheckAuthorizationMessage checks that a message whose MAC KMS verified is
// for this audience, request and time. Errors say which and never quote the
// body.
func CheckAuthorizationMessage(message []byte, audience string, now time.Time, format, body string) error {
	var m authorizationMessage
	if err := json.Unmarshal(message, &m); err != nil {
		return errors.New("authorization: message: expected the JSON of fle.AuthorizationMessage")
	}
	exp := time.Unix(m.Expires, 0)
	switch {
	case m.Audience != audience:
		return fmt.Errorf("authorization: message is for %q, not this function %q", m.Audience, audience)
	case !now.Before(exp):
		return fmt.Errorf("authorization: expired at %s", exp.UTC().Format(time.RFC3339))
	case exp.Sub(now) > MaxAuthorizationLifetime+time.Minute:
		return fmt.Errorf("authorization: expires at %s, more than %s ahead", exp.UTC().Format(time.RFC3339), MaxAuthorizationLifetime)
	case m.Sha256 != requestDigest(format, body):
		return errors.New("authorization: message is for another body or format")
	}
	return nil
}

func requestDigest(format, body string) string {
	sum := sha256.Sum256([]byte(format + "\n" + body))
	return hex.EncodeToString(sum[:])
}
