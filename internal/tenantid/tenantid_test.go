package tenantid_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/securestacks/securestacks/internal/tenantid"
)

func TestValidate(t *testing.T) {
	valid := []string{"yellow", "blue", "ab", "abc", "0", strings.Repeat("z", tenantid.MaxLen), "01hzy3k6q9v2x8m4n7p5r0s1t2"}
	for _, id := range valid {
		if err := tenantid.Validate(id); err != nil {
			t.Errorf("Validate(%q) = %v, want nil", id, err)
		}
	}
	// Each of these could widen a policy pattern or break a resource name:
	// the session-tag punctuation (https://docs.aws.amazon.com/STS/latest/APIReference/API_Tag.html),
	// IAM wildcards and variables, upper case, spaces, too long.
	invalid := []string{"", "ab/c", "ab*", "a?", "${aws:username}", "Yellow", "a b", " ab", "ab.c", "ab_c", "ab-c",
		"a:b", "a=b", "a+b", "a@b", "é", strings.Repeat("z", tenantid.MaxLen+1), "ab\n", "ab,abc"}
	for _, id := range invalid {
		err := tenantid.Validate(id)
		if err == nil {
			t.Errorf("Validate(%q) = nil, want an error", id)
			continue
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("Validate(%q): error spans lines: %q", id, err)
		}
	}
}

// TestPatternIsTheFormat keeps the documented regular expression and the
// hand-written check the same.
func TestPatternIsTheFormat(t *testing.T) {
	re := regexp.MustCompile(tenantid.Pattern)
	for _, id := range []string{"", "a", "A", "a1", "a/", strings.Repeat("a", 26), strings.Repeat("a", 27), "-", "ü"} {
		if got, want := tenantid.Validate(id) == nil, re.MatchString(id); got != want {
			t.Errorf("%q: Validate accepts=%v, Pattern matches=%v", id, got, want)
		}
	}
}

func FuzzValidate(f *testing.F) {
	re := regexp.MustCompile(tenantid.Pattern)
	for _, s := range []string{"yellow", "ab/c", "", "Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if got, want := tenantid.Validate(id) == nil, re.MatchString(id); got != want {
			t.Fatalf("%q: Validate accepts=%v, Pattern matches=%v", id, got, want)
		}
	})
}
