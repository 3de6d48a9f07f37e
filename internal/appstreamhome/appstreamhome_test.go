package appstreamhome_test

import (
	"testing"

	"github.com/securestacks/securestacks/internal/appstreamhome"
)

func TestUserHash(t *testing.T) {
	// The folder AppStream names for user "alice": SHA-256, lower-case hex, case preserved.
	if got := appstreamhome.UserHash("alice"); got != "2bd806c97f0e00af1a1fc3328fa763a9269723c8db8fac4f93af71db186d6e90" {
		t.Errorf("UserHash(alice) = %s", got)
	}
	if appstreamhome.UserHash("Alice") == appstreamhome.UserHash("alice") {
		t.Error("the hash folds case")
	}
}

func TestParseKey(t *testing.T) {
	h := appstreamhome.UserHash("alice")
	cases := []struct {
		key  string
		ok   bool
		want appstreamhome.Folder
	}{
		{"user/custom/" + h + "/notes/a.txt", true, appstreamhome.Folder{Type: "custom", Hash: h, Rest: "notes/a.txt"}},
		{"user/federated/" + h, true, appstreamhome.Folder{Type: "federated", Hash: h}},
		{"user/userpool/2BD806C97F0E00AF1A1FC3328FA763A9269723C8DB8FAC4F93AF71DB186D6E90/x", true, appstreamhome.Folder{Type: "userpool", Hash: h, Rest: "x"}},
		{"user/saml/" + h + "/x", false, appstreamhome.Folder{}},
		{"user/custom/" + h[:63] + "/x", false, appstreamhome.Folder{}},
		{"user/custom/" + h[:63] + "g/x", false, appstreamhome.Folder{}},
		{"appstream-scripts/x.ps1", false, appstreamhome.Folder{}},
	}
	for _, c := range cases {
		got, ok := appstreamhome.ParseKey(c.key)
		if ok != c.ok || got != c.want {
			t.Errorf("ParseKey(%q) = %+v, %v; want %+v, %v", c.key, got, ok, c.want, c.ok)
		}
	}
	if f, _ := appstreamhome.ParseKey("user/custom/" + h + "/x"); f.Dir() != "user/custom/"+h {
		t.Errorf("Dir %q", f.Dir())
	}
}
