package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/appstream"
	"github.com/aws/aws-sdk-go-v2/service/appstream/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/securestacks/securestacks/lambda-src/internal/awsretry"
	"github.com/securestacks/securestacks/lambda-src/internal/logging"
	"github.com/securestacks/securestacks/lambda-src/internal/oneline"
	"github.com/securestacks/securestacks/lambda-src/internal/sagemakernotebook"
)

// DenialMessage is what a denied session finds in session_url.txt instead of a URL. The session
// script shows any content that is not an https URL to the user as is. It says nothing about
// why, which goes to the security log only.
const DenialMessage = "ACCESS DENIED: this AppStream session could not be validated. Close the session and sign in again."

// The presigned-URL session length CreatePresignedNotebookInstanceUrl accepts is 1800 to 43200
// seconds; the sandbox never asks for more than MaxSessionExpirySeconds.
const (
	MinSessionExpirySeconds = 1800
	MaxSessionExpirySeconds = 1800
)

// maxDescribePages bounds the DescribeSessions pagination: one user rarely has more than a
// couple of sessions, and 10 pages of 50 is far beyond any real case.
const maxDescribePages = 10

// The narrow SDK interfaces the handler needs, one per operation.
type (
	// GetObjectAPI reads session.json.
	GetObjectAPI interface {
		GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	}
	// PutObjectAPI writes session_url.txt.
	PutObjectAPI interface {
		PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	}
	// DescribeSessionsAPI lists a user's AppStream sessions.
	DescribeSessionsAPI interface {
		DescribeSessions(ctx context.Context, in *appstream.DescribeSessionsInput, optFns ...func(*appstream.Options)) (*appstream.DescribeSessionsOutput, error)
	}
	// CreatePresignedNotebookInstanceURLAPI creates the notebook URL.
	CreatePresignedNotebookInstanceURLAPI interface {
		CreatePresignedNotebookInstanceUrl(ctx context.Context, in *sagemakernotebook.CreatePresignedNotebookInstanceUrlInput) (*sagemakernotebook.CreatePresignedNotebookInstanceUrlOutput, error)
	}
)

var (
	_ GetObjectAPI                          = (*s3.Client)(nil)
	_ PutObjectAPI                          = (*s3.Client)(nil)
	_ DescribeSessionsAPI                   = (*appstream.Client)(nil)
	_ CreatePresignedNotebookInstanceURLAPI = (*sagemakernotebook.Client)(nil)
)

// Config is what the validator trusts: it comes from the function's environment, set by the
// construct, never from session.json.
type Config struct {
	// HomeBucket is the AppStream home-folder bucket, appstream2-36fb080bb8-<region>-<account>.
	HomeBucket string
	// BucketOwner is the account that must own HomeBucket. The bucket name is predictable, so
	// every S3 call sets ExpectedBucketOwner: a URL is never read from or written to a bucket
	// someone else registered under that name.
	BucketOwner string
	// StackName and FleetName are the AppStream stack and fleet whose sessions are valid.
	StackName string
	FleetName string
	// NotebookInstanceName is the notebook the URL opens.
	NotebookInstanceName string
	// SessionExpirySeconds is the notebook session length, MinSessionExpirySeconds to
	// MaxSessionExpirySeconds.
	SessionExpirySeconds int32
}

var (
	accountRe = regexp.MustCompile(`^[0-9]{12}$`)
	nameRe    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`)
)

// Validate reports the first missing or malformed setting as one line naming its environment
// variable.
func (c Config) Validate() error {
	switch {
	case !strings.HasPrefix(c.HomeBucket, "appstream2-"):
		return fmt.Errorf("%s: expected the AppStream home-folder bucket name appstream2-36fb080bb8-<region>-<account>", EnvHomeBucket)
	case !accountRe.MatchString(c.BucketOwner):
		return fmt.Errorf("%s: expected a 12-digit AWS account id", EnvBucketOwner)
	case !nameRe.MatchString(c.StackName):
		return fmt.Errorf("%s: expected an AppStream stack name", EnvStackName)
	case !nameRe.MatchString(c.FleetName):
		return fmt.Errorf("%s: expected an AppStream fleet name", EnvFleetName)
	case !nameRe.MatchString(c.NotebookInstanceName):
		return fmt.Errorf("%s: expected a SageMaker notebook instance name", EnvNotebookName)
	case c.SessionExpirySeconds < MinSessionExpirySeconds || c.SessionExpirySeconds > MaxSessionExpirySeconds:
		return fmt.Errorf("%s: expected %d to %d seconds", EnvSessionExpiry, MinSessionExpirySeconds, MaxSessionExpirySeconds)
	}
	return nil
}

// Handler validates the session.json objects of an S3 event and answers each with a presigned
// notebook URL or DenialMessage.
type Handler struct {
	Config Config

	GetObject        GetObjectAPI
	PutObject        PutObjectAPI
	DescribeSessions DescribeSessionsAPI
	PresignNotebook  CreatePresignedNotebookInstanceURLAPI
	Metrics          MetricEmitter

	// Logger receives one security event per denial and one line per validated session.
	// Default slog.Default().
	Logger *slog.Logger
	// Retry bounds each AWS call: attempts, backoff and the per-attempt timeout (default 5s
	// when Retry.AttemptTimeout is zero).
	Retry awsretry.Policy
}

// denial is why a session.json was refused and which metric counts it.
type denial struct {
	reason string
	metric string
	err    error // the underlying error, logged without values from the file
}

func spoof(reason string) *denial   { return &denial{reason: reason, metric: MetricSpoofAttempts} }
func invalid(reason string) *denial { return &denial{reason: reason, metric: MetricInvalidSessions} }

// Handle processes every record. A denial is an answer, not an error; the returned error only
// reports answers that could not be written, so that Lambda retries the event.
func (h *Handler) Handle(ctx context.Context, ev events.S3Event) error {
	base := h.Logger
	if base == nil {
		base = slog.Default()
	}
	log := logging.WithRequest(ctx, base)
	var errs []error
	for _, r := range ev.Records {
		if err := h.handleRecord(ctx, log, r); err != nil {
			errs = append(errs, err)
		}
	}
	return oneline.Join(errs...)
}

func (h *Handler) handleRecord(ctx context.Context, log *slog.Logger, r events.S3EventRecord) error {
	bucket := r.S3.Bucket.Name
	key := r.S3.Object.URLDecodedKey
	if key == "" {
		key = r.S3.Object.Key
	}
	// The ids the audit prints (securestacks appstream audit): the S3 request id is the
	// CloudTrail data event's requestID, and the source IP with the event time is what the
	// audit ties to the usage report's session and user. A denial can so be traced to the
	// instance and session that wrote the file, whatever session.json claims.
	log = log.With(slog.String("bucket", bucket), slog.String("key", key),
		slog.String("s3_request_id", r.ResponseElements["x-amz-request-id"]),
		slog.String("source_ip", r.RequestParameters.SourceIPAddress),
		slog.Time("event_time", r.EventTime))

	if bucket != h.Config.HomeBucket {
		// Not the home-folder bucket: there is no user folder to answer in.
		h.deny(ctx, log, invalid("unexpected_bucket"), "", nil)
		return nil
	}
	replyKey := ReplyKey(key)
	folder, err := ParseSessionKey(key, h.Config.StackName)
	if err != nil {
		return h.deny(ctx, log, &denial{reason: "key_layout", metric: MetricInvalidSessions, err: err}, replyKey, nil)
	}
	if r.S3.Object.Size > MaxSessionFileBytes {
		return h.deny(ctx, log, invalid("oversized"), replyKey, nil)
	}
	body, d := h.read(ctx, key)
	if d != nil {
		return h.deny(ctx, log, d, replyKey, nil)
	}
	s, err := ParseSession(body)
	if err != nil {
		metric := MetricInvalidSessions
		reason := "malformed"
		if errors.Is(err, ErrTooLarge) {
			reason = "oversized"
		}
		return h.deny(ctx, log, &denial{reason: reason, metric: metric, err: err}, replyKey, nil)
	}
	if d := h.verify(ctx, folder, s); d != nil {
		return h.deny(ctx, log, d, replyKey, &s)
	}

	url, err := h.presign(ctx)
	if err != nil {
		return h.deny(ctx, log, &denial{reason: "presign_failed", metric: MetricInvalidSessions, err: err}, replyKey, &s)
	}
	if err := h.write(ctx, replyKey, url); err != nil {
		log.ErrorContext(ctx, "writing the notebook URL failed", slog.String("error", err.Error()))
		return fmt.Errorf("writing %s: %w", replyKey, err)
	}
	log.InfoContext(ctx, "appstream session validated",
		slog.String("event", "session_validated"),
		slog.String("user", s.User),
		slog.String("session_id", s.SessionID),
		slog.String("notebook", h.Config.NotebookInstanceName))
	return nil
}

// read fetches session.json, refusing anything over MaxSessionFileBytes without reading it all.
func (h *Handler) read(ctx context.Context, key string) ([]byte, *denial) {
	var body []byte
	tooLarge := false
	err := h.call(ctx, func(ctx context.Context) error {
		out, err := h.GetObject.GetObject(ctx, &s3.GetObjectInput{
			Bucket:              aws.String(h.Config.HomeBucket),
			Key:                 aws.String(key),
			ExpectedBucketOwner: aws.String(h.Config.BucketOwner),
		})
		if err != nil {
			return err
		}
		defer out.Body.Close()
		if aws.ToInt64(out.ContentLength) > MaxSessionFileBytes {
			tooLarge = true
			return nil
		}
		b, err := io.ReadAll(io.LimitReader(out.Body, MaxSessionFileBytes+1))
		if err != nil {
			return fmt.Errorf("reading the object body: %w", err)
		}
		body, tooLarge = b, len(b) > MaxSessionFileBytes
		return nil
	})
	switch {
	case err != nil:
		return nil, &denial{reason: "read_failed", metric: MetricInvalidSessions, err: err}
	case tooLarge:
		return nil, invalid("oversized")
	}
	return body, nil
}

// verify is the security decision. The folder comes from the object key, which only AppStream's
// sync for that user can write; everything in s is a claim checked against it and against
// AppStream's own record of the session.
func (h *Handler) verify(ctx context.Context, folder HomeFolder, s Session) *denial {
	if claimed := s.AuthenticationType(); claimed != "" && claimed != folder.AuthenticationType {
		return spoof("auth_type_mismatch")
	}
	if s.StackName != "" && s.StackName != h.Config.StackName {
		return spoof("stack_mismatch")
	}
	if s.FleetName != "" && s.FleetName != h.Config.FleetName {
		return spoof("fleet_mismatch")
	}
	if UserFolderHash(s.User) != folder.Hash {
		return spoof("prefix_mismatch")
	}
	sessions, err := h.describe(ctx, s.User, folder.AuthenticationType)
	if err != nil {
		return &denial{reason: "describe_failed", metric: MetricInvalidSessions, err: err}
	}
	for _, got := range sessions {
		if aws.ToString(got.Id) != s.SessionID {
			continue
		}
		switch {
		case aws.ToString(got.UserId) != s.User:
			return spoof("user_mismatch")
		case aws.ToString(got.StackName) != h.Config.StackName || aws.ToString(got.FleetName) != h.Config.FleetName:
			return spoof("stack_mismatch")
		case got.AuthenticationType != "" && got.AuthenticationType != folder.AuthenticationType:
			return spoof("auth_type_mismatch")
		case got.State != types.SessionStateActive:
			return invalid("session_inactive")
		}
		return nil
	}
	return spoof("session_not_found")
}

// describe lists the user's sessions on the configured stack and fleet, every page.
func (h *Handler) describe(ctx context.Context, user string, auth types.AuthenticationType) ([]types.Session, error) {
	var all []types.Session
	var token *string
	for page := 0; page < maxDescribePages; page++ {
		var out *appstream.DescribeSessionsOutput
		err := h.call(ctx, func(ctx context.Context) error {
			var err error
			out, err = h.DescribeSessions.DescribeSessions(ctx, &appstream.DescribeSessionsInput{
				StackName:          aws.String(h.Config.StackName),
				FleetName:          aws.String(h.Config.FleetName),
				UserId:             aws.String(user),
				AuthenticationType: auth,
				NextToken:          token,
			})
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("DescribeSessions: %w", err)
		}
		all = append(all, out.Sessions...)
		if token = out.NextToken; aws.ToString(token) == "" {
			return all, nil
		}
	}
	return nil, fmt.Errorf("DescribeSessions: more than %d pages", maxDescribePages)
}

func (h *Handler) presign(ctx context.Context) (string, error) {
	var url string
	err := h.call(ctx, func(ctx context.Context) error {
		out, err := h.PresignNotebook.CreatePresignedNotebookInstanceUrl(ctx, &sagemakernotebook.CreatePresignedNotebookInstanceUrlInput{
			NotebookInstanceName:               aws.String(h.Config.NotebookInstanceName),
			SessionExpirationDurationInSeconds: aws.Int32(h.Config.SessionExpirySeconds),
		})
		if err != nil {
			return err
		}
		url = aws.ToString(out.AuthorizedUrl)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("CreatePresignedNotebookInstanceUrl: %w", err)
	}
	if !strings.HasPrefix(url, "https://") {
		return "", errors.New("CreatePresignedNotebookInstanceUrl: expected an https URL in the answer")
	}
	return url, nil
}

// deny logs the security event, counts the metric and, when the file came from a user folder,
// answers there with DenialMessage. It returns only a failure to write that answer.
func (h *Handler) deny(ctx context.Context, log *slog.Logger, d *denial, replyKey string, s *Session) error {
	attrs := []slog.Attr{
		slog.String("event", "session_denied"),
		slog.String("reason", d.reason),
		slog.String("metric", d.metric),
	}
	if s != nil {
		// Claims, not facts: logged so an investigation can see who was impersonated.
		attrs = append(attrs, slog.String("claimed_user", s.User), slog.String("claimed_session_id", s.SessionID))
	}
	if d.err != nil {
		attrs = append(attrs, slog.String("error", d.err.Error()))
	}
	log.LogAttrs(ctx, slog.LevelWarn, "appstream session denied", attrs...)
	if h.Metrics != nil {
		h.Metrics.Count(d.metric)
	}
	if replyKey == "" {
		return nil
	}
	if err := h.write(ctx, replyKey, DenialMessage); err != nil {
		log.ErrorContext(ctx, "writing the denial failed", slog.String("error", err.Error()))
		return fmt.Errorf("writing the denial to %s: %w", replyKey, err)
	}
	return nil
}

func (h *Handler) write(ctx context.Context, key, body string) error {
	return h.call(ctx, func(ctx context.Context) error {
		_, err := h.PutObject.PutObject(ctx, &s3.PutObjectInput{
			Bucket:              aws.String(h.Config.HomeBucket),
			Key:                 aws.String(key),
			Body:                strings.NewReader(body),
			ContentType:         aws.String("text/plain; charset=utf-8"),
			ExpectedBucketOwner: aws.String(h.Config.BucketOwner),
		})
		return err
	})
}

// defaultAttemptTimeout bounds one AWS call when Retry.AttemptTimeout is unset: every call the
// validator makes answers in well under a second when the service is healthy.
const defaultAttemptTimeout = 5 * time.Second

// call runs op with h.Retry.
func (h *Handler) call(ctx context.Context, op func(context.Context) error) error {
	p := h.Retry
	if p.AttemptTimeout <= 0 {
		p.AttemptTimeout = defaultAttemptTimeout
	}
	return awsretry.Do(ctx, p, op)
}
