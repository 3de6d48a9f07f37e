package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	acmtypes "github.com/aws/aws-sdk-go-v2/service/acm/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"

	"github.com/securestacks/securestacks/internal/mtlssecret"
	"github.com/securestacks/securestacks/lambda-src/internal/awsretry"
	"github.com/securestacks/securestacks/lambda-src/internal/logging"
	"github.com/securestacks/securestacks/lambda-src/internal/mtlsexport"
	"github.com/securestacks/securestacks/lambda-src/internal/oneline"
)

// Environment variables the construct sets.
const (
	// EnvTargets is the JSON list of Targets (see ParseTargets).
	EnvTargets = "MTLS_TARGETS"
	// EnvRenewBeforeDays is how many days before NotAfter a certificate is
	// renewed. Default DefaultRenewBeforeDays.
	EnvRenewBeforeDays = "MTLS_RENEW_BEFORE_DAYS"
	// EnvMaxWaitSeconds bounds the wait for a renewed certificate's new
	// NotAfter, 10 to 600. Default DefaultMaxWaitSeconds. The construct sets
	// it explicitly because it sizes the function's timeout from it.
	EnvMaxWaitSeconds = "MTLS_MAX_WAIT_SECONDS"
)

// Defaults and bounds of the environment settings.
const (
	// DefaultRenewBeforeDays matches ACM's default DaysBeforeExpiry (45), the
	// day the first "ACM Certificate Approaching Expiration" event arrives.
	DefaultRenewBeforeDays = 45
	// DefaultMaxWaitSeconds is long enough for ACM Private CA to issue (it
	// takes seconds) and short enough to leave most of the function's time.
	DefaultMaxWaitSeconds = 180
	// DefaultPollInterval is the DescribeCertificate interval while waiting.
	DefaultPollInterval = 5 * time.Second
	// DefaultDeadlineMargin is the time a target needs besides its wait: the
	// export (three calls, each retried) and the UpdateService calls. A target
	// is started only when MaxWait plus this margin is left before the
	// invocation's deadline. The construct's function timeout allots the same
	// minute per endpoint (constructs/mtls).
	DefaultDeadlineMargin = 60 * time.Second
)

// Event sources this function accepts.
const (
	DetailTypeApproachingExpiration = "ACM Certificate Approaching Expiration"
	DetailTypeScheduled             = "Scheduled Event"
)

// Config is the function's configuration, read from the environment.
type Config struct {
	Targets []Target
	// IssuingCas are reported by the daily run (EnvIssuingCas).
	IssuingCas  []string
	RenewBefore time.Duration
	MaxWait     time.Duration
}

// ConfigFromEnv reads and validates the configuration; getenv is os.Getenv
// in main.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	targets, err := ParseTargets(getenv(EnvTargets))
	if err != nil {
		return Config{}, err
	}
	days, err := intEnv(getenv, EnvRenewBeforeDays, DefaultRenewBeforeDays, 1, 365)
	if err != nil {
		return Config{}, err
	}
	wait, err := intEnv(getenv, EnvMaxWaitSeconds, DefaultMaxWaitSeconds, 10, 600)
	if err != nil {
		return Config{}, err
	}
	cas, err := ParseIssuingCas(getenv(EnvIssuingCas))
	if err != nil {
		return Config{}, err
	}
	return Config{Targets: targets, IssuingCas: cas, RenewBefore: time.Duration(days) * 24 * time.Hour, MaxWait: time.Duration(wait) * time.Second}, nil
}

func intEnv(getenv func(string) string, name string, def, lo, hi int) (int, error) {
	raw := getenv(name)
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%s: expected a whole number from %d to %d, got %q", name, lo, hi, raw)
	}
	return n, nil
}

// The narrow SDK interfaces of the renewal, one per operation.
type (
	// DescribeCertificateAPI reads a certificate's serial and NotAfter.
	DescribeCertificateAPI interface {
		DescribeCertificate(ctx context.Context, in *acm.DescribeCertificateInput, optFns ...func(*acm.Options)) (*acm.DescribeCertificateOutput, error)
	}
	// RenewCertificateAPI asks ACM to renew a private certificate.
	RenewCertificateAPI interface {
		RenewCertificate(ctx context.Context, in *acm.RenewCertificateInput, optFns ...func(*acm.Options)) (*acm.RenewCertificateOutput, error)
	}
	// GetSecretValueAPI reads the currently exported certificate.
	GetSecretValueAPI interface {
		GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
	}
	// UpdateServiceAPI forces a new deployment of a service.
	UpdateServiceAPI interface {
		UpdateService(ctx context.Context, in *ecs.UpdateServiceInput, optFns ...func(*ecs.Options)) (*ecs.UpdateServiceOutput, error)
	}
	// Exporter writes a fresh export to a secret (mtlsexport.Exporter).
	Exporter interface {
		Export(ctx context.Context, certificateArn, secretArn string) (*mtlsexport.Result, error)
	}
	// Issuer has AWS Private CA issue a certificate for a new key and writes
	// both to a secret (mtlsexport.Issuer).
	Issuer interface {
		Issue(ctx context.Context, spec mtlsexport.IssueSpec, secretArn string) (*mtlsexport.Result, error)
	}
)

var (
	_ DescribeCertificateAPI = (*acm.Client)(nil)
	_ RenewCertificateAPI    = (*acm.Client)(nil)
	_ GetSecretValueAPI      = (*secretsmanager.Client)(nil)
	_ UpdateServiceAPI       = (*ecs.Client)(nil)
	_ Exporter               = (*mtlsexport.Exporter)(nil)
	_ Issuer                 = (*mtlsexport.Issuer)(nil)
)

// Renewer keeps each target's secret in step with its certificate.
//
// For each target it checks, it: renews the certificate when it expires
// within Config.RenewBefore and waits (bounded by Config.MaxWait and by the
// context's deadline less DeadlineMargin) for ACM to report a later NotAfter;
// then, when the secret holds another certificate than ACM's current one (a
// renewal by this function or by ACM's managed renewal, or a missing or
// damaged secret), exports again and forces a new deployment of exactly the
// target's services. A target whose secret is current costs two read calls
// and changes nothing, so the daily schedule is safe to run any number of
// times.
//
// Targets run one after another. Before each one, when the context has a
// deadline and less than Config.MaxWait + DeadlineMargin is left, the run
// stops and reports the targets it did not start (ErrDeadline), so that Lambda
// never kills it in the middle of a target without saying which ones remain.
type Renewer struct {
	Config Config

	DescribeCertificate DescribeCertificateAPI
	RenewCertificate    RenewCertificateAPI
	GetSecretValue      GetSecretValueAPI
	UpdateService       UpdateServiceAPI
	Exporter            Exporter
	Issuer              Issuer
	// DescribeCertificateAuthority reads the issuing CAs' expiry (daily runs).
	DescribeCertificateAuthority DescribeCertificateAuthorityAPI

	// Retry bounds each AWS call (default 10s per attempt when zero).
	Retry awsretry.Policy
	// PollInterval is the wait between DescribeCertificate calls while a
	// renewal is pending. Default DefaultPollInterval.
	PollInterval time.Duration
	// Sleep waits between polls; default awsretry.Sleep. Tests pass a fake.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock; default time.Now. It also measures the time left
	// before the context's deadline.
	Now func() time.Time
	// DeadlineMargin is the time a target needs besides its wait (see
	// DefaultDeadlineMargin, the default when zero or negative).
	DeadlineMargin time.Duration
	// Logger receives one line per target. Default slog.Default().
	Logger *slog.Logger
}

// Outcome is what happened to one target.
type Outcome struct {
	CertificateArn string `json:"certificateArn"`
	// Renewed is true when RenewCertificate was called and the new NotAfter
	// arrived.
	Renewed bool `json:"renewed"`
	// Exported is true when the secret was written.
	Exported bool `json:"exported"`
	// Redeployed lists the services whose new deployment was forced.
	Redeployed []string `json:"redeployed,omitempty"`
	// NotAfter is the certificate's expiry after this run.
	NotAfter time.Time `json:"notAfter"`
}

// Result is the function's return value.
type Result struct {
	Outcomes []Outcome `json:"outcomes"`
}

// ErrWaitTimeout marks a renewal whose new NotAfter did not arrive within
// Config.MaxWait (or the shorter wait the deadline left).
var ErrWaitTimeout = errors.New("renewed certificate not available in time")

// ErrDeadline marks a run that stopped before some targets because the
// invocation's deadline left too little time for another one. The error
// names those targets; the targets before them are done and stay done.
var ErrDeadline = errors.New("not enough time left before the function's deadline")

// Handle processes an "ACM Certificate Approaching Expiration" event (the
// certificates it names) or a scheduled event (every target). It returns an
// error when any target failed, after trying every target it had time for,
// so that Lambda's retries, the dead-letter queue and the Errors alarm see
// the failure. A run that stops at the deadline (see Renewer) returns an
// ErrDeadline that lists the certificates it left for the retry or the next
// daily run, joined on one line with the errors of the targets it did run.
func (r *Renewer) Handle(ctx context.Context, e events.CloudWatchEvent) (Result, error) {
	targets, err := r.selectTargets(e)
	if err != nil {
		return Result{}, err
	}
	log := logging.WithRequest(ctx, r.logger())
	var (
		res  Result
		errs []error
	)
	for i, t := range targets {
		if left, ok := r.timeLeft(ctx); ok && left < r.Config.MaxWait+r.margin() {
			err := r.deadlineError(targets[i:], len(targets), left)
			log.LogAttrs(ctx, slog.LevelError, "stopping before the deadline",
				slog.Int("targets_done", i), slog.Int("targets_left", len(targets)-i),
				slog.Duration("time_left", left), slog.String("error", err.Error()))
			errs = append(errs, err)
			break
		}
		out, err := r.process(ctx, t)
		attrs := []slog.Attr{
			slog.String("certificate_arn", t.ID()),
			slog.String("trigger", e.DetailType),
			slog.Bool("renewed", out.Renewed),
			slog.Bool("exported", out.Exported),
			slog.Any("redeployed", out.Redeployed),
		}
		if !out.NotAfter.IsZero() {
			attrs = append(attrs, slog.Time("not_after", out.NotAfter))
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("certificate %s: %w", t.ID(), err))
			log.LogAttrs(ctx, slog.LevelError, "certificate renewal failed", append(attrs, slog.String("error", err.Error()))...)
		} else {
			log.LogAttrs(ctx, slog.LevelInfo, "certificate checked", attrs...)
		}
		res.Outcomes = append(res.Outcomes, out)
	}
	if e.DetailType == DetailTypeScheduled {
		if err := r.reportIssuingCas(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return res, oneline.Join(errs...)
}

// timeLeft is the time before ctx's deadline by r's clock; ok is false
// when ctx has no deadline (then the run is bounded by MaxWait per target
// only).
func (r *Renewer) timeLeft(ctx context.Context) (left time.Duration, ok bool) {
	deadline, ok := ctx.Deadline()
	if !ok {
		return 0, false
	}
	return deadline.Sub(r.now()), true
}

func (r *Renewer) deadlineError(left []Target, total int, timeLeft time.Duration) error {
	arns := make([]string, len(left))
	for i, t := range left {
		arns[i] = t.ID()
	}
	return fmt.Errorf("%w: %s left, %s needed per certificate (MaxWait %s + margin %s); %d of %d certificates not processed this run (the retry or the next daily run handles them): %s",
		ErrDeadline, timeLeft.Round(time.Second), r.Config.MaxWait+r.margin(), r.Config.MaxWait, r.margin(),
		len(left), total, strings.Join(arns, ", "))
}

func (r *Renewer) margin() time.Duration {
	if r.DeadlineMargin > 0 {
		return r.DeadlineMargin
	}
	return DefaultDeadlineMargin
}

// selectTargets returns the targets an event is about.
func (r *Renewer) selectTargets(e events.CloudWatchEvent) ([]Target, error) {
	switch {
	case e.Source == "aws.events" && e.DetailType == DetailTypeScheduled:
		return r.Config.Targets, nil
	case e.Source == "aws.acm" && e.DetailType == DetailTypeApproachingExpiration:
		var out []Target
		for _, arn := range e.Resources {
			t, ok := r.target(arn)
			if !ok {
				// The rule matches only our certificates: another one here is a
				// wiring mistake that must be seen, not skipped.
				return nil, fmt.Errorf("event resource %s: expected one of the configured certificates", arn)
			}
			out = append(out, t)
		}
		if len(out) == 0 {
			return nil, errors.New("event resources: expected at least one certificate ARN")
		}
		return out, nil
	}
	return nil, fmt.Errorf("event: expected source aws.acm with detail-type %q or source aws.events with detail-type %q, got %q / %q",
		DetailTypeApproachingExpiration, DetailTypeScheduled, e.Source, e.DetailType)
}

func (r *Renewer) target(arn string) (Target, bool) {
	for _, t := range r.Config.Targets {
		if t.CertificateArn == arn {
			return t, true
		}
	}
	return Target{}, false
}

func (r *Renewer) process(ctx context.Context, t Target) (Outcome, error) {
	if t.Issue != nil {
		return r.processIssued(ctx, t)
	}
	out := Outcome{CertificateArn: t.CertificateArn}
	cert, err := r.describe(ctx, t.CertificateArn)
	if err != nil {
		return out, err
	}
	out.NotAfter = cert.notAfter
	if cert.notAfter.Sub(r.now()) <= r.Config.RenewBefore {
		if cert, err = r.renew(ctx, t.CertificateArn, cert); err != nil {
			return out, err
		}
		out.Renewed, out.NotAfter = true, cert.notAfter
	}
	stored, err := r.storedSerial(ctx, t.SecretArn)
	if err != nil {
		return out, err
	}
	if stored != nil && stored.Cmp(cert.serial) == 0 {
		return out, nil
	}
	res, err := r.Exporter.Export(ctx, t.CertificateArn, t.SecretArn)
	if err != nil {
		return out, err
	}
	out.Exported, out.NotAfter = true, res.NotAfter
	if res.Serial.Cmp(cert.serial) != 0 {
		// ACM renewed again between Describe and Export; the export is the
		// newer one and is what the services will read.
		r.logger().WarnContext(ctx, "exported certificate is newer than the one described",
			slog.String("certificate_arn", t.CertificateArn))
	}
	return r.redeploy(ctx, t, out)
}

// processIssued issues the target's certificate again when the stored one
// expires within RenewBefore (or the secret holds none), then redeploys.
func (r *Renewer) processIssued(ctx context.Context, t Target) (Outcome, error) {
	out := Outcome{CertificateArn: t.ID()}
	leaf, err := r.storedLeaf(ctx, t.SecretArn)
	if err != nil {
		return out, err
	}
	if leaf != nil {
		out.NotAfter = leaf.NotAfter
		if leaf.NotAfter.Sub(r.now()) > r.Config.RenewBefore {
			return out, nil
		}
	}
	res, err := r.Issuer.Issue(ctx, *t.Issue, t.SecretArn)
	if err != nil {
		return out, err
	}
	out.Renewed, out.Exported, out.NotAfter = true, true, res.NotAfter
	return r.redeploy(ctx, t, out)
}

// redeploy forces a new deployment of t's services, which read the new
// secret version at start.
func (r *Renewer) redeploy(ctx context.Context, t Target, out Outcome) (Outcome, error) {
	for _, svc := range t.Services {
		if err := r.call(ctx, func(ctx context.Context) error {
			_, err := r.UpdateService.UpdateService(ctx, &ecs.UpdateServiceInput{
				Cluster:            aws.String(t.Cluster),
				Service:            aws.String(svc),
				ForceNewDeployment: true,
			})
			return err
		}); err != nil {
			return out, fmt.Errorf("UpdateService %s (force new deployment): %w", svc, err)
		}
		out.Redeployed = append(out.Redeployed, svc)
	}
	return out, nil
}

type certState struct {
	serial   *big.Int
	notAfter time.Time
}

func (r *Renewer) describe(ctx context.Context, arn string) (certState, error) {
	var d *acmtypes.CertificateDetail
	err := r.call(ctx, func(ctx context.Context) error {
		out, err := r.DescribeCertificate.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: aws.String(arn)})
		if err != nil {
			return err
		}
		d = out.Certificate
		return nil
	})
	if err != nil {
		return certState{}, fmt.Errorf("DescribeCertificate: %w", err)
	}
	if d == nil || d.Status != acmtypes.CertificateStatusIssued || d.NotAfter == nil {
		status := "unknown"
		if d != nil {
			status = string(d.Status)
		}
		return certState{}, fmt.Errorf("DescribeCertificate: expected status ISSUED with a NotAfter, got %s", status)
	}
	serial, ok := mtlsexport.ParseSerial(aws.ToString(d.Serial))
	if !ok {
		return certState{}, fmt.Errorf("DescribeCertificate: expected a hex serial number, got %q", aws.ToString(d.Serial))
	}
	return certState{serial: serial, notAfter: *d.NotAfter}, nil
}

// renew asks ACM to renew and polls DescribeCertificate until NotAfter moves
// past before.notAfter, for at most Config.MaxWait and never into the last
// DeadlineMargin before ctx's deadline, which the export and the
// redeployment need.
func (r *Renewer) renew(ctx context.Context, arn string, before certState) (certState, error) {
	if err := r.call(ctx, func(ctx context.Context) error {
		_, err := r.RenewCertificate.RenewCertificate(ctx, &acm.RenewCertificateInput{CertificateArn: aws.String(arn)})
		return err
	}); err != nil {
		return certState{}, fmt.Errorf("RenewCertificate: %w", err)
	}
	wait := r.Config.MaxWait
	if left, ok := r.timeLeft(ctx); ok {
		wait = max(min(wait, left-r.margin()), 0)
	}
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	interval := r.PollInterval
	if interval <= 0 {
		interval = DefaultPollInterval
	}
	sleep := r.Sleep
	if sleep == nil {
		sleep = awsretry.Sleep
	}
	for {
		if err := sleep(wctx, interval); err != nil {
			return certState{}, r.waitError(ctx, before, wait, err)
		}
		now, err := r.describe(wctx, arn)
		if err != nil {
			if wctx.Err() != nil {
				return certState{}, r.waitError(ctx, before, wait, err)
			}
			return certState{}, err
		}
		if now.notAfter.After(before.notAfter) {
			return now, nil
		}
	}
}

func (r *Renewer) waitError(ctx context.Context, before certState, wait time.Duration, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("waiting for the renewed certificate: %w", ctx.Err())
	}
	bound := "MaxWait"
	if wait < r.Config.MaxWait {
		bound = "the deadline less the margin"
	}
	return fmt.Errorf("%w: NotAfter still %s after %s (%s; RenewCertificate was accepted; the next run retries): %v",
		ErrWaitTimeout, before.notAfter.UTC().Format(time.RFC3339), wait, bound, err)
}

// storedSerial returns the serial of the certificate in the secret, or nil
// when the secret has no usable value (then it must be exported anyway).
func (r *Renewer) storedSerial(ctx context.Context, secretArn string) (*big.Int, error) {
	leaf, err := r.storedLeaf(ctx, secretArn)
	if leaf == nil || err != nil {
		return nil, err
	}
	return leaf.SerialNumber, nil
}

// storedLeaf is the certificate the secret holds; nil when it holds none or
// a damaged payload (which a new export or issue replaces).
func (r *Renewer) storedLeaf(ctx context.Context, secretArn string) (*x509.Certificate, error) {
	var value string
	err := r.call(ctx, func(ctx context.Context) error {
		out, err := r.GetSecretValue.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(secretArn)})
		if err != nil {
			return err
		}
		value = aws.ToString(out.SecretString)
		return nil
	})
	var api smithy.APIError
	if errors.As(err, &api) && api.ErrorCode() == "ResourceNotFoundException" {
		// The secret exists (CloudFormation made it) but has no current
		// value yet: nothing was exported.
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("GetSecretValue %s: %w", secretArn, err)
	}
	p, err := mtlssecret.Parse([]byte(value))
	if err != nil {
		r.logger().WarnContext(ctx, "secret holds no valid payload; exporting again",
			slog.String("secret_arn", secretArn), slog.String("error", err.Error()))
		return nil, nil
	}
	leaf, err := p.Leaf()
	if err != nil {
		return nil, nil
	}
	return leaf, nil
}

const defaultAttemptTimeout = 10 * time.Second

func (r *Renewer) call(ctx context.Context, op func(context.Context) error) error {
	p := r.Retry
	if p.AttemptTimeout <= 0 {
		p.AttemptTimeout = defaultAttemptTimeout
	}
	return awsretry.Do(ctx, p, op)
}

func (r *Renewer) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Renewer) logger() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return slog.Default()
}
