// Package allowlist reads the reviewed-exception files of our gates
// (guard-allowlist.json, iam-allowlist.json): a JSON list of entries, each
// with a written reason. Each gate checks its own entry fields.
package allowlist

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// MinReason is the shortest reason an entry may give.
const MinReason = 20

// Load reads path as a JSON list of T, refusing unknown fields; shape names
// the entry's fields for the error ("{rule, logicalId, reason}").
func Load[T any](path, shape string) ([]T, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var entries []T
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&entries); err != nil {
		return nil, fmt.Errorf("%s: expected a JSON list of %s: %w", path, shape, err)
	}
	return entries, nil
}

// Reasoned reports whether reason is long enough to name a decision.
func Reasoned(reason string) bool { return len(strings.TrimSpace(reason)) >= MinReason }
