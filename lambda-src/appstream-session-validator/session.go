package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/appstream/types"

	"github.com/securestacks/securestacks/internal/appstreamhome"
)

// MaxSessionFileBytes bounds session.json. The session script writes about 200 bytes; anything
// much larger was not written by it, and reading it would only cost memory and time.
const MaxSessionFileBytes = 4096

// SessionFileName and ReplyFileName are the two files of the exchange in a user's home folder:
// the session script writes the first, the validator answers with the second.
const (
	SessionFileName = "session.json"
	ReplyFileName   = "session_url.txt"
)

// Session is session.json as the session script writes it. Only User and SessionID are
// required; the other fields are claims that, when present, must agree with what the validator
// derives itself. Unknown fields are ignored, so the script can add diagnostics.
type Session struct {
	// User is AppStream_UserName: the UserId for streaming URLs and user pools, the SAML NameID
	// for federation.
	User string `json:"user"`
	// SessionID is AppStream_Session_ID.
	SessionID string `json:"sessionId"`
	// StackName is AppStream_Stack_Name. Optional.
	StackName string `json:"stackName,omitempty"`
	// FleetName is AppStream_Resource_Name. Optional.
	FleetName string `json:"fleetName,omitempty"`
	// AuthType is AppStream_User_Access_Mode: custom, saml or userpool. Optional.
	AuthType string `json:"authType,omitempty"`
}

// FieldError is a session.json problem, reported as one line that names the field and what was
// expected, never the value (it came from the user).
type FieldError struct {
	Field    string
	Expected string
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return "session.json: expected " + e.Expected
	}
	return fmt.Sprintf("session.json: field %q: expected %s", e.Field, e.Expected)
}

// ErrTooLarge is returned for a session.json over MaxSessionFileBytes.
var ErrTooLarge = fmt.Errorf("session.json: expected at most %d bytes", MaxSessionFileBytes)

var (
	sessionIDRe = regexp.MustCompile(`^[A-Za-z0-9-]{1,128}$`)
	utf8BOM     = []byte{0xEF, 0xBB, 0xBF}
)

// accessModes maps AppStream_User_Access_Mode to the DescribeSessions authentication type.
var accessModes = map[string]types.AuthenticationType{
	"custom":   types.AuthenticationTypeApi,
	"saml":     types.AuthenticationTypeSaml,
	"userpool": types.AuthenticationTypeUserpool,
}

// ParseSession decodes and checks session.json. It accepts one JSON object, optionally after a
// UTF-8 byte-order mark (PowerShell writes one), and nothing after it.
func ParseSession(b []byte) (Session, error) {
	if len(b) > MaxSessionFileBytes {
		return Session{}, ErrTooLarge
	}
	b = bytes.TrimPrefix(b, utf8BOM)
	if !utf8.Valid(b) {
		return Session{}, &FieldError{Expected: "UTF-8 text"}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	var s Session
	if err := dec.Decode(&s); err != nil {
		if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok && te.Field != "" {
			return Session{}, &FieldError{Field: te.Field, Expected: "a string"}
		}
		return Session{}, &FieldError{Expected: "one JSON object"}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Session{}, &FieldError{Expected: "one JSON object and nothing after it"}
	}
	if err := s.validate(); err != nil {
		return Session{}, err
	}
	return s, nil
}

func (s Session) validate() error {
	switch {
	case s.User == "":
		return &FieldError{Field: "user", Expected: "the AppStream user name (missing)"}
	case len(s.User) > 256 || !printable(s.User):
		return &FieldError{Field: "user", Expected: "at most 256 printable characters"}
	case s.SessionID == "":
		return &FieldError{Field: "sessionId", Expected: "the AppStream session id (missing)"}
	case !sessionIDRe.MatchString(s.SessionID):
		return &FieldError{Field: "sessionId", Expected: "up to 128 letters, digits and dashes"}
	case len(s.StackName) > 128 || !printable(s.StackName):
		return &FieldError{Field: "stackName", Expected: "at most 128 printable characters"}
	case len(s.FleetName) > 128 || !printable(s.FleetName):
		return &FieldError{Field: "fleetName", Expected: "at most 128 printable characters"}
	}
	if s.AuthType != "" {
		if _, ok := accessModes[strings.ToLower(s.AuthType)]; !ok {
			return &FieldError{Field: "authType", Expected: "custom, saml or userpool"}
		}
	}
	return nil
}

// AuthenticationType is the DescribeSessions authentication type the AuthType claim names, or
// "" when there is no claim.
func (s Session) AuthenticationType() types.AuthenticationType {
	return accessModes[strings.ToLower(s.AuthType)]
}

func printable(s string) bool {
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// HomeFolder is a user's folder in the AppStream home-folder bucket, as parsed from an object key
// "user/<type>/<sha256 of the user id>/...".
type HomeFolder struct {
	// Dir is the folder, without a trailing slash, exactly as in the key.
	Dir string
	// Hash is the folder's user hash, lower case.
	Hash string
	// AuthenticationType follows from <type>: custom is a streaming-URL (API) user, federated a
	// SAML user, userpool a user-pool user.
	AuthenticationType types.AuthenticationType
}

// folderTypes maps the <type> segment of the home-folder layout to the authentication type.
var folderTypes = map[string]types.AuthenticationType{
	"custom":    types.AuthenticationTypeApi,
	"federated": types.AuthenticationTypeSaml,
	"userpool":  types.AuthenticationTypeUserpool,
}

var sha256HexRe = regexp.MustCompile(`^[0-9a-fA-F]{64}$`)

// ParseSessionKey checks that key is "user/<type>/<64 hex digits>/<stack>/session.json", the
// only place AppStream syncs the session.json of a session on AppStream stack stack to, and
// returns that folder. The session script writes into a folder named after the stack so that
// several sandboxes share the account's home-folder bucket: each one's notification filters on
// its own suffix, and S3 refuses two notifications whose prefixes and suffixes overlap.
func ParseSessionKey(key, stack string) (HomeFolder, error) {
	parts := strings.Split(key, "/")
	if len(parts) != 5 || parts[0] != "user" || parts[3] != stack || parts[4] != SessionFileName {
		return HomeFolder{}, errors.New("object key: expected user/<type>/<user hash>/" + stack + "/" + SessionFileName)
	}
	at, ok := folderTypes[parts[1]]
	if !ok {
		return HomeFolder{}, errors.New("object key: expected a folder type of custom, federated or userpool")
	}
	if !sha256HexRe.MatchString(parts[2]) {
		return HomeFolder{}, errors.New("object key: expected a 64-digit hexadecimal user hash")
	}
	return HomeFolder{Dir: strings.Join(parts[:3], "/"), Hash: strings.ToLower(parts[2]), AuthenticationType: at}, nil
}

// UserFolderHash is the folder name AppStream gives user's home folder: the lower-case
// hexadecimal SHA-256 of the user id, case preserved. The audit uses the same function.
func UserFolderHash(user string) string { return appstreamhome.UserHash(user) }

// ReplyKey is where the answer to the session.json at key goes: next to it. It is "" when key is
// not a session.json inside a folder, because then no user's folder is known to answer in.
func ReplyKey(key string) string {
	dir, file := path.Split(key)
	if file != SessionFileName || dir == "" || strings.Trim(dir, "/") == "" {
		return ""
	}
	return dir + ReplyFileName
}
