package main_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/securestacks/securestacks/internal/kmstest"
	"github.com/securestacks/securestacks/internal/testenv"
	main "github.com/securestacks/securestacks/lambda-src/fle-decrypt"
)

func TestEdgeEncryptedBodyDecryptsThroughLocalKMSWithTheKeyOfEachMarker(t *testing.T) {
	// GIVEN two local-kms RSA keys: 01 for personal data, 02 for cards
	endpoint, keyID, pub := localKMSKey(t)
	c := kmstest.Client(endpoint)
	cardKey := kmstest.CreateKey(t, c, types.KeySpecRsa2048, types.KeyUsageTypeEncryptDecrypt)
	cardPub := fetchPublicKey(t, c, cardKey)
	// AND the edge function under the pinned Node, configured with their public keys
	cfg := map[string]any{
		"keys": map[string]string{"01": string(pub.PEM()), "02": string(cardPub.PEM())},
		"fields": []map[string]string{
			{"name": "fname"}, {"name": "lname"}, {"name": "email"}, {"name": "ssn"}, {"name": "dob"}, {"name": "phone"},
			{"path": "$[*].card", "key": "02"},
		},
	}
	payload := strings.Replace(seedPayload, `"city"`, `"card": "4111111111111111", "city"`, 1)
	out := testenv.RunEdge(t, cfg, []any{testenv.OriginRequest("POST", "application/json", []byte(payload), false)}, 0)
	var fwd struct{ Body struct{ Data string } }
	if err := json.Unmarshal(out.Results[0], &fwd); err != nil {
		t.Fatal(err)
	}
	protected, err := base64.StdEncoding.DecodeString(fwd.Body.Data)
	if err != nil || !strings.Contains(string(protected), `"card": "#02#`) {
		t.Fatalf("%s (%v)", protected, err)
	}
	quiet := slog.New(slog.NewJSONHandler(io.Discard, nil))

	// WHEN the decrypt handler knows both keys THEN it decrypts the edge's body to the original
	h := &main.Handler{KMS: c, KeyID: keyID, MarkerKeys: map[string]string{"02": cardKey}, Logger: quiet}
	resp, err := h.Handle(context.Background(), main.Request{Body: string(protected), Format: "json"})
	if err != nil || resp.Body != payload || resp.Fields != 7 {
		t.Fatalf("%+v, %v", resp, err)
	}

	// WHEN key 02's marker is named as key 01's THEN KMS refuses it under key 01 and no body comes back
	swapped := strings.Replace(string(protected), "#02#", "#01#", 1)
	resp, err = h.Handle(context.Background(), main.Request{Body: swapped, Format: "json"})
	if err == nil || !strings.Contains(err.Error(), "InvalidCiphertextException") || resp.Body != "" {
		t.Fatalf("%+v, %v", resp, err)
	}

	// WHEN the handler knows only key 01 THEN the card stays encrypted
	only01 := &main.Handler{KMS: c, KeyID: keyID, Logger: quiet}
	resp, err = only01.Handle(context.Background(), main.Request{Body: string(protected), Format: "json"})
	if err != nil || strings.Contains(resp.Body, "4111") || !strings.Contains(resp.Body, "Alejandro") || resp.Fields != 6 {
		t.Fatalf("%+v, %v", resp, err)
	}
}
