package fle_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/securestacks/securestacks/internal/fle"
)

func TestCheckKeyIDAcceptsTwoDigitsOtherThan00And10(t *testing.T) {
	for _, id := range []string{"01", "02", "09", "11", "42", "99"} {
		if err := fle.CheckKeyID(id); err != nil {
			t.Errorf("%s: %v", id, err)
		}
	}
	for _, id := range []string{"", "00", "10", "1", "001", "ab", "0a"} {
		if err := fle.CheckKeyID(id); err == nil || !strings.Contains(err.Error(), "expected two digits other than 00 and 10") {
			t.Errorf("%q: %v", id, err)
		}
	}
}

func TestDecryptSelectsTheKeyByMarkerPrefix(t *testing.T) {
	// GIVEN one field under the default key (#01#) and one under key 02
	other := mustKey(2048)
	ssn, err := encryptor(t, priv2048).EncryptValue([]byte("123-45-6789"))
	if err != nil {
		t.Fatal(err)
	}
	card, err := encryptor(t, other).EncryptValue([]byte("4111111111111111"))
	if err != nil {
		t.Fatal(err)
	}
	card = fle.KeyPrefix("02") + strings.TrimPrefix(card, fle.Prefix)
	text := `{"ssn":"` + ssn + `","card":"` + card + `"}`

	// WHEN Decrypt knows key 02
	out, err := fle.Decrypt(context.Background(), []byte(text), localDecrypt(priv2048),
		&fle.DecryptOptions{Keys: map[string]fle.DecryptFunc{"02": localDecrypt(other)}})
	// THEN each marker is decrypted by its own key
	if err != nil || string(out) != `{"ssn":"123-45-6789","card":"4111111111111111"}` {
		t.Fatalf("%s, %v", out, err)
	}

	// WHEN Decrypt knows only the default key THEN key 02's marker is not a marker: it stays
	out, err = fle.Decrypt(context.Background(), []byte(text), localDecrypt(priv2048), nil)
	if err != nil || !strings.Contains(string(out), card) || strings.Contains(string(out), ssn) {
		t.Fatalf("%s, %v", out, err)
	}

	// WHEN key 02's marker is handed to the default key THEN it fails with no body
	swapped := strings.Replace(text, fle.KeyPrefix("02"), fle.Prefix, 1)
	wrong := func(context.Context, []byte) ([]byte, error) { return nil, errors.New("InvalidCiphertextException") }
	out, err = fle.Decrypt(context.Background(), []byte(swapped), localDecrypt(priv2048),
		&fle.DecryptOptions{Keys: map[string]fle.DecryptFunc{"02": wrong}})
	if err == nil || out != nil || !strings.Contains(err.Error(), "marker 2") {
		t.Fatalf("%s, %v", out, err)
	}

	// WHEN a key id is invalid THEN Decrypt says so
	if _, err := fle.Decrypt(context.Background(), []byte(text), localDecrypt(priv2048),
		&fle.DecryptOptions{Keys: map[string]fle.DecryptFunc{"10": wrong}}); err == nil || !strings.Contains(err.Error(), `key id: expected two digits other than 00 and 10, got "10"`) {
		t.Fatalf("%v", err)
	}
}

func TestFindKeyMarkersWithTheDefaultIDMatchesFindMarkers(t *testing.T) {
	text := []byte("a #01#x#10# b #02#y#10# #01##01#z#10#")
	got, err := fle.FindKeyMarkers(text, []string{"01"})
	if err != nil {
		t.Fatal(err)
	}
	want := fle.FindMarkers(text)
	if len(got) != len(want) {
		t.Fatalf("%v vs %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("%d: %+v vs %+v", i, got[i], want[i])
		}
	}
}

func TestFormSubstitutionDecryptsFormEncodedMarkers(t *testing.T) {
	// GIVEN a form body whose marker base64 is form-encoded, as the edge encrypter writes it
	marker, err := encryptor(t, priv2048).EncryptValue([]byte("a b&c=d"))
	if err != nil {
		t.Fatal(err)
	}
	enc := strings.NewReplacer("+", "%2B", "/", "%2F", "=", "%3D").Replace(marker)
	body := "name=Alejandro&ssn=" + enc + "&city=Seattle"
	// WHEN it is decrypted with Form substitution
	out, err := fle.Decrypt(context.Background(), []byte(body), localDecrypt(priv2048), &fle.DecryptOptions{Substitution: fle.Form})
	if err != nil {
		t.Fatal(err)
	}
	// THEN the plaintext is form-encoded in place, and any form parser reads it back
	v, err := url.ParseQuery(string(out))
	if err != nil || v.Get("ssn") != "a b&c=d" || v.Get("name") != "Alejandro" || v.Get("city") != "Seattle" {
		t.Fatalf("%s: %v", out, err)
	}
}

func TestParseMarkerKeys(t *testing.T) {
	got, err := fle.ParseMarkerKeys("02=arn:aws:kms:eu-west-1:123456789012:key/a,11=k")
	if err != nil || got["02"] != "arn:aws:kms:eu-west-1:123456789012:key/a" || got["11"] != "k" || len(got) != 2 {
		t.Fatalf("%v, %v", got, err)
	}
	if got, err := fle.ParseMarkerKeys(""); err != nil || got != nil {
		t.Fatalf("%v, %v", got, err)
	}
	for in, want := range map[string]string{
		"02":        `expected id=<KMS key> pairs separated by commas, got "02"`,
		"01=k":      "key id 01 is the default key's; name only the other key ids",
		"10=k":      `key id: expected two digits other than 00 and 10, got "10"`,
		"02=a,02=b": "key id 02 named twice",
	} {
		if _, err := fle.ParseMarkerKeys(in); err == nil || err.Error() != want {
			t.Errorf("%s: %v, want %s", in, err, want)
		}
	}
}
