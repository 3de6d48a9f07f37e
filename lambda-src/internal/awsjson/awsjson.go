// Package awsjson calls single operations of AWS services that speak the JSON
// 1.1 protocol (SSM, SageMaker), signed with Signature Version 4.
//
// It exists for handlers that need one or two operations of a service whose
// SDK client links its whole model: importing service/sagemaker adds about
// 2 MiB to a binary and service/ssm about 0.8 MiB, because each generated
// package builds a schema of every shape at init. The protocol is small: a
// POST of the input as JSON with X-Amz-Target <TargetPrefix>.<Operation>, an
// output or an error as JSON
// (https://smithy.io/2.0/aws/protocols/aws-json-1_1-protocol.html).
//
// Errors implement smithy.APIError and HTTPStatusCode(), so awsretry and the
// handlers' not-found checks treat them as they treat the SDK's.
package awsjson

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
)

// Service names one JSON 1.1 service.
type Service struct {
	// SDKID is the service's SDK ID ("SSM", "SageMaker"): AWS_ENDPOINT_URL_<SDKID>
	// overrides the endpoint, as for the SDK's clients.
	SDKID string
	// EndpointPrefix is the first labels of the regional endpoint
	// ("ssm", "api.sagemaker").
	EndpointPrefix string
	// SigningName is the SigV4 service name ("ssm", "sagemaker").
	SigningName string
	// TargetPrefix prefixes the operation in X-Amz-Target ("AmazonSSM", "SageMaker").
	TargetPrefix string
	// JSONVersion is "1.0" for the services that speak AWS JSON 1.0
	// (DynamoDB, Step Functions); empty means 1.1. The two differ on the
	// wire only in the Content-Type
	// (https://smithy.io/2.0/aws/protocols/aws-json-1_0-protocol.html).
	JSONVersion string
}

// maxErrorBody bounds what is read of an error answer.
const maxErrorBody = 64 << 10

// Client calls one Service with the region, credentials and endpoint
// overrides of Config.
type Client struct {
	Service Service
	Config  aws.Config
	// DNSSuffix returns the DNS suffix of the region's partition
	// ("amazonaws.com", "amazonaws.com.cn"). See SuffixFromEndpoint.
	DNSSuffix func(ctx context.Context, region string) (string, error)
	// HTTP sends the requests. Default: Config.HTTPClient, else the SDK's
	// default client.
	HTTP aws.HTTPClient
	// Now is the signing clock. Default: time.Now.
	Now func() time.Time
}

// Call runs operation with in marshalled as the JSON body and unmarshals the
// answer into out (out may be nil).
func (c *Client) Call(ctx context.Context, operation string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("%s: %w", operation, err)
	}
	endpoint, err := c.endpoint(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", operation, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s: %w", operation, err)
	}
	version := c.Service.JSONVersion
	if version == "" {
		version = "1.1"
	}
	req.Header.Set("Content-Type", "application/x-amz-json-"+version)
	req.Header.Set("X-Amz-Target", c.Service.TargetPrefix+"."+operation)
	if err := c.sign(ctx, req, body); err != nil {
		return fmt.Errorf("%s: %w", operation, err)
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", operation, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return newError(resp)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s: reading the answer: %w", operation, err)
	}
	if out == nil || len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s: decoding the answer: %w", operation, err)
	}
	return nil
}

func (c *Client) endpoint(ctx context.Context) (string, error) {
	if u, ok := c.configuredEndpoint(ctx); ok {
		return u, nil
	}
	region := c.Config.Region
	if region == "" {
		return "", errors.New("no region: AWS_REGION is not set")
	}
	if c.DNSSuffix == nil {
		return "", errors.New("awsjson: Client.DNSSuffix is not set")
	}
	suffix, err := c.DNSSuffix(ctx, region)
	if err != nil {
		return "", err
	}
	return "https://" + c.Service.EndpointPrefix + "." + region + "." + suffix + "/", nil
}

// configuredEndpoint is the SDK's order: the service's own config source
// (AWS_ENDPOINT_URL_<SDKID>), then Config.BaseEndpoint.
func (c *Client) configuredEndpoint(ctx context.Context) (string, bool) {
	type ignoreProvider interface {
		GetIgnoreConfiguredEndpoints(context.Context) (bool, bool, error)
	}
	type serviceProvider interface {
		GetServiceBaseEndpoint(context.Context, string) (string, bool, error)
	}
	for _, src := range c.Config.ConfigSources {
		if p, ok := src.(ignoreProvider); ok {
			if ignore, found, _ := p.GetIgnoreConfiguredEndpoints(ctx); found && ignore {
				return "", false
			}
		}
	}
	for _, src := range c.Config.ConfigSources {
		if p, ok := src.(serviceProvider); ok {
			if u, found, err := p.GetServiceBaseEndpoint(ctx, c.Service.SDKID); err == nil && found {
				return u, true
			}
		}
	}
	if c.Config.BaseEndpoint != nil && *c.Config.BaseEndpoint != "" {
		return *c.Config.BaseEndpoint, true
	}
	return "", false
}

func (c *Client) sign(ctx context.Context, req *http.Request, body []byte) error {
	if c.Config.Credentials == nil {
		return errors.New("no credentials")
	}
	creds, err := c.Config.Credentials.Retrieve(ctx)
	if err != nil {
		return fmt.Errorf("credentials: %w", err)
	}
	sum := sha256.Sum256(body)
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	return v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), c.Service.SigningName, c.Config.Region, now())
}

func (c *Client) httpClient() aws.HTTPClient {
	if c.HTTP != nil {
		return c.HTTP
	}
	if c.Config.HTTPClient != nil {
		return c.Config.HTTPClient
	}
	return awshttp.NewBuildableClient()
}

// SuffixFrom returns a Client.DNSSuffix that resolves an endpoint with
// resolve (another SDK client's endpoint resolver, for the service whose
// endpoint is <prefix>.<region>.<suffix>) and keeps the suffix.
func SuffixFrom(prefix string, resolve func(ctx context.Context, region string) (url.URL, error)) func(context.Context, string) (string, error) {
	return func(ctx context.Context, region string) (string, error) {
		u, err := resolve(ctx, region)
		if err != nil {
			return "", fmt.Errorf("resolving the DNS suffix of %s: %w", region, err)
		}
		return SuffixFromEndpoint(u.String(), prefix, region)
	}
}

// SuffixFromEndpoint returns the DNS suffix of an endpoint URL that another
// SDK client resolved for region as <prefix>.<region>.<suffix>: a handler
// that links one SDK client (whose endpoint rules carry AWS's partition data)
// derives the suffix for its JSON calls from it instead of a table of its own.
func SuffixFromEndpoint(endpoint, prefix, region string) (string, error) {
	host := endpoint
	if i := strings.Index(host, "://"); i >= 0 {
		host = host[i+3:]
	}
	host, _, _ = strings.Cut(host, "/")
	suffix, ok := strings.CutPrefix(host, prefix+"."+region+".")
	if !ok || suffix == "" {
		return "", fmt.Errorf("endpoint %s is not %s.%s.<dns suffix>", endpoint, prefix, region)
	}
	return suffix, nil
}

// Error is an error answer of a JSON 1.1 service.
type Error struct {
	Code      string
	Message   string
	Status    int
	RequestID string
}

var _ smithy.APIError = (*Error)(nil)

func (e *Error) Error() string {
	return fmt.Sprintf("api error %s: %s (HTTP %d, request id %s)", e.Code, e.Message, e.Status, e.RequestID)
}

// ErrorCode is the error's shape name, such as ParameterNotFound.
func (e *Error) ErrorCode() string { return e.Code }

// ErrorMessage is the service's message.
func (e *Error) ErrorMessage() string { return e.Message }

// ErrorFault is the server's for 5xx answers, the client's otherwise.
func (e *Error) ErrorFault() smithy.ErrorFault {
	if e.Status >= 500 {
		return smithy.FaultServer
	}
	return smithy.FaultClient
}

// HTTPStatusCode lets the SDK's retry rules see the status, as for SDK errors.
func (e *Error) HTTPStatusCode() int { return e.Status }

// newError reads the error shape from X-Amzn-ErrorType or the body's __type
// ("com.amazonaws.ssm#ParameterNotFound" or "ParameterNotFound:http://...").
func newError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var doc struct {
		Type     string `json:"__type"`
		Code     string `json:"code"`
		Message  string `json:"message"`
		MessageU string `json:"Message"`
	}
	_ = json.Unmarshal(b, &doc)
	code := resp.Header.Get("X-Amzn-ErrorType")
	for _, c := range []string{doc.Type, doc.Code} {
		if code == "" {
			code = c
		}
	}
	code, _, _ = strings.Cut(code, ":")
	if i := strings.LastIndex(code, "#"); i >= 0 {
		code = code[i+1:]
	}
	if code == "" {
		code = http.StatusText(resp.StatusCode)
	}
	msg := doc.Message
	if msg == "" {
		msg = doc.MessageU
	}
	return &Error{Code: code, Message: msg, Status: resp.StatusCode, RequestID: resp.Header.Get("X-Amzn-RequestId")}
}
