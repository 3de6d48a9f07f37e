package fieldencryption_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/securestacks/securestacks/constructs/fieldencryption"
	"github.com/securestacks/securestacks/internal/fle"
	"github.com/securestacks/securestacks/internal/testenv"
)

// The seed's payload and fields ("How to protect sensitive data for its entire
// lifecycle in AWS"): a top-level list of people.
const seedPayload = `[{"fname": "Alejandro", "lname": "Rosalez", "email": "alejandro@example.com", "ssn": "123-45-6789", "dob": "1980-01-01", "phone": "+1-555-0100", "city": "Seattle"}, {"fname": "Martha", "lname": "Rivera", "email": "martha@example.com", "ssn": "987-65-4321", "dob": "1975-05-05", "phone": "+1-555-0199", "city": "Denver"}]`

var seedFields = []string{"fname", "lname", "email", "ssn", "dob", "phone"}

var (
	key01 = mustKey(2048)
	key02 = mustKey(2048)
)

func mustKey(bits int) *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		panic(err)
	}
	return k
}

func pubPEM(k *rsa.PrivateKey) string {
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		panic(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func seedConfig() fieldencryption.EdgeConfig {
	c := fieldencryption.EdgeConfig{Keys: map[string]string{"01": pubPEM(key01)}}
	for _, f := range seedFields {
		c.Fields = append(c.Fields, fieldencryption.EdgeField{Name: f})
	}
	return c
}

func localDecrypt(k *rsa.PrivateKey) fle.DecryptFunc {
	return func(_ context.Context, ct []byte) ([]byte, error) {
		return rsa.DecryptOAEP(sha256.New(), nil, k, ct, nil)
	}
}

// forwarded returns the body CloudFront forwards for a handler result, or
// fails the test if the result is a generated response.
func forwarded(t *testing.T, result json.RawMessage) []byte {
	t.Helper()
	var r struct {
		Status  string `json:"status"`
		Method  string `json:"method"`
		Headers map[string][]struct{ Key, Value string }
		Body    struct {
			Action, Encoding, Data string
		} `json:"body"`
	}
	if err := json.Unmarshal(result, &r); err != nil || r.Status != "" || r.Method == "" {
		t.Fatalf("not forwarded: %s (%v)", result, err)
	}
	if r.Body.Action != "replace" || r.Body.Encoding != "base64" {
		t.Fatalf("body not replaced: %s", result)
	}
	b, err := base64.StdEncoding.DecodeString(r.Body.Data)
	if err != nil {
		t.Fatal(err)
	}
	// Origin access control to a function URL needs the payload hash of the
	// forwarded body:
	// https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-restricting-access-to-lambda.html
	sum := sha256.Sum256(b)
	if h := r.Headers["x-amz-content-sha256"]; len(h) != 1 || h[0].Value != hex.EncodeToString(sum[:]) {
		t.Fatalf("x-amz-content-sha256 %v is not the SHA-256 of the forwarded body", h)
	}
	return b
}

func TestEdgeEncryptsTheSeedPayloadForGoTheSeedsPythonAndOpenSSL(t *testing.T) {
	// GIVEN the seed's payload in a documented origin-request event
	ev := testenv.OriginRequest("POST", "application/json", []byte(seedPayload), false)
	// WHEN the edge function runs under the pinned Node
	out := testenv.RunEdge(t, seedConfig(), []any{ev}, 0)
	protected := forwarded(t, out.Results[0])
	markers := fle.FindMarkers(protected)
	if len(markers) != 12 || bytes.Contains(protected, []byte("Alejandro")) || !bytes.Contains(protected, []byte(`"city": "Seattle"`)) {
		t.Fatalf("%d markers:\n%s", len(markers), protected)
	}
	// THEN only field names are logged
	if fields, _ := json.Marshal(out.Logs); !bytes.Contains(fields, []byte(`"$[0].ssn"`)) || bytes.Contains(fields, []byte("123-45")) {
		t.Fatalf("logs %s", fields)
	}

	// THEN Go decrypts it to the original bytes
	back, err := fle.Decrypt(context.Background(), protected, localDecrypt(key01), nil)
	if err != nil || string(back) != seedPayload {
		t.Fatalf("Go: %s, %v", back, err)
	}

	// THEN the seed's own Python decryption function restores the original bytes
	dir := t.TempDir()
	privDER, _ := x509.MarshalPKCS8PrivateKey(key01)
	priv := filepath.Join(dir, "priv.pem")
	if err := os.WriteFile(priv, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := testenv.SeedPython(t, filepath.Join(testenv.ModuleRoot(t), "internal", "fle", "testdata", "seed_protect.py"), "unprotect", priv)
	cmd.Stdin = bytes.NewReader(protected)
	py, err := cmd.Output()
	if err != nil || string(py) != seedPayload {
		t.Fatalf("seed Python: %s, %v", py, err)
	}

	// THEN openssl pkeyutl decrypts each marker to its field's value
	want := []string{"Alejandro", "Rosalez", "alejandro@example.com", "123-45-6789", "1980-01-01", "+1-555-0100"}
	for i, m := range markers[:6] {
		ct, err := base64.StdEncoding.DecodeString(m.Ciphertext)
		if err != nil {
			t.Fatal(err)
		}
		ctFile := filepath.Join(dir, fmt.Sprintf("ct%d", i))
		if err := os.WriteFile(ctFile, ct, 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := exec.Command("openssl", "pkeyutl", "-decrypt", "-inkey", priv, "-in", ctFile,
			"-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:sha256").Output()
		if err != nil || string(got) != want[i] {
			t.Errorf("openssl marker %d: %q, %v", i, got, err)
		}
	}
}

func TestEdgeEncryptsPathsNestedArraysAndPerClassKeys(t *testing.T) {
	// GIVEN rules by name (any depth) and by path, with a second key for the card class
	cfg := fieldencryption.EdgeConfig{
		Keys: map[string]string{"01": pubPEM(key01), "02": pubPEM(key02)},
		Fields: []fieldencryption.EdgeField{
			{Name: "ssn"},
			{Path: "$.orders[*].card", Key: "02"},
			{Path: `$.customer["e-mail"]`},
			{Name: "aliases"},
		},
	}
	body := `{"customer": {"ssn": "123-45-6789", "e-mail": "a@example.com", "aliases": ["Al", null, "Ale\u0301"], "note": {"ssn": "nested"}},` +
		` "orders": [{"card": "4111111111111111", "amount": 12.50e0}, {"card": "5500000000000004", "card2": "kept"}], "big": 12345678901234567890123}`
	out := testenv.RunEdge(t, cfg, []any{testenv.OriginRequest("PUT", "application/json; charset=UTF-8", []byte(body), false)}, 0)
	protected := forwarded(t, out.Results[0])
	// THEN the card markers name key 02 and decrypt with it only
	if n := bytes.Count(protected, []byte(`"#02#`)); n != 2 {
		t.Fatalf("%d key-02 markers:\n%s", n, protected)
	}
	back, err := fle.Decrypt(context.Background(), protected, localDecrypt(key01),
		&fle.DecryptOptions{Substitution: fle.JSONString, Keys: map[string]fle.DecryptFunc{"02": localDecrypt(key02)}})
	if err != nil {
		t.Fatal(err)
	}
	var a, b any
	if json.Unmarshal(back, &a) != nil || json.Unmarshal([]byte(body), &b) != nil || !reflect.DeepEqual(a, b) {
		t.Fatalf("round trip differs:\n%s", back)
	}
	// THEN values not chosen are kept byte for byte (numbers included)
	for _, kept := range []string{`"amount": 12.50e0`, `"card2": "kept"`, `12345678901234567890123`, `null`} {
		if !bytes.Contains(protected, []byte(kept)) {
			t.Errorf("%s not kept:\n%s", kept, protected)
		}
	}
	if bytes.Contains(protected, []byte("4111")) || bytes.Contains(protected, []byte("nested")) || bytes.Contains(protected, []byte(`"Al"`)) {
		t.Errorf("plaintext left:\n%s", protected)
	}
}

func TestEdgeEncryptsFormFields(t *testing.T) {
	// GIVEN a form body with more fields than CloudFront's native field-level encryption takes (10)
	cfg := fieldencryption.EdgeConfig{Keys: map[string]string{"01": pubPEM(key01)}}
	form := url.Values{}
	for i := range 12 {
		name := fmt.Sprintf("f%d", i)
		cfg.Fields = append(cfg.Fields, fieldencryption.EdgeField{Name: name})
		form.Set(name, fmt.Sprintf("secret value %d & more=+", i))
	}
	form.Set("city", "Seattle")
	out := testenv.RunEdge(t, cfg, []any{testenv.OriginRequest("POST", "application/x-www-form-urlencoded", []byte(form.Encode()), false)}, 0)
	protected := forwarded(t, out.Results[0])
	// THEN any form parser reads markers, and Form substitution restores the values
	parsed, err := url.ParseQuery(string(protected))
	if err != nil || !strings.HasPrefix(parsed.Get("f3"), fle.Prefix) || parsed.Get("city") != "Seattle" {
		t.Fatalf("%s: %v", protected, err)
	}
	back, err := fle.Decrypt(context.Background(), protected, localDecrypt(key01), &fle.DecryptOptions{Substitution: fle.Form})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := url.ParseQuery(string(back)); err != nil || !reflect.DeepEqual(got, form) {
		t.Fatalf("%v, %v", got, err)
	}
}

func TestEdgeFailsClosedOnBadInput(t *testing.T) {
	long := strings.Repeat("x", 191) // RSA-2048 OAEP SHA-256 holds 190 bytes
	cases := []struct {
		name, method, contentType, body string
		truncated                       bool
		status, reason                  string
	}{
		{"malformed JSON", "POST", "application/json", `[{"ssn": "123-45-6789",}]`, false, "400", "body: malformed JSON: expected a member name at character 23"},
		{"value over the OAEP limit", "POST", "application/json", `{"ssn": "` + long + `"}`, false, "400", "field $.ssn: value is 191 bytes, RSA-OAEP SHA-256 with this key holds at most 190"},
		{"truncated body", "POST", "application/json", `[{"ssn": "123-45-6789"`, true, "413", "body: over the 1 MB that CloudFront passes to Lambda@Edge (inputTruncated); not forwarded"},
		{"wrong content type", "POST", "text/plain", `ssn=123-45-6789`, false, "415", `content-type: expected one of application/json, application/x-www-form-urlencoded, got "text/plain"`},
		{"no content type", "POST", "", `{"ssn": "123-45-6789"}`, false, "415", "content-type: expected one of application/json, application/x-www-form-urlencoded, got none"},
		{"empty body", "POST", "application/json", ``, false, "400", "body: expected a body, got none"},
		{"a number where a string is expected", "POST", "application/json", `{"ssn": 123456789}`, false, "400", "field $.ssn: expected a string or a list of strings, got a number"},
		{"an object where a string is expected", "POST", "application/json", `{"ssn": {"v": "123-45-6789"}}`, false, "400", "field $.ssn: expected a string or a list of strings, got an object"},
		{"a body on another method", "DELETE", "application/json", `{"ssn": "123-45-6789"}`, false, "405", "method DELETE: bodies are accepted only with POST, PUT, PATCH"},
		{"another charset", "POST", "application/json; charset=ISO-8859-1", `{"ssn": "123-45-6789"}`, false, "415", `content-type: expected charset utf-8, got "iso-8859-1"`},
		{"invalid UTF-8", "POST", "application/json", "{\"ssn\": \"123-45-\xff\"}", false, "400", "body: expected UTF-8 text"},
		{"bad form encoding", "POST", "application/x-www-form-urlencoded", "ssn=123-45-%zz", false, "400", "body: malformed form encoding in the value of field ssn"},
		{"two documents", "POST", "application/json", `{"ssn": "1"} {"ssn": "2"}`, false, "400", "body: malformed JSON: expected the end of the document at character 13"},
	}
	events := make([]any, len(cases))
	for i, c := range cases {
		events[i] = testenv.OriginRequest(c.method, c.contentType, []byte(c.body), c.truncated)
	}
	out := testenv.RunEdge(t, seedConfig(), events, 0)
	logs, _ := json.Marshal(out.Logs)
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var r struct {
				Status, Body, Method, URI string
			}
			if err := json.Unmarshal(out.Results[i], &r); err != nil {
				t.Fatal(err)
			}
			// THEN it is a generated response, not a request: nothing is forwarded
			if r.Method != "" || r.URI != "" || r.Status != c.status {
				t.Fatalf("forwarded or wrong status: %s", out.Results[i])
			}
			// THEN the reason is one line
			if want := "field-level encryption: " + c.reason + "\n"; r.Body != want {
				t.Fatalf("reason %q, want %q", r.Body, want)
			}
		})
	}
	// THEN no value reaches the logs
	for _, secret := range []string{"123-45", long[:40], "123456789"} {
		if bytes.Contains(logs, []byte(secret)) {
			t.Errorf("logs hold %q: %s", secret, logs)
		}
	}
}

func TestEdgeForwardsBodilessRequestsUnchanged(t *testing.T) {
	ev := testenv.OriginRequest("GET", "", nil, false)
	out := testenv.RunEdge(t, seedConfig(), []any{ev}, 0)
	var r map[string]any
	if err := json.Unmarshal(out.Results[0], &r); err != nil || r["method"] != "GET" || r["body"].(map[string]any)["action"] != "read-only" {
		t.Fatalf("%s", out.Results[0])
	}
}

func TestEdgeRefusesABadConfiguration(t *testing.T) {
	cases := map[string]struct {
		cfg  fieldencryption.EdgeConfig
		want string
	}{
		"no keys":       {fieldencryption.EdgeConfig{Fields: []fieldencryption.EdgeField{{Name: "ssn"}}}, "keys: expected at least one public key"},
		"key id 10":     {fieldencryption.EdgeConfig{Keys: map[string]string{"10": pubPEM(key01)}}, "keys.10: expected a two-digit key id other than 00 and 10"},
		"small key":     {fieldencryption.EdgeConfig{Keys: map[string]string{"01": pubPEM(mustKey(1024))}}, "keys.01: expected an RSA public key of at least 2048 bits"},
		"unknown key":   {fieldencryption.EdgeConfig{Keys: map[string]string{"01": pubPEM(key01)}, Fields: []fieldencryption.EdgeField{{Name: "ssn", Key: "03"}}}, `fields[0].key: expected one of 01, got "03"`},
		"name and path": {fieldencryption.EdgeConfig{Keys: map[string]string{"01": pubPEM(key01)}, Fields: []fieldencryption.EdgeField{{Name: "ssn", Path: "$.ssn"}}}, "fields[0]: expected exactly one of name or path"},
		"bad path":      {fieldencryption.EdgeConfig{Keys: map[string]string{"01": pubPEM(key01)}, Fields: []fieldencryption.EdgeField{{Path: "$.a..b"}}}, `fields[0].path: expected .name, ["name"], [*] or [N] at character 3 of "$.a..b"`},
		"no fields":     {fieldencryption.EdgeConfig{Keys: map[string]string{"01": pubPEM(key01)}}, "fields: expected at least one field"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			out := testenv.RunEdge(t, c.cfg, nil, 0)
			if out.ConfigError != "fieldencryption config: "+c.want {
				t.Fatalf("%q, want %q", out.ConfigError, c.want)
			}
		})
	}
}

func fieldEdge(name string) fieldencryption.EdgeField { return fieldencryption.EdgeField{Name: name} }
