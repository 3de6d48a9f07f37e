package main

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
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/securestacks/securestacks/internal/incident"
)

// irCommands is the ir group: start, follow and release EC2 incident-response
// cases through the <Env>-IncidentResponse API (IAM authorization: every
// request is SigV4-signed with the caller's AWS credentials, which must be
// one of the stack's configured invokers).
var irCommands = []command{
	{name: "respond", summary: "start (or join) a case for an instance; --dry-run only plans it", run: runIrRespond},
	{name: "status", summary: "show a case: its steps, failures, artifacts and execution status", run: runIrStatus},
	{name: "release", summary: "restore a finished case's security groups and instance profile", run: runIrRelease},
}

// irAPIURLEnv is read when --api-url is not given.
const irAPIURLEnv = "SECURESTACKS_IR_API_URL"

// irTimeout bounds one command's call.
const irTimeout = 40 * time.Second

type irFlags struct {
	apiURL, region *string
}

func addIrFlags(fs interface {
	String(name, value, usage string) *string
}) irFlags {
	return irFlags{
		apiURL: fs.String("api-url", "", "the stack's ApiUrl output, e.g. https://abc123.execute-api.eu-west-1.amazonaws.com/v1/ (default: $"+irAPIURLEnv+")"),
		region: fs.String("region", "", "signing region (default: the region in the API URL)"),
	}
}

var apiHostRe = regexp.MustCompile(`\.execute-api\.([a-z0-9-]+)\.`)

// irClient calls the API with SigV4 (service execute-api).
type irClient struct {
	base   *url.URL
	region string
	creds  aws.CredentialsProvider
	http   *http.Client
	now    func() time.Time
}

func (f irFlags) client(ctx context.Context) (*irClient, error) {
	raw := *f.apiURL
	if raw == "" {
		raw = os.Getenv(irAPIURLEnv)
	}
	if raw == "" {
		return nil, errors.New("--api-url: expected the stack's ApiUrl output (or set " + irAPIURLEnv + ")")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("--api-url %q: expected an https URL", raw)
	}
	region := *f.region
	if region == "" {
		if m := apiHostRe.FindStringSubmatch(u.Host); m != nil {
			region = m[1]
		}
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("loading AWS configuration: %w", err)
	}
	if region == "" {
		region = cfg.Region
	}
	if region == "" {
		return nil, errors.New("no signing region: pass --region")
	}
	return &irClient{base: u, region: region, creds: cfg.Credentials, http: &http.Client{Timeout: irTimeout}, now: time.Now}, nil
}

// do sends one signed request and decodes the JSON answer into out; an
// error answer is its one-line message.
func (c *irClient) do(ctx context.Context, method, path string, body any, out any) error {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return err
		}
	}
	u := c.base.JoinPath(path)
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(payload))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.creds == nil {
		return errors.New("no AWS credentials")
	}
	creds, err := c.creds.Retrieve(ctx)
	if err != nil {
		return fmt.Errorf("AWS credentials: %w", err)
	}
	sum := sha256.Sum256(payload)
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "execute-api", c.region, c.now()); err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error   string `json:"error"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(b, &e)
		msg := e.Error
		if msg == "" {
			msg = e.Message
		}
		if msg == "" {
			msg = strings.TrimSpace(string(b))
		}
		return fmt.Errorf("HTTP %d: %s", resp.StatusCode, msg)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(b, out)
}

func runIrRespond(args []string, stdout, stderr io.Writer) int {
	const where = "ir respond"
	fs := newFlagSet(where)
	instance := fs.String("instance-id", "", "the suspect EC2 instance (required)")
	caseID := fs.String("case-id", "", "name the case (default: UTC time and instance ID)")
	reason := fs.String("reason", "", "why the case starts, kept in the manifest")
	dryRun := fs.Bool("dry-run", false, "check the instance and print the plan; start nothing")
	f := addIrFlags(fs)
	if done, code := parseFlags(fs, args, prog+" ir respond --instance-id i-... [--case-id ID] [--reason TEXT] [--dry-run] [--api-url URL]",
		"Start an incident-response case: evidence first, then containment. A second request for an instance with an open case joins it.", stdout, stderr); done {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(stderr, where, "unexpected argument %q", fs.Arg(0))
	}
	r := incident.Request{InstanceID: *instance, CaseID: *caseID, Reason: *reason, DryRun: *dryRun}
	if err := r.Check(); err != nil {
		return usageError(stderr, where, "--%v", strings.Replace(strings.Replace(err.Error(), "instanceId", "instance-id", 1), "caseId", "case-id", 1))
	}
	ctx, cancel := context.WithTimeout(context.Background(), irTimeout)
	defer cancel()
	c, err := f.client(ctx)
	if err != nil {
		return failure(stderr, where, err)
	}
	var resp incident.Response
	if err := c.do(ctx, http.MethodPost, "cases", r, &resp); err != nil {
		return failure(stderr, where, err)
	}
	switch {
	case resp.DryRun:
		fmt.Fprintf(stdout, "dry run: case %s would run, for %s:\n", resp.CaseID, r.InstanceID)
		for _, p := range resp.Plan {
			fmt.Fprintf(stdout, "  %s\n", p)
		}
	case resp.Joined:
		fmt.Fprintf(stdout, "joined open case %s\n", resp.CaseID)
	default:
		fmt.Fprintf(stdout, "started case %s (%s)\n", resp.CaseID, resp.ExecutionArn)
	}
	return exitOK
}

func caseCommand(args []string, stdout, stderr io.Writer, where, method, suffix, summary string) int {
	fs := newFlagSet(where)
	caseID := fs.String("case-id", "", "the case (required)")
	f := addIrFlags(fs)
	if done, code := parseFlags(fs, args, prog+" "+where+" --case-id ID [--api-url URL]", summary, stdout, stderr); done {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(stderr, where, "unexpected argument %q", fs.Arg(0))
	}
	if err := incident.CheckCaseID(*caseID); err != nil {
		return usageError(stderr, where, "--%s", strings.Replace(err.Error(), "caseId", "case-id", 1))
	}
	ctx, cancel := context.WithTimeout(context.Background(), irTimeout)
	defer cancel()
	c, err := f.client(ctx)
	if err != nil {
		return failure(stderr, where, err)
	}
	var out json.RawMessage
	if err := c.do(ctx, method, "cases/"+*caseID+suffix, nil, &out); err != nil {
		return failure(stderr, where, err)
	}
	var pretty bytes.Buffer
	if json.Indent(&pretty, out, "", "  ") != nil {
		pretty.Write(out)
	}
	fmt.Fprintln(stdout, pretty.String())
	return exitOK
}

func runIrStatus(args []string, stdout, stderr io.Writer) int {
	return caseCommand(args, stdout, stderr, "ir status", http.MethodGet, "",
		"Print a case as JSON: each step with its times and outcome, the failed steps, the artifacts with their SHA-256, and the execution status.")
}

func runIrRelease(args []string, stdout, stderr io.Writer) int {
	return caseCommand(args, stdout, stderr, "ir release", http.MethodPost, "/release",
		"Release a finished case: restore every interface's original security groups and the original instance profile, remove the quarantine tag, close the case.")
}
