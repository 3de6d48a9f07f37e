package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/appstream"
	"github.com/aws/aws-sdk-go-v2/service/appstream/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	main "github.com/securestacks/securestacks/lambda-src/appstream-session-validator"
	"github.com/securestacks/securestacks/lambda-src/internal/awsretry"
	"github.com/securestacks/securestacks/lambda-src/internal/sagemakernotebook"
)

const (
	homeBucket = "appstream2-36fb080bb8-eu-west-1-123456789012"
	owner      = "123456789012"
	stackName  = "Sandbox-Stack"
	fleetName  = "Sandbox-Fleet"
	notebook   = "Sandbox-Notebook"
	sessionID  = "2d2fbc9e-4a5e-4d4b-9c41-7b1e3a0f9a11"
	presigned  = "https://sandbox-notebook.notebook.eu-west-1.sagemaker.aws/auth?token=SECRET-TOKEN"
)

// The function-type fakes, one per SDK operation.
type (
	getObjectFunc func(ctx context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	putObjectFunc func(ctx context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	describeFunc  func(ctx context.Context, in *appstream.DescribeSessionsInput, _ ...func(*appstream.Options)) (*appstream.DescribeSessionsOutput, error)
	presignFunc   func(ctx context.Context, in *sagemakernotebook.CreatePresignedNotebookInstanceUrlInput) (*sagemakernotebook.CreatePresignedNotebookInstanceUrlOutput, error)
	countFunc     func(name string)
)

func (f getObjectFunc) GetObject(ctx context.Context, in *s3.GetObjectInput, o ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	return f(ctx, in, o...)
}
func (f putObjectFunc) PutObject(ctx context.Context, in *s3.PutObjectInput, o ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	return f(ctx, in, o...)
}
func (f describeFunc) DescribeSessions(ctx context.Context, in *appstream.DescribeSessionsInput, o ...func(*appstream.Options)) (*appstream.DescribeSessionsOutput, error) {
	return f(ctx, in, o...)
}
func (f presignFunc) CreatePresignedNotebookInstanceUrl(ctx context.Context, in *sagemakernotebook.CreatePresignedNotebookInstanceUrlInput) (*sagemakernotebook.CreatePresignedNotebookInstanceUrlOutput, error) {
	return f(ctx, in)
}
func (f countFunc) Count(name string) { f(name) }

func apiError(code string) error { return &smithy.GenericAPIError{Code: code, Message: "fake " + code} }

func serviceUnavailable() error {
	return &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 503}},
		Err:      errors.New("fake outage"),
	}}
}

func folderKey(kind, user string) string {
	return "user/" + kind + "/" + main.UserFolderHash(user) + "/" + stackName + "/session.json"
}

func sessionJSON(fields map[string]string) []byte {
	b, _ := json.Marshal(fields)
	return b
}

func validSessionJSON(user string) []byte {
	return sessionJSON(map[string]string{"user": user, "sessionId": sessionID, "stackName": stackName, "fleetName": fleetName, "authType": "custom"})
}

func activeSession(user string, auth types.AuthenticationType) types.Session {
	return types.Session{
		Id: aws.String(sessionID), UserId: aws.String(user), StackName: aws.String(stackName),
		FleetName: aws.String(fleetName), State: types.SessionStateActive, AuthenticationType: auth,
	}
}

// world is the fake AWS the handler talks to, with a record of what it was asked.
type world struct {
	objects       map[string][]byte
	contentLength map[string]int64 // overrides the object's length in GetObject answers
	getErr        []error          // answers of successive GetObject calls before the object; nil: found
	describe      []describeAnswer // successive DescribeSessions answers; the last repeats
	presign       []presignAnswer  // successive CreatePresignedNotebookInstanceUrl answers
	putErr        error

	puts          map[string]string
	metrics       []string
	describeCalls []*appstream.DescribeSessionsInput
	presignCalls  []*sagemakernotebook.CreatePresignedNotebookInstanceUrlInput
	s3Owners      []string // ExpectedBucketOwner of every S3 call
}

type describeAnswer struct {
	out  *appstream.DescribeSessionsOutput
	err  error
	hang bool // block until the attempt's context ends
}

type presignAnswer struct {
	url  string
	err  error
	hang bool
}

func sessionsPage(next string, s ...types.Session) describeAnswer {
	out := &appstream.DescribeSessionsOutput{Sessions: s}
	if next != "" {
		out.NextToken = aws.String(next)
	}
	return describeAnswer{out: out}
}

func (w *world) handler(logs io.Writer) *main.Handler {
	w.puts = map[string]string{}
	getCalls := 0
	return &main.Handler{
		Config: main.Config{
			HomeBucket: homeBucket, BucketOwner: owner, StackName: stackName, FleetName: fleetName,
			NotebookInstanceName: notebook, SessionExpirySeconds: 1800,
		},
		GetObject: getObjectFunc(func(ctx context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
			w.s3Owners = append(w.s3Owners, aws.ToString(in.ExpectedBucketOwner))
			if getCalls++; getCalls <= len(w.getErr) && w.getErr[getCalls-1] != nil {
				return nil, w.getErr[getCalls-1]
			}
			b, ok := w.objects[aws.ToString(in.Key)]
			if !ok || aws.ToString(in.Bucket) != homeBucket {
				return nil, apiError("NoSuchKey")
			}
			n := int64(len(b))
			if l, ok := w.contentLength[aws.ToString(in.Key)]; ok {
				n = l
			}
			return &s3.GetObjectOutput{Body: io.NopCloser(bytes.NewReader(b)), ContentLength: aws.Int64(n)}, nil
		}),
		PutObject: putObjectFunc(func(ctx context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
			w.s3Owners = append(w.s3Owners, aws.ToString(in.ExpectedBucketOwner))
			if w.putErr != nil {
				return nil, w.putErr
			}
			b, _ := io.ReadAll(in.Body)
			w.puts[aws.ToString(in.Bucket)+"/"+aws.ToString(in.Key)] = string(b)
			return &s3.PutObjectOutput{}, nil
		}),
		DescribeSessions: describeFunc(func(ctx context.Context, in *appstream.DescribeSessionsInput, _ ...func(*appstream.Options)) (*appstream.DescribeSessionsOutput, error) {
			w.describeCalls = append(w.describeCalls, in)
			if len(w.describe) == 0 {
				return &appstream.DescribeSessionsOutput{}, nil
			}
			a := w.describe[min(len(w.describeCalls), len(w.describe))-1]
			if a.hang {
				<-ctx.Done()
				return nil, ctx.Err()
			}
			return a.out, a.err
		}),
		PresignNotebook: presignFunc(func(ctx context.Context, in *sagemakernotebook.CreatePresignedNotebookInstanceUrlInput) (*sagemakernotebook.CreatePresignedNotebookInstanceUrlOutput, error) {
			w.presignCalls = append(w.presignCalls, in)
			a := presignAnswer{url: presigned}
			if len(w.presign) > 0 {
				a = w.presign[min(len(w.presignCalls), len(w.presign))-1]
			}
			if a.hang {
				<-ctx.Done()
				return nil, ctx.Err()
			}
			if a.err != nil {
				return nil, a.err
			}
			return &sagemakernotebook.CreatePresignedNotebookInstanceUrlOutput{AuthorizedUrl: aws.String(a.url)}, nil
		}),
		Metrics: countFunc(func(name string) { w.metrics = append(w.metrics, name) }),
		Logger:  slog.New(slog.NewJSONHandler(logs, nil)),
		Retry: awsretry.Policy{
			MaxAttempts:    3,
			AttemptTimeout: 50 * time.Millisecond,
			Sleep:          func(ctx context.Context, _ time.Duration) error { return ctx.Err() },
		},
	}
}

// loadEvent reads the S3 event in testdata and points its one record at bucket/key.
func loadEvent(t *testing.T, bucket, key string, size int64) events.S3Event {
	t.Helper()
	raw, err := os.ReadFile("testdata/s3-put-session.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev events.S3Event
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	ev.Records[0].S3.Bucket.Name = bucket
	ev.Records[0].S3.Object.Key = key
	ev.Records[0].S3.Object.URLDecodedKey = key
	ev.Records[0].S3.Object.Size = size
	return ev
}

func TestHandle(t *testing.T) {
	alice := folderKey("custom", "alice")
	aliceReply := homeBucket + "/" + strings.TrimSuffix(alice, "session.json") + "session_url.txt"
	samlUser := `CORP\Alice`
	samlKey := folderKey("federated", samlUser)
	throttled := apiError("ThrottlingException")

	tests := []struct {
		name   string
		bucket string // default homeBucket
		key    string // default alice
		size   int64  // event object size; default len of the object
		setup  func(w *world)

		wantPuts      map[string]string // full bucket/key → body; nil means no write at all
		wantMetrics   []string
		wantErr       bool
		wantDescribes int
		wantPresigns  int
	}{
		{
			name: "valid session gets the URL",
			setup: func(w *world) {
				w.describe = []describeAnswer{sessionsPage("", activeSession("alice", types.AuthenticationTypeApi))}
			},
			wantPuts:      map[string]string{aliceReply: presigned},
			wantDescribes: 1, wantPresigns: 1,
		},
		{
			name: "valid SAML session in the federated folder",
			key:  samlKey,
			setup: func(w *world) {
				w.objects[samlKey] = sessionJSON(map[string]string{"user": samlUser, "sessionId": sessionID, "authType": "saml"})
				w.describe = []describeAnswer{sessionsPage("", activeSession(samlUser, types.AuthenticationTypeSaml))}
			},
			wantPuts:      map[string]string{homeBucket + "/" + strings.TrimSuffix(samlKey, "session.json") + "session_url.txt": presigned},
			wantDescribes: 1, wantPresigns: 1,
		},
		{
			name: "session found on the second page",
			setup: func(w *world) {
				other := activeSession("alice", types.AuthenticationTypeApi)
				other.Id = aws.String("0f0f0f0f-0000-0000-0000-000000000000")
				w.describe = []describeAnswer{sessionsPage("page-2", other), sessionsPage("", activeSession("alice", types.AuthenticationTypeApi))}
			},
			wantPuts:      map[string]string{aliceReply: presigned},
			wantDescribes: 2, wantPresigns: 1,
		},
		{
			name:        "spoofed user: alice's folder claims bob",
			setup:       func(w *world) { w.objects[alice] = validSessionJSON("bob") },
			wantPuts:    map[string]string{aliceReply: main.DenialMessage},
			wantMetrics: []string{main.MetricSpoofAttempts},
		},
		{
			name:        "prefix does not match the user hash (case differs)",
			setup:       func(w *world) { w.objects[alice] = validSessionJSON("Alice") },
			wantPuts:    map[string]string{aliceReply: main.DenialMessage},
			wantMetrics: []string{main.MetricSpoofAttempts},
		},
		{
			name: "spoofed session id: AppStream knows another session for alice",
			setup: func(w *world) {
				s := activeSession("alice", types.AuthenticationTypeApi)
				s.Id = aws.String("99999999-9999-9999-9999-999999999999")
				w.describe = []describeAnswer{sessionsPage("", s)}
			},
			wantPuts:      map[string]string{aliceReply: main.DenialMessage},
			wantMetrics:   []string{main.MetricSpoofAttempts},
			wantDescribes: 1,
		},
		{
			name:          "no session at all for the user",
			setup:         func(w *world) { w.describe = []describeAnswer{sessionsPage("")} },
			wantPuts:      map[string]string{aliceReply: main.DenialMessage},
			wantMetrics:   []string{main.MetricSpoofAttempts},
			wantDescribes: 1,
		},
		{
			name: "inactive (expired) session",
			setup: func(w *world) {
				s := activeSession("alice", types.AuthenticationTypeApi)
				s.State = types.SessionStateExpired
				w.describe = []describeAnswer{sessionsPage("", s)}
			},
			wantPuts:      map[string]string{aliceReply: main.DenialMessage},
			wantMetrics:   []string{main.MetricInvalidSessions},
			wantDescribes: 1,
		},
		{
			name: "AppStream returns the session id under another user",
			setup: func(w *world) {
				w.describe = []describeAnswer{sessionsPage("", activeSession("mallory", types.AuthenticationTypeApi))}
			},
			wantPuts:      map[string]string{aliceReply: main.DenialMessage},
			wantMetrics:   []string{main.MetricSpoofAttempts},
			wantDescribes: 1,
		},
		{
			name: "claims another stack",
			setup: func(w *world) {
				w.objects[alice] = sessionJSON(map[string]string{"user": "alice", "sessionId": sessionID, "stackName": "Prod-Stack"})
			},
			wantPuts:    map[string]string{aliceReply: main.DenialMessage},
			wantMetrics: []string{main.MetricSpoofAttempts},
		},
		{
			name: "claims SAML from a streaming-URL folder",
			setup: func(w *world) {
				w.objects[alice] = sessionJSON(map[string]string{"user": "alice", "sessionId": sessionID, "authType": "saml"})
			},
			wantPuts:    map[string]string{aliceReply: main.DenialMessage},
			wantMetrics: []string{main.MetricSpoofAttempts},
		},
		{
			name:        "malformed JSON",
			setup:       func(w *world) { w.objects[alice] = []byte(`{"user": "alice", "sessionId": `) },
			wantPuts:    map[string]string{aliceReply: main.DenialMessage},
			wantMetrics: []string{main.MetricInvalidSessions},
		},
		{
			name:        "not JSON at all",
			setup:       func(w *world) { w.objects[alice] = []byte("user=alice\r\n") },
			wantPuts:    map[string]string{aliceReply: main.DenialMessage},
			wantMetrics: []string{main.MetricInvalidSessions},
		},
		{
			name:        "missing sessionId",
			setup:       func(w *world) { w.objects[alice] = sessionJSON(map[string]string{"user": "alice"}) },
			wantPuts:    map[string]string{aliceReply: main.DenialMessage},
			wantMetrics: []string{main.MetricInvalidSessions},
		},
		{
			name:        "oversized according to the event",
			size:        main.MaxSessionFileBytes + 1,
			wantPuts:    map[string]string{aliceReply: main.DenialMessage},
			wantMetrics: []string{main.MetricInvalidSessions},
		},
		{
			name: "oversized body behind a small event size",
			size: 100,
			setup: func(w *world) {
				w.objects[alice] = append(validSessionJSON("alice"), bytes.Repeat([]byte(" "), main.MaxSessionFileBytes)...)
				w.contentLength = map[string]int64{alice: -1}
			},
			wantPuts:    map[string]string{aliceReply: main.DenialMessage},
			wantMetrics: []string{main.MetricInvalidSessions},
		},
		{
			name:        "session.json vanished before it was read",
			setup:       func(w *world) { delete(w.objects, alice) },
			wantPuts:    map[string]string{aliceReply: main.DenialMessage},
			wantMetrics: []string{main.MetricInvalidSessions},
		},
		{
			name:        "session.json outside the home-folder layout",
			key:         "user/custom/not-a-hash/" + stackName + "/session.json",
			wantPuts:    map[string]string{homeBucket + "/user/custom/not-a-hash/" + stackName + "/session_url.txt": main.DenialMessage},
			wantMetrics: []string{main.MetricInvalidSessions},
		},
		{
			name:        "event from another bucket is counted but never answered",
			bucket:      "someone-elses-bucket",
			wantPuts:    nil,
			wantMetrics: []string{main.MetricInvalidSessions},
		},
		{
			name: "throttled DescribeSessions is retried",
			setup: func(w *world) {
				w.describe = []describeAnswer{{err: throttled}, {err: throttled}, sessionsPage("", activeSession("alice", types.AuthenticationTypeApi))}
			},
			wantPuts:      map[string]string{aliceReply: presigned},
			wantDescribes: 3, wantPresigns: 1,
		},
		{
			name: "throttled GetObject is retried",
			setup: func(w *world) {
				w.getErr = []error{apiError("SlowDown")}
				w.describe = []describeAnswer{sessionsPage("", activeSession("alice", types.AuthenticationTypeApi))}
			},
			wantPuts:      map[string]string{aliceReply: presigned},
			wantDescribes: 1, wantPresigns: 1,
		},
		{
			name: "DescribeSessions timing out once is retried",
			setup: func(w *world) {
				w.describe = []describeAnswer{{hang: true}, sessionsPage("", activeSession("alice", types.AuthenticationTypeApi))}
			},
			wantPuts:      map[string]string{aliceReply: presigned},
			wantDescribes: 2, wantPresigns: 1,
		},
		{
			name:          "AppStream outage is a denial, not a crash",
			setup:         func(w *world) { w.describe = []describeAnswer{{err: serviceUnavailable()}} },
			wantPuts:      map[string]string{aliceReply: main.DenialMessage},
			wantMetrics:   []string{main.MetricInvalidSessions},
			wantDescribes: 3,
		},
		{
			name:          "DescribeSessions access denied is a denial",
			setup:         func(w *world) { w.describe = []describeAnswer{{err: apiError("AccessDeniedException")}} },
			wantPuts:      map[string]string{aliceReply: main.DenialMessage},
			wantMetrics:   []string{main.MetricInvalidSessions},
			wantDescribes: 1,
		},
		{
			name: "notebook not found is a denial",
			setup: func(w *world) {
				w.describe = []describeAnswer{sessionsPage("", activeSession("alice", types.AuthenticationTypeApi))}
				w.presign = []presignAnswer{{err: apiError("ValidationException")}}
			},
			wantPuts:      map[string]string{aliceReply: main.DenialMessage},
			wantMetrics:   []string{main.MetricInvalidSessions},
			wantDescribes: 1, wantPresigns: 1,
		},
		{
			name: "presign hanging until every attempt times out is a denial",
			setup: func(w *world) {
				w.describe = []describeAnswer{sessionsPage("", activeSession("alice", types.AuthenticationTypeApi))}
				w.presign = []presignAnswer{{hang: true}}
			},
			wantPuts:      map[string]string{aliceReply: main.DenialMessage},
			wantMetrics:   []string{main.MetricInvalidSessions},
			wantDescribes: 1, wantPresigns: 3,
		},
		{
			name: "presign answering without an https URL is a denial",
			setup: func(w *world) {
				w.describe = []describeAnswer{sessionsPage("", activeSession("alice", types.AuthenticationTypeApi))}
				w.presign = []presignAnswer{{url: "javascript:alert(1)"}}
			},
			wantPuts:      map[string]string{aliceReply: main.DenialMessage},
			wantMetrics:   []string{main.MetricInvalidSessions},
			wantDescribes: 1, wantPresigns: 1,
		},
		{
			name: "the answer cannot be written: the invocation fails so Lambda retries",
			setup: func(w *world) {
				w.describe = []describeAnswer{sessionsPage("", activeSession("alice", types.AuthenticationTypeApi))}
				w.putErr = apiError("AccessDenied")
			},
			wantPuts:      map[string]string{},
			wantErr:       true,
			wantDescribes: 1, wantPresigns: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN alice's valid session.json in her folder, the case's changes, and the testdata
			// S3 event pointing at the case's object
			w := &world{objects: map[string][]byte{alice: validSessionJSON("alice")}}
			if tt.setup != nil {
				tt.setup(w)
			}
			var logs bytes.Buffer
			h := w.handler(&logs)
			bucket, key := tt.bucket, tt.key
			if bucket == "" {
				bucket = homeBucket
			}
			if key == "" {
				key = alice
			}
			size := tt.size
			if size == 0 {
				size = int64(len(w.objects[key]))
			}

			// WHEN the handler processes the event
			err := h.Handle(context.Background(), loadEvent(t, bucket, key, size))

			// THEN exactly the expected answer was written, counted and returned
			if (err != nil) != tt.wantErr {
				t.Fatalf("Handle error = %v, wantErr %v", err, tt.wantErr)
			}
			if tt.wantPuts == nil {
				tt.wantPuts = map[string]string{}
			}
			if len(w.puts) != len(tt.wantPuts) {
				t.Errorf("writes = %v, want %v", w.puts, tt.wantPuts)
			}
			for k, want := range tt.wantPuts {
				if got, ok := w.puts[k]; !ok || got != want {
					t.Errorf("write %s = %q (present %v), want %q", k, got, ok, want)
				}
			}
			if !slices.Equal(w.metrics, tt.wantMetrics) {
				t.Errorf("metrics = %v, want %v", w.metrics, tt.wantMetrics)
			}
			if len(w.describeCalls) != tt.wantDescribes || len(w.presignCalls) != tt.wantPresigns {
				t.Errorf("DescribeSessions calls = %d, presign calls = %d; want %d and %d",
					len(w.describeCalls), len(w.presignCalls), tt.wantDescribes, tt.wantPresigns)
			}
			// AND AppStream is only ever asked about the configured stack and fleet
			for _, in := range w.describeCalls {
				if aws.ToString(in.StackName) != stackName || aws.ToString(in.FleetName) != fleetName || in.UserId == nil || in.AuthenticationType == "" {
					t.Errorf("DescribeSessions input = %+v, want the configured stack and fleet, a user and an auth type", in)
				}
			}
			// AND the notebook URL is for the configured notebook and session length
			for _, in := range w.presignCalls {
				if aws.ToString(in.NotebookInstanceName) != notebook || aws.ToInt32(in.SessionExpirationDurationInSeconds) != 1800 {
					t.Errorf("presign input = %+v", in)
				}
			}
			// AND every S3 call pinned the bucket owner
			for _, o := range w.s3Owners {
				if o != owner {
					t.Errorf("S3 call with ExpectedBucketOwner %q, want %q", o, owner)
				}
			}
			// AND the logs never hold the presigned URL, and each denial is one security event
			if strings.Contains(logs.String(), "SECRET-TOKEN") {
				t.Errorf("the presigned URL reached the log: %s", logs.String())
			}
			if n := strings.Count(logs.String(), `"event":"session_denied"`); n != len(tt.wantMetrics) {
				t.Errorf("%d security events logged, want %d: %s", n, len(tt.wantMetrics), logs.String())
			}
		})
	}
}

func TestHandleAnswersEachRecord(t *testing.T) {
	// GIVEN one event with a valid record for alice and a spoofed one in bob's folder
	alice, bob := folderKey("custom", "alice"), folderKey("custom", "bob")
	w := &world{objects: map[string][]byte{alice: validSessionJSON("alice"), bob: validSessionJSON("alice")}}
	w.describe = []describeAnswer{sessionsPage("", activeSession("alice", types.AuthenticationTypeApi))}
	h := w.handler(io.Discard)
	ev := loadEvent(t, homeBucket, alice, 100)
	second := loadEvent(t, homeBucket, bob, 100).Records[0]
	ev.Records = append(ev.Records, second)

	// WHEN it is handled
	if err := h.Handle(context.Background(), ev); err != nil {
		t.Fatal(err)
	}

	// THEN alice gets the URL and bob's folder gets the denial
	if got := w.puts[homeBucket+"/"+strings.TrimSuffix(alice, "session.json")+"session_url.txt"]; got != presigned {
		t.Errorf("alice's answer = %q", got)
	}
	if got := w.puts[homeBucket+"/"+strings.TrimSuffix(bob, "session.json")+"session_url.txt"]; got != main.DenialMessage {
		t.Errorf("bob's answer = %q", got)
	}
	if !slices.Equal(w.metrics, []string{main.MetricSpoofAttempts}) {
		t.Errorf("metrics = %v", w.metrics)
	}
}

func TestConfigValidate(t *testing.T) {
	good := main.Config{HomeBucket: homeBucket, BucketOwner: owner, StackName: stackName, FleetName: fleetName,
		NotebookInstanceName: notebook, SessionExpirySeconds: 1800}
	tests := []struct {
		name    string
		mutate  func(c *main.Config)
		wantEnv string // "" means valid
	}{
		{"complete", func(*main.Config) {}, ""},
		{"foreign bucket", func(c *main.Config) { c.HomeBucket = "my-bucket" }, main.EnvHomeBucket},
		{"owner not an account", func(c *main.Config) { c.BucketOwner = "me" }, main.EnvBucketOwner},
		{"no stack", func(c *main.Config) { c.StackName = "" }, main.EnvStackName},
		{"no fleet", func(c *main.Config) { c.FleetName = "" }, main.EnvFleetName},
		{"no notebook", func(c *main.Config) { c.NotebookInstanceName = "" }, main.EnvNotebookName},
		{"expiry too long", func(c *main.Config) { c.SessionExpirySeconds = 43200 }, main.EnvSessionExpiry},
		{"expiry missing", func(c *main.Config) { c.SessionExpirySeconds = 0 }, main.EnvSessionExpiry},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN a config with one setting changed WHEN it is validated
			c := good
			tt.mutate(&c)
			err := c.Validate()
			// THEN only a broken setting fails, with one line naming its variable
			if tt.wantEnv == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), tt.wantEnv+":") || strings.Contains(err.Error(), "\n") {
				t.Errorf("Validate() = %v, want one line starting with %s:", err, tt.wantEnv)
			}
		})
	}
}

func TestDenialCarriesTheAuditIDs(t *testing.T) {
	// GIVEN alice's session.json written into bob's folder (a spoof)
	bob := folderKey("custom", "bob")
	w := &world{objects: map[string][]byte{bob: validSessionJSON("alice")}}
	var logs bytes.Buffer
	h := w.handler(&logs)

	// WHEN it is handled
	if err := h.Handle(context.Background(), loadEvent(t, homeBucket, bob, 100)); err != nil {
		t.Fatal(err)
	}

	// THEN the denial names the S3 request id (CloudTrail's requestID of the PutObject), the
	// source IP and the event time: the ids `securestacks appstream audit` prints, which tie the
	// write to the instance, the session and the user that really made it
	var denial map[string]any
	for line := range strings.Lines(logs.String()) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err == nil && m["event"] == "session_denied" {
			denial = m
		}
	}
	if denial == nil {
		t.Fatalf("no denial logged: %s", logs.String())
	}
	want := map[string]string{"s3_request_id": "C3D13FE58DE4C810", "source_ip": "10.20.0.45", "event_time": "2026-03-01T10:15:30.123Z", "metric": main.MetricSpoofAttempts}
	for k, v := range want {
		if denial[k] != v {
			t.Errorf("%s = %v, want %q", k, denial[k], v)
		}
	}
}
