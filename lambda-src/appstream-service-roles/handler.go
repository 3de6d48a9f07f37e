package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"

	"github.com/securestacks/securestacks/lambda-src/internal/awsretry"
	"github.com/securestacks/securestacks/lambda-src/internal/cfnresponse"
	"github.com/securestacks/securestacks/lambda-src/internal/logging"
)

// The narrow SDK interfaces the handler needs, one per operation.
type (
	// GetRoleAPI reads a role and its tags.
	GetRoleAPI interface {
		GetRole(ctx context.Context, in *iam.GetRoleInput, optFns ...func(*iam.Options)) (*iam.GetRoleOutput, error)
	}
	// CreateRoleAPI creates a missing role.
	CreateRoleAPI interface {
		CreateRole(ctx context.Context, in *iam.CreateRoleInput, optFns ...func(*iam.Options)) (*iam.CreateRoleOutput, error)
	}
	// AttachRolePolicyAPI attaches the role's managed policy.
	AttachRolePolicyAPI interface {
		AttachRolePolicy(ctx context.Context, in *iam.AttachRolePolicyInput, optFns ...func(*iam.Options)) (*iam.AttachRolePolicyOutput, error)
	}
	// ListAttachedRolePoliciesAPI lists the managed policies to detach before deleting.
	ListAttachedRolePoliciesAPI interface {
		ListAttachedRolePolicies(ctx context.Context, in *iam.ListAttachedRolePoliciesInput, optFns ...func(*iam.Options)) (*iam.ListAttachedRolePoliciesOutput, error)
	}
	// DetachRolePolicyAPI detaches a managed policy.
	DetachRolePolicyAPI interface {
		DetachRolePolicy(ctx context.Context, in *iam.DetachRolePolicyInput, optFns ...func(*iam.Options)) (*iam.DetachRolePolicyOutput, error)
	}
	// ListRolePoliciesAPI lists the inline policies to delete before deleting.
	ListRolePoliciesAPI interface {
		ListRolePolicies(ctx context.Context, in *iam.ListRolePoliciesInput, optFns ...func(*iam.Options)) (*iam.ListRolePoliciesOutput, error)
	}
	// DeleteRolePolicyAPI deletes an inline policy.
	DeleteRolePolicyAPI interface {
		DeleteRolePolicy(ctx context.Context, in *iam.DeleteRolePolicyInput, optFns ...func(*iam.Options)) (*iam.DeleteRolePolicyOutput, error)
	}
	// DeleteRoleAPI deletes a role this resource created.
	DeleteRoleAPI interface {
		DeleteRole(ctx context.Context, in *iam.DeleteRoleInput, optFns ...func(*iam.Options)) (*iam.DeleteRoleOutput, error)
	}
)

var (
	_ GetRoleAPI                  = (*iam.Client)(nil)
	_ CreateRoleAPI               = (*iam.Client)(nil)
	_ AttachRolePolicyAPI         = (*iam.Client)(nil)
	_ ListAttachedRolePoliciesAPI = (*iam.Client)(nil)
	_ DetachRolePolicyAPI         = (*iam.Client)(nil)
	_ ListRolePoliciesAPI         = (*iam.Client)(nil)
	_ DeleteRolePolicyAPI         = (*iam.Client)(nil)
	_ DeleteRoleAPI               = (*iam.Client)(nil)
)

// OwnerTag is the tag this resource puts on a role it creates, with its physical id as the
// value. Delete removes a role only when the tag names this resource: a role that existed before
// the stack, or that another stack created, is never touched.
const OwnerTag = "securestacks:owner"

// ServiceRole is one of the account-wide roles AppStream 2.0 expects under fixed names.
type ServiceRole struct {
	// Name is the role name AppStream looks for.
	Name string
	// Principal is the service that assumes the role.
	Principal string
	// ManagedPolicy is the AWS managed policy's path and name, after "arn:<partition>:iam::aws:".
	ManagedPolicy string
}

// ServiceRolePath is the path of both roles, as the AppStream console creates them.
const ServiceRolePath = "/service-role/"

// ServiceRoles are the roles AppStream needs before a fleet or image builder can be created:
// the service's own access role and the one Application Auto Scaling uses to scale fleets.
var ServiceRoles = []ServiceRole{
	{Name: "AmazonAppStreamServiceAccess", Principal: "appstream.amazonaws.com", ManagedPolicy: "policy/service-role/AmazonAppStreamServiceAccess"},
	{Name: "ApplicationAutoScalingForAmazonAppStreamAccess", Principal: "application-autoscaling.amazonaws.com", ManagedPolicy: "policy/service-role/ApplicationAutoScalingForAmazonAppStreamAccess"},
}

// AttrCreatedRoles is the Data key listing, comma-separated, the roles this resource owns.
const AttrCreatedRoles = "CreatedRoles"

// Properties are the custom resource's properties, as the construct sets them.
type Properties struct {
	// Partition is the AWS partition of the managed policies' ARNs (aws, aws-cn, aws-us-gov...).
	Partition string
	// RetainOnDelete keeps even the roles this resource created when it is deleted. Optional,
	// default false.
	RetainOnDelete bool
}

var partitionRe = regexp.MustCompile(`^aws(-[a-z]+)*$`)

func decode(raw map[string]any) (Properties, error) {
	var p Properties
	if err := cfnresponse.Decode(raw, &p); err != nil {
		return Properties{}, fmt.Errorf("properties: %w", err)
	}
	if !partitionRe.MatchString(p.Partition) {
		return Properties{}, fmt.Errorf("property Partition: expected an AWS partition such as aws or aws-us-gov, got %q", p.Partition)
	}
	return p, nil
}

// Roles is the custom resource that creates the AppStream service roles that are missing, and on
// Delete removes only those it created.
type Roles struct {
	GetRole                  GetRoleAPI
	CreateRole               CreateRoleAPI
	AttachRolePolicy         AttachRolePolicyAPI
	ListAttachedRolePolicies ListAttachedRolePoliciesAPI
	DetachRolePolicy         DetachRolePolicyAPI
	ListRolePolicies         ListRolePoliciesAPI
	DeleteRolePolicy         DeleteRolePolicyAPI
	DeleteRole               DeleteRoleAPI
	// Logger receives one line per role decision. Default slog.Default().
	Logger *slog.Logger
	// Retry bounds each AWS call.
	Retry awsretry.Policy
	// UndoTimeout is the time a failing Create keeps for deleting the roles it created. It is
	// taken from the end of the handler's deadline (at most half of what is left), so the undo
	// still runs when the forward work failed by running out of time. Default DefaultUndoTimeout.
	UndoTimeout time.Duration
}

// DefaultUndoTimeout is Roles.UndoTimeout's default: enough for detaching one policy and
// deleting the role, twice, with a few retries.
const DefaultUndoTimeout = 20 * time.Second

var _ cfnresponse.Resource = (*Roles)(nil)

// Create makes the missing roles, tagged with the physical id it then returns. When it fails,
// it first deletes the roles this invocation created: the provider framework answers the
// rollback's Delete of a failed Create without calling the handler, so nothing else would.
// Roles that already existed, ours from an earlier attempt included, are never undone.
func (r *Roles) Create(ctx context.Context, e cfnresponse.Event) (cfnresponse.Response, error) {
	p, err := decode(e.ResourceProperties)
	if err != nil {
		return cfnresponse.Response{}, err
	}
	id := cfnresponse.DefaultPhysicalResourceId(e.StackId, e.LogicalResourceId)
	work, cancel, reserve := r.reserveUndo(ctx)
	defer cancel()
	var created []string
	resp, err := r.ensure(work, id, p, &created)
	if err == nil {
		return resp, nil
	}
	return cfnresponse.Response{}, r.undo(ctx, reserve, id, created, err)
}

// reserveUndo splits ctx's time: work ends early enough to leave reserve for the undo.
func (r *Roles) reserveUndo(ctx context.Context) (work context.Context, cancel context.CancelFunc, reserve time.Duration) {
	reserve = r.UndoTimeout
	if reserve <= 0 {
		reserve = DefaultUndoTimeout
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		work, cancel = context.WithCancel(ctx)
		return work, cancel, reserve
	}
	reserve = min(reserve, time.Until(deadline)/2)
	work, cancel = context.WithDeadline(ctx, deadline.Add(-reserve))
	return work, cancel, reserve
}

// undo deletes, newest first, the roles this invocation created, and returns cause, extended
// with what the undo did or left behind, on one line.
func (r *Roles) undo(ctx context.Context, reserve time.Duration, id string, created []string, cause error) error {
	if len(created) == 0 {
		return cause
	}
	// Not ctx itself: the forward work may have failed because its own deadline passed. The
	// undo gets its reserve, and never outlives the handler's deadline.
	undoCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), reserve)
	defer cancel()
	if deadline, ok := ctx.Deadline(); ok {
		var cancelDeadline context.CancelFunc
		undoCtx, cancelDeadline = context.WithDeadline(undoCtx, deadline)
		defer cancelDeadline()
	}
	var left []string
	var errs []error
	for _, name := range slices.Backward(created) {
		if err := r.remove(undoCtx, name); err != nil {
			r.logger(ctx).ErrorContext(ctx, "undo failed; role left behind", slog.String("role", name), slog.String("error", err.Error()))
			left = append(left, name)
			errs = append(errs, err)
			continue
		}
		r.logger(ctx).InfoContext(ctx, "undo: role deleted", slog.String("role", name))
	}
	if len(left) == 0 {
		return fmt.Errorf("%w (undone: deleted role %s, created by this attempt)", cause, strings.Join(created, ", "))
	}
	slices.Reverse(left)
	slices.Reverse(errs)
	// One %w per error keeps them all for errors.As, on one line (errors.Join would add newlines).
	format := "%w; undoing it failed, so role %s behind, tagged %s=%s; delete it by hand: " +
		strings.TrimSuffix(strings.Repeat("%w; ", len(errs)), "; ")
	stays := strings.Join(left, ", ") + " stays"
	if len(left) > 1 {
		stays = strings.Join(left, ", ") + " stay"
	}
	args := []any{cause, stays, OwnerTag, id}
	for _, err := range errs {
		args = append(args, err)
	}
	return fmt.Errorf(format, args...)
}

// Update makes any role that went missing since, under the same ownership record.
func (r *Roles) Update(ctx context.Context, e cfnresponse.Event) (cfnresponse.Response, error) {
	p, err := decode(e.ResourceProperties)
	if err != nil {
		return cfnresponse.Response{}, err
	}
	// An Update that fails is followed by a rollback Update and, eventually, a Delete that does
	// reach the handler: the roles it made stay tagged and are removed then.
	var created []string
	return r.ensure(ctx, e.PhysicalResourceId, p, &created)
}

// Delete removes the roles tagged with this resource's physical id, unless RetainOnDelete is set.
// A role that is gone or belongs to someone else is left as it is.
func (r *Roles) Delete(ctx context.Context, e cfnresponse.Event) (cfnresponse.Response, error) {
	p, err := decode(e.ResourceProperties)
	if err == nil && p.RetainOnDelete {
		r.logger(ctx).InfoContext(ctx, "RetainOnDelete is set; leaving the service roles")
		return cfnresponse.Response{}, nil
	}
	for _, role := range ServiceRoles {
		got, found, err := r.role(ctx, role.Name)
		if err != nil {
			return cfnresponse.Response{}, err
		}
		if !found {
			continue
		}
		if !owns(got, e.PhysicalResourceId) {
			r.logger(ctx).InfoContext(ctx, "role not created by this resource; leaving it", slog.String("role", role.Name))
			continue
		}
		if err := r.remove(ctx, role.Name); err != nil {
			return cfnresponse.Response{}, err
		}
		r.logger(ctx).InfoContext(ctx, "role deleted", slog.String("role", role.Name))
	}
	return cfnresponse.Response{}, nil
}

// ensure makes every role exist. It appends to created each role it makes, as soon as IAM has
// made it, so a later failure can undo exactly those.
func (r *Roles) ensure(ctx context.Context, id string, p Properties, created *[]string) (cfnresponse.Response, error) {
	var owned []string
	for _, role := range ServiceRoles {
		mine, err := r.ensureRole(ctx, id, p.Partition, role, created)
		if err != nil {
			return cfnresponse.Response{}, err
		}
		if mine {
			owned = append(owned, role.Name)
		}
	}
	return cfnresponse.Response{PhysicalResourceId: id, Data: map[string]any{AttrCreatedRoles: strings.Join(owned, ",")}}, nil
}

// ensureRole makes role exist. mine reports whether this resource owns it; a role it creates is
// appended to created.
func (r *Roles) ensureRole(ctx context.Context, id, partition string, role ServiceRole, created *[]string) (mine bool, err error) {
	got, found, err := r.role(ctx, role.Name)
	if err != nil {
		return false, err
	}
	if !found {
		made, err := r.create(ctx, id, role)
		if err != nil {
			return false, err
		}
		if made {
			*created = append(*created, role.Name)
		} else {
			// Someone created it between GetRole and CreateRole: read whose it is.
			if got, found, err = r.role(ctx, role.Name); err != nil {
				return false, err
			}
			if !found {
				return false, fmt.Errorf("role %s: CreateRole said it exists, GetRole does not find it", role.Name)
			}
			if owns(got, id) {
				// Absent at our GetRole, tagged ours now: an attempt of ours inside the retry
				// loop made it before its answer was lost. It is this invocation's to undo.
				*created = append(*created, role.Name)
			}
		}
	}
	if found && !owns(got, id) {
		r.logger(ctx).InfoContext(ctx, "role exists; not created by this resource", slog.String("role", role.Name))
		return false, nil
	}
	// Ours, new or from an earlier attempt: make sure it has its policy (idempotent).
	policy := "arn:" + partition + ":iam::aws:" + role.ManagedPolicy
	err = r.call(ctx, func(ctx context.Context) error {
		_, err := r.AttachRolePolicy.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(role.Name), PolicyArn: aws.String(policy)})
		return err
	})
	if err != nil {
		return false, fmt.Errorf("role %s: AttachRolePolicy: %w", role.Name, err)
	}
	return true, nil
}

// create makes role, tagged as ours. created is false when it already existed.
func (r *Roles) create(ctx context.Context, id string, role ServiceRole) (created bool, err error) {
	trust, err := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Effect":    "Allow",
			"Principal": map[string]any{"Service": role.Principal},
			"Action":    "sts:AssumeRole",
		}},
	})
	if err != nil {
		return false, err
	}
	err = r.call(ctx, func(ctx context.Context) error {
		_, err := r.CreateRole.CreateRole(ctx, &iam.CreateRoleInput{
			RoleName:                 aws.String(role.Name),
			Path:                     aws.String(ServiceRolePath),
			AssumeRolePolicyDocument: aws.String(string(trust)),
			Description:              aws.String("AppStream 2.0 service role, created by securestacks because it was missing"),
			Tags:                     []iamtypes.Tag{{Key: aws.String(OwnerTag), Value: aws.String(id)}},
		})
		return err
	})
	switch {
	case isCode(err, "EntityAlreadyExists"):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("role %s: CreateRole: %w", role.Name, err)
	}
	r.logger(ctx).InfoContext(ctx, "role created", slog.String("role", role.Name))
	return true, nil
}

// remove detaches every policy of a role this resource owns and deletes it. Whatever is already
// gone counts as removed.
func (r *Roles) remove(ctx context.Context, name string) error {
	var attached []string
	var marker *string
	for {
		var out *iam.ListAttachedRolePoliciesOutput
		err := r.call(ctx, func(ctx context.Context) error {
			var err error
			out, err = r.ListAttachedRolePolicies.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(name), Marker: marker})
			return err
		})
		if isCode(err, "NoSuchEntity") {
			return nil
		}
		if err != nil {
			return fmt.Errorf("role %s: ListAttachedRolePolicies: %w", name, err)
		}
		for _, p := range out.AttachedPolicies {
			attached = append(attached, aws.ToString(p.PolicyArn))
		}
		if !out.IsTruncated || len(attached) > 1000 {
			break
		}
		marker = out.Marker
	}
	for _, arn := range attached {
		err := r.call(ctx, func(ctx context.Context) error {
			_, err := r.DetachRolePolicy.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String(name), PolicyArn: aws.String(arn)})
			return err
		})
		if err != nil && !isCode(err, "NoSuchEntity") {
			return fmt.Errorf("role %s: DetachRolePolicy: %w", name, err)
		}
	}
	var inline *iam.ListRolePoliciesOutput
	err := r.call(ctx, func(ctx context.Context) error {
		var err error
		inline, err = r.ListRolePolicies.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String(name)})
		return err
	})
	if isCode(err, "NoSuchEntity") {
		return nil
	}
	if err != nil {
		return fmt.Errorf("role %s: ListRolePolicies: %w", name, err)
	}
	for _, policy := range inline.PolicyNames {
		err := r.call(ctx, func(ctx context.Context) error {
			_, err := r.DeleteRolePolicy.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(policy)})
			return err
		})
		if err != nil && !isCode(err, "NoSuchEntity") {
			return fmt.Errorf("role %s: DeleteRolePolicy: %w", name, err)
		}
	}
	err = r.call(ctx, func(ctx context.Context) error {
		_, err := r.DeleteRole.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String(name)})
		return err
	})
	if err != nil && !isCode(err, "NoSuchEntity") {
		return fmt.Errorf("role %s: DeleteRole: %w", name, err)
	}
	return nil
}

// role reads a role; found is false when it does not exist.
func (r *Roles) role(ctx context.Context, name string) (*iamtypes.Role, bool, error) {
	var out *iam.GetRoleOutput
	err := r.call(ctx, func(ctx context.Context) error {
		var err error
		out, err = r.GetRole.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
		return err
	})
	if isCode(err, "NoSuchEntity") {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("role %s: GetRole: %w", name, err)
	}
	return out.Role, out.Role != nil, nil
}

// owns reports whether role was created by the resource with physical id id. This resource
// creates its roles under ServiceRolePath only, so a role elsewhere is someone else's even if it
// carries the tag; IAM would refuse to delete it anyway.
func owns(role *iamtypes.Role, id string) bool {
	return role != nil && aws.ToString(role.Path) == ServiceRolePath && owner(role) == id
}

func owner(role *iamtypes.Role) string {
	if role == nil {
		return ""
	}
	for _, t := range role.Tags {
		if aws.ToString(t.Key) == OwnerTag {
			return aws.ToString(t.Value)
		}
	}
	return ""
}

func (r *Roles) call(ctx context.Context, op func(context.Context) error) error {
	return awsretry.Do(ctx, r.Retry, op)
}

func (r *Roles) logger(ctx context.Context) *slog.Logger {
	base := r.Logger
	if base == nil {
		base = slog.Default()
	}
	return logging.WithRequest(ctx, base)
}

func isCode(err error, code string) bool {
	var api smithy.APIError
	return errors.As(err, &api) && api.ErrorCode() == code
}
