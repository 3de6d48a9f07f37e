package fle

import (
	"fmt"
	"strings"
)

// ParseMarkerKeys reads "02=<key>,03=<key>": the KMS keys of the marker key
// ids other than DefaultKeyID (whose key is named on its own: the decrypt
// Lambda's KEY_ID, the CLI's --key-id). Each id is checked by CheckKeyID.
// "" is none. The fle-decrypt Lambda reads MARKER_KEYS with it, the CLI
// --marker-keys.
func ParseMarkerKeys(v string) (map[string]string, error) {
	if v == "" {
		return nil, nil
	}
	out := map[string]string{}
	for _, pair := range strings.Split(v, ",") {
		id, key, ok := strings.Cut(pair, "=")
		switch {
		case !ok || key == "":
			return nil, fmt.Errorf("expected id=<KMS key> pairs separated by commas, got %q", pair)
		case id == DefaultKeyID:
			return nil, fmt.Errorf("key id %s is the default key's; name only the other key ids", id)
		case out[id] != "":
			return nil, fmt.Errorf("key id %s named twice", id)
		}
		if err := CheckKeyID(id); err != nil {
			return nil, err
		}
		out[id] = key
	}
	return out, nil
}

// MarkerDecryptFuncs returns the DecryptOptions.Keys for keys (key id to
// KMS key): KMSDecryptFunc of each, with retry.
func MarkerDecryptFuncs(api DecryptAPI, keys map[string]string, retry RetryFunc) map[string]DecryptFunc {
	if len(keys) == 0 {
		return nil
	}
	out := make(map[string]DecryptFunc, len(keys))
	for id, key := range keys {
		out[id] = KMSDecryptFunc(api, key, retry)
	}
	return out
}
