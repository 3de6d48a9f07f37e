// Package tenantsession is the token vending machine for the access role of
// constructs/tenantisolation, for your own Go Lambda handlers: Session
// assumes the access role with the session tag TenantID and caches the
// credentials per tenant. It links the AWS SDK's STS client and no CDK code.
//
//	vendor, err := tenantsession.New(sts.NewFromConfig(cfg), tenantsession.Options{RoleARN: os.Getenv("ACCESS_ROLE_ARN")})
//	tenant, err := tenantsession.TenantFromClaims(claims, "custom:tenant_id") // claims verified by the JWT authorizer
//	ctx = tenantsession.WithRequestID(ctx, lambdaRequestID)                  // for the role session name
//	db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.Credentials = vendor.Provider(tenant) })
//
// Everything here is the same code the securestacks sample handler runs
// (lambda-src/tenant-shipment-tracking).
package tenantsession

import (
	"github.com/securestacks/securestacks/internal/tenantid"
	impl "github.com/securestacks/securestacks/internal/tenantsession"
)

// Vendor vends per-tenant credentials; see New.
type Vendor = impl.Vendor

// Options configure a Vendor: RoleARN (required), Duration (15m to 1h,
// default 15m), RefreshBefore (default 1m), MaxTenants (default 1024), Now.
type Options = impl.Options

// AssumeRoleAPI is the one STS operation a Vendor calls (*sts.Client has it).
type AssumeRoleAPI = impl.AssumeRoleAPI

// VerifiedClaims are the claims of a JWT whose signature, issuer, audience
// and expiry were verified before the handler ran.
type VerifiedClaims = impl.VerifiedClaims

// New returns a Vendor calling client; invalid options are one error.
func New(client AssumeRoleAPI, opts Options) (*Vendor, error) { return impl.New(client, opts) }

// TenantFromClaims reads the tenant ID from claim and checks its format.
var TenantFromClaims = impl.TenantFromClaims

// WithRequestID and RequestID carry the request ID that role session names
// ("<tenant>@<request id>") include.
var (
	WithRequestID = impl.WithRequestID
	RequestID     = impl.RequestID
)

// ObjectKey is the S3 key of name in tenant's prefix: "<tenant>/<name>".
var ObjectKey = impl.ObjectKey

// ValidateTenantID returns nil for an ID of the tenant-ID format
// (^[a-z0-9]{1,26}$), otherwise a one-line error.
func ValidateTenantID(id string) error { return tenantid.Validate(id) }
