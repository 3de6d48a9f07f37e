package awsjson_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/appstream"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/smithy-go"

	"github.com/securestacks/securestacks/lambda-src/internal/awsconfig"
	"github.com/securestacks/securestacks/lambda-src/internal/awsjson"
	"github.com/securestacks/securestacks/lambda-src/internal/awsretry"
	"github.com/securestacks/securestacks/lambda-src/internal/sagemakernotebook"
	"github.com/securestacks/securestacks/lambda-src/internal/ssmparam"
)

func setCreds(t *testing.T) {
	t.Setenv(awsconfig.EnvAccessKeyID, "AKIDEXAMPLE")
	t.Setenv(awsconfig.EnvSecretAccessKey, "secret")
	t.Setenv(awsconfig.EnvSessionToken, "")
	t.Setenv(awsconfig.EnvRegion, "eu-west-1")
}

func TestCallSpeaksJSON11WithSigV4(t *testing.T) {
	// GIVEN an SSM endpoint on loopback, named by AWS_ENDPOINT_URL_SSM
	setCreds(t)
	var got *http.Request
	var body map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		_ = json.NewDecoder(r.Body).Decode(&body)
		io.WriteString(w, `{"Version":3,"Tier":"Standard"}`)
	}))
	defer srv.Close()
	t.Setenv("AWS_ENDPOINT_URL_SSM", srv.URL)
	c := ssmparam.New(awsconfig.FromEnv(1), nil)
	// WHEN a parameter is put
	out, err := c.PutParameter(context.Background(), &ssmparam.PutParameterInput{
		Name: aws.String("/p"), Value: aws.String("v"), Type: ssmparam.ParameterTypeString, Overwrite: aws.Bool(true),
	})
	// THEN the request is the JSON 1.1 protocol's, signed for ssm in the region
	if err != nil {
		t.Fatal(err)
	}
	if out.Version != 3 {
		t.Errorf("Version = %d, want 3", out.Version)
	}
	if got.Method != http.MethodPost || got.URL.Path != "/" {
		t.Errorf("request %s %s, want POST /", got.Method, got.URL.Path)
	}
	if h := got.Header.Get("X-Amz-Target"); h != "AmazonSSM.PutParameter" {
		t.Errorf("X-Amz-Target = %q", h)
	}
	if h := got.Header.Get("Content-Type"); h != "application/x-amz-json-1.1" {
		t.Errorf("Content-Type = %q", h)
	}
	if h := got.Header.Get("Authorization"); !strings.HasPrefix(h, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/") || !strings.Contains(h, "/eu-west-1/ssm/aws4_request") {
		t.Errorf("Authorization = %q, want SigV4 for ssm in eu-west-1", h)
	}
	if body["Name"] != "/p" || body["Value"] != "v" || body["Type"] != "String" || body["Overwrite"] != true {
		t.Errorf("body = %v", body)
	}
}

func TestErrorsAreAPIErrorsTheRetryRulesKnow(t *testing.T) {
	setCreds(t)
	for _, tt := range []struct {
		status    int
		header    string
		body      string
		code      string
		retryable bool
	}{
		{400, "", `{"__type":"com.amazonaws.ssm#ParameterNotFound","message":"gone"}`, "ParameterNotFound", false},
		{400, "ThrottlingException:http://internal.amazon.com/coral/com.amazon.coral.availability/", `{"message":"slow"}`, "ThrottlingException", true},
		{400, "", `{"__type":"ValidationException","Message":"bad"}`, "ValidationException", false},
		{503, "", `not json`, "Service Unavailable", true},
	} {
		t.Run(tt.code, func(t *testing.T) {
			// GIVEN a service answering with an error
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.header != "" {
					w.Header().Set("X-Amzn-ErrorType", tt.header)
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			t.Setenv(awsconfig.EnvEndpointURL, srv.URL)
			// WHEN a call fails
			_, err := ssmparam.New(awsconfig.FromEnv(1), nil).DeleteParameter(context.Background(), &ssmparam.DeleteParameterInput{Name: aws.String("/p")})
			// THEN it is an APIError with the shape's name, retryable as the SDK's would be
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != tt.code {
				t.Fatalf("error %v, want API error code %s", err, tt.code)
			}
			if got := awsretry.Retryable(err); got != tt.retryable {
				t.Errorf("Retryable = %v, want %v", got, tt.retryable)
			}
		})
	}
}

// roundTrip records the URL a client would call.
type roundTrip struct{ url string }

func (r *roundTrip) Do(req *http.Request) (*http.Response, error) {
	r.url = req.URL.String()
	return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(`{"AuthorizedUrl":"https://x"}`)), Header: http.Header{}}, nil
}

func TestEndpointsComeFromTheSDKsPartitionData(t *testing.T) {
	setCreds(t)
	kmsEndpoint := func(ctx context.Context, region string) (url.URL, error) {
		ep, err := kms.NewDefaultEndpointResolverV2().ResolveEndpoint(ctx, kms.EndpointParameters{Region: &region})
		return ep.URI, err
	}
	appStreamEndpoint := func(ctx context.Context, region string) (url.URL, error) {
		ep, err := appstream.NewDefaultEndpointResolverV2().ResolveEndpoint(ctx, appstream.EndpointParameters{Region: &region})
		return ep.URI, err
	}
	for _, tt := range []struct{ region, ssm, sagemaker string }{
		{"eu-west-1", "https://ssm.eu-west-1.amazonaws.com/", "https://api.sagemaker.eu-west-1.amazonaws.com/"},
		{"cn-north-1", "https://ssm.cn-north-1.amazonaws.com.cn/", "https://api.sagemaker.cn-north-1.amazonaws.com.cn/"},
		{"us-gov-west-1", "https://ssm.us-gov-west-1.amazonaws.com/", "https://api.sagemaker.us-gov-west-1.amazonaws.com/"},
	} {
		t.Run(tt.region, func(t *testing.T) {
			// GIVEN no endpoint override and the region's partition from another client's rules
			cfg := awsconfig.FromEnv(1)
			cfg.Region = tt.region
			rt := &roundTrip{}
			cfg.HTTPClient = rt
			// WHEN each client calls
			_, _ = ssmparam.New(cfg, awsjson.SuffixFrom("kms", kmsEndpoint)).DeleteParameter(context.Background(), &ssmparam.DeleteParameterInput{Name: aws.String("/p")})
			ssmURL := rt.url
			_, _ = sagemakernotebook.New(cfg, awsjson.SuffixFrom("appstream2", appStreamEndpoint)).CreatePresignedNotebookInstanceUrl(context.Background(), &sagemakernotebook.CreatePresignedNotebookInstanceUrlInput{NotebookInstanceName: aws.String("n")})
			// THEN each reaches its service's regional endpoint in that partition
			if ssmURL != tt.ssm || rt.url != tt.sagemaker {
				t.Errorf("endpoints %s and %s, want %s and %s", ssmURL, rt.url, tt.ssm, tt.sagemaker)
			}
		})
	}
}
