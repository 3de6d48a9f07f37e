package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"

	main "github.com/securestacks/securestacks/lambda-src/appstream-service-roles"
	"github.com/securestacks/securestacks/lambda-src/internal/awsretry"
	"github.com/securestacks/securestacks/lambda-src/internal/cfnresponse"
)

type (
	getRoleFunc          func(context.Context, *iam.GetRoleInput, ...func(*iam.Options)) (*iam.GetRoleOutput, error)
	createRoleFunc       func(context.Context, *iam.CreateRoleInput, ...func(*iam.Options)) (*iam.CreateRoleOutput, error)
	attachFunc           func(context.Context, *iam.AttachRolePolicyInput, ...func(*iam.Options)) (*iam.AttachRolePolicyOutput, error)
	listAttachedFunc     func(context.Context, *iam.ListAttachedRolePoliciesInput, ...func(*iam.Options)) (*iam.ListAttachedRolePoliciesOutput, error)
	detachFunc           func(context.Context, *iam.DetachRolePolicyInput, ...func(*iam.Options)) (*iam.DetachRolePolicyOutput, error)
	listInlineFunc       func(context.Context, *iam.ListRolePoliciesInput, ...func(*iam.Options)) (*iam.ListRolePoliciesOutput, error)
	deleteRolePolicyFunc func(context.Context, *iam.DeleteRolePolicyInput, ...func(*iam.Options)) (*iam.DeleteRolePolicyOutput, error)
	deleteRoleFunc       func(context.Context, *iam.DeleteRoleInput, ...func(*iam.Options)) (*iam.DeleteRoleOutput, error)
)

func (f getRoleFunc) GetRole(ctx context.Context, in *iam.GetRoleInput, o ...func(*iam.Options)) (*iam.GetRoleOutput, error) {
	return f(ctx, in, o...)
}
func (f createRoleFunc) CreateRole(ctx context.Context, in *iam.CreateRoleInput, o ...func(*iam.Options)) (*iam.CreateRoleOutput, error) {
	return f(ctx, in, o...)
}
func (f attachFunc) AttachRolePolicy(ctx context.Context, in *iam.AttachRolePolicyInput, o ...func(*iam.Options)) (*iam.AttachRolePolicyOutput, error) {
	return f(ctx, in, o...)
}
func (f listAttachedFunc) ListAttachedRolePolicies(ctx context.Context, in *iam.ListAttachedRolePoliciesInput, o ...func(*iam.Options)) (*iam.ListAttachedRolePoliciesOutput, error) {
	return f(ctx, in, o...)
}
func (f detachFunc) DetachRolePolicy(ctx context.Context, in *iam.DetachRolePolicyInput, o ...func(*iam.Options)) (*iam.DetachRolePolicyOutput, error) {
	return f(ctx, in, o...)
}
func (f listInlineFunc) ListRolePolicies(ctx context.Context, in *iam.ListRolePoliciesInput, o ...func(*iam.Options)) (*iam.ListRolePoliciesOutput, error) {
	return f(ctx, in, o...)
}
func (f deleteRolePolicyFunc) DeleteRolePolicy(ctx context.Context, in *iam.DeleteRolePolicyInput, o ...func(*iam.Options)) (*iam.DeleteRolePolicyOutput, error) {
	return f(ctx, in, o...)
}
func (f deleteRoleFunc) DeleteRole(ctx context.Context, in *iam.DeleteRoleInput, o ...func(*iam.Options)) (*iam.DeleteRoleOutput, error) {
	return f(ctx, in, o...)
}

func apiError(code string) error { return &smithy.GenericAPIError{Code: code, Message: "fake " + code} }

const (
	appstreamRole = "AmazonAppStreamServiceAccess"
	scalingRole   = "ApplicationAutoScalingForAmazonAppStreamAccess"
	physicalID    = "ServiceRoles-0123456789abcdef"
)

type role struct {
	owner    string // value of the owner tag; "" means untagged
	attached []string
	inline   []string
	path     string
	trust    string
}

// account is a fake IAM. errs injects an error for the nth call of an operation.
type account struct {
	roles map[string]*role
	errs  map[string][]error
	// raceCreate makes the first CreateRole of this role find it already made by someone else.
	raceCreate string
	// lostAnswer makes the first CreateRole of this role create it and then fail retryably, as a
	// call whose answer the network lost.
	lostAnswer string

	calls map[string]int
}

// errHang, injected as an operation's error, makes that call wait for its context to end, as a
// call that IAM never answers does.
var errHang = errors.New("hang")

func (a *account) fail(ctx context.Context, op string) error {
	a.calls[op]++
	if err := ctx.Err(); err != nil {
		// As the SDK does: a call under an ended context fails before it is sent.
		return err
	}
	if errs := a.errs[op]; a.calls[op] <= len(errs) {
		if err := errs[a.calls[op]-1]; err == errHang {
			<-ctx.Done()
			return ctx.Err()
		} else {
			return err
		}
	}
	return nil
}

func (a *account) get(name string) (*role, error) {
	r, ok := a.roles[name]
	if !ok {
		return nil, apiError("NoSuchEntity")
	}
	return r, nil
}

func (a *account) resource() *main.Roles {
	a.calls = map[string]int{}
	return &main.Roles{
		GetRole: getRoleFunc(func(ctx context.Context, in *iam.GetRoleInput, _ ...func(*iam.Options)) (*iam.GetRoleOutput, error) {
			if err := a.fail(ctx, "GetRole"); err != nil {
				return nil, err
			}
			r, err := a.get(aws.ToString(in.RoleName))
			if err != nil {
				return nil, err
			}
			out := &iamtypes.Role{RoleName: in.RoleName, Path: aws.String(r.path)}
			if r.owner != "" {
				out.Tags = []iamtypes.Tag{{Key: aws.String("team"), Value: aws.String("x")}, {Key: aws.String(main.OwnerTag), Value: aws.String(r.owner)}}
			}
			return &iam.GetRoleOutput{Role: out}, nil
		}),
		CreateRole: createRoleFunc(func(ctx context.Context, in *iam.CreateRoleInput, _ ...func(*iam.Options)) (*iam.CreateRoleOutput, error) {
			if err := a.fail(ctx, "CreateRole"); err != nil {
				return nil, err
			}
			name := aws.ToString(in.RoleName)
			if name == a.raceCreate {
				a.raceCreate = ""
				a.roles[name] = &role{path: "/service-role/"}
				return nil, apiError("EntityAlreadyExists")
			}
			if _, ok := a.roles[name]; ok {
				return nil, apiError("EntityAlreadyExists")
			}
			r := &role{path: aws.ToString(in.Path), trust: aws.ToString(in.AssumeRolePolicyDocument)}
			for _, t := range in.Tags {
				if aws.ToString(t.Key) == main.OwnerTag {
					r.owner = aws.ToString(t.Value)
				}
			}
			a.roles[name] = r
			if name == a.lostAnswer {
				a.lostAnswer = ""
				return nil, apiError("RequestTimeout")
			}
			return &iam.CreateRoleOutput{}, nil
		}),
		AttachRolePolicy: attachFunc(func(ctx context.Context, in *iam.AttachRolePolicyInput, _ ...func(*iam.Options)) (*iam.AttachRolePolicyOutput, error) {
			if err := a.fail(ctx, "AttachRolePolicy"); err != nil {
				return nil, err
			}
			r, err := a.get(aws.ToString(in.RoleName))
			if err != nil {
				return nil, err
			}
			if !slices.Contains(r.attached, aws.ToString(in.PolicyArn)) {
				r.attached = append(r.attached, aws.ToString(in.PolicyArn))
			}
			return &iam.AttachRolePolicyOutput{}, nil
		}),
		ListAttachedRolePolicies: listAttachedFunc(func(ctx context.Context, in *iam.ListAttachedRolePoliciesInput, _ ...func(*iam.Options)) (*iam.ListAttachedRolePoliciesOutput, error) {
			if err := a.fail(ctx, "ListAttachedRolePolicies"); err != nil {
				return nil, err
			}
			r, err := a.get(aws.ToString(in.RoleName))
			if err != nil {
				return nil, err
			}
			out := &iam.ListAttachedRolePoliciesOutput{}
			for _, p := range r.attached {
				out.AttachedPolicies = append(out.AttachedPolicies, iamtypes.AttachedPolicy{PolicyArn: aws.String(p)})
			}
			return out, nil
		}),
		DetachRolePolicy: detachFunc(func(ctx context.Context, in *iam.DetachRolePolicyInput, _ ...func(*iam.Options)) (*iam.DetachRolePolicyOutput, error) {
			if err := a.fail(ctx, "DetachRolePolicy"); err != nil {
				return nil, err
			}
			r, err := a.get(aws.ToString(in.RoleName))
			if err != nil {
				return nil, err
			}
			r.attached = slices.DeleteFunc(r.attached, func(p string) bool { return p == aws.ToString(in.PolicyArn) })
			return &iam.DetachRolePolicyOutput{}, nil
		}),
		ListRolePolicies: listInlineFunc(func(ctx context.Context, in *iam.ListRolePoliciesInput, _ ...func(*iam.Options)) (*iam.ListRolePoliciesOutput, error) {
			if err := a.fail(ctx, "ListRolePolicies"); err != nil {
				return nil, err
			}
			r, err := a.get(aws.ToString(in.RoleName))
			if err != nil {
				return nil, err
			}
			return &iam.ListRolePoliciesOutput{PolicyNames: slices.Clone(r.inline)}, nil
		}),
		DeleteRolePolicy: deleteRolePolicyFunc(func(ctx context.Context, in *iam.DeleteRolePolicyInput, _ ...func(*iam.Options)) (*iam.DeleteRolePolicyOutput, error) {
			if err := a.fail(ctx, "DeleteRolePolicy"); err != nil {
				return nil, err
			}
			r, err := a.get(aws.ToString(in.RoleName))
			if err != nil {
				return nil, err
			}
			r.inline = slices.DeleteFunc(r.inline, func(p string) bool { return p == aws.ToString(in.PolicyName) })
			return &iam.DeleteRolePolicyOutput{}, nil
		}),
		DeleteRole: deleteRoleFunc(func(ctx context.Context, in *iam.DeleteRoleInput, _ ...func(*iam.Options)) (*iam.DeleteRoleOutput, error) {
			if err := a.fail(ctx, "DeleteRole"); err != nil {
				return nil, err
			}
			r, err := a.get(aws.ToString(in.RoleName))
			if err != nil {
				return nil, err
			}
			if len(r.attached) > 0 || len(r.inline) > 0 {
				return nil, apiError("DeleteConflict")
			}
			delete(a.roles, aws.ToString(in.RoleName))
			return &iam.DeleteRoleOutput{}, nil
		}),
		Logger: slog.New(slog.NewJSONHandler(&bytes.Buffer{}, nil)),
		Retry:  awsretry.Policy{MaxAttempts: 3, Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }},
	}
}

func event(t *testing.T, file string, props map[string]any, id string) cfnresponse.Event {
	t.Helper()
	raw, err := os.ReadFile("../internal/cfnresponse/testdata/" + file)
	if err != nil {
		t.Fatal(err)
	}
	var e cfnresponse.Event
	if err := json.Unmarshal(raw, &e); err != nil {
		t.Fatal(err)
	}
	e.ResourceProperties = props
	e.OldResourceProperties = nil
	if e.RequestType == cfnresponse.Update {
		e.OldResourceProperties = props
	}
	e.PhysicalResourceId = id
	return e
}

func TestRoles(t *testing.T) {
	awsProps := map[string]any{"ServiceToken": "arn", "Partition": "aws"}
	appstreamPolicy := "arn:aws:iam::aws:policy/service-role/AmazonAppStreamServiceAccess"
	scalingPolicy := "arn:aws:iam::aws:policy/service-role/ApplicationAutoScalingForAmazonAppStreamAccess"
	ours := func(policies ...string) *role {
		return &role{owner: physicalID, attached: policies, path: "/service-role/"}
	}
	ce := event(t, "create.json", nil, "")
	createID := cfnresponse.DefaultPhysicalResourceId(ce.StackId, ce.LogicalResourceId)
	theirs := func() *role { return &role{attached: []string{appstreamPolicy}, path: "/service-role/"} }

	tests := []struct {
		name  string
		file  string
		props map[string]any
		id    string // physical id of Update and Delete
		roles map[string]*role
		errs  map[string][]error
		race  string
		lost  string
		// undo is Roles.UndoTimeout, timeout the handler's DefaultTimeout; zero means default.
		undo, timeout time.Duration
		within        time.Duration // when set, the handler must return sooner

		wantErr     []string          // substrings the error must contain; nil means success
		wantRoles   map[string]string // name → owner tag ("-" for untagged); exactly these remain
		wantCreated string            // Data CreatedRoles on Create/Update
		wantPolicy  map[string]string // name → a policy ARN that must be attached
		wantNoCalls []string          // operations that must not have been called
		wantCalls   map[string]int    // operation → exact number of calls
	}{
		{
			name: "create makes both missing roles, tagged and with their policies", file: "create.json", props: awsProps,
			roles:       map[string]*role{},
			wantRoles:   map[string]string{appstreamRole: "*", scalingRole: "*"},
			wantCreated: appstreamRole + "," + scalingRole,
			wantPolicy:  map[string]string{appstreamRole: appstreamPolicy, scalingRole: scalingPolicy},
		},
		{
			name: "create leaves an existing role alone and makes the other", file: "create.json", props: awsProps,
			roles:       map[string]*role{appstreamRole: theirs()},
			wantRoles:   map[string]string{appstreamRole: "-", scalingRole: "*"},
			wantCreated: scalingRole,
		},
		{
			name: "create with both roles present makes nothing", file: "create.json", props: awsProps,
			roles:       map[string]*role{appstreamRole: theirs(), scalingRole: theirs()},
			wantRoles:   map[string]string{appstreamRole: "-", scalingRole: "-"},
			wantCreated: "", wantNoCalls: []string{"CreateRole", "AttachRolePolicy"},
		},
		{
			name: "create losing a race to another creator does not claim the role", file: "create.json", props: awsProps,
			roles: map[string]*role{}, race: appstreamRole,
			wantRoles:   map[string]string{appstreamRole: "-", scalingRole: "*"},
			wantCreated: scalingRole,
		},
		{
			name: "create retried after a partial attempt finishes its own roles", file: "create.json", props: awsProps,
			roles:       map[string]*role{appstreamRole: {owner: createID, path: "/service-role/"}},
			wantRoles:   map[string]string{appstreamRole: "*", scalingRole: "*"},
			wantCreated: appstreamRole + "," + scalingRole,
			wantPolicy:  map[string]string{appstreamRole: appstreamPolicy},
		},
		{
			name: "create retries throttled IAM calls", file: "create.json", props: awsProps,
			roles: map[string]*role{},
			errs: map[string][]error{"GetRole": {apiError("Throttling")}, "CreateRole": {apiError("Throttling"), apiError("Throttling")},
				"AttachRolePolicy": {apiError("Throttling")}},
			wantRoles:   map[string]string{appstreamRole: "*", scalingRole: "*"},
			wantCreated: appstreamRole + "," + scalingRole,
		},
		{
			name: "create fails when IAM refuses", file: "create.json", props: awsProps,
			roles: map[string]*role{}, errs: map[string][]error{"CreateRole": {apiError("AccessDenied")}},
			wantErr:   []string{"role " + appstreamRole + ": CreateRole", "AccessDenied"},
			wantRoles: map[string]string{}, wantNoCalls: []string{"DeleteRole"},
		},
		{
			name: "create uses the stack's partition for the managed policies", file: "create.json",
			props: map[string]any{"Partition": "aws-us-gov"}, roles: map[string]*role{},
			wantRoles:   map[string]string{appstreamRole: "*", scalingRole: "*"},
			wantCreated: appstreamRole + "," + scalingRole,
			wantPolicy:  map[string]string{appstreamRole: "arn:aws-us-gov:iam::aws:policy/service-role/AmazonAppStreamServiceAccess"},
		},
		{
			name: "create rejects a bad partition", file: "create.json", props: map[string]any{"Partition": "arn:aws"},
			roles: map[string]*role{}, wantErr: []string{"Partition"},
		},
		{
			name: "create finds a role at another path by name and does not create it", file: "create.json", props: awsProps,
			roles:       map[string]*role{appstreamRole: {attached: []string{appstreamPolicy}, path: "/custom/"}},
			wantRoles:   map[string]string{appstreamRole: "-", scalingRole: "*"},
			wantCreated: scalingRole, wantCalls: map[string]int{"CreateRole": 1},
		},
		{
			name: "create failing on the second role deletes the first it created", file: "create.json", props: awsProps,
			roles: map[string]*role{}, errs: map[string][]error{"CreateRole": {nil, apiError("AccessDenied")}},
			wantErr:   []string{"role " + scalingRole + ": CreateRole", "AccessDenied", "undone: deleted role " + appstreamRole},
			wantRoles: map[string]string{}, wantCalls: map[string]int{"DetachRolePolicy": 1, "DeleteRole": 1},
		},
		{
			name: "create failing to attach the policy of the role it just made deletes that role", file: "create.json", props: awsProps,
			roles: map[string]*role{}, errs: map[string][]error{"AttachRolePolicy": {apiError("AccessDenied")}},
			wantErr:   []string{"role " + appstreamRole + ": AttachRolePolicy", "AccessDenied", "undone: deleted role " + appstreamRole},
			wantRoles: map[string]string{}, wantCalls: map[string]int{"CreateRole": 1, "DeleteRole": 1},
		},
		{
			name: "create whose undo fails names the cause and the role left behind", file: "create.json", props: awsProps,
			roles: map[string]*role{}, errs: map[string][]error{"CreateRole": {nil, apiError("AccessDenied")}, "DeleteRole": {apiError("AccessDenied")}},
			wantErr: []string{"role " + scalingRole + ": CreateRole", "undoing it failed, so role " + appstreamRole + " stays behind",
				main.OwnerTag + "=" + createID, "role " + appstreamRole + ": DeleteRole"},
			wantRoles: map[string]string{appstreamRole: createID},
		},
		{
			name: "create whose undo fails for both roles names both, still on one line", file: "create.json", props: awsProps,
			roles: map[string]*role{}, errs: map[string][]error{"AttachRolePolicy": {nil, apiError("AccessDenied")}, "DeleteRole": {apiError("AccessDenied"), apiError("AccessDenied")}},
			wantErr: []string{"role " + scalingRole + ": AttachRolePolicy", "role " + appstreamRole + ", " + scalingRole + " stay behind",
				"role " + appstreamRole + ": DeleteRole", "role " + scalingRole + ": DeleteRole"},
			wantRoles: map[string]string{appstreamRole: createID, scalingRole: createID},
		},
		{
			name: "create never undoes a role that existed before it", file: "create.json", props: awsProps,
			roles: map[string]*role{appstreamRole: theirs()}, errs: map[string][]error{"CreateRole": {apiError("AccessDenied")}},
			wantErr:   []string{"role " + scalingRole + ": CreateRole", "AccessDenied"},
			wantRoles: map[string]string{appstreamRole: "-"}, wantNoCalls: []string{"DetachRolePolicy", "DeleteRole"},
		},
		{
			name: "create never undoes its own role left by an earlier attempt", file: "create.json", props: awsProps,
			roles: map[string]*role{appstreamRole: {owner: createID, path: "/service-role/"}}, errs: map[string][]error{"CreateRole": {apiError("AccessDenied")}},
			wantErr:   []string{"role " + scalingRole + ": CreateRole"},
			wantRoles: map[string]string{appstreamRole: createID}, wantNoCalls: []string{"DetachRolePolicy", "DeleteRole"},
		},
		{
			name: "create re-run after a failed undo keeps the leftover and makes only the missing role", file: "create.json", props: awsProps,
			roles:       map[string]*role{appstreamRole: {owner: createID, path: "/service-role/"}},
			wantRoles:   map[string]string{appstreamRole: "*", scalingRole: "*"},
			wantCreated: appstreamRole + "," + scalingRole,
			wantCalls:   map[string]int{"CreateRole": 1, "DeleteRole": 0},
		},
		{
			name: "create whose retried CreateRole finds its own lost success undoes that role too", file: "create.json", props: awsProps,
			roles: map[string]*role{}, lost: appstreamRole, errs: map[string][]error{"CreateRole": {nil, nil, apiError("AccessDenied")}},
			wantErr:   []string{"role " + scalingRole + ": CreateRole", "undone: deleted role " + appstreamRole},
			wantRoles: map[string]string{},
		},
		{
			name: "create that runs out of time still undoes, within its reserve", file: "create.json", props: awsProps,
			roles: map[string]*role{}, errs: map[string][]error{"GetRole": {nil, errHang}},
			timeout: 2 * time.Second, undo: 500 * time.Millisecond, within: 2 * time.Second,
			wantErr:   []string{"role " + scalingRole + ": GetRole", "deadline exceeded", "undone: deleted role " + appstreamRole},
			wantRoles: map[string]string{},
		},
		{
			name: "create whose undo hangs gives up at the reserve and names the leftover", file: "create.json", props: awsProps,
			roles: map[string]*role{}, errs: map[string][]error{"CreateRole": {nil, apiError("AccessDenied")}, "DeleteRole": {errHang}},
			timeout: 10 * time.Second, undo: 200 * time.Millisecond, within: 3 * time.Second,
			wantErr:   []string{"AccessDenied", "role " + appstreamRole + " stays behind", "DeleteRole", "deadline exceeded"},
			wantRoles: map[string]string{appstreamRole: createID},
		},
		{
			name: "update recreates a role deleted out of band under the same owner", file: "update.json", props: awsProps, id: physicalID,
			roles:       map[string]*role{appstreamRole: ours(appstreamPolicy)},
			wantRoles:   map[string]string{appstreamRole: physicalID, scalingRole: physicalID},
			wantCreated: appstreamRole + "," + scalingRole,
		},
		{
			name: "delete removes both roles it created", file: "delete.json", props: awsProps, id: physicalID,
			roles:     map[string]*role{appstreamRole: ours(appstreamPolicy), scalingRole: {owner: physicalID, attached: []string{scalingPolicy}, inline: []string{"extra"}, path: "/service-role/"}},
			wantRoles: map[string]string{},
		},
		{
			name: "delete removes only its own role", file: "delete.json", props: awsProps, id: physicalID,
			roles:     map[string]*role{appstreamRole: theirs(), scalingRole: ours(scalingPolicy)},
			wantRoles: map[string]string{appstreamRole: "-"},
		},
		{
			name: "delete never touches a role another stack created", file: "delete.json", props: awsProps, id: physicalID,
			roles:       map[string]*role{appstreamRole: {owner: "ServiceRoles-fedcba9876543210", attached: []string{appstreamPolicy}}},
			wantRoles:   map[string]string{appstreamRole: "ServiceRoles-fedcba9876543210"},
			wantNoCalls: []string{"DetachRolePolicy", "DeleteRole"},
		},
		{
			name: "delete with the roles already gone succeeds", file: "delete.json", props: awsProps, id: physicalID,
			roles: map[string]*role{}, wantRoles: map[string]string{},
		},
		{
			name: "delete leaves a role outside /service-role/ even when it carries its tag", file: "delete.json", props: awsProps, id: physicalID,
			roles:       map[string]*role{appstreamRole: {owner: physicalID, attached: []string{appstreamPolicy}, path: "/custom/"}},
			wantRoles:   map[string]string{appstreamRole: physicalID},
			wantNoCalls: []string{"DetachRolePolicy", "DeleteRole"},
		},
		{
			name: "delete with RetainOnDelete keeps even its own roles", file: "delete.json",
			props: map[string]any{"Partition": "aws", "RetainOnDelete": "true"}, id: physicalID,
			roles:       map[string]*role{appstreamRole: ours(appstreamPolicy)},
			wantRoles:   map[string]string{appstreamRole: physicalID},
			wantNoCalls: []string{"GetRole", "DeleteRole"},
		},
		{
			name: "delete of a role that vanishes midway succeeds", file: "delete.json", props: awsProps, id: physicalID,
			roles:     map[string]*role{scalingRole: ours(scalingPolicy)},
			errs:      map[string][]error{"ListAttachedRolePolicies": {apiError("NoSuchEntity")}},
			wantRoles: map[string]string{scalingRole: physicalID},
		},
		{
			name: "delete reports a role IAM will not delete", file: "delete.json", props: awsProps, id: physicalID,
			roles: map[string]*role{appstreamRole: ours(appstreamPolicy)}, errs: map[string][]error{"DeleteRole": {apiError("DeleteConflict")}},
			wantErr: []string{"DeleteRole"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN the fake account's roles and the case's event, handled through cfnresponse
			a := &account{roles: tt.roles, errs: tt.errs, raceCreate: tt.race, lostAnswer: tt.lost}
			res := a.resource()
			res.UndoTimeout = tt.undo
			h := cfnresponse.Handler(res, &cfnresponse.Options{Margin: -1, DefaultTimeout: tt.timeout, Logger: slog.New(slog.NewJSONHandler(&bytes.Buffer{}, nil))})

			// WHEN the event is handled
			start := time.Now()
			resp, err := h(context.Background(), event(t, tt.file, tt.props, tt.id))
			elapsed := time.Since(start)

			// THEN the outcome and the roles left are as expected, owned as expected
			if tt.within > 0 && elapsed >= tt.within {
				t.Errorf("returned after %v, want under %v", elapsed, tt.within)
			}
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("err = nil, want one mentioning %q", tt.wantErr)
				}
				for _, want := range tt.wantErr {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("err = %v\nwant it to mention %q", err, want)
					}
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("err spans lines: %q", err)
				}
			} else if err != nil {
				t.Fatalf("err = %v", err)
			}
			if tt.wantErr != nil && tt.wantRoles == nil {
				return
			}
			if len(a.roles) != len(tt.wantRoles) {
				t.Errorf("roles left: %v, want %v", keys(a.roles), tt.wantRoles)
			}
			for name, wantOwner := range tt.wantRoles {
				r, ok := a.roles[name]
				switch {
				case !ok:
					t.Errorf("role %s is missing", name)
				case wantOwner == "-" && r.owner != "":
					t.Errorf("role %s got tagged %q, want it untouched", name, r.owner)
				case wantOwner == "*" && r.owner != resp.PhysicalResourceId:
					t.Errorf("role %s owner %q, want the physical id %q", name, r.owner, resp.PhysicalResourceId)
				case wantOwner != "-" && wantOwner != "*" && r.owner != wantOwner:
					t.Errorf("role %s owner %q, want %q", name, r.owner, wantOwner)
				}
				if ok && r.owner != "" && tt.file != "delete.json" && tt.wantErr == nil {
					if r.path != "/service-role/" || (r.trust != "" && !strings.Contains(r.trust, `"sts:AssumeRole"`)) {
						t.Errorf("role %s path %q trust %s", name, r.path, r.trust)
					}
					if len(r.attached) != 1 {
						t.Errorf("role %s has policies %v, want exactly its managed policy", name, r.attached)
					}
				}
			}
			for op, n := range tt.wantCalls {
				if a.calls[op] != n {
					t.Errorf("%s was called %d times, want %d", op, a.calls[op], n)
				}
			}
			for _, op := range tt.wantNoCalls {
				if a.calls[op] != 0 {
					t.Errorf("%s was called %d times", op, a.calls[op])
				}
			}
			if tt.wantErr != nil {
				return
			}
			for name, policy := range tt.wantPolicy {
				if r := a.roles[name]; r == nil || !slices.Contains(r.attached, policy) {
					t.Errorf("role %s lacks %s", name, policy)
				}
			}
			if tt.file != "delete.json" && resp.Data[main.AttrCreatedRoles] != tt.wantCreated {
				t.Errorf("CreatedRoles = %v, want %q", resp.Data[main.AttrCreatedRoles], tt.wantCreated)
			}
			if tt.file == "update.json" && resp.PhysicalResourceId != tt.id {
				t.Errorf("update changed the physical id to %q", resp.PhysicalResourceId)
			}
		})
	}
}

func keys(m map[string]*role) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
