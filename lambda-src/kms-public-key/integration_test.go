package main_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/securestacks/securestacks/internal/kmskey"
	"github.com/securestacks/securestacks/internal/kmssig"
	"github.com/securestacks/securestacks/internal/kmstest"
	"github.com/securestacks/securestacks/internal/testenv"
	"github.com/securestacks/securestacks/lambda-src/internal/cfnresponse"
	"github.com/securestacks/securestacks/lambda-src/internal/ssmparam"
	main "github.com/securestacks/securestacks/lambda-src/kms-public-key"
)

// awsStub is an in-process S3 (path-style PUT, GET, DELETE of objects) and
// SSM (PutParameter, GetParameter, DeleteParameter) endpoint, enough for the
// real SDK clients the Lambda uses to talk to.
type awsStub struct {
	mu      sync.Mutex
	objects map[string][]byte
	params  map[string]string
}

func (s *awsStub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		s.ssm(w, r, strings.TrimPrefix(target, "AmazonSSM."))
		return
	}
	key := strings.TrimPrefix(r.URL.Path, "/")
	switch r.Method {
	case http.MethodPut:
		body, err := readS3Body(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.objects[key] = body
	case http.MethodGet:
		b, ok := s.objects[key]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `<Error><Code>NoSuchKey</Code></Error>`)
			return
		}
		w.Write(b)
	case http.MethodDelete:
		delete(s.objects, key)
		w.WriteHeader(http.StatusNoContent)
	}
}

// readS3Body returns the object bytes of a PutObject, decoding the
// aws-chunked framing the SDK uses to trail a checksum.
func readS3Body(r *http.Request) ([]byte, error) {
	if !strings.Contains(r.Header.Get("Content-Encoding"), "aws-chunked") {
		return io.ReadAll(r.Body)
	}
	var out bytes.Buffer
	br := bufio.NewReader(r.Body)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return nil, err
		}
		size, err := strconv.ParseInt(strings.TrimSpace(strings.SplitN(line, ";", 2)[0]), 16, 64)
		if err != nil {
			return nil, err
		}
		if size == 0 {
			return out.Bytes(), nil
		}
		if _, err := io.CopyN(&out, br, size); err != nil {
			return nil, err
		}
		if _, err := br.ReadString('\n'); err != nil {
			return nil, err
		}
	}
}

func (s *awsStub) ssm(w http.ResponseWriter, r *http.Request, op string) {
	var in struct{ Name, Value string }
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	notFound := func() {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"__type":"ParameterNotFound","message":"not found"}`)
	}
	switch op {
	case "PutParameter":
		s.params[in.Name] = in.Value
		io.WriteString(w, `{"Version":1,"Tier":"Standard"}`)
	case "GetParameter":
		v, ok := s.params[in.Name]
		if !ok {
			notFound()
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"Parameter": map[string]any{"Name": in.Name, "Type": "String", "Value": v}})
	case "DeleteParameter":
		if _, ok := s.params[in.Name]; !ok {
			notFound()
			return
		}
		delete(s.params, in.Name)
		io.WriteString(w, `{}`)
	default:
		http.Error(w, "unsupported "+op, http.StatusBadRequest)
	}
}

func TestPublishedKeyFromLocalKMSVerifiesKMSSignaturesOffline(t *testing.T) {
	// GIVEN local-kms with the seed's RSA_4096 signing key, and in-process S3 and SSM
	kmsURL := testenv.StartLocalKMS(t)
	kc := kmstest.Client(kmsURL)
	keyID := kmstest.CreateKey(t, kc, types.KeySpecRsa4096, types.KeyUsageTypeSignVerify)
	kmstest.CreateAlias(t, kc, "alias/sample-sign-verify-key", keyID)
	stub := &awsStub{objects: map[string][]byte{}, params: map[string]string{}}
	srv := httptest.NewServer(stub)
	defer srv.Close()
	creds := credentials.NewStaticCredentialsProvider("test", "test", "")
	s3c := s3.New(s3.Options{Region: kmstest.Region, BaseEndpoint: aws.String(srv.URL), UsePathStyle: true, Credentials: creds, RetryMaxAttempts: 1})
	ssmc := ssm.New(ssm.Options{Region: kmstest.Region, BaseEndpoint: aws.String(srv.URL), Credentials: creds, RetryMaxAttempts: 1})
	params := ssmparam.New(aws.Config{Region: kmstest.Region, BaseEndpoint: aws.String(srv.URL), Credentials: creds}, nil)
	pub := &main.Publisher{KMS: kc, PutObject: s3c, DeleteObject: s3c, PutParameter: params, DeleteParameter: params,
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	handler := cfnresponse.Handler(pub, nil)
	p := props("")
	p["KeyId"] = "alias/sample-sign-verify-key"

	// WHEN the custom resource is created
	resp, err := handler(context.Background(), event(cfnresponse.Create, p))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Data["KeyArn"] != keyID || resp.Data["KeySpec"] != "RSA_4096" {
		t.Fatalf("Data %v, want the key behind the alias", resp.Data)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	obj, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(prefix + "public-key.pem")})
	if err != nil {
		t.Fatal(err)
	}
	pemKey, _ := io.ReadAll(obj.Body)
	der := stub.objects[bucket+"/"+prefix+"public-key.der"]
	par, err := ssmc.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(param)})
	if err != nil {
		t.Fatal(err)
	}
	// THEN the DER, the PEM in S3 and the PEM in SSM are one key
	if !bytes.Equal(kmskey.EncodePEM(der), pemKey) || *par.Parameter.Value != string(pemKey) {
		t.Fatal("the published copies differ")
	}

	// WHEN KMS signs the seed's message with the seed's algorithm
	msg := []byte("Sample text signed with KMS and verified offline\n")
	sig, err := kmssig.Sign(ctx, kc, "alias/sample-sign-verify-key", kmssig.RsassaPkcs1V15Sha512, kmssig.MessageRaw, msg)
	if err != nil {
		t.Fatal(err)
	}
	// THEN the key as a verifier reads it from SSM verifies the signature without KMS
	key, err := kmskey.ParsePublicKey([]byte(*par.Parameter.Value))
	if err != nil {
		t.Fatal(err)
	}
	if err := kmssig.Verify(key, kmssig.RsassaPkcs1V15Sha512, kmssig.MessageRaw, msg, sig.Bytes); err != nil {
		t.Fatal(err)
	}
	// AND so does the seed's openssl command with the PEM from S3
	dir := t.TempDir()
	for name, b := range map[string][]byte{"SamplePublicKey.pem": pemKey, "SampleText.sig": sig.Bytes, "SampleText.txt": msg} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("openssl", "dgst", "-sha512", "-verify", "SamplePublicKey.pem", "-signature", "SampleText.sig", "SampleText.txt")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "Verified OK" {
		t.Fatalf("openssl: %v: %s", err, out)
	}

	// WHEN the stack is deleted with the default removal policy, even after the copies vanished
	if _, err := handler(context.Background(), event(cfnresponse.Delete, p)); err != nil {
		t.Fatal(err)
	}
	// THEN the copies are still published
	if len(stub.objects) != 2 || len(stub.params) != 1 {
		t.Errorf("after Delete: %d objects, %d parameters; want them retained", len(stub.objects), len(stub.params))
	}
	// AND with destroy they are deleted, and a second Delete still succeeds
	p["RemovalPolicy"] = "destroy"
	for i := range 2 {
		if _, err := handler(context.Background(), event(cfnresponse.Delete, p)); err != nil {
			t.Fatalf("Delete %d with destroy: %v", i+1, err)
		}
	}
	if len(stub.objects) != 0 || len(stub.params) != 0 {
		t.Errorf("after destroy: %d objects, %d parameters", len(stub.objects), len(stub.params))
	}
}
