package fle_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/securestacks/securestacks/internal/fle"
)

var priv2048 = mustKey(2048)

func mustKey(bits int) *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		panic(err)
	}
	return k
}

// localDecrypt stands in for KMS Decrypt with RSAES_OAEP_SHA_256.
func localDecrypt(priv *rsa.PrivateKey) fle.DecryptFunc {
	return func(_ context.Context, ct []byte) ([]byte, error) {
		return rsa.DecryptOAEP(sha256.New(), nil, priv, ct, nil)
	}
}

func encryptor(t testing.TB, priv *rsa.PrivateKey) *fle.Encryptor {
	t.Helper()
	e, err := fle.NewEncryptor(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("not JSON: %v: %s", err, a)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("not JSON: %v: %s", err, b)
	}
	return reflect.DeepEqual(x, y)
}

// seedPayload is the post's example: a top-level list of people.
const seedPayload = `[{"fname": "Alejandro", "lname": "Rosalez", "email": "alejandro@example.com", "ssn": "123-45-6789", "dob": "1980-01-01", "phone": "+1-555-0100", "city": "Seattle"},
 {"fname": "Mary", "lname": "Major", "email": "mary@example.com", "ssn": "987-65-4321", "dob": "1985-05-05", "phone": "+1-555-0199", "city": "Austin"}]`

var seedFields = []string{"fname", "lname", "email", "ssn", "dob", "phone"}

func TestEncryptJSONEncryptsTheSeedPayloadAndKeepsTheRest(t *testing.T) {
	// GIVEN the seed's list of people and its six sensitive field names
	e := encryptor(t, priv2048)
	// WHEN the fields are encrypted
	out, err := e.EncryptJSON([]byte(seedPayload), seedFields)
	if err != nil {
		t.Fatal(err)
	}
	// THEN every sensitive value is one marker and no plaintext is left
	var people []map[string]string
	if err := json.Unmarshal(out, &people); err != nil {
		t.Fatalf("output is not the same JSON shape: %v", err)
	}
	for _, p := range people {
		for _, f := range seedFields {
			v := p[f]
			if !strings.HasPrefix(v, fle.Prefix) || !strings.HasSuffix(v, fle.Suffix) || len(fle.FindMarkers([]byte(v))) != 1 {
				t.Errorf("%s = %q, want one marker", f, v)
			}
			ct, err := base64.StdEncoding.DecodeString(strings.TrimSuffix(strings.TrimPrefix(v, fle.Prefix), fle.Suffix))
			if err != nil || len(ct) != 256 {
				t.Errorf("%s: ciphertext is %d bytes (%v), want one RSA-2048 block", f, len(ct), err)
			}
		}
	}
	for _, secret := range []string{"Alejandro", "Rosalez", "123-45-6789", "mary@example.com"} {
		if bytes.Contains(out, []byte(secret)) {
			t.Errorf("plaintext %q survived encryption", secret)
		}
	}
	// AND fields not chosen are untouched, byte for byte, in place
	if !bytes.Contains(out, []byte(`, "city": "Seattle"},`+"\n"+` {"fname": "#01#`)) {
		t.Errorf("layout around unchosen fields changed:\n%s", out)
	}
	// WHEN decrypted with the private key (as KMS would), as raw text and as JSON
	for _, sub := range []fle.Substitution{fle.Raw, fle.JSONString} {
		plain, err := fle.Decrypt(context.Background(), out, localDecrypt(priv2048), &fle.DecryptOptions{Substitution: sub})
		if err != nil {
			t.Fatal(err)
		}
		// THEN the original document comes back exactly
		if string(plain) != seedPayload {
			t.Errorf("substitution %d: round trip differs:\n%s", sub, plain)
		}
	}
}

func TestEncryptJSONFindsFieldsAtAnyDepth(t *testing.T) {
	body := `{"order": {"id": 7, "customer": {"email": "a@example.com", "tags": ["x"]},
	  "contacts": [{"email": "b@example.com"}, {"email": null}, {"other": {"email": "c@example.com"}}],
	  "phones": ["+44 20 7946 0000", "+44 20 7946 0001"], "note": "say \"hi\" \\ ünïcödé"},
	  "email": "top@example.com", "weird.key": "w", "count": 1.50}`
	e := encryptor(t, priv2048)
	// GIVEN fields nested in objects, in arrays of objects, as lists of strings, with escapes
	out, err := e.EncryptJSON([]byte(body), []string{"email", "phones", "note", "weird.key"})
	if err != nil {
		t.Fatal(err)
	}
	// THEN 8 values are encrypted (null stays null) and unchosen values keep their formatting
	if n := len(fle.FindMarkers(out)); n != 8 {
		t.Errorf("%d markers, want 8:\n%s", n, out)
	}
	for _, kept := range []string{`"id": 7`, `"tags": ["x"]`, `{"email": null}`, `"count": 1.50`} {
		if !bytes.Contains(out, []byte(kept)) {
			t.Errorf("lost %s:\n%s", kept, out)
		}
	}
	// AND JSON-string decryption restores the document, quotes and backslashes included
	plain, err := fle.Decrypt(context.Background(), out, localDecrypt(priv2048), &fle.DecryptOptions{Substitution: fle.JSONString})
	if err != nil {
		t.Fatal(err)
	}
	if !jsonEqual(t, plain, []byte(body)) {
		t.Errorf("round trip differs:\n%s", plain)
	}
	// AND raw substitution, the seed's, puts the bare plaintext in place (which breaks JSON on a quote)
	raw, err := fle.Decrypt(context.Background(), out, localDecrypt(priv2048), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(raw, []byte(`"note": "say "hi" \ ünïcödé"`)) {
		t.Errorf("raw substitution:\n%s", raw)
	}
}

func TestEncryptJSONRefusesWhatItCannotEncryptFaithfully(t *testing.T) {
	e := encryptor(t, priv2048)
	cases := []struct {
		name   string
		body   string
		fields []string
		path   string
		want   string
	}{
		{"190 bytes is the RSA-2048 limit", `[{"ok": "` + strings.Repeat("a", 190) + `"}, {"notes": "` + strings.Repeat("a", 191) + `"}]`, []string{"ok", "notes"},
			"$[1].notes", "value too long for RSA-OAEP: 191 bytes, RSA-2048 with OAEP SHA-256 holds at most 190"},
		{"multi-byte runes count as bytes", `{"name": "` + strings.Repeat("é", 96) + `"}`, []string{"name"}, "$.name", "192 bytes"},
		{"a number", `{"a": [{"ssn": 123456789}]}`, []string{"ssn"}, "$.a[0].ssn", "expected a string or a list of strings, got a number"},
		{"a bool", `{"x y": true}`, []string{"x y"}, `$["x y"]`, "got true or false"},
		{"an object", `{"addr": {"city": "x"}}`, []string{"addr"}, "$.addr", "got an object"},
		{"a list holding a number", `{"phones": ["1", 2]}`, []string{"phones"}, "$.phones[1]", "got a number"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// GIVEN a chosen field that cannot be encrypted as a string
			// WHEN encrypting
			out, err := e.EncryptJSON([]byte(tc.body), tc.fields)
			// THEN nothing is returned and the error names the field
			var fe *fle.FieldError
			if out != nil || !errors.As(err, &fe) || fe.Path != tc.path || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %q, %v; want a FieldError at %s containing %q", out, err, tc.path, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "fle: field "+tc.path+": ") {
				t.Errorf("error %q", err)
			}
		})
	}
	// AND the limit is exactly 190 bytes: the first case encrypted $[0].ok before failing
	if _, err := e.EncryptValue(bytes.Repeat([]byte("a"), 190)); err != nil {
		t.Errorf("190 bytes: %v", err)
	}
	if _, err := e.EncryptValue(bytes.Repeat([]byte("a"), 191)); !errors.Is(err, fle.ErrTooLong) {
		t.Errorf("191 bytes: %v, want ErrTooLong", err)
	}
}

func TestEncryptJSONRejectsBadInput(t *testing.T) {
	e := encryptor(t, priv2048)
	for _, tc := range []struct {
		body   string
		fields []string
		want   string
	}{
		{`{"a": "b"`, []string{"a"}, "fle: body: expected one JSON value"},
		{`{"a": "b"} {"a": "c"}`, []string{"a"}, "fle: body: expected one JSON value"},
		{``, []string{"a"}, "fle: body: expected one JSON value"},
		{`{"a": "b"}`, nil, "fle: fields: expected at least one field name"},
	} {
		// GIVEN a body that is not one JSON value, or no fields WHEN encrypting THEN one line says so
		_, err := e.EncryptJSON([]byte(tc.body), tc.fields)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("EncryptJSON(%q): %v, want %q", tc.body, err, tc.want)
		}
	}
	// GIVEN a body with invalid UTF-8 in a chosen string THEN it is refused, not mangled
	if _, err := e.EncryptJSON([]byte("{\"a\": \"\xff\"}"), []string{"a"}); err == nil || !strings.Contains(err.Error(), "expected UTF-8") {
		t.Errorf("invalid UTF-8: %v", err)
	}
	// GIVEN a JSON document without any chosen field THEN it comes back unchanged
	body := `{"a": 1, "b": ["c"]}`
	if out, err := e.EncryptJSON([]byte(body), []string{"z"}); err != nil || string(out) != body {
		t.Errorf("no chosen field: %s, %v", out, err)
	}
}

func TestNewEncryptorNeedsAKMSSizedRSAKey(t *testing.T) {
	// GIVEN keys below KMS's smallest RSA size, or none WHEN making an Encryptor THEN it is refused
	if _, err := fle.NewEncryptor(&mustKey(1024).PublicKey); err == nil || !strings.Contains(err.Error(), "at least 2048 bits, got 1024") {
		t.Errorf("1024-bit key: %v", err)
	}
	if _, err := fle.NewEncryptor(nil); err == nil {
		t.Error("nil key: no error")
	}
	// AND the plaintext limits follow the key size
	for bits, want := range map[int]int{2048: 190, 3072: 318, 4096: 446} {
		k := &rsa.PublicKey{N: new(big.Int).Lsh(big.NewInt(1), uint(bits-1)), E: 65537}
		if got := fle.MaxPlaintext(k); got != want {
			t.Errorf("RSA-%d: MaxPlaintext %d, want %d", bits, got, want)
		}
	}
}

func TestFindMarkersMatchesLikeTheSeedsRegex(t *testing.T) {
	cases := []struct {
		text string
		want []string // the ciphertext parts
	}{
		{`{"a": "#01#QUJD#10#", "b": "#01#REVG#10#"}`, []string{"QUJD", "REVG"}},
		{"no markers here", nil},
		{"#01#A#10##10#", []string{"A"}},              // non-greedy: the first suffix closes
		{"#01##01#QUJD#10#", []string{"#01#QUJD"}},    // leftmost start wins, as in Python
		{"#01#AB\nCD#10# #01#EF#10#", []string{"EF"}}, // never across a newline
		{"#01#AB\r#10#", []string{"AB\r"}},            // only \n stops '.'
		{"#01##10#", []string{""}},
		{"#01#10#", nil},
		{"x#01#QQ==#10#y#01#Qg==#10#z", []string{"QQ==", "Qg=="}},
	}
	for _, tc := range cases {
		// GIVEN text WHEN markers are found THEN they match what re.finditer finds
		var got []string
		for _, m := range fle.FindMarkers([]byte(tc.text)) {
			if tc.text[m.Start:m.End] != fle.Prefix+m.Ciphertext+fle.Suffix {
				t.Errorf("%q: offsets %d..%d do not bracket %q", tc.text, m.Start, m.End, m.Ciphertext)
			}
			got = append(got, m.Ciphertext)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("FindMarkers(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

func TestDecryptReturnsNothingWhenAnyMarkerFails(t *testing.T) {
	e := encryptor(t, priv2048)
	good := func() string {
		m, err := e.EncryptValue([]byte("secret"))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	other := encryptor(t, mustKey(2048))
	wrongKey, _ := other.EncryptValue([]byte("secret"))
	cases := []struct {
		name      string
		text      string
		ordinal   int
		bad       string // the failing marker, whose offset the error must give
		want      string
		kmsCalled bool
	}{
		{"bad base64", "a " + good() + " b #01#not*base64#10#", 2, "#01#not*", "expected base64", false},
		{"empty ciphertext", "#01##10# " + good(), 1, "#01##10#", "expected a ciphertext, got none", false},
		{"wrong key", good() + " " + wrongKey + " " + good(), 2, wrongKey, "decrypt: crypto/rsa: decryption error", true},
		{"not RSA at all", good() + " #01#QUJD#10#", 2, "#01#QUJD", "decrypt:", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// GIVEN a text with one marker that cannot decrypt
			var calls atomic.Int32
			dec := func(ctx context.Context, ct []byte) ([]byte, error) {
				calls.Add(1)
				return localDecrypt(priv2048)(ctx, ct)
			}
			// WHEN it is decrypted
			out, err := fle.Decrypt(context.Background(), []byte(tc.text), dec, nil)
			// THEN no text comes back and the error names the marker by ordinal and offset
			var me *fle.MarkerError
			if out != nil || !errors.As(err, &me) || me.Ordinal != tc.ordinal || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %q, %v; want marker %d: %q", out, err, tc.ordinal, tc.want)
			}
			if want := strings.Index(tc.text, tc.bad); me.Offset != want {
				t.Errorf("offset %d, want %d", me.Offset, want)
			}
			// AND a base64 defect is found before KMS is asked anything
			if (calls.Load() > 0) != tc.kmsCalled {
				t.Errorf("%d KMS calls", calls.Load())
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error leaks plaintext: %v", err)
			}
		})
	}
}

func TestDecryptBoundsConcurrencyAndStopsAfterAFailure(t *testing.T) {
	e := encryptor(t, priv2048)
	var text []byte
	for range 40 {
		m, _ := e.EncryptValue([]byte("v"))
		text = append(text, m+","...)
	}
	// GIVEN 40 markers and a slow KMS WHEN decrypting with concurrency 3
	var inFlight, peak, calls atomic.Int32
	dec := func(ctx context.Context, ct []byte) ([]byte, error) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		calls.Add(1)
		time.Sleep(2 * time.Millisecond)
		return localDecrypt(priv2048)(ctx, ct)
	}
	out, err := fle.Decrypt(context.Background(), text, dec, &fle.DecryptOptions{Concurrency: 3})
	// THEN at most 3 calls run at once and every marker is decrypted
	if err != nil || string(out) != strings.Repeat("v,", 40) {
		t.Fatalf("%q, %v", out, err)
	}
	if p := peak.Load(); p > 3 || p < 2 {
		t.Errorf("peak concurrency %d, want 2..3", p)
	}
	// GIVEN a KMS that fails the first call WHEN decrypting THEN the remaining markers are not all sent
	calls.Store(0)
	failing := func(ctx context.Context, ct []byte) ([]byte, error) {
		if calls.Add(1) == 1 {
			return nil, errors.New("KMSInvalidStateException")
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
			return []byte("v"), nil
		}
	}
	_, err = fle.Decrypt(context.Background(), text, failing, &fle.DecryptOptions{Concurrency: 3})
	if err == nil || !strings.Contains(err.Error(), "KMSInvalidStateException") {
		t.Fatalf("error %v, want the KMS failure", err)
	}
	if n := calls.Load(); n > 10 {
		t.Errorf("%d KMS calls after the first failed, want the rest cancelled", n)
	}
}

func TestParseSubstitution(t *testing.T) {
	for in, want := range map[string]fle.Substitution{"text": fle.Raw, "json": fle.JSONString, "form": fle.Form} {
		if got, err := fle.ParseSubstitution(in); err != nil || got != want {
			t.Errorf("%s: %v %v", in, got, err)
		}
	}
	if _, err := fle.ParseSubstitution("xml"); err == nil || err.Error() != `format: expected text, json or form, got "xml"` {
		t.Errorf("xml: %v", err)
	}
}
