package tenantsession_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/securestacks/securestacks/internal/tenantsession"
)

const roleARN = "arn:aws:iam::123456789012:role/access"

// fakeSTS records every AssumeRole and answers with credentials that expire
// after the requested duration on clock.
type fakeSTS struct {
	mu    sync.Mutex
	calls []*sts.AssumeRoleInput
	n     atomic.Int64
	now   func() time.Time
	delay time.Duration
	err   error
}

func (f *fakeSTS) AssumeRole(ctx context.Context, in *sts.AssumeRoleInput, _ ...func(*sts.Options)) (*sts.AssumeRoleOutput, error) {
	n := f.n.Add(1)
	f.mu.Lock()
	f.calls = append(f.calls, in)
	f.mu.Unlock()
	if f.delay > 0 {
		time.Sleep(f.delay)
	}
	if f.err != nil {
		return nil, f.err
	}
	exp := f.now().Add(time.Duration(*in.DurationSeconds) * time.Second)
	return &sts.AssumeRoleOutput{Credentials: &ststypes.Credentials{
		AccessKeyId: aws.String(fmt.Sprintf("ASIA%d", n)), SecretAccessKey: aws.String("secret"),
		SessionToken: aws.String("token"), Expiration: &exp,
	}}, nil
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newVendor(t testing.TB, opts tenantsession.Options) (*tenantsession.Vendor, *fakeSTS, *clock) {
	t.Helper()
	c := &clock{t: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)}
	f := &fakeSTS{now: c.Now}
	opts.RoleARN, opts.Now = roleARN, c.Now
	v, err := tenantsession.New(f, opts)
	if err != nil {
		t.Fatal(err)
	}
	return v, f, c
}

func TestSessionTagsAndSessionName(t *testing.T) {
	// GIVEN a vendor and a request ID in the context
	v, f, _ := newVendor(t, tenantsession.Options{})
	ctx := tenantsession.WithRequestID(context.Background(), "c6af9ac6-7b61-11e6-9a41-93e812345678")
	// WHEN a session for yellow is asked for
	creds, err := v.Session(ctx, "yellow")
	if err != nil {
		t.Fatal(err)
	}
	// THEN STS got the role, the one TenantID tag, the bounded duration and a
	// session name with tenant and request ID
	if len(f.calls) != 1 {
		t.Fatalf("%d AssumeRole calls, want 1", len(f.calls))
	}
	in := f.calls[0]
	if *in.RoleArn != roleARN || *in.DurationSeconds != 900 {
		t.Errorf("RoleArn %s DurationSeconds %d", *in.RoleArn, *in.DurationSeconds)
	}
	if len(in.Tags) != 1 || *in.Tags[0].Key != "TenantID" || *in.Tags[0].Value != "yellow" || len(in.TransitiveTagKeys) != 0 {
		t.Errorf("Tags = %+v, TransitiveTagKeys = %v", in.Tags, in.TransitiveTagKeys)
	}
	if want := "yellow@c6af9ac6-7b61-11e6-9a41-93e812345678"; *in.RoleSessionName != want {
		t.Errorf("RoleSessionName = %q, want %q", *in.RoleSessionName, want)
	}
	if creds.AccessKeyID != "ASIA1" || !creds.CanExpire {
		t.Errorf("credentials = %+v", creds)
	}
}

// TestSessionName checks STS's RoleSessionName rules
// (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html):
// 2 to 64 characters of [\w+=,.@-].
func TestSessionName(t *testing.T) {
	allowed := regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
	for _, c := range []struct{ tenant, req, want string }{
		{"yellow", "abc-123", "yellow@abc-123"},
		{"a", "", "a@"},
		{"blue", "id with spaces/and:colons", "blue@idwithspacesandcolons"},
		{strings.Repeat("z", 26), strings.Repeat("r", 100), strings.Repeat("z", 26) + "@" + strings.Repeat("r", 37)},
	} {
		got := tenantsession.SessionName(c.tenant, c.req)
		if got != c.want || !allowed.MatchString(got) {
			t.Errorf("SessionName(%q, %q) = %q, want %q within STS's rules", c.tenant, c.req, got, c.want)
		}
	}
}

func TestCacheHitsAndExpiry(t *testing.T) {
	v, f, c := newVendor(t, tenantsession.Options{})
	ctx := context.Background()
	first, _ := v.Session(ctx, "yellow")
	c.Add(13 * time.Minute) // 2 minutes left: still more than RefreshBefore
	again, _ := v.Session(ctx, "yellow")
	if f.n.Load() != 1 || again.AccessKeyID != first.AccessKeyID {
		t.Fatalf("a valid cached session was not reused: %d calls", f.n.Load())
	}
	if _, err := v.Session(ctx, "blue"); err != nil || f.n.Load() != 2 {
		t.Fatalf("another tenant must get its own session: %d calls, %v", f.n.Load(), err)
	}
	c.Add(90 * time.Second) // 30 seconds left: within RefreshBefore
	renewed, _ := v.Session(ctx, "yellow")
	if f.n.Load() != 3 || renewed.AccessKeyID == first.AccessKeyID {
		t.Fatalf("a session about to expire was reused: %d calls", f.n.Load())
	}
}

func TestCacheIsBounded(t *testing.T) {
	v, f, _ := newVendor(t, tenantsession.Options{MaxTenants: 2})
	ctx := context.Background()
	for _, id := range []string{"a1", "b2", "a1", "c3"} { // b2 is least recently used when c3 arrives
		if _, err := v.Session(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if v.Cached() != 2 || f.n.Load() != 3 {
		t.Fatalf("cached %d tenants after %d calls, want 2 after 3", v.Cached(), f.n.Load())
	}
	v.Session(ctx, "a1")
	if f.n.Load() != 3 {
		t.Errorf("the recently used tenant was evicted")
	}
	v.Session(ctx, "b2")
	if f.n.Load() != 4 {
		t.Errorf("the least recently used tenant was kept")
	}
}

func TestConcurrentCallsMakeOneAssumeRole(t *testing.T) {
	v, f, _ := newVendor(t, tenantsession.Options{})
	f.delay = 50 * time.Millisecond
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := v.Session(context.Background(), "yellow")
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := f.n.Load(); n != 1 {
		t.Fatalf("%d AssumeRole calls for 50 concurrent requests of one tenant, want 1", n)
	}
}

func TestBadTenantIDsNeverReachSTS(t *testing.T) {
	v, f, _ := newVendor(t, tenantsession.Options{})
	for _, id := range []string{"", "Yellow", "ab/c", "ab*", "${aws:username}", "a b", strings.Repeat("a", 27)} {
		if _, err := v.Session(context.Background(), id); err == nil {
			t.Errorf("Session(%q) succeeded", id)
		}
	}
	if n := f.n.Load(); n != 0 {
		t.Fatalf("%d AssumeRole calls for invalid tenant IDs, want 0", n)
	}
}

func TestErrorsAreNotCached(t *testing.T) {
	v, f, _ := newVendor(t, tenantsession.Options{})
	f.err = errors.New("AccessDenied")
	if _, err := v.Session(context.Background(), "yellow"); err == nil || !strings.Contains(err.Error(), "AccessDenied") {
		t.Fatalf("err = %v", err)
	}
	f.err = nil
	if _, err := v.Session(context.Background(), "yellow"); err != nil || f.n.Load() != 2 {
		t.Fatalf("after a failure the next call must retry: %v, %d calls", err, f.n.Load())
	}
}

func TestCancelledCallerDoesNotFailOthers(t *testing.T) {
	v, f, _ := newVendor(t, tenantsession.Options{})
	f.delay = 100 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := v.Session(ctx, "yellow"); done <- err }()
	time.Sleep(10 * time.Millisecond)
	other := make(chan error, 1)
	go func() { _, err := v.Session(context.Background(), "yellow"); other <- err }()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled caller: %v", err)
	}
	if err := <-other; err != nil {
		t.Errorf("the other caller failed with the first one's cancellation: %v", err)
	}
	if f.n.Load() != 1 {
		t.Errorf("%d calls, want 1", f.n.Load())
	}
}

func TestOptionsAreValidated(t *testing.T) {
	_, err := tenantsession.New(&fakeSTS{}, tenantsession.Options{Duration: 2 * time.Hour, MaxTenants: -1})
	if err == nil {
		t.Fatal("invalid options accepted")
	}
	for _, want := range []string{"RoleARN", "Duration", "MaxTenants"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}

type claims map[string]string

func (c claims) Claim(name string) (string, bool) { v, ok := c[name]; return v, ok }

func TestTenantFromClaims(t *testing.T) {
	if id, err := tenantsession.TenantFromClaims(claims{"custom:tenant_id": "yellow"}, "custom:tenant_id"); err != nil || id != "yellow" {
		t.Errorf("got %q, %v", id, err)
	}
	for _, c := range []claims{nil, {}, {"custom:tenant_id": ""}, {"custom:tenant_id": "ab/c"}, {"custom:tenant_id": "YELLOW"}} {
		if _, err := tenantsession.TenantFromClaims(c, "custom:tenant_id"); err == nil {
			t.Errorf("claims %v accepted", c)
		}
	}
}

// BenchmarkSessionCacheHit is the cost of a Session call answered from the
// cache.
func BenchmarkSessionCacheHit(b *testing.B) {
	v, _, _ := newVendor(b, tenantsession.Options{})
	ctx := context.Background()
	if _, err := v.Session(ctx, "yellow"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := v.Session(ctx, "yellow"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAssumeRoleCalls serves 10,000 requests spread over 100 tenants,
// from 8 goroutines, within one credential lifetime, and reports the
// AssumeRole calls it took (goal: 100, one per tenant).
func BenchmarkAssumeRoleCalls(b *testing.B) {
	const requests, tenants, workers = 10000, 100, 8
	var calls int64
	for b.Loop() {
		v, f, _ := newVendor(b, tenantsession.Options{})
		var wg sync.WaitGroup
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < requests; i += workers {
					if _, err := v.Session(context.Background(), fmt.Sprintf("t%d", (i*7919)%tenants)); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		calls = f.n.Load()
	}
	b.ReportMetric(float64(calls), "assumerole-calls/10k-requests")
	b.ReportMetric(float64(tenants), "tenants")
}
