// Package tenantisolation provides TenantIsolation: attribute-based tenant
// isolation for a pooled SaaS service, after the AWS Security Blog post "How
// to implement SaaS tenant isolation with ABAC and AWS IAM". The service's
// own role has no data access; for each request it assumes AccessRole with
// the session tag TenantID, and AccessRole's policies scope every store to
// ${aws:PrincipalTag/TenantID}. One role serves any number of tenants, and a
// new tenant needs no IAM change.
//
// Tenant IDs have one format (TenantIDPattern), checked at onboarding
// (NewTenantKey), in the token vending library and in the sample handler.
// See README.md for each store's policy and what IAM cannot isolate.
package tenantisolation

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/internal/nag"
	"github.com/securestacks/securestacks/internal/tenantid"
)

// TenantTagKey is the session tag (and the KMS key tag) that carries the
// tenant ID.
const TenantTagKey = tenantid.TagKey

// TenantIDPattern is the tenant-ID format: 1 to 26 lower-case letters or
// digits. No ID holds a character that any store uses as a delimiter.
const TenantIDPattern = tenantid.Pattern

// TenantVariable is the policy variable the access role's policies are
// written with.
const TenantVariable = "${aws:PrincipalTag/" + TenantTagKey + "}"

// DefaultMaxSessionDuration is AccessRole's default maximum session duration:
// one hour, the least IAM allows and the most a role-chained session (a
// Lambda's role assuming AccessRole) can get anyway
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_terms-and-concepts.html#iam-term-role-chaining).
const DefaultMaxSessionDuration = 3600

// ValidateTenantID returns nil when id has the TenantIDPattern format,
// otherwise a one-line error saying what was expected.
func ValidateTenantID(id string) error { return tenantid.Validate(id) }

// forbiddenTagCharacters are the characters a session tag value may hold
// besides letters, digits and spaces
// (https://docs.aws.amazon.com/STS/latest/APIReference/API_Tag.html). The
// trust policy refuses a TenantID tag holding any of them or a space, so a
// caller that skipped ValidateTenantID still cannot widen a pattern.
var forbiddenTagCharacters = []string{"_", ".", ":", "/", "=", "+", "-", "@", " "}

// TenantIsolationProps configures TenantIsolation.
type TenantIsolationProps struct {
	// ExistingServiceRole is the service's own role (the post's
	// TrackingServiceRole), which assumes AccessRole for each tenant.
	// Required. It gets sts:AssumeRole and sts:TagSession on AccessRole
	// (nothing when the role is imported without policy updates) and no data
	// access.
	ExistingServiceRole awsiam.IRole
	// MaxSessionDuration bounds AccessRole's sessions, between one and twelve
	// hours. Default DefaultMaxSessionDuration seconds.
	MaxSessionDuration awscdk.Duration
	// Description of AccessRole. Default: a sentence naming the model.
	Description *string
}

// Validate returns every problem of the props, one per line, or nil.
func (p *TenantIsolationProps) Validate() error {
	var problems []string
	if p == nil || p.ExistingServiceRole == nil {
		problems = append(problems, "TenantIsolationProps.ExistingServiceRole is required: the service role that assumes the access role")
	}
	if p != nil && p.MaxSessionDuration != nil {
		if s := *p.MaxSessionDuration.ToSeconds(nil); s < 3600 || s > 43200 {
			problems = append(problems, fmt.Sprintf("TenantIsolationProps.MaxSessionDuration: expected 1 to 12 hours, got %v seconds", s))
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("%s", strings.Join(problems, "; "))
}

// TenantIsolation is the access role of a pooled multi-tenant service and
// its per-store grants.
type TenantIsolation struct {
	constructs.Construct
	// ServiceRole is ExistingServiceRole.
	ServiceRole awsiam.IRole
	// AccessRole (the post's TrackingAccessRole) is assumable only by
	// ServiceRole, only with a non-empty TenantID session tag of letters and
	// digits and no other tag, and holds only what the Grant* methods add,
	// each scoped to the session's tenant.
	AccessRole awsiam.Role
}

// NewTenantIsolation defines the access role at scope/id. Invalid props
// panic with a one-line message prefixed "tenantisolation: ".
func NewTenantIsolation(scope constructs.Construct, id string, props *TenantIsolationProps) *TenantIsolation {
	if err := props.Validate(); err != nil {
		panic("tenantisolation: " + err.Error())
	}
	t := &TenantIsolation{ServiceRole: props.ExistingServiceRole}
	constructs.NewConstruct_Override(t, scope, jsii.String(id))

	duration := props.MaxSessionDuration
	if duration == nil {
		duration = awscdk.Duration_Seconds(jsii.Number(DefaultMaxSessionDuration))
	}
	description := props.Description
	if description == nil {
		description = jsii.String("Tenant access role: scoped per request to the session tag " + TenantTagKey)
	}
	notLike := make([]any, len(forbiddenTagCharacters))
	for i, c := range forbiddenTagCharacters {
		notLike[i] = "*" + c + "*"
	}
	// One statement for both actions: the Service Authorization Reference
	// lists aws:RequestTag/${TagKey} and aws:TagKeys for sts:AssumeRole as
	// well as sts:TagSession
	// (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecuritytokenservice.html),
	// so an AssumeRole without the tag, or with another tag key, is refused
	// and no untagged session of this role can exist.
	trust := awsiam.NewPrincipalWithConditions(
		awsiam.NewSessionTagsPrincipal(awsiam.NewArnPrincipal(props.ExistingServiceRole.RoleArn())),
		&map[string]any{
			// ?* is at least one character: an empty value is refused.
			"StringLike":    map[string]any{"aws:RequestTag/" + TenantTagKey: "?*"},
			"StringNotLike": map[string]any{"aws:RequestTag/" + TenantTagKey: notLike},
			// Only TenantID (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html#id_session-tags_permissions-required).
			"ForAllValues:StringEquals": map[string]any{"aws:TagKeys": []any{TenantTagKey}},
			// No transitive tags: a tenant session chains into no other role.
			"Null": map[string]any{"sts:TransitiveTagKeys": "true"},
		})
	t.AccessRole = awsiam.NewRole(t, jsii.String("AccessRole"), &awsiam.RoleProps{
		AssumedBy:          trust,
		MaxSessionDuration: duration,
		Description:        description,
	})
	awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee:      props.ExistingServiceRole,
		Actions:      jsii.Strings("sts:AssumeRole", "sts:TagSession"),
		ResourceArns: jsii.Strings(*t.AccessRole.RoleArn()),
	})
	// An explicit deny for any call of a session without the tag (none can
	// be opened through the trust policy, but a deny does not depend on it).
	// It also creates the role's policy now, so the suppressions below reach it.
	t.AccessRole.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("DenyWithoutTenantTag"),
		Effect:     awsiam.Effect_DENY,
		Actions:    jsii.Strings("*"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{"Null": map[string]any{"aws:PrincipalTag/" + TenantTagKey: "true"}},
	}))
	nag.SuppressTree(t.AccessRole, slices.Concat(nag.NISTAndHIPAA("IAMNoInlinePolicy",
		"The tenant-scoped policy grows with each Grant* call and belongs to this role alone: inline, it cannot be attached to any other principal and goes with the role"),
		nag.NISTAndHIPAA("IAMPolicyNoStatementsWithFullAccess",
			"The only statement with action * is DenyWithoutTenantTag, a Deny for sessions without the TenantID tag: it grants nothing"),
		[]nag.Rule{{
			ID: "AwsSolutions-IAM5",
			Reason: "Each wildcard is one tenant's space: resource patterns end in ${aws:PrincipalTag/TenantID} or ${aws:PrincipalTag/TenantID}/*, " +
				"and KMS key/* is limited by the TenantID resource tag and kms:ViaService; the iamsim proofs show own-allowed and other-denied",
		}})...)
	return t
}

// grant adds one statement to AccessRole.
func (t *TenantIsolation) grant(actions []string, resources []string, conditions map[string]any) awsiam.Grant {
	opts := &awsiam.GrantOnPrincipalOptions{
		Grantee:      t.AccessRole,
		Actions:      jsii.Strings(actions...),
		ResourceArns: jsii.Strings(resources...),
	}
	if conditions != nil {
		c := make(map[string]*map[string]any, len(conditions))
		for op, v := range conditions {
			m := v.(map[string]any)
			c[op] = &m
		}
		opts.Conditions = &c
	}
	return awsiam.Grant_AddToPrincipal(opts)
}
