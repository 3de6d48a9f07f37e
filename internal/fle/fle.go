// Package fle is field-level encryption in the format of the AWS Security
// blog post "How to protect sensitive data for its entire lifecycle in AWS":
// each chosen field value is encrypted with the public key of a KMS RSA key
// (RSAES-OAEP with SHA-256), base64-encoded and bracketed as
//
//	#01#<base64 of the RSA ciphertext of the UTF-8 value>#10#
//
// Encryption needs only the public key and runs anywhere; decryption finds
// the markers in any text and has KMS decrypt each one, so the private key
// never leaves KMS. Data protected by the post's Python edge function decrypts
// here, and data protected here decrypts with the post's Python function.
package fle

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// Prefix and Suffix bracket every ciphertext. '#' never occurs in base64, so
// a marker cannot end early inside its own ciphertext.
const (
	Prefix = "#01#"
	Suffix = "#10#"
)

// DefaultKeyID is the key id of the seed's marker, Prefix: the default key.
const DefaultKeyID = "01"

// keyIDRe is a key id: two digits, neither 00 nor 10 (a "#10#" prefix would
// read as a suffix). The edge encrypter (constructs/fieldencryption/edge)
// accepts the same ids.
var keyIDRe = regexp.MustCompile(`^(0[1-9]|1[1-9]|[2-9][0-9])$`)

// CheckKeyID returns an error unless id is a key id: two digits other than 00
// and 10. A marker "#<id>#...#10#" names the key that decrypts it, as the
// seed suggests ("distinct strings can also serve as indirect identifiers of
// RSA key pair identifiers"); "01" is the seed's own Prefix.
func CheckKeyID(id string) error {
	if !keyIDRe.MatchString(id) {
		return fmt.Errorf("key id: expected two digits other than 00 and 10, got %q", id)
	}
	return nil
}

// KeyPrefix is the marker prefix of key id, "#<id>#".
func KeyPrefix(id string) string { return "#" + id + "#" }

// MinKeyBits is the smallest RSA key accepted; KMS RSA keys are 2048, 3072 or
// 4096 bits.
const MinKeyBits = 2048

// MaxPlaintext is the largest value, in bytes, that RSAES-OAEP with SHA-256
// encrypts under pub: the modulus size minus 66 (190 bytes for RSA-2048, 318
// for RSA-3072, 446 for RSA-4096).
func MaxPlaintext(pub *rsa.PublicKey) int {
	return pub.Size() - 2*sha256.Size - 2
}

// Encryptor encrypts values and JSON fields with one RSA public key. It is safe
// for concurrent use.
type Encryptor struct {
	pub  *rsa.PublicKey
	rand io.Reader
}

// NewEncryptor returns an Encryptor for pub, which must have at least
// MinKeyBits bits. Randomness comes from crypto/rand.
func NewEncryptor(pub *rsa.PublicKey) (*Encryptor, error) {
	if pub == nil || pub.N == nil {
		return nil, errors.New("fle: public key: expected an RSA public key, got none")
	}
	if bits := pub.N.BitLen(); bits < MinKeyBits {
		return nil, fmt.Errorf("fle: public key: expected an RSA key of at least %d bits, got %d", MinKeyBits, bits)
	}
	return &Encryptor{pub: pub, rand: rand.Reader}, nil
}

// MaxPlaintext is MaxPlaintext of the Encryptor's key.
func (e *Encryptor) MaxPlaintext() int { return MaxPlaintext(e.pub) }

// ErrTooLong means a value exceeds MaxPlaintext. Values are never truncated.
var ErrTooLong = errors.New("value too long for RSA-OAEP")

// EncryptValue encrypts plaintext and returns its marker. A plaintext longer
// than MaxPlaintext is an error wrapping ErrTooLong.
func (e *Encryptor) EncryptValue(plaintext []byte) (string, error) {
	if n, limit := len(plaintext), e.MaxPlaintext(); n > limit {
		return "", fmt.Errorf("%w: %d bytes, RSA-%d with OAEP SHA-256 holds at most %d", ErrTooLong, n, e.pub.N.BitLen(), limit)
	}
	ct, err := rsa.EncryptOAEP(sha256.New(), e.rand, e.pub, plaintext, nil)
	if err != nil {
		return "", fmt.Errorf("fle: RSA-OAEP: %w", err)
	}
	return Prefix + base64.StdEncoding.EncodeToString(ct) + Suffix, nil
}

// FieldError names the JSON field that could not be encrypted, as a path such
// as $[0].ssn or $.customer.email.
type FieldError struct {
	Path string
	Err  error
}

func (e *FieldError) Error() string { return "fle: field " + e.Path + ": " + e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

// EncryptJSON encrypts, in the JSON document body, the value of every object
// member whose name is one of fields, at any depth: in nested objects, in
// objects inside arrays and in a top-level list as in the seed. A member's
// value must be a string, or a list of strings (each is encrypted on its own)
// or null (left as is); a number, bool or object is an error naming the
// field, because encrypting its text would silently change its JSON type.
//
// Everything else in body is kept byte for byte: key order, whitespace and
// number formatting. Each encrypted string becomes "#01#...#10#".
func (e *Encryptor) EncryptJSON(body []byte, fields []string) ([]byte, error) {
	if len(fields) == 0 {
		return nil, errors.New("fle: fields: expected at least one field name")
	}
	if !json.Valid(body) {
		return nil, fmt.Errorf("fle: body: expected one JSON value: %w", jsonError(body))
	}
	want := make(map[string]bool, len(fields))
	for _, f := range fields {
		want[f] = true
	}

	var (
		stack []*frame
		out   bytes.Buffer
		done  int   // bytes of body already copied to out
		prev  int64 // end of the previous token
	)
	out.Grow(len(body) * 2)
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()

	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("fle: body: %w", err)
		}
		end := dec.InputOffset()
		start := prev
		prev = end

		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			advance(stack)
			continue
		}
		if s, ok := tok.(string); ok && top != nil && top.object && top.expectKey {
			top.key, top.expectKey = s, false
			continue
		}

		// tok is a value: of a member, of an array element or the document.
		path, selected := "$", false
		switch {
		case top == nil:
		case top.object:
			path, selected = top.path+member(top.key), want[top.key]
		default:
			path, selected = top.path+"["+strconv.Itoa(top.index)+"]", top.selected
		}

		switch v := tok.(type) {
		case json.Delim: // '{' or '['
			if selected && v == '{' {
				return nil, &FieldError{Path: path, Err: errors.New("expected a string or a list of strings, got an object")}
			}
			stack = append(stack, &frame{object: v == '{', expectKey: v == '{', path: path, selected: selected})
			continue
		case string:
			if selected {
				lit := body[start:end]
				q := bytes.IndexByte(lit, '"')
				if !utf8.Valid(lit) {
					return nil, &FieldError{Path: path, Err: errors.New("expected UTF-8 text")}
				}
				marker, err := e.EncryptValue([]byte(v))
				if err != nil {
					return nil, &FieldError{Path: path, Err: err}
				}
				out.Write(body[done : int(start)+q])
				out.WriteString(`"` + marker + `"`)
				done = int(end)
			}
		case json.Number, bool:
			if selected {
				return nil, &FieldError{Path: path, Err: fmt.Errorf("expected a string or a list of strings, got %s", kind(v))}
			}
		}
		advance(stack)
	}
	out.Write(body[done:])
	return out.Bytes(), nil
}

// frame is one open JSON object or array while EncryptJSON walks a document.
type frame struct {
	object    bool
	expectKey bool   // object: the next string is a member name
	key       string // object: the current member name
	index     int    // array: the current element
	path      string
	selected  bool // array: the value of a chosen field, so its strings are encrypted
}

// advance moves the innermost container past the value just read.
func advance(stack []*frame) {
	if len(stack) == 0 {
		return
	}
	top := stack[len(stack)-1]
	if top.object {
		top.expectKey = true
	} else {
		top.index++
	}
}

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// member renders an object member for a field path: .name, or ["na.me"]
// when the name is no identifier.
func member(name string) string {
	if identifier.MatchString(name) {
		return "." + name
	}
	return "[" + strconv.Quote(name) + "]"
}

func kind(v any) string {
	switch v.(type) {
	case json.Number:
		return "a number"
	case bool:
		return "true or false"
	}
	return fmt.Sprintf("%T", v)
}

// jsonError explains why body is not one JSON value, with the byte offset.
func jsonError(body []byte) error {
	var v any
	err := json.Unmarshal(body, &v)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("%w (at byte %d)", err, se.Offset)
	}
	if err == nil {
		return errors.New("invalid JSON")
	}
	return err
}

// markerRe is the seed's decryption pattern: the shortest text between a
// prefix and the next suffix, on one line ('.' never matches a newline in
// Python's re or in Go's regexp), leftmost first, never overlapping.
var markerRe = regexp.MustCompile(regexp.QuoteMeta(Prefix) + `(.*?)` + regexp.QuoteMeta(Suffix))

// Marker is one bracketed ciphertext found in a text.
type Marker struct {
	// Start and End are the byte offsets of the whole marker, prefix to
	// suffix, End exclusive.
	Start, End int
	// Ciphertext is the text between prefix and suffix: base64, if the
	// marker is well-formed.
	Ciphertext string
	// KeyID names the key of the marker's prefix: DefaultKeyID for Prefix.
	KeyID string
}

// FindMarkers returns the markers of text in order, matched as the seed's
// Python matches them (re.finditer("#01#(.*?)#10#")). Nothing in text has to
// be JSON.
func FindMarkers(text []byte) []Marker {
	return findMarkers(text, markerRe)
}

// FindKeyMarkers is FindMarkers for the markers of every key id in ids
// (each checked by CheckKeyID), leftmost first. With ids ["01"] it finds what
// FindMarkers finds.
func FindKeyMarkers(text []byte, ids []string) ([]Marker, error) {
	re, err := keyMarkerRe(ids)
	if err != nil {
		return nil, err
	}
	return findMarkers(text, re), nil
}

func keyMarkerRe(ids []string) (*regexp.Regexp, error) {
	if len(ids) == 0 {
		return nil, errors.New("fle: key ids: expected at least one")
	}
	ids = slices.Sorted(slices.Values(ids))
	for _, id := range ids {
		if err := CheckKeyID(id); err != nil {
			return nil, fmt.Errorf("fle: %w", err)
		}
	}
	return regexp.MustCompile("#(" + strings.Join(ids, "|") + ")#(.*?)" + regexp.QuoteMeta(Suffix)), nil
}

func findMarkers(text []byte, re *regexp.Regexp) []Marker {
	idx := re.FindAllSubmatchIndex(text, -1)
	out := make([]Marker, len(idx))
	for i, m := range idx {
		id := DefaultKeyID
		if len(m) == 6 { // keyMarkerRe: the id, then the ciphertext
			id, m = string(text[m[2]:m[3]]), []int{m[0], m[1], m[4], m[5]}
		}
		out[i] = Marker{Start: m[0], End: m[1], Ciphertext: string(text[m[2]:m[3]]), KeyID: id}
	}
	return out
}

// DecryptFunc decrypts one RSA ciphertext, normally through KMS Decrypt with
// RSAES_OAEP_SHA_256. It must not log the plaintext.
type DecryptFunc func(ctx context.Context, ciphertext []byte) ([]byte, error)

// Substitution says how a plaintext replaces its marker.
type Substitution int

const (
	// Raw puts the plaintext bytes in place of the marker, as the seed does.
	// Right for any text format; in JSON, a plaintext holding a quote or a
	// backslash would break the document.
	Raw Substitution = iota
	// JSONString escapes the plaintext as the inside of a JSON string
	// literal, where EncryptJSON puts markers, so a JSON body decrypts to
	// valid JSON with the original strings.
	JSONString
	// Form is for application/x-www-form-urlencoded bodies, where the edge
	// encrypter writes each marker's base64 form-encoded (%2B, %2F, %3D):
	// the ciphertext is form-decoded before base64, and the plaintext is
	// form-encoded in place of the marker.
	Form
)

// ParseSubstitution reads a substitution name: "text" (Raw), "json"
// (JSONString) or "form" (Form).
func ParseSubstitution(s string) (Substitution, error) {
	switch s {
	case "text":
		return Raw, nil
	case "json":
		return JSONString, nil
	case "form":
		return Form, nil
	}
	return 0, fmt.Errorf("format: expected text, json or form, got %q", s)
}

// DecryptOptions tunes Decrypt. A nil *DecryptOptions means Raw substitution
// and DefaultConcurrency.
type DecryptOptions struct {
	// Substitution is Raw (default) or JSONString.
	Substitution Substitution
	// Concurrency bounds the DecryptFunc calls in flight. Default
	// DefaultConcurrency when zero or negative.
	Concurrency int
	// Keys decrypt the markers of other key ids ("#02#...#10#"): key id
	// (see CheckKeyID) to its DecryptFunc. Decrypt's decrypt argument
	// decrypts DefaultKeyID's markers unless Keys names "01" too. Default
	// none: only "#01#" markers are found, as in the seed.
	Keys map[string]DecryptFunc
}

// DefaultConcurrency is how many markers Decrypt decrypts at once by default:
// enough to hide KMS latency for a typical record, well below KMS's
// per-account request quota.
const DefaultConcurrency = 8

// MarkerError names the marker that failed by its ordinal (1-based) and byte
// offset in the text, never by its content.
type MarkerError struct {
	Ordinal int
	Offset  int
	Err     error
}

func (e *MarkerError) Error() string {
	return fmt.Sprintf("fle: marker %d at byte %d: %v", e.Ordinal, e.Offset, e.Err)
}
func (e *MarkerError) Unwrap() error { return e.Err }

// Decrypt replaces every marker in text (see FindMarkers) by its plaintext.
// Every marker is checked for base64 before any is decrypted. When any marker
// fails (bad base64, an empty ciphertext, a DecryptFunc error such as a wrong
// key), Decrypt returns a *MarkerError for the first failing marker and no
// text at all: never a partially decrypted body.
func Decrypt(ctx context.Context, text []byte, decrypt DecryptFunc, opts *DecryptOptions) ([]byte, error) {
	var o DecryptOptions
	if opts != nil {
		o = *opts
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.Substitution != Raw && o.Substitution != JSONString && o.Substitution != Form {
		return nil, fmt.Errorf("fle: substitution %d: expected Raw, JSONString or Form", o.Substitution)
	}
	decrypts := map[string]DecryptFunc{DefaultKeyID: decrypt}
	for id, f := range o.Keys {
		decrypts[id] = f
	}
	markers := FindMarkers(text)
	if len(o.Keys) > 0 {
		var err error
		if markers, err = FindKeyMarkers(text, slices.Collect(maps.Keys(decrypts))); err != nil {
			return nil, err
		}
	}
	if len(markers) == 0 {
		return bytes.Clone(text), nil
	}
	cts := make([][]byte, len(markers))
	for i, m := range markers {
		b64 := m.Ciphertext
		if o.Substitution == Form {
			var err error
			if b64, err = url.QueryUnescape(b64); err != nil {
				return nil, &MarkerError{Ordinal: i + 1, Offset: m.Start, Err: fmt.Errorf("expected form-encoded base64: %w", err)}
			}
		}
		ct, err := base64.StdEncoding.Strict().DecodeString(b64)
		switch {
		case err != nil:
			return nil, &MarkerError{Ordinal: i + 1, Offset: m.Start, Err: fmt.Errorf("expected base64: %w", err)}
		case len(ct) == 0:
			return nil, &MarkerError{Ordinal: i + 1, Offset: m.Start, Err: errors.New("expected a ciphertext, got none")}
		}
		cts[i] = ct
	}

	plains := make([][]byte, len(markers))
	errs := make([]error, len(markers))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(o.Concurrency, len(markers)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if err := ctx.Err(); err != nil {
					errs[i] = err
					continue
				}
				p, err := decrypts[markers[i].KeyID](ctx, cts[i])
				if err != nil {
					errs[i] = err
					cancel() // one failure fails the body: stop spending KMS calls
					continue
				}
				plains[i] = p
			}
		}()
	}
	for i := range markers {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if err := firstError(errs); err != nil {
		i := err.ordinal
		return nil, &MarkerError{Ordinal: i + 1, Offset: markers[i].Start, Err: fmt.Errorf("decrypt: %w", err.err)}
	}

	var out bytes.Buffer
	out.Grow(len(text))
	done := 0
	for i, m := range markers {
		out.Write(text[done:m.Start])
		if o.Substitution == JSONString {
			if !utf8.Valid(plains[i]) {
				return nil, &MarkerError{Ordinal: i + 1, Offset: m.Start, Err: errors.New("plaintext is not UTF-8 text and cannot go into a JSON string")}
			}
			writeJSONStringContent(&out, plains[i])
		} else if o.Substitution == Form {
			out.WriteString(url.QueryEscape(string(plains[i])))
		} else {
			out.Write(plains[i])
		}
		done = m.End
	}
	out.Write(text[done:])
	return out.Bytes(), nil
}

type indexedError struct {
	ordinal int
	err     error
}

// firstError picks the error to report: the first marker that failed on its
// own, ahead of those cancelled because of it.
func firstError(errs []error) *indexedError {
	var cancelled *indexedError
	for i, err := range errs {
		if err == nil {
			continue
		}
		if errors.Is(err, context.Canceled) && cancelled == nil {
			cancelled = &indexedError{i, err}
			continue
		}
		if !errors.Is(err, context.Canceled) {
			return &indexedError{i, err}
		}
	}
	return cancelled
}

// writeJSONStringContent writes s escaped for the inside of a JSON string.
func writeJSONStringContent(w *bytes.Buffer, s []byte) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(string(s)) // a string always encodes
	q := b.String()
	w.WriteString(q[1 : len(q)-2]) // drop the quotes and Encode's newline
}
