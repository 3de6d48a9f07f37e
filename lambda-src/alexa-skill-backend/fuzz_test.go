package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	main "github.com/securestacks/securestacks/lambda-src/alexa-skill-backend"
)

// FuzzInvoke feeds arbitrary bodies through request parsing and the whole handler. The seed
// corpus is every envelope in testdata, so `go test` runs them all as regression cases.
//
// Properties: no panic; ParseRequest either succeeds or wraps ErrMalformed; Invoke either
// refuses with an error (skill check) or returns a version 1.0 response that is valid JSON.
func FuzzInvoke(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed corpus: %v", err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(``))
	f.Add([]byte(`null`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"request":{"type":"IntentRequest","intent":null},"context":{"System":{"application":{"applicationId":"` + testSkillID + `"}}}}`))

	h := &main.Handler{Skill: fixedSkill(testSkillID), Now: clock, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	f.Fuzz(func(t *testing.T, payload []byte) {
		if _, err := main.ParseRequest(payload); err != nil && !errors.Is(err, main.ErrMalformed) {
			t.Fatalf("ParseRequest error does not wrap ErrMalformed: %v", err)
		}
		out, err := h.Invoke(context.Background(), payload)
		if err != nil {
			if out != nil || !errors.Is(err, main.ErrWrongSkill) {
				t.Fatalf("Invoke failed with (%q, %v): only a skill-check refusal may fail", out, err)
			}
			return
		}
		var resp struct {
			Version  string          `json:"version"`
			Response json.RawMessage `json:"response"`
		}
		dec := json.NewDecoder(bytes.NewReader(out))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&resp); err != nil || resp.Version != "1.0" || len(resp.Response) == 0 {
			t.Fatalf("invalid response %q: %v", out, err)
		}
	})
}
