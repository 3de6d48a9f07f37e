package fle_test

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/securestacks/securestacks/internal/fle"
)

// pythonFinditer is an independent model of re.finditer("#01#(.*?)#10#"):
// try each start left to right; from a prefix, the first suffix closes the
// marker unless a newline comes first; after a match resume at its end.
func pythonFinditer(text []byte) [][2]int {
	var out [][2]int
	for i := 0; i+len(fle.Prefix) <= len(text); {
		if !bytes.HasPrefix(text[i:], []byte(fle.Prefix)) {
			i++
			continue
		}
		matched := false
		for j := i + len(fle.Prefix); j+len(fle.Suffix) <= len(text); j++ {
			if bytes.HasPrefix(text[j:], []byte(fle.Suffix)) {
				out = append(out, [2]int{i, j + len(fle.Suffix)})
				i, matched = j+len(fle.Suffix), true
				break
			}
			if text[j] == '\n' {
				break
			}
		}
		if !matched {
			i++
		}
	}
	return out
}

func FuzzFindMarkers(f *testing.F) {
	for _, s := range []string{
		`{"a": "#01#QUJD#10#"}`, "#01##01#QUJD#10#", "#01#A\n#10##01#B#10#", "#01#10#", "#01##10##10#",
		"##01#01#10#10##", "#01#\xff\xfe#10#", "",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		// GIVEN any text WHEN markers are found
		got := fle.FindMarkers(text)
		// THEN they are exactly those Python's non-greedy regex finds
		want := pythonFinditer(text)
		if len(got) != len(want) {
			t.Fatalf("%q: %d markers, Python finds %d", text, len(got), len(want))
		}
		for i, m := range got {
			if [2]int{m.Start, m.End} != want[i] || string(text[m.Start:m.End]) != fle.Prefix+m.Ciphertext+fle.Suffix {
				t.Fatalf("%q: marker %d at %d..%d, Python %v", text, i, m.Start, m.End, want[i])
			}
		}
		// AND Decrypt never panics on it and never returns text with an error
		out, err := fle.Decrypt(context.Background(), text, localDecrypt(priv2048), nil)
		if (out == nil) == (err == nil) && len(text) > 0 {
			t.Fatalf("out %q with error %v", out, err)
		}
		if len(got) == 0 && !bytes.Equal(out, text) {
			t.Fatalf("text without markers changed: %q", out)
		}
	})
}

func FuzzEncryptJSON(f *testing.F) {
	f.Add([]byte(seedPayload), "ssn")
	f.Add([]byte(`{"a": {"b": [{"c": "d"}, "e"]}, "c": ["x", null, "y"]}`), "c")
	f.Add([]byte(`"top-level string"`), "a")
	f.Add([]byte(`{"a": "quote \" backslash \\ tab \t unicode \u00e9 \ud83d\ude00"}`), "a")
	f.Add([]byte(`{"a": "#01#QUJD#10#"}`), "b")
	f.Add([]byte(`[1, 2.50, true, null, {"a": 1e3}]`), "a")
	e := encryptor(f, priv2048)
	f.Fuzz(func(t *testing.T, body []byte, field string) {
		// GIVEN any body and field name WHEN the field is encrypted
		out, err := e.EncryptJSON(body, []string{field})
		if err != nil {
			return // refusing is fine; a panic is not
		}
		// THEN the result is JSON
		if !json.Valid(out) {
			t.Fatalf("invalid JSON out of %q: %q", body, out)
		}
		// AND markers already in the input would make the round trip ambiguous: skip those
		if len(fle.FindMarkers(body)) > 0 {
			return
		}
		// AND decrypting restores the same JSON value
		back, err := fle.Decrypt(context.Background(), out, localDecrypt(priv2048), &fle.DecryptOptions{Substitution: fle.JSONString})
		if err != nil {
			t.Fatalf("decrypt: %v", err)
		}
		var want, got any
		_ = json.Unmarshal(body, &want)
		if err := json.Unmarshal(back, &got); err != nil || !reflect.DeepEqual(want, got) {
			t.Fatalf("round trip of %q via %q gave %q (%v)", body, out, back, err)
		}
	})
}
