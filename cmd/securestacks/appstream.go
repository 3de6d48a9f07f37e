package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/securestacks/securestacks/internal/appstreamaudit"
)

// appstreamCommands is the appstream group.
var appstreamCommands = []command{
	{name: "audit", summary: "tie CloudTrail S3 data events and logins to AppStream users and sessions", run: runAppStreamAudit},
}

// newS3Client is the S3 client the audit reads buckets with.
func newS3Client(ctx context.Context, region, endpointURL string) (*s3.Client, error) {
	cfg, err := loadAWSConfig(ctx, region)
	if err != nil {
		return nil, err
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		// CloudTrail and AppStream write their objects without additional checksums; the SDK
		// would log a line on stderr for every file it reads.
		o.DisableLogOutputChecksumValidationSkipped = true
		if endpointURL != "" {
			o.BaseEndpoint = &endpointURL
			o.UsePathStyle = true
		}
	}), nil
}

func runAppStreamAudit(args []string, stdout, stderr io.Writer) int {
	const where = "appstream audit"
	fs := newFlagSet(where)
	fromDir := fs.String("from-dir", "", "read CloudTrail log files (*.json.gz) and usage-report CSVs from this directory tree")
	bucket := fs.String("bucket", "", "read CloudTrail log files from this S3 bucket")
	prefix := fs.String("prefix", "", "with --bucket: only keys under this prefix, e.g. AWSLogs/123456789012/CloudTrail/eu-west-1/2026/12/")
	reportsBucket := fs.String("reports-bucket", "", "read the AppStream usage reports from this S3 bucket (appstream-logs-...)")
	reportsPrefix := fs.String("reports-prefix", "", "with --reports-bucket: only keys under this prefix")
	owner := fs.String("expected-bucket-owner", "", "with --bucket/--reports-bucket: refuse buckets not owned by this account id")
	user := fs.String("user", "", "only actions of this AppStream user id (ambiguous actions that may be theirs included)")
	object := fs.String("object", "", "only actions on this object: s3://BUCKET/KEY or BUCKET/KEY; a KEY ending in * is a prefix")
	from := fs.String("from", "", "only events at or after this time (RFC 3339, or a UTC date YYYY-MM-DD)")
	to := fs.String("to", "", "only events before this time (RFC 3339, or a UTC date YYYY-MM-DD)")
	skew := fs.Duration("skew", appstreamaudit.DefaultSkew, "clock-skew tolerance around each session's start and end")
	loginWindow := fs.Duration("login-window", appstreamaudit.DefaultLoginWindow, "how long after a login its session may start")
	output := fs.String("output", "json", "json (one object per line) or table")
	endpointURL := fs.String("endpoint-url", "", "send S3 requests to this URL (default: the SDK's endpoint, or AWS_ENDPOINT_URL_S3)")
	region := fs.String("region", "", "AWS region (default: AWS_REGION or the shared config)")
	if done, code := parseFlags(fs, args, prog+" appstream audit (--from-dir DIR | --bucket B [--prefix P] --reports-bucket R) [--user U] [--object s3://B/K] [--from T1] [--to T2] [--output json|table]",
		"Connect the dots of the AppStream audit trail: each S3 data event's source IP and time are\n"+
			"matched to the usage report's session (instance IP, user, session id), and each login\n"+
			"(CreateStreamingURL, AssumeRoleWithSAML) to the session that follows it. Streams: records\n"+
			"are read and printed one at a time. Every record that cannot be parsed is reported on\n"+
			"standard error with its file and position, and the exit status is then 1.", stdout, stderr); done {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(stderr, where, "unexpected argument %q", fs.Arg(0))
	}
	switch {
	case *fromDir == "" && *bucket == "" && *reportsBucket == "":
		return usageError(stderr, where, "expected --from-dir DIR, or --bucket and --reports-bucket")
	case *fromDir != "" && (*bucket != "" || *reportsBucket != ""):
		return usageError(stderr, where, "--from-dir: expected either --from-dir or the S3 flags, not both")
	case *skew < 0 || *skew > time.Hour:
		return usageError(stderr, where, "--skew: expected 0s to 1h, got %s", *skew)
	case *loginWindow <= 0 || *loginWindow > 24*time.Hour:
		return usageError(stderr, where, "--login-window: expected more than 0s and at most 24h, got %s", *loginWindow)
	}
	filter := appstreamaudit.Filter{User: *user}
	if *object != "" {
		b, k, ok := strings.Cut(strings.TrimPrefix(*object, "s3://"), "/")
		if !ok || b == "" || k == "" {
			return usageError(stderr, where, "--object: expected s3://BUCKET/KEY or BUCKET/KEY, got %q", *object)
		}
		filter.Bucket, filter.Key = b, k
	}
	var err error
	if filter.From, err = parseWhen(*from); err != nil {
		return usageError(stderr, where, "--from: %v", err)
	}
	if filter.To, err = parseWhen(*to); err != nil {
		return usageError(stderr, where, "--to: %v", err)
	}
	if !filter.From.IsZero() && !filter.To.IsZero() && !filter.From.Before(filter.To) {
		return usageError(stderr, where, "--to: expected a time after --from")
	}
	var w appstreamaudit.Writer
	switch *output {
	case "json":
		w = appstreamaudit.NewJSONWriter(stdout)
	case "table":
		w = appstreamaudit.NewTableWriter(stdout)
	default:
		return usageError(stderr, where, "--output: expected json or table, got %q", *output)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var sources []appstreamaudit.Source
	if *fromDir != "" {
		if info, err := os.Stat(*fromDir); err != nil || !info.IsDir() {
			return usageError(stderr, where, "--from-dir: expected a directory, got %q", *fromDir)
		}
		sources = append(sources, appstreamaudit.DirSource(*fromDir))
	} else {
		client, err := newS3Client(ctx, *region, *endpointURL)
		if err != nil {
			return failure(stderr, where, err)
		}
		for _, s := range []struct{ bucket, prefix string }{{*reportsBucket, *reportsPrefix}, {*bucket, *prefix}} {
			if s.bucket != "" {
				sources = append(sources, &appstreamaudit.S3Source{List: client, Get: client, Bucket: s.bucket, Prefix: s.prefix, ExpectedBucketOwner: *owner})
			}
		}
	}
	st, err := appstreamaudit.Run(ctx, sources, appstreamaudit.Correlator{Skew: *skew, LoginWindow: *loginWindow}, filter, w.Write,
		func(e *appstreamaudit.ParseError) { writeLine(stderr, where, "unparseable: "+e.Error()) })
	if ferr := w.Flush(); err == nil && ferr != nil {
		err = fmt.Errorf("writing the output: %w", ferr)
	}
	if err != nil {
		return failure(stderr, where, err)
	}
	writeLine(stderr, where, fmt.Sprintf("%d files, %d sessions, %d CloudTrail records, %d actions, %d printed, %d unparseable",
		st.Files, st.Sessions, st.Records, st.Actions, st.Emitted, st.Errors))
	if st.Sessions == 0 {
		writeLine(stderr, where, "warning: no usage-report sessions were read, so no action can be tied to a user by IP")
	}
	if st.Errors > 0 {
		return exitFailure
	}
	return exitOK
}

// parseWhen parses an RFC 3339 time or a UTC date; "" is the zero time.
func parseWhen(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("expected an RFC 3339 time such as 2026-12-03T10:00:00Z or a date such as 2026-12-03, got %q", v)
}
