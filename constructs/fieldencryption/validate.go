package fieldencryption

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// keyIDRe is the edge's key id: two digits other than 00 and 10 (a "#10#"
// prefix would read as the suffix). internal/fle.CheckKeyID is the same rule
// on the decrypt side; constructs link no AWS SDK, so it is not imported.
var (
	keyIDRe = regexp.MustCompile(`^(0[1-9]|1[1-9]|[2-9][0-9])$`)
	pathRe  = regexp.MustCompile(`^\$(\.[A-Za-z_][A-Za-z0-9_-]*|\["(?:[^"\\]|\\.)*"\]|\[(\*|[0-9]+)\])+$`)
)

// DefaultKeyID is the key id of the seed's marker "#01#...#10#".
const DefaultKeyID = "01"

// Validate returns every problem of the configuration, one per line, each
// naming its field; nil when it is valid. The edge function checks the same
// rules again at cold start.
func (c *EdgeConfig) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("fieldencryption: %s: %s", field, fmt.Sprintf(format, args...)))
	}
	ids := make([]string, 0, len(c.Keys))
	for id := range c.Keys {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	if len(ids) == 0 {
		bad("Keys", "expected at least the public key of key id %s", DefaultKeyID)
	}
	for _, id := range ids {
		if !keyIDRe.MatchString(id) {
			bad("Keys["+id+"]", "expected a two-digit key id other than 00 and 10")
			continue
		}
		if err := checkPublicKey(c.Keys[id]); err != nil {
			bad("Keys["+id+"]", "%v", err)
		}
	}
	if len(c.Fields) == 0 {
		bad("Fields", "expected at least one field name or path")
	}
	for i, f := range c.Fields {
		where := fmt.Sprintf("Fields[%d]", i)
		switch {
		case (f.Name == "") == (f.Path == ""):
			bad(where, "expected exactly one of Name or Path")
		case f.Path != "" && !pathRe.MatchString(f.Path):
			bad(where+".Path", `expected $ then .name, ["name"], [*] or [N] segments, got %q`, f.Path)
		}
		key := f.Key
		if key == "" {
			key = DefaultKeyID
		}
		if _, ok := c.Keys[key]; !ok && len(ids) > 0 {
			bad(where+".Key", "expected one of %s, got %q", strings.Join(ids, ", "), key)
		}
	}
	for i, m := range c.Methods {
		if m != strings.ToUpper(m) || m == "" || strings.ContainsAny(m, " \t") {
			bad(fmt.Sprintf("Methods[%d]", i), "expected an upper-case HTTP method such as POST, got %q", m)
		}
	}
	for i, ct := range c.ContentTypes {
		if ct != "application/json" && ct != "application/x-www-form-urlencoded" && !strings.HasSuffix(ct, "+json") {
			bad(fmt.Sprintf("ContentTypes[%d]", i), "expected application/json, a +json type or application/x-www-form-urlencoded, got %q", ct)
		}
	}
	return errors.Join(errs...)
}

func checkPublicKey(p string) error {
	block, _ := pem.Decode([]byte(p))
	if block == nil || block.Type != "PUBLIC KEY" {
		return errors.New("expected a PEM PUBLIC KEY (SubjectPublicKeyInfo, as kms GetPublicKey returns)")
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return fmt.Errorf("expected a PEM PUBLIC KEY: %v", err)
	}
	rk, ok := k.(*rsa.PublicKey)
	if !ok || rk.N.BitLen() < 2048 {
		return errors.New("expected an RSA public key of at least 2048 bits (a KMS RSA_2048, RSA_3072 or RSA_4096 ENCRYPT_DECRYPT key)")
	}
	return nil
}
