package pcaimporttest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/smithy-go/encoding/cbor"
)

// FakePCA is one subordinate CA of AWS Private CA behind the SDK's wire
// protocol (Smithy RPC v2 CBOR: POST /service/ACMPrivateCA/operation/<Op>),
// for the CLI to reach through --endpoint-url. It answers
// DescribeCertificateAuthority, GetCertificateAuthorityCsr and
// ImportCertificateAuthorityCertificate for Arn; an import makes it ACTIVE.
type FakePCA struct {
	URL string
	Arn string
	// Csr is what GetCertificateAuthorityCsr returns; Type and Status what
	// DescribeCertificateAuthority reports (default SUBORDINATE and
	// PENDING_CERTIFICATE).
	Csr    []byte
	Type   string
	Status string

	mu sync.Mutex
	// Calls are the operations received, in order.
	calls []string
	// Certificate and Chain are what the last import installed.
	certificate, chain []byte
}

// StartFakePCA serves a PENDING_CERTIFICATE subordinate with csr on loopback
// until the test ends.
func StartFakePCA(t testing.TB, arn string, csr []byte) *FakePCA {
	t.Helper()
	f := &FakePCA{Arn: arn, Csr: csr, Type: "SUBORDINATE", Status: "PENDING_CERTIFICATE"}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

// Calls returns the operations received, in order.
func (f *FakePCA) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// Imported returns the certificate and chain of the last import (nil, nil
// before one).
func (f *FakePCA) Imported() (certificate, chain []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.certificate, f.chain
}

func (f *FakePCA) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	op := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
	f.calls = append(f.calls, op)
	raw, _ := io.ReadAll(r.Body)
	v, err := cbor.Decode(raw)
	in, ok := v.(cbor.Map)
	if err != nil || !ok || r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, "/service/ACMPrivateCA/operation/") {
		reply(w, http.StatusBadRequest, cbor.Map{"__type": cbor.String("SerializationException"), "message": cbor.String("fake PCA: bad request")})
		return
	}
	if arn, _ := in["CertificateAuthorityArn"].(cbor.String); string(arn) != f.Arn {
		reply(w, http.StatusBadRequest, cbor.Map{"__type": cbor.String("com.amazonaws.acmpca#ResourceNotFoundException"), "message": cbor.String("no CA " + string(arn))})
		return
	}
	switch op {
	case "DescribeCertificateAuthority":
		reply(w, http.StatusOK, cbor.Map{"CertificateAuthority": cbor.Map{
			"Arn": cbor.String(f.Arn), "Type": cbor.String(f.Type), "Status": cbor.String(f.Status),
		}})
	case "GetCertificateAuthorityCsr":
		reply(w, http.StatusOK, cbor.Map{"Csr": cbor.String(f.Csr)})
	case "ImportCertificateAuthorityCertificate":
		cert, _ := in["Certificate"].(cbor.Slice)
		chain, _ := in["CertificateChain"].(cbor.Slice)
		f.certificate, f.chain, f.Status = []byte(cert), []byte(chain), "ACTIVE"
		reply(w, http.StatusOK, cbor.Map{})
	default:
		reply(w, http.StatusBadRequest, cbor.Map{"__type": cbor.String("UnknownOperationException"), "message": cbor.String(op)})
	}
}

func reply(w http.ResponseWriter, status int, body cbor.Map) {
	w.Header().Set("Content-Type", "application/cbor")
	w.Header().Set("smithy-protocol", "rpc-v2-cbor")
	w.WriteHeader(status)
	_, _ = w.Write(cbor.Encode(body))
}
