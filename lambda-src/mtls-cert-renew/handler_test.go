package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/securestacks/securestacks/internal/mtlssecret"
	"github.com/securestacks/securestacks/internal/mtlssecret/mtlstest"
	"github.com/securestacks/securestacks/lambda-src/internal/awsretry"
	"github.com/securestacks/securestacks/lambda-src/internal/mtlsexport"
	fake "github.com/securestacks/securestacks/lambda-src/internal/mtlsexport/mtlsexporttest"
	main "github.com/securestacks/securestacks/lambda-src/mtls-cert-renew"
)

const (
	gatewayCert    = "arn:aws:acm:eu-west-1:111122223333:certificate/11111111-0000-0000-0000-000000000001"
	tellerCert     = "arn:aws:acm:eu-west-1:111122223333:certificate/22222222-0000-0000-0000-000000000002"
	gatewaySecret  = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:MtlsColorgatewaySecret-AbCdEf"
	tellerSecret   = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:MtlsColortellerSecret-GhIjKl"
	gatewayService = "arn:aws:ecs:eu-west-1:111122223333:service/Sandbox-Mtls-Cluster/colorgateway"
	tellerService  = "arn:aws:ecs:eu-west-1:111122223333:service/Sandbox-Mtls-Cluster/colorteller"
	// A third endpoint, added by addBlue for the deadline tests.
	blueCert    = "arn:aws:acm:eu-west-1:111122223333:certificate/33333333-0000-0000-0000-000000000003"
	blueSecret  = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:MtlsColortellerblueSecret-MnOpQr"
	blueService = "arn:aws:ecs:eu-west-1:111122223333:service/Sandbox-Mtls-Cluster/colorteller-blue"
)

// Function-type fakes for the operations only the renew function uses.
type (
	describeFunc func(context.Context, *acm.DescribeCertificateInput, ...func(*acm.Options)) (*acm.DescribeCertificateOutput, error)
	renewFunc    func(context.Context, *acm.RenewCertificateInput, ...func(*acm.Options)) (*acm.RenewCertificateOutput, error)
	updateFunc   func(context.Context, *ecs.UpdateServiceInput, ...func(*ecs.Options)) (*ecs.UpdateServiceOutput, error)
)

func (f describeFunc) DescribeCertificate(ctx context.Context, in *acm.DescribeCertificateInput, o ...func(*acm.Options)) (*acm.DescribeCertificateOutput, error) {
	return f(ctx, in, o...)
}
func (f renewFunc) RenewCertificate(ctx context.Context, in *acm.RenewCertificateInput, o ...func(*acm.Options)) (*acm.RenewCertificateOutput, error) {
	return f(ctx, in, o...)
}
func (f updateFunc) UpdateService(ctx context.Context, in *ecs.UpdateServiceInput, o ...func(*ecs.Options)) (*ecs.UpdateServiceOutput, error) {
	return f(ctx, in, o...)
}

var (
	_ main.DescribeCertificateAPI = describeFunc(nil)
	_ main.RenewCertificateAPI    = renewFunc(nil)
	_ main.UpdateServiceAPI       = updateFunc(nil)
)

// world is ACM, Secrets Manager and ECS as the renew function sees them, with
// the gateway and teller certificates of the construct's targets.
type world struct {
	t       *testing.T
	now     time.Time
	acm     *fake.ACM
	secrets *fake.Secrets
	ca      map[string]*mtlstest.Hierarchy

	mu sync.Mutex
	// describeErrs / updateErrs are returned by the first calls, in order.
	describeErrs map[string][]error
	updateErrs   []error
	describes    map[string]int
	renews       []string
	// renewAfterPolls: a RenewCertificate makes the new certificate visible
	// after that many further DescribeCertificate calls; -1 means never.
	renewAfterPolls int
	pendingRenewal  map[string]int
	updated         []string
	// describeTakes advances the clock on every DescribeCertificate call, so
	// that a target takes that long by the renewer's clock.
	describeTakes time.Duration
	logs          bytes.Buffer
	renewer       *main.Renewer
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{
		t: t, now: time.Now(), acm: fake.NewACM(), secrets: fake.NewSecrets(),
		ca:             map[string]*mtlstest.Hierarchy{},
		describeErrs:   map[string][]error{},
		describes:      map[string]int{},
		pendingRenewal: map[string]int{},
	}
	w.ca[gatewayCert] = mtlstest.NewHierarchy(t, "ColorGateway", mtlstest.HierarchyOptions{KeyAlgorithm: mtlstest.ECPrime256v1})
	w.ca[tellerCert] = mtlstest.NewHierarchy(t, "ColorTeller", mtlstest.HierarchyOptions{KeyAlgorithm: mtlstest.ECPrime256v1})
	// Both certificates issued 30 days ago for 395 days, and exported.
	w.issue(gatewayCert, 365)
	w.issue(tellerCert, 365)
	w.exportNow(gatewayCert, gatewaySecret)
	w.exportNow(tellerCert, tellerSecret)

	cfg, err := main.ConfigFromEnv(func(name string) string {
		if name == main.EnvTargets {
			raw, err := os.ReadFile(filepath.Join("testdata", "targets.json"))
			if err != nil {
				t.Fatal(err)
			}
			return string(raw)
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxWait = 200 * time.Millisecond
	noWait := awsretry.Policy{MaxAttempts: 3, Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }}
	logger := slog.New(slog.NewJSONHandler(&w.logs, nil))
	w.renewer = &main.Renewer{
		Config: cfg,
		DescribeCertificate: describeFunc(func(ctx context.Context, in *acm.DescribeCertificateInput, _ ...func(*acm.Options)) (*acm.DescribeCertificateOutput, error) {
			arn := aws.ToString(in.CertificateArn)
			w.mu.Lock()
			w.describes[arn]++
			w.now = w.now.Add(w.describeTakes)
			if errs := w.describeErrs[arn]; len(errs) > 0 {
				w.describeErrs[arn] = errs[1:]
				w.mu.Unlock()
				return nil, errs[0]
			}
			if n, ok := w.pendingRenewal[arn]; ok {
				if n == 0 {
					delete(w.pendingRenewal, arn)
					w.mu.Unlock()
					w.issue(arn, 395)
					return w.acm.Describe(arn)
				}
				if n > 0 {
					w.pendingRenewal[arn] = n - 1
				}
			}
			w.mu.Unlock()
			return w.acm.Describe(arn)
		}),
		RenewCertificate: renewFunc(func(_ context.Context, in *acm.RenewCertificateInput, _ ...func(*acm.Options)) (*acm.RenewCertificateOutput, error) {
			w.mu.Lock()
			defer w.mu.Unlock()
			arn := aws.ToString(in.CertificateArn)
			w.renews = append(w.renews, arn)
			w.pendingRenewal[arn] = w.renewAfterPolls
			return &acm.RenewCertificateOutput{}, nil
		}),
		GetSecretValue: fake.GetSecretValueFunc(w.secrets.Get),
		UpdateService: updateFunc(func(_ context.Context, in *ecs.UpdateServiceInput, _ ...func(*ecs.Options)) (*ecs.UpdateServiceOutput, error) {
			w.mu.Lock()
			defer w.mu.Unlock()
			if !in.ForceNewDeployment {
				t.Errorf("UpdateService without ForceNewDeployment")
			}
			if len(w.updateErrs) > 0 {
				err := w.updateErrs[0]
				w.updateErrs = w.updateErrs[1:]
				return nil, err
			}
			w.updated = append(w.updated, aws.ToString(in.Service))
			return &ecs.UpdateServiceOutput{}, nil
		}),
		Exporter: &mtlsexport.Exporter{
			GetRandomPassword: fake.Password(t),
			ExportCertificate: fake.ExportCertificateFunc(w.acm.Export),
			PutSecretValue:    fake.PutSecretValueFunc(w.secrets.Put),
			Retry:             noWait,
			Logger:            logger,
		},
		Retry:        noWait,
		PollInterval: 10 * time.Millisecond,
		Now: func() time.Time {
			w.mu.Lock()
			defer w.mu.Unlock()
			return w.now
		},
		Logger: logger,
	}
	return w
}

// addBlue adds a third target, colorteller-blue, issued and exported like
// the other two.
func (w *world) addBlue() {
	w.ca[blueCert] = mtlstest.NewHierarchy(w.t, "ColorTellerBlue", mtlstest.HierarchyOptions{KeyAlgorithm: mtlstest.ECPrime256v1})
	w.issue(blueCert, 365)
	w.exportNow(blueCert, blueSecret)
	w.renewer.Config.Targets = append(w.renewer.Config.Targets, main.Target{
		CertificateArn: blueCert, SecretArn: blueSecret,
		Cluster: "arn:aws:ecs:eu-west-1:111122223333:cluster/Sandbox-Mtls-Cluster", Services: []string{blueService},
	})
}

// issue (re)issues arn so that it expires in daysLeft days.
func (w *world) issue(arn string, daysLeft int) {
	w.acm.Issue(w.t, arn, w.ca[arn], "endpoint.mtls.internal", w.now.AddDate(0, 0, daysLeft-395), w.now.AddDate(0, 0, daysLeft))
}

// exportNow stores the current certificate of arn in secret, as the export
// custom resource did at deployment.
func (w *world) exportNow(arn, secret string) {
	if _, err := (&mtlsexport.Exporter{
		GetRandomPassword: fake.Password(w.t),
		ExportCertificate: fake.ExportCertificateFunc(w.acm.Export),
		PutSecretValue:    fake.PutSecretValueFunc(w.secrets.Put),
	}).Export(context.Background(), arn, secret); err != nil {
		w.t.Fatal(err)
	}
	w.secrets.Puts = 0
}

// storedIsCurrent reports whether secret holds ACM's current certificate of arn.
func (w *world) storedIsCurrent(arn, secret string) bool {
	p, err := mtlssecret.Parse([]byte(w.secrets.Value(secret)))
	return err == nil && p.Certificate == w.acm.Get(arn).Leaf.PEM()
}

func event(t *testing.T, name string) events.CloudWatchEvent {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var e events.CloudWatchEvent
	if err := json.Unmarshal(raw, &e); err != nil {
		t.Fatal(err)
	}
	return e
}

func TestScheduledRunWithCurrentSecretsChangesNothing(t *testing.T) {
	// GIVEN both certificates far from expiry and both secrets current
	w := newWorld(t)

	// WHEN the daily schedule runs
	res, err := w.renewer.Handle(context.Background(), event(t, "scheduled.json"))

	// THEN both are checked and nothing is renewed, exported or redeployed
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Outcomes) != 2 || len(w.renews) != 0 || w.secrets.Puts != 0 || len(w.updated) != 0 {
		t.Fatalf("outcomes=%d renews=%v puts=%d updated=%v", len(res.Outcomes), w.renews, w.secrets.Puts, w.updated)
	}
}

func TestServiceMap(t *testing.T) {
	cases := []struct {
		name         string
		renewedByACM string // certificate ACM renewed on its own (managed renewal)
		secret       string
		wantService  string
	}{
		{"gateway certificate renewed: only the gateway service", gatewayCert, gatewaySecret, gatewayService},
		{"teller certificate renewed: only the teller service", tellerCert, tellerSecret, tellerService},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// GIVEN ACM's managed renewal replaced one certificate; its secret is stale
			w := newWorld(t)
			w.issue(tc.renewedByACM, 395)

			// WHEN the daily schedule runs
			_, err := w.renewer.Handle(context.Background(), event(t, "scheduled.json"))

			// THEN that certificate alone is exported to its own secret, and only the
			// service reading that secret is redeployed (the walkthrough swapped them)
			if err != nil {
				t.Fatal(err)
			}
			if !w.storedIsCurrent(tc.renewedByACM, tc.secret) {
				t.Fatal("stale secret not re-exported")
			}
			if w.secrets.Puts != 1 || len(w.renews) != 0 {
				t.Fatalf("puts=%d renews=%v, want 1 put and no renewal", w.secrets.Puts, w.renews)
			}
			if !slices.Equal(w.updated, []string{tc.wantService}) {
				t.Fatalf("redeployed %v, want exactly %s", w.updated, tc.wantService)
			}
		})
	}
}

func TestApproachingExpirationRenewsWaitsAndRedeploys(t *testing.T) {
	// GIVEN the teller certificate expires in 30 days and ACM publishes the renewed
	// certificate two polls after RenewCertificate
	w := newWorld(t)
	w.issue(tellerCert, 30)
	w.exportNow(tellerCert, tellerSecret)
	w.renewAfterPolls = 2
	before := w.acm.Get(tellerCert).Leaf.Cert.NotAfter

	// WHEN the "ACM Certificate Approaching Expiration" event for it arrives
	res, err := w.renewer.Handle(context.Background(), event(t, "approaching-expiration.json"))

	// THEN it renews, waits for the later NotAfter, exports it and redeploys the teller only
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(w.renews, []string{tellerCert}) {
		t.Fatalf("renewed %v", w.renews)
	}
	if w.describes[tellerCert] != 4 {
		t.Errorf("DescribeCertificate called %d times, want 1 + 3 polls", w.describes[tellerCert])
	}
	if !w.storedIsCurrent(tellerCert, tellerSecret) || !w.acm.Get(tellerCert).Leaf.Cert.NotAfter.After(before) {
		t.Fatal("secret does not hold the renewed certificate")
	}
	if !slices.Equal(w.updated, []string{tellerService}) {
		t.Fatalf("redeployed %v", w.updated)
	}
	if o := res.Outcomes[0]; !o.Renewed || !o.Exported || !o.NotAfter.After(before) {
		t.Fatalf("outcome %+v", o)
	}
	if w.describes[gatewayCert] != 0 {
		t.Fatal("the event touched a certificate it does not name")
	}
}

func TestBoundedWaitTimesOut(t *testing.T) {
	// GIVEN ACM accepts RenewCertificate but never publishes a new certificate
	w := newWorld(t)
	w.issue(tellerCert, 30)
	w.exportNow(tellerCert, tellerSecret)
	w.renewAfterPolls = -1

	// WHEN the event arrives
	start := time.Now()
	_, err := w.renewer.Handle(context.Background(), event(t, "approaching-expiration.json"))

	// THEN it gives up after MaxWait with ErrWaitTimeout, exporting and redeploying nothing
	if !errors.Is(err, main.ErrWaitTimeout) {
		t.Fatalf("got %v, want ErrWaitTimeout", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("waited %v, bound is %v", d, w.renewer.Config.MaxWait)
	}
	if w.describes[tellerCert] < 3 {
		t.Errorf("only %d DescribeCertificate calls: it did not poll", w.describes[tellerCert])
	}
	if w.secrets.Puts != 0 || len(w.updated) != 0 {
		t.Fatalf("puts=%d updated=%v after a timeout", w.secrets.Puts, w.updated)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("multi-line error: %q", err)
	}
}

func TestDeadlineStopsBeforeATargetItCannotFinish(t *testing.T) {
	// Each target needs MaxWait (200ms here) + DefaultDeadlineMargin (1 minute) and takes
	// one minute by the renewer's clock.
	cases := []struct {
		name     string
		deadline time.Duration // from the start of the run
		wantDone []string      // certificates processed, in order
	}{
		{"time for the first of three only", 2 * time.Minute, []string{gatewayCert}},
		{"time for all three", 10 * time.Minute, []string{gatewayCert, tellerCert, blueCert}},
		{"time for none", 30 * time.Second, nil},
	}
	all := map[string][2]string{gatewayCert: {gatewaySecret, gatewayService}, tellerCert: {tellerSecret, tellerService}, blueCert: {blueSecret, blueService}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// GIVEN three targets whose certificates ACM renewed on its own (so each one is
			// exported and redeployed) and a run whose deadline is tc.deadline away
			w := newWorld(t)
			w.addBlue()
			for arn := range all {
				w.issue(arn, 395)
			}
			w.describeTakes = time.Minute
			ctx, cancel := context.WithDeadline(context.Background(), w.now.Add(tc.deadline))
			defer cancel()

			// WHEN the daily schedule runs
			res, err := w.renewer.Handle(ctx, event(t, "scheduled.json"))

			// THEN the targets that fit are exported and redeployed, and those remain
			var done, wantUpdated []string
			for _, o := range res.Outcomes {
				done = append(done, o.CertificateArn)
			}
			for _, arn := range tc.wantDone {
				wantUpdated = append(wantUpdated, all[arn][1])
			}
			if !slices.Equal(done, tc.wantDone) || !slices.Equal(w.updated, wantUpdated) {
				t.Fatalf("processed %v and redeployed %v, want %v and %v", done, w.updated, tc.wantDone, wantUpdated)
			}
			for arn, sv := range all {
				if got, want := w.storedIsCurrent(arn, sv[0]), slices.Contains(tc.wantDone, arn); got != want {
					t.Errorf("%s: secret current = %v, want %v", arn, got, want)
				}
			}
			// AND the run fails with one line naming exactly the targets it left, or succeeds
			// when it left none
			if len(tc.wantDone) == len(all) {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if !errors.Is(err, main.ErrDeadline) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("got %q, want one line wrapping ErrDeadline", err)
			}
			for arn := range all {
				if got, want := strings.Contains(err.Error(), arn), !slices.Contains(tc.wantDone, arn); got != want {
					t.Errorf("error names %s: %v, want %v: %s", arn, got, want, err)
				}
			}
			if w.describes[blueCert] != 0 {
				t.Errorf("a target it stopped before was read: %v", w.describes)
			}
		})
	}
}

func TestWaitNeverRunsIntoTheDeadlineMargin(t *testing.T) {
	// GIVEN ACM never publishes the renewed teller certificate, MaxWait is 20s, and after
	// the first DescribeCertificate the deadline is DefaultDeadlineMargin + 300ms away
	w := newWorld(t)
	w.issue(tellerCert, 30)
	w.exportNow(tellerCert, tellerSecret)
	w.renewAfterPolls = -1
	w.renewer.Config.MaxWait = 20 * time.Second
	w.describeTakes = 30 * time.Second
	deadline := w.now.Add(w.describeTakes + main.DefaultDeadlineMargin + 300*time.Millisecond)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()

	// WHEN the event arrives
	start := time.Now()
	_, err := w.renewer.Handle(ctx, event(t, "approaching-expiration.json"))

	// THEN the target is started (MaxWait + margin was left) but the wait ends after the
	// 300ms the margin leaves, not after MaxWait, and nothing is exported
	if !errors.Is(err, main.ErrWaitTimeout) || errors.Is(err, main.ErrDeadline) {
		t.Fatalf("got %v, want ErrWaitTimeout only", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("waited %v, past the deadline less the margin", d)
	}
	if !strings.Contains(err.Error(), "after 300ms (the deadline less the margin;") {
		t.Errorf("error does not state the shortened wait: %v", err)
	}
	if len(w.renews) != 1 || w.describes[tellerCert] < 2 || w.secrets.Puts != 0 || len(w.updated) != 0 {
		t.Fatalf("renews=%v describes=%d puts=%d updated=%v", w.renews, w.describes[tellerCert], w.secrets.Puts, w.updated)
	}
}

func TestFaults(t *testing.T) {
	cases := []struct {
		name        string
		setup       func(w *world)
		wantErr     string
		wantUpdated []string
	}{
		{"throttled DescribeCertificate is retried", func(w *world) {
			w.issue(gatewayCert, 395)
			w.describeErrs[gatewayCert] = []error{fake.APIError("ThrottlingException"), fake.APIError("ThrottlingException")}
		}, "", []string{gatewayService}},
		{"certificate gone: the other target is still handled", func(w *world) {
			w.issue(tellerCert, 395)
			w.describeErrs[gatewayCert] = []error{fake.APIError("ResourceNotFoundException")}
		}, "certificate " + gatewayCert + ": DescribeCertificate: ", []string{tellerService}},
		{"service gone", func(w *world) {
			w.issue(gatewayCert, 395)
			w.updateErrs = []error{fake.APIError("ServiceNotFoundException")}
		}, "UpdateService " + gatewayService, nil},
		{"secret never written: exported and redeployed", func(w *world) {
			w.secrets = fake.NewSecrets()
			w.renewer.GetSecretValue = fake.GetSecretValueFunc(w.secrets.Get)
			w.renewer.Exporter.(*mtlsexport.Exporter).PutSecretValue = fake.PutSecretValueFunc(w.secrets.Put)
		}, "", []string{gatewayService, tellerService}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// GIVEN the injected fault
			w := newWorld(t)
			tc.setup(w)

			// WHEN the daily schedule runs
			_, err := w.renewer.Handle(context.Background(), event(t, "scheduled.json"))

			// THEN throttling is absorbed, other faults fail the run with a line naming the
			// certificate and call, and unaffected targets are still handled
			if tc.wantErr == "" && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("got %v, want an error containing %q", err, tc.wantErr)
			}
			if !slices.Equal(w.updated, tc.wantUpdated) {
				t.Fatalf("redeployed %v, want %v", w.updated, tc.wantUpdated)
			}
		})
	}
}

func TestRejectsEventsItWasNotWiredFor(t *testing.T) {
	foreign := event(t, "approaching-expiration.json")
	foreign.Resources = []string{"arn:aws:acm:eu-west-1:111122223333:certificate/33333333-0000-0000-0000-000000000003"}
	other := event(t, "scheduled.json")
	other.DetailType = "ACM Certificate Expired"
	for name, e := range map[string]events.CloudWatchEvent{"another certificate": foreign, "another detail-type": other} {
		t.Run(name, func(t *testing.T) {
			// GIVEN an event the rules should never deliver
			w := newWorld(t)

			// WHEN it arrives
			_, err := w.renewer.Handle(context.Background(), e)

			// THEN it fails without touching any certificate
			if err == nil || len(w.describes) != 0 {
				t.Fatalf("err=%v describes=%v", err, w.describes)
			}
		})
	}
}

func TestConfigFromEnv(t *testing.T) {
	valid, err := os.ReadFile(filepath.Join("testdata", "targets.json"))
	if err != nil {
		t.Fatal(err)
	}
	var list []map[string]any
	if err := json.Unmarshal(valid, &list); err != nil {
		t.Fatal(err)
	}
	with := func(edit func(l []map[string]any) []map[string]any) string {
		var c []map[string]any
		b, _ := json.Marshal(list)
		_ = json.Unmarshal(b, &c)
		out, _ := json.Marshal(edit(c))
		return string(out)
	}
	cases := []struct {
		name    string
		env     map[string]string
		wantErr string
	}{
		{"valid with defaults", map[string]string{main.EnvTargets: string(valid)}, ""},
		{"no targets", map[string]string{main.EnvTargets: "[]"}, "MTLS_TARGETS: expected at least one target"},
		// The gateway's target as constructs/mtls writes it: its client certificate is issued,
		// not an ACM certificate
		{"issued gateway certificate", map[string]string{main.EnvTargets: with(func(l []map[string]any) []map[string]any {
			delete(l[0], "certificateArn")
			l[0]["issue"] = map[string]any{"certificateAuthorityArn": "arn:aws:acm-pca:eu-west-1:111122223333:certificate-authority/11111111-2222-3333-4444-555555555555",
				"templateArn": "arn:aws:acm-pca:::template/EndEntityClientAuthCertificate/V1", "signingAlgorithm": "SHA256WITHRSA",
				"validityDays": 395, "dnsName": "colorgateway.mtls.internal", "keyAlgorithm": "RSA_2048"}
			return l
		})}, ""},
		{"issued and ACM certificate at once", map[string]string{main.EnvTargets: with(func(l []map[string]any) []map[string]any {
			l[0]["issue"] = map[string]any{"certificateAuthorityArn": "arn:aws:acm-pca:eu-west-1:111122223333:certificate-authority/11111111-2222-3333-4444-555555555555"}
			return l
		})}, "MTLS_TARGETS[0]: certificateArn conflicts with issue"},
		{"bad issued certificate", map[string]string{main.EnvTargets: with(func(l []map[string]any) []map[string]any {
			delete(l[0], "certificateArn")
			l[0]["issue"] = map[string]any{"certificateAuthorityArn": "nope"}
			return l
		})}, "MTLS_TARGETS[0].issue.certificateAuthorityArn: expected an AWS Private CA ARN"},
		{"bad issuing CA list", map[string]string{main.EnvTargets: string(valid), main.EnvIssuingCas: `["nope"]`}, "MTLS_ISSUING_CAS[0]: expected an AWS Private CA ARN"},
		{"not JSON", map[string]string{main.EnvTargets: "{"}, "MTLS_TARGETS: expected a JSON list"},
		{"duplicate certificate", map[string]string{main.EnvTargets: with(func(l []map[string]any) []map[string]any {
			l[1]["certificateArn"] = l[0]["certificateArn"]
			return l
		})}, "MTLS_TARGETS[1].certificateArn: expected each certificate once"},
		{"no services", map[string]string{main.EnvTargets: with(func(l []map[string]any) []map[string]any {
			l[0]["services"] = []string{}
			return l
		})}, "MTLS_TARGETS[0].services: expected at least one"},
		{"service name instead of ARN", map[string]string{main.EnvTargets: with(func(l []map[string]any) []map[string]any {
			l[1]["services"] = []string{"colorteller"}
			return l
		})}, "MTLS_TARGETS[1].services[0]: expected an ECS service ARN"},
		{"unknown key", map[string]string{main.EnvTargets: with(func(l []map[string]any) []map[string]any {
			l[0]["service"] = "x"
			return l
		})}, "unknown field"},
		{"renew window out of range", map[string]string{main.EnvTargets: string(valid), main.EnvRenewBeforeDays: "0"}, "MTLS_RENEW_BEFORE_DAYS: expected a whole number from 1 to 365"},
		{"wait not a number", map[string]string{main.EnvTargets: string(valid), main.EnvMaxWaitSeconds: "3m"}, "MTLS_MAX_WAIT_SECONDS: expected a whole number"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// GIVEN the function's environment WHEN it is read
			cfg, err := main.ConfigFromEnv(func(k string) string { return tc.env[k] })

			// THEN a valid one maps each certificate to its own secret and service, and a bad
			// one fails with a line naming the variable and entry
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("got %v, want one line containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.RenewBefore != 45*24*time.Hour || cfg.MaxWait != 180*time.Second {
				t.Errorf("defaults: %v %v", cfg.RenewBefore, cfg.MaxWait)
			}
			want := map[string][2]string{gatewayCert: {gatewaySecret, gatewayService}, tellerCert: {tellerSecret, tellerService}}
			for _, tg := range cfg.Targets {
				key := tg.CertificateArn
				if tg.Issue != nil {
					key = gatewayCert // the gateway's target, with its issued certificate
					if tg.Issue.ValidityDays != 395 || tg.Issue.DnsName != "colorgateway.mtls.internal" {
						t.Errorf("issue %+v", tg.Issue)
					}
				}
				if w := want[key]; tg.SecretArn != w[0] || !slices.Equal(tg.Services, []string{w[1]}) {
					t.Errorf("target %s maps to %s %v", tg.CertificateArn, tg.SecretArn, tg.Services)
				}
			}
		})
	}
}

func TestIssuedGatewayCertificateIsIssuedAgainWithinRenewBefore(t *testing.T) {
	const caArn = "arn:aws:acm-pca:eu-west-1:111122223333:certificate-authority/11111111-2222-3333-4444-555555555555"
	spec := &mtlsexport.IssueSpec{CertificateAuthorityArn: caArn, TemplateArn: "arn:aws:acm-pca:::template/EndEntityClientAuthCertificate/V1",
		SigningAlgorithm: "SHA256WITHECDSA", ValidityDays: 395, DnsName: "colorgateway.mtls.internal", KeyAlgorithm: "EC_prime256v1"}
	ca := mtlstest.NewHierarchy(t, "ColorGateway", mtlstest.HierarchyOptions{KeyAlgorithm: mtlstest.ECPrime256v1})
	cases := []struct {
		name      string
		daysLeft  int // of the stored certificate; 0: the secret is empty
		wantIssue bool
	}{
		{"expires within RenewBefore", 30, true},
		{"fresh", 300, false},
		{"secret never written", 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// GIVEN the gateway target, whose client certificate AWS Private CA issues (ACM
			// issues no clientAuth certificate), and its secret
			secrets := fake.NewSecrets()
			if tc.daysLeft > 0 {
				leaf := ca.Issue(t, spec.DnsName, mtlstest.LeafOptions{ClientAuth: true, KeyAlgorithm: mtlstest.ECPrime256v1,
					NotBefore: time.Now().AddDate(0, 0, tc.daysLeft-395), NotAfter: time.Now().AddDate(0, 0, tc.daysLeft)})
				p := ca.Export(t, leaf, mtlstest.Passphrase(t), mtlstest.ACMExport)
				p.CertificateArn = caArn + "/certificate/0a0b"
				raw, err := p.Marshal()
				if err != nil {
					t.Fatal(err)
				}
				secrets.Set(gatewaySecret, string(raw))
			}
			pca := &fake.PCA{T: t, CA: ca, CaArn: caArn}
			var updated []string
			noSleep := func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
			r := &main.Renewer{
				Config: main.Config{RenewBefore: 45 * 24 * time.Hour, MaxWait: time.Minute, Targets: []main.Target{{
					Issue: spec, SecretArn: gatewaySecret, Cluster: "Sandbox-Mtls-Cluster", Services: []string{gatewayService},
				}}},
				GetSecretValue: fake.GetSecretValueFunc(secrets.Get),
				UpdateService: updateFunc(func(_ context.Context, in *ecs.UpdateServiceInput, _ ...func(*ecs.Options)) (*ecs.UpdateServiceOutput, error) {
					updated = append(updated, aws.ToString(in.Service))
					return &ecs.UpdateServiceOutput{}, nil
				}),
				Issuer: &mtlsexport.Issuer{GetRandomPassword: fake.Password(t), IssueCertificate: pca, GetCertificate: pca,
					PutSecretValue: fake.PutSecretValueFunc(secrets.Put), Sleep: noSleep, Retry: awsretry.Policy{Sleep: noSleep}},
				Retry: awsretry.Policy{Sleep: noSleep},
			}

			// WHEN the daily run checks it
			res, err := r.Handle(context.Background(), events.CloudWatchEvent{Source: "aws.events", DetailType: main.DetailTypeScheduled})

			// THEN a certificate due for renewal (or missing) is issued again and the gateway
			// redeployed; a fresh one is left alone
			if err != nil {
				t.Fatal(err)
			}
			if got := secrets.Puts == 1 && len(updated) == 1; got != tc.wantIssue {
				t.Fatalf("issued=%t (puts %d, updated %v), want %t; outcome %+v", got, secrets.Puts, updated, tc.wantIssue, res.Outcomes)
			}
			if tc.wantIssue {
				p, err := mtlssecret.Parse([]byte(secrets.Value(gatewaySecret)))
				if err != nil {
					t.Fatal(err)
				}
				if leaf, _ := p.Leaf(); time.Until(leaf.NotAfter) < 394*24*time.Hour {
					t.Errorf("new certificate expires %s", leaf.NotAfter)
				}
			}
		})
	}
}
