package oneline_test

import (
	"errors"
	"io"
	"os"
	"testing"

	"github.com/securestacks/securestacks/lambda-src/internal/oneline"
)

func TestJoin(t *testing.T) {
	// GIVEN errors with embedded newlines, and nils
	multi := errors.New("first line\nsecond line")
	// WHEN they are joined
	err := oneline.Join(nil, multi, io.EOF, nil)
	// THEN the message is one line and every error is still found
	if got, want := err.Error(), "first line second line; EOF"; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(err, io.EOF) || !errors.Is(err, multi) || errors.Is(err, os.ErrNotExist) {
		t.Fatalf("errors.Is does not see exactly the joined errors")
	}
	// AND nothing to join is nil
	if oneline.Join(nil, nil) != nil || oneline.Join() != nil {
		t.Fatal("Join of nils is not nil")
	}
}
