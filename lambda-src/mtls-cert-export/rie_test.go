package main_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"

	"github.com/securestacks/securestacks/internal/mtlssecret"
	"github.com/securestacks/securestacks/internal/mtlssecret/mtlstest"
	"github.com/securestacks/securestacks/internal/testenv"
	"github.com/securestacks/securestacks/lambda-src/internal/cfnresponse"
	fake "github.com/securestacks/securestacks/lambda-src/internal/mtlsexport/mtlsexporttest"
)

// wireStub answers the three JSON-protocol operations of an export as ACM
// and Secrets Manager do, from what the real SDK put on the wire.
type wireStub struct {
	t       *testing.T
	acm     *fake.ACM
	mu      sync.Mutex
	secrets map[string]string
	// wirePassphrases are ExportCertificate's Passphrase fields as sent
	// (base64 of the blob).
	wirePassphrases []string
}

func (s *wireStub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var in map[string]any
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	s.mu.Lock()
	defer s.mu.Unlock()
	switch r.Header.Get("X-Amz-Target") {
	case "secretsmanager.GetRandomPassword":
		json.NewEncoder(w).Encode(map[string]any{"RandomPassword": mtlstest.Passphrase(s.t)})
	case "CertificateManager.ExportCertificate":
		wire, _ := in["Passphrase"].(string)
		s.wirePassphrases = append(s.wirePassphrases, wire)
		blob, err := base64.StdEncoding.DecodeString(wire)
		if err != nil {
			http.Error(w, `{"__type":"ValidationException"}`, http.StatusBadRequest)
			return
		}
		out, err := s.acm.Export(r.Context(), &acm.ExportCertificateInput{CertificateArn: aws.String(in["CertificateArn"].(string)), Passphrase: blob})
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"__type":"ResourceNotFoundException","message":"no such certificate"}`))
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"Certificate": *out.Certificate, "CertificateChain": *out.CertificateChain, "PrivateKey": *out.PrivateKey})
	case "secretsmanager.PutSecretValue":
		s.secrets[in["SecretId"].(string)] = in["SecretString"].(string)
		json.NewEncoder(w).Encode(map[string]any{"ARN": in["SecretId"], "VersionId": in["ClientRequestToken"], "VersionStages": []string{"AWSCURRENT"}})
	default:
		http.Error(w, `{"__type":"UnknownOperationException"}`, http.StatusBadRequest)
	}
}

func TestBootstrapExportsThroughTheRealSDK(t *testing.T) {
	// GIVEN the production bootstrap under the Lambda runtime emulator, with the real SDK
	// clients pointed at an in-process ACM and Secrets Manager holding one certificate
	ca := mtlstest.NewHierarchy(t, "ColorGateway", mtlstest.HierarchyOptions{KeyAlgorithm: mtlstest.ECPrime256v1})
	stub := &wireStub{t: t, acm: fake.NewACM(), secrets: map[string]string{}}
	stub.acm.Issue(t, certA, ca, "colorgateway.mtls.internal", time.Now().Add(-time.Hour), time.Now().AddDate(1, 0, 0))
	server := httptest.NewServer(stub)
	defer server.Close()
	bootstrap := testenv.BuildBootstrap(t, "github.com/securestacks/securestacks/lambda-src/mtls-cert-export")
	url := testenv.StartRIE(t, bootstrap,
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_SESSION_TOKEN=", "AWS_REGION=eu-west-1",
		"AWS_PROFILE=", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_EC2_METADATA_DISABLED=true", "AWS_ENDPOINT_URL="+server.URL)
	raw, err := os.ReadFile(filepath.Join("testdata", "create.json"))
	if err != nil {
		t.Fatal(err)
	}

	// WHEN CloudFormation's Create event is invoked
	out := testenv.Invoke(t, url, raw)

	// THEN it succeeds with the stable physical id
	var resp cfnresponse.Response
	if err := json.Unmarshal(out, &resp); err != nil || !strings.HasPrefix(resp.PhysicalResourceId, "MtlsColorgatewayExport1A2B3C4D-") {
		t.Fatalf("%s (%v)", out, err)
	}
	// AND on the wire the passphrase was the base64 of the stored text, once: the SDK's
	// blob encoding, not ours, so ACM encrypted under the text itself
	stub.mu.Lock()
	defer stub.mu.Unlock()
	payload, err := mtlssecret.Parse([]byte(stub.secrets[secret]))
	if err != nil {
		t.Fatalf("stored secret: %v", err)
	}
	if len(stub.wirePassphrases) != 1 || stub.wirePassphrases[0] != base64.StdEncoding.EncodeToString([]byte(payload.Passphrase)) {
		t.Fatalf("wire passphrase is not base64(stored passphrase)")
	}
	// AND the container start script decrypts what was stored
	if _, err := mtlstest.RunStartScript(t, payload, ca.Root.PEM()); err != nil {
		t.Fatalf("start script: %v", err)
	}
}
