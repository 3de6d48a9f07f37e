package mtlssecret_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/securestacks/securestacks/internal/mtlssecret"
)

func FuzzParse(f *testing.F) {
	p := validPayload(f)
	good, err := json.Marshal(p)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"certificate":"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----"}`))
	f.Add([]byte(`{"passphrase":"` + strings.Repeat("a", 32) + `"}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		// GIVEN any bytes as a secret value
		// WHEN they are parsed
		got, err := mtlssecret.Parse(data)

		// THEN Parse never panics; an error is one line; an accepted payload
		// is valid and survives Marshal and Parse unchanged
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error: %q", err)
			}
			return
		}
		if err := got.Validate(); err != nil {
			t.Fatalf("Parse accepted a payload Validate rejects: %v", err)
		}
		raw, err := got.Marshal()
		if err != nil {
			t.Fatalf("Marshal of a parsed payload: %v", err)
		}
		again, err := mtlssecret.Parse(raw)
		if err != nil || *again != *got {
			t.Fatalf("round trip failed: %v", err)
		}
	})
}
