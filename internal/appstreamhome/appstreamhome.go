// Package appstreamhome is the layout of AppStream 2.0 home folders in S3, shared by the session
// validator and the audit: a user's folder is "user/<type>/<sha256 of the user id>/", where type
// is custom (streaming URLs and the API), federated (SAML) or userpool.
//
// https://docs.aws.amazon.com/appstream2/latest/developerguide/home-folders.html
package appstreamhome

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// The <type> segments of the layout.
const (
	TypeCustom    = "custom"
	TypeFederated = "federated"
	TypeUserPool  = "userpool"
)

// Folder is a user's folder as parsed from an object key.
type Folder struct {
	// Type is TypeCustom, TypeFederated or TypeUserPool.
	Type string
	// Hash is the folder's user hash, lower case.
	Hash string
	// Rest is the key below the folder, without the leading slash ("" for the folder itself).
	Rest string
}

// Dir is the folder's key prefix, without a trailing slash.
func (f Folder) Dir() string { return "user/" + f.Type + "/" + f.Hash }

// ParseKey returns the user folder an object key is in. ok is false for a key outside the
// layout: not under user/, an unknown type, or a hash that is not 64 hexadecimal digits.
func ParseKey(key string) (f Folder, ok bool) {
	rest, found := strings.CutPrefix(key, "user/")
	if !found {
		return Folder{}, false
	}
	typ, rest, found := strings.Cut(rest, "/")
	if !found || (typ != TypeCustom && typ != TypeFederated && typ != TypeUserPool) {
		return Folder{}, false
	}
	hash, rest, _ := strings.Cut(rest, "/")
	if !isHex64(hash) {
		return Folder{}, false
	}
	return Folder{Type: typ, Hash: strings.ToLower(hash), Rest: rest}, true
}

// UserHash is the folder name AppStream gives a user's home folder: the lower-case hexadecimal
// SHA-256 of the user id, case preserved.
func UserHash(user string) string {
	sum := sha256.Sum256([]byte(user))
	return hex.EncodeToString(sum[:])
}

func isHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
