// Package tenantsession is the token vending machine of securestacks'
// tenant isolation: Session assumes the access role of
// constructs/tenantisolation with the session tag TenantID, so that every
// call made with the returned credentials is scoped to one tenant by IAM.
//
// Credentials are cached per tenant until RefreshBefore ahead of their
// expiry, in a cache bounded to MaxTenants (least recently used tenant out
// first), and concurrent calls for one tenant share one AssumeRole. A tenant
// ID that is not of the internal/tenantid format is refused before any call.
//
// The role session name is "<tenant>@<request id>" (the request ID from
// WithRequestID, reduced to the characters STS allows), so CloudTrail shows
// for whom, and for which request, each session was made. Cached sessions
// serve later requests of the same tenant: the name names the request that
// opened the session.
package tenantsession

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"golang.org/x/sync/singleflight"

	"github.com/securestacks/securestacks/internal/tenantid"
)

// AssumeRoleAPI is the one STS operation Vendor calls.
type AssumeRoleAPI interface {
	AssumeRole(ctx context.Context, in *sts.AssumeRoleInput, optFns ...func(*sts.Options)) (*sts.AssumeRoleOutput, error)
}

var _ AssumeRoleAPI = (*sts.Client)(nil)

// Defaults of Options.
const (
	DefaultDuration      = 15 * time.Minute // the least STS allows
	DefaultRefreshBefore = time.Minute
	DefaultMaxTenants    = 1024
	// CallTimeout bounds each AssumeRole.
	CallTimeout = 10 * time.Second
)

// Options configure a Vendor.
type Options struct {
	// RoleARN is the access role. Required.
	RoleARN string
	// Duration of each session, 15 minutes to 1 hour (a role-chained session
	// gets at most one hour). Default DefaultDuration.
	Duration time.Duration
	// RefreshBefore is how long before expiry a cached session is replaced.
	// Default DefaultRefreshBefore; less than Duration.
	RefreshBefore time.Duration
	// MaxTenants bounds the cache. Default DefaultMaxTenants.
	MaxTenants int
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Vendor vends per-tenant credentials. It is safe for concurrent use.
type Vendor struct {
	client AssumeRoleAPI
	opts   Options

	mu    sync.Mutex
	byID  map[string]*list.Element // of *entry
	order *list.List               // most recently used first
	group singleflight.Group
}

type entry struct {
	tenant string
	creds  aws.Credentials
}

// New returns a Vendor calling client. Invalid options are one error.
func New(client AssumeRoleAPI, opts Options) (*Vendor, error) {
	if opts.Duration == 0 {
		opts.Duration = DefaultDuration
	}
	if opts.RefreshBefore == 0 {
		opts.RefreshBefore = DefaultRefreshBefore
	}
	if opts.MaxTenants == 0 {
		opts.MaxTenants = DefaultMaxTenants
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	var problems []error
	if client == nil {
		problems = append(problems, errors.New("tenantsession: client is nil"))
	}
	if opts.RoleARN == "" {
		problems = append(problems, errors.New("tenantsession: Options.RoleARN is required: the access role's ARN"))
	}
	if opts.Duration < 15*time.Minute || opts.Duration > time.Hour {
		problems = append(problems, fmt.Errorf("tenantsession: Options.Duration: expected 15m to 1h, got %s", opts.Duration))
	}
	if opts.RefreshBefore < 0 || opts.RefreshBefore >= opts.Duration {
		problems = append(problems, fmt.Errorf("tenantsession: Options.RefreshBefore: expected 0 to less than Duration, got %s", opts.RefreshBefore))
	}
	if opts.MaxTenants < 1 {
		problems = append(problems, fmt.Errorf("tenantsession: Options.MaxTenants: expected at least 1, got %d", opts.MaxTenants))
	}
	if err := errors.Join(problems...); err != nil {
		return nil, err
	}
	return &Vendor{client: client, opts: opts, byID: map[string]*list.Element{}, order: list.New()}, nil
}

// Session returns credentials of the access role scoped to tenantID: cached
// ones while they are valid for RefreshBefore more, otherwise those of a new
// AssumeRole (one for all concurrent callers of the tenant).
func (v *Vendor) Session(ctx context.Context, tenantID string) (aws.Credentials, error) {
	if err := tenantid.Validate(tenantID); err != nil {
		return aws.Credentials{}, fmt.Errorf("tenantsession: %w", err)
	}
	if c, ok := v.cached(tenantID); ok {
		return c, nil
	}
	ch := v.group.DoChan(tenantID, func() (any, error) {
		if c, ok := v.cached(tenantID); ok { // another flight just stored it
			return c, nil
		}
		// The flight serves every waiting caller: one caller's cancellation
		// must not fail the others, so it runs on its own bounded context.
		callCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), CallTimeout)
		defer cancel()
		c, err := v.assume(callCtx, tenantID, RequestID(ctx))
		if err != nil {
			return nil, err
		}
		v.store(tenantID, c)
		return c, nil
	})
	select {
	case <-ctx.Done():
		return aws.Credentials{}, fmt.Errorf("tenantsession: tenant %s: %w", tenantID, ctx.Err())
	case r := <-ch:
		if r.Err != nil {
			return aws.Credentials{}, r.Err
		}
		return r.Val.(aws.Credentials), nil
	}
}

func (v *Vendor) assume(ctx context.Context, tenant, requestID string) (aws.Credentials, error) {
	out, err := v.client.AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn:         aws.String(v.opts.RoleARN),
		RoleSessionName: aws.String(SessionName(tenant, requestID)),
		DurationSeconds: aws.Int32(int32(v.opts.Duration / time.Second)),
		Tags:            []ststypes.Tag{{Key: aws.String(tenantid.TagKey), Value: aws.String(tenant)}},
	})
	if err != nil {
		return aws.Credentials{}, fmt.Errorf("tenantsession: AssumeRole for tenant %s: %w", tenant, err)
	}
	c := out.Credentials
	if c == nil || c.AccessKeyId == nil || c.SecretAccessKey == nil || c.SessionToken == nil || c.Expiration == nil {
		return aws.Credentials{}, fmt.Errorf("tenantsession: AssumeRole for tenant %s returned no credentials", tenant)
	}
	return aws.Credentials{
		AccessKeyID: *c.AccessKeyId, SecretAccessKey: *c.SecretAccessKey, SessionToken: *c.SessionToken,
		Source: "tenantsession", CanExpire: true, Expires: *c.Expiration,
	}, nil
}

func (v *Vendor) cached(tenant string) (aws.Credentials, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	el, ok := v.byID[tenant]
	if !ok {
		return aws.Credentials{}, false
	}
	e := el.Value.(*entry)
	if !v.opts.Now().Add(v.opts.RefreshBefore).Before(e.creds.Expires) {
		v.order.Remove(el)
		delete(v.byID, tenant)
		return aws.Credentials{}, false
	}
	v.order.MoveToFront(el)
	return e.creds, true
}

func (v *Vendor) store(tenant string, c aws.Credentials) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if el, ok := v.byID[tenant]; ok {
		el.Value.(*entry).creds = c
		v.order.MoveToFront(el)
		return
	}
	v.byID[tenant] = v.order.PushFront(&entry{tenant: tenant, creds: c})
	for v.order.Len() > v.opts.MaxTenants {
		last := v.order.Back()
		v.order.Remove(last)
		delete(v.byID, last.Value.(*entry).tenant)
	}
}

// Cached is the number of tenants in the cache.
func (v *Vendor) Cached() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.order.Len()
}

// Provider returns an aws.CredentialsProvider for tenantID, for an SDK
// client's Options.Credentials.
func (v *Vendor) Provider(tenantID string) aws.CredentialsProvider {
	return aws.CredentialsProviderFunc(func(ctx context.Context) (aws.Credentials, error) {
		return v.Session(ctx, tenantID)
	})
}

type requestIDKey struct{}

// WithRequestID returns ctx carrying the request ID for session names.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID is the request ID WithRequestID stored, or "".
func RequestID(ctx context.Context) string {
	s, _ := ctx.Value(requestIDKey{}).(string)
	return s
}

// maxSessionName is STS's limit on RoleSessionName
// (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html).
const maxSessionName = 64

// SessionName is "<tenant>@<request id>": the request ID keeps only the
// characters RoleSessionName allows ([\w+=,.@-]) and is cut to fit 64
// characters. Without a request ID it is the tenant ID.
func SessionName(tenant, requestID string) string {
	b := []byte(tenant)
	if requestID != "" {
		b = append(b, '@')
	}
	for i := 0; i < len(requestID) && len(b) < maxSessionName; i++ {
		c := requestID[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '+' || c == '=' || c == ',' || c == '.' || c == '@' || c == '-' {
			b = append(b, c)
		}
	}
	if len(b) < 2 { // STS wants at least two characters
		b = append(b, '@')
	}
	return string(b)
}

// VerifiedClaims are the claims of a JWT whose signature, issuer, audience
// and expiry were already verified (by API Gateway's JWT authorizer, or by
// the caller's own verifier). Only a verified token may name a tenant.
type VerifiedClaims interface {
	Claim(name string) (string, bool)
}

// TenantFromClaims reads the tenant ID from claim and checks its format.
func TenantFromClaims(c VerifiedClaims, claim string) (string, error) {
	if c == nil {
		return "", errors.New("tenantsession: no verified claims")
	}
	id, ok := c.Claim(claim)
	if !ok {
		return "", fmt.Errorf("tenantsession: the verified token has no %s claim", claim)
	}
	if err := tenantid.Validate(id); err != nil {
		return "", fmt.Errorf("tenantsession: claim %s: %w", claim, err)
	}
	return id, nil
}

// ObjectKey is the S3 key of name in tenant's prefix: "<tenant>/<name>",
// the prefix constructs/tenantisolation grants.
func ObjectKey(tenant, name string) string { return tenant + "/" + name }
