package testenv_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/securestacks/securestacks/internal/testenv"
)

func TestStartLocalKMSAnswersTheKMSAPI(t *testing.T) {
	// GIVEN a local-kms started by the helper
	endpoint := testenv.StartLocalKMS(t)
	// WHEN ListKeys is called over its JSON protocol
	req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader("{}"))
	req.Header.Set("X-Amz-Target", "TrentService.ListKeys")
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	// THEN it answers with an (empty) key list
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"Keys"`) {
		t.Fatalf("ListKeys: HTTP %d %s", resp.StatusCode, body)
	}
}
