package fieldencryption_test

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/securestacks/securestacks/internal/fle"
	"github.com/securestacks/securestacks/internal/testenv"
)

// docGen writes random JSON documents: chosen names (ssn, email, name) hold
// strings, lists of strings or null, the rest anything, with odd whitespace,
// escapes, big numbers and non-ASCII text, so a re-serializer would show.
type docGen struct {
	r      *rand.Rand
	chosen int
}

var (
	chosenNames = []string{"ssn", "email", "name"}
	otherNames  = []string{"city", "id", "note", "a b", "é"}
)

func (g *docGen) ws() string {
	return []string{"", " ", "\n  ", "\t", "\r\n"}[g.r.IntN(5)]
}

// plain is a chosen value: text that needs no JSON escape (so Raw decryption
// must give back the document byte for byte), up to 60 bytes.
func (g *docGen) plain() string {
	alphabet := []rune("abcXYZ019 -_.@+/=#é中😀")
	n := g.r.IntN(20)
	var b strings.Builder
	for range n {
		b.WriteRune(alphabet[g.r.IntN(len(alphabet))])
	}
	return b.String()
}

func (g *docGen) any(depth int) string {
	switch k := g.r.IntN(9); {
	case k == 0 || depth > 3:
		return []string{"0", "-1.50e+10", "12345678901234567890123", "3.0", "1E2"}[g.r.IntN(5)]
	case k == 1:
		return []string{"true", "false", "null"}[g.r.IntN(3)]
	case k == 2:
		return `"esc\"aped \\ \u00e9 \n \/"`
	case k <= 5:
		return g.object(depth + 1)
	case k <= 7:
		var items []string
		for range g.r.IntN(4) {
			items = append(items, g.ws()+g.any(depth+1)+g.ws())
		}
		return "[" + strings.Join(items, ",") + "]"
	}
	return `"` + g.plain() + `"`
}

func (g *docGen) chosenValue() string {
	switch g.r.IntN(4) {
	case 0:
		return "null"
	case 1:
		var items []string
		for range g.r.IntN(3) {
			g.chosen++
			items = append(items, `"`+g.plain()+`"`)
		}
		return "[" + g.ws() + strings.Join(items, ","+g.ws()) + "]"
	}
	g.chosen++
	return `"` + g.plain() + `"`
}

func (g *docGen) object(depth int) string {
	var members []string
	for range g.r.IntN(5) {
		if g.r.IntN(2) == 0 {
			name := chosenNames[g.r.IntN(len(chosenNames))]
			members = append(members, g.ws()+`"`+name+`"`+g.ws()+":"+g.ws()+g.chosenValue())
			continue
		}
		name := otherNames[g.r.IntN(len(otherNames))]
		members = append(members, g.ws()+`"`+name+`"`+g.ws()+":"+g.ws()+g.any(depth))
	}
	return "{" + strings.Join(members, ",") + g.ws() + "}"
}

func TestPropertyNodeEncryptsGoDecryptsAndTheRestIsByteIdentical(t *testing.T) {
	// GIVEN random JSON documents (objects and top-level lists) with chosen fields
	g := &docGen{r: rand.New(rand.NewPCG(13, 2026))}
	cfg := seedConfig()
	cfg.Fields = nil
	for _, n := range chosenNames {
		cfg.Fields = append(cfg.Fields, fieldEdge(n))
	}
	const n = 200
	docs := make([]string, n)
	counts := make([]int, n)
	events := make([]any, n)
	for i := range docs {
		g.chosen = 0
		if i%3 == 0 {
			docs[i] = g.ws() + "[" + g.object(0) + "," + g.object(0) + "]" + g.ws()
		} else {
			docs[i] = g.ws() + g.object(0) + g.ws()
		}
		if !json.Valid([]byte(docs[i])) {
			t.Fatalf("generator wrote invalid JSON: %s", docs[i])
		}
		counts[i] = g.chosen
		events[i] = testenv.OriginRequest("POST", "application/json", []byte(docs[i]), false)
	}
	// WHEN Node encrypts them all
	out := testenv.RunEdge(t, cfg, events, 0)
	for i, doc := range docs {
		var r map[string]any
		_ = json.Unmarshal(out.Results[i], &r)
		protected := []byte(doc)
		if counts[i] > 0 {
			protected = forwarded(t, out.Results[i])
		} else if r["method"] != "POST" {
			t.Fatalf("doc %d without chosen values not forwarded as is: %s", i, out.Results[i])
		}
		// THEN each chosen value became one marker
		if got := len(fle.FindMarkers(protected)); got != counts[i] {
			t.Fatalf("doc %d: %d markers, want %d:\n%s\n%s", i, got, counts[i], doc, protected)
		}
		// THEN Go decrypts it back to the document, byte for byte: what was
		// not chosen was never touched
		back, err := fle.Decrypt(context.Background(), protected, localDecrypt(key01), nil)
		if err != nil || !bytes.Equal(back, []byte(doc)) {
			t.Fatalf("doc %d: %v\n%s\n%s", i, err, doc, back)
		}
	}

	// GIVEN chosen values that need JSON escapes WHEN they round-trip with
	// JSON substitution THEN the document means the same
	escaped := `{"ssn": "quote \" back \\ tab \t \u0041 \ud83d\ude00", "id": 1}`
	res := testenv.RunEdge(t, cfg, []any{testenv.OriginRequest("POST", "application/json", []byte(escaped), false)}, 0)
	back, err := fle.Decrypt(context.Background(), forwarded(t, res.Results[0]), localDecrypt(key01), &fle.DecryptOptions{Substitution: fle.JSONString})
	var a, b any
	if err != nil || json.Unmarshal(back, &a) != nil || json.Unmarshal([]byte(escaped), &b) != nil || !reflect.DeepEqual(a, b) {
		t.Fatalf("%s, %v", back, err)
	}
	if !strings.HasSuffix(string(back), `, "id": 1}`) {
		t.Fatalf("%s", back)
	}
}
