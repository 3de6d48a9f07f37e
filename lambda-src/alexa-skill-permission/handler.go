package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"

	"github.com/securestacks/securestacks/lambda-src/internal/cfnresponse"
	"github.com/securestacks/securestacks/lambda-src/internal/logging"
)

// AlexaPrincipal is the service principal Alexa invokes skill endpoints as.
const AlexaPrincipal = "alexa-appkit.amazon.com"

// invokeAction is the only action a skill permission grants.
const invokeAction = "lambda:InvokeFunction"

// StatementIdPrefix starts every statement id this resource manages.
const StatementIdPrefix = "AlexaSkill-"

// StatementId is the deterministic statement id of the permission scoped to skillId:
// StatementIdPrefix plus the first 32 hex digits of sha256(skillId). A hash, because skill ids
// contain dots, which statement ids may not; the same skill always gets the same id, so a
// retried Create finds its own statement instead of adding a second one.
func StatementId(skillId string) string {
	sum := sha256.Sum256([]byte(skillId))
	return StatementIdPrefix + hex.EncodeToString(sum[:16])
}

// The narrow SDK interfaces the handler needs, one per operation, so a fake implements only
// what a test exercises.
type (
	// GetPolicyAPI reads a function's resource-based policy.
	GetPolicyAPI interface {
		GetPolicy(ctx context.Context, in *lambda.GetPolicyInput, optFns ...func(*lambda.Options)) (*lambda.GetPolicyOutput, error)
	}
	// AddPermissionAPI adds one statement to a function's resource-based policy.
	AddPermissionAPI interface {
		AddPermission(ctx context.Context, in *lambda.AddPermissionInput, optFns ...func(*lambda.Options)) (*lambda.AddPermissionOutput, error)
	}
	// RemovePermissionAPI removes one statement from a function's resource-based policy.
	RemovePermissionAPI interface {
		RemovePermission(ctx context.Context, in *lambda.RemovePermissionInput, optFns ...func(*lambda.Options)) (*lambda.RemovePermissionOutput, error)
	}
	// PutParameterAPI writes the skill-id parameter.
	PutParameterAPI interface {
		PutParameter(ctx context.Context, in *ssm.PutParameterInput, optFns ...func(*ssm.Options)) (*ssm.PutParameterOutput, error)
	}
	// DeleteParameterAPI deletes the skill-id parameter.
	DeleteParameterAPI interface {
		DeleteParameter(ctx context.Context, in *ssm.DeleteParameterInput, optFns ...func(*ssm.Options)) (*ssm.DeleteParameterOutput, error)
	}
)

var (
	_ GetPolicyAPI        = (*lambda.Client)(nil)
	_ AddPermissionAPI    = (*lambda.Client)(nil)
	_ RemovePermissionAPI = (*lambda.Client)(nil)
	_ PutParameterAPI     = (*ssm.Client)(nil)
	_ DeleteParameterAPI  = (*ssm.Client)(nil)
)

// Properties are the custom resource's properties, as the Skill construct sets them.
type Properties struct {
	// FunctionArn is the unqualified ARN of the skill's endpoint function.
	FunctionArn string
	// SkillId is the id of the skill that alone may invoke the function.
	SkillId string
	// SkillIdParameterName is the SSM parameter this resource owns and writes SkillId to.
	SkillIdParameterName string
	// UnscopedPermission is the Ref of the construct's unscoped AWS::Lambda::Permission. The
	// handler does not need its value: it is a property so that a replaced permission (a new
	// unscoped statement) triggers an Update, which removes that statement again.
	UnscopedPermission string
}

var (
	functionArnRe = regexp.MustCompile(`^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]{1,64}$`)
	skillIdRe     = regexp.MustCompile(`^amzn1\.[A-Za-z0-9._-]{1,200}$`)
	parameterRe   = regexp.MustCompile(`^/[A-Za-z0-9_.\-/]{1,1000}$`)
)

func (p Properties) validate(which string) error {
	switch {
	case !functionArnRe.MatchString(p.FunctionArn):
		return fmt.Errorf("%s property FunctionArn: expected an unqualified Lambda function ARN (arn:<partition>:lambda:<region>:<account>:function:<name>), got %q", which, p.FunctionArn)
	case !skillIdRe.MatchString(p.SkillId):
		return fmt.Errorf("%s property SkillId: expected an Alexa skill id such as amzn1.ask.skill.<uuid>, got %q", which, p.SkillId)
	case !parameterRe.MatchString(p.SkillIdParameterName):
		return fmt.Errorf("%s property SkillIdParameterName: expected an SSM parameter path starting with /, got %q", which, p.SkillIdParameterName)
	}
	return nil
}

// Permission is the custom resource that replaces the unscoped Alexa permission on a skill's
// endpoint function with one scoped by EventSourceToken = skill id, and records the skill id
// in an SSM parameter for the backend's own check.
//
// Every step is idempotent: a statement that is already as wanted is left alone, and a
// statement or parameter that is already gone counts as removed.
type Permission struct {
	GetPolicy        GetPolicyAPI
	AddPermission    AddPermissionAPI
	RemovePermission RemovePermissionAPI
	PutParameter     PutParameterAPI
	DeleteParameter  DeleteParameterAPI
	// Logger receives one line per change made. Default slog.Default().
	Logger *slog.Logger
}

var _ cfnresponse.Resource = (*Permission)(nil)

// Create scopes the permission, removes the unscoped statement and writes the parameter. The
// physical id is left to cfnresponse (stable per stack and logical id), so Updates never
// replace the resource and Delete only ever comes at its real end.
func (p *Permission) Create(ctx context.Context, e cfnresponse.Event) (cfnresponse.Response, error) {
	props, err := decode(e.ResourceProperties, "new")
	if err != nil {
		return cfnresponse.Response{}, err
	}
	added, err := p.apply(ctx, props)
	if err != nil {
		// The provider framework answers the rollback Delete of a failed Create itself, without
		// calling us: take back the statement this Create added, or it would outlive the skill.
		if added {
			if uerr := p.removeStatement(ctx, props.FunctionArn, StatementId(props.SkillId)); uerr != nil {
				p.logger(ctx).WarnContext(ctx, "could not take back the scoped statement of the failed Create",
					slog.String("function_arn", props.FunctionArn), slog.String("error", uerr.Error()))
			}
		}
		return cfnresponse.Response{}, err
	}
	return response(props), nil
}

// Update brings the new function and skill to the wanted state first, so Alexa is never
// without a permission, then removes the scoped statement of the old function or skill when
// either changed.
func (p *Permission) Update(ctx context.Context, e cfnresponse.Event) (cfnresponse.Response, error) {
	props, err := decode(e.ResourceProperties, "new")
	if err != nil {
		return cfnresponse.Response{}, err
	}
	old, err := decode(e.OldResourceProperties, "old")
	if err != nil {
		return cfnresponse.Response{}, err
	}
	if _, err := p.apply(ctx, props); err != nil {
		return cfnresponse.Response{}, err
	}
	oldSid := StatementId(old.SkillId)
	if old.FunctionArn != props.FunctionArn || oldSid != StatementId(props.SkillId) {
		if err := p.removeOld(ctx, old.FunctionArn, props.FunctionArn, oldSid); err != nil {
			return cfnresponse.Response{}, err
		}
	}
	if old.SkillIdParameterName != props.SkillIdParameterName {
		// The construct derives the name from the stack name and the construct path, which an
		// update cannot change; and the role may delete only the current parameter. So this is
		// best effort, for templates edited by hand.
		if err := p.deleteParameter(ctx, old.SkillIdParameterName); err != nil {
			if !isAccessDenied(err) {
				return cfnresponse.Response{}, err
			}
			p.logger(ctx).WarnContext(ctx, "left the previous skill-id parameter in place: this resource may delete the current parameter only",
				slog.String("parameter", old.SkillIdParameterName))
		}
	}
	return response(props), nil
}

// Delete removes the scoped statement and the parameter. The unscoped permission belongs to
// CloudFormation, which deletes it after this resource.
func (p *Permission) Delete(ctx context.Context, e cfnresponse.Event) (cfnresponse.Response, error) {
	props, err := decode(e.ResourceProperties, "new")
	if err != nil {
		return cfnresponse.Response{}, err
	}
	if err := p.removeStatement(ctx, props.FunctionArn, StatementId(props.SkillId)); err != nil {
		return cfnresponse.Response{}, err
	}
	if err := p.deleteParameter(ctx, props.SkillIdParameterName); err != nil {
		return cfnresponse.Response{}, err
	}
	return cfnresponse.Response{}, nil
}

func decode(raw map[string]any, which string) (Properties, error) {
	var props Properties
	if err := cfnresponse.Decode(raw, &props); err != nil {
		return Properties{}, fmt.Errorf("%s properties: %w", which, err)
	}
	if err := props.validate(which); err != nil {
		return Properties{}, err
	}
	return props, nil
}

func response(props Properties) cfnresponse.Response {
	return cfnresponse.Response{Data: map[string]any{"StatementId": StatementId(props.SkillId)}}
}

// apply makes the function's policy hold exactly one Alexa statement for props.SkillId and no
// unscoped Alexa statement, then writes the parameter. added reports whether it added the
// scoped statement, even when a later step failed.
func (p *Permission) apply(ctx context.Context, props Properties) (added bool, err error) {
	sid := StatementId(props.SkillId)
	statements, err := p.statements(ctx, props.FunctionArn)
	if err != nil {
		return false, err
	}
	present := false
	for _, s := range statements {
		if s.Sid != sid {
			continue
		}
		if s.grantsOnlySkill(props.SkillId) {
			present = true
			continue
		}
		// Our id but other content (edited by hand): replace it rather than trust it.
		if err := p.removeStatement(ctx, props.FunctionArn, sid); err != nil {
			return false, err
		}
	}
	if !present {
		if err := p.addScoped(ctx, props.FunctionArn, props.SkillId, sid); err != nil {
			return false, err
		}
		added = true
	}
	// Only now, with the scoped statement in place, remove what let any skill in.
	for _, s := range statements {
		if s.Sid != sid && s.isUnscopedAlexa() {
			if err := p.removeStatement(ctx, props.FunctionArn, s.Sid); err != nil {
				return added, err
			}
			p.logger(ctx).InfoContext(ctx, "removed unscoped Alexa statement",
				slog.String("function_arn", props.FunctionArn), slog.String("statement_id", s.Sid))
		}
	}
	_, err = p.PutParameter.PutParameter(ctx, &ssm.PutParameterInput{
		Name:        aws.String(props.SkillIdParameterName),
		Value:       aws.String(props.SkillId),
		Type:        ssmtypes.ParameterTypeString,
		Overwrite:   aws.Bool(true),
		Description: aws.String("Alexa skill id that the skill backend accepts; written by the skill's permission custom resource"),
	})
	if err != nil {
		return added, fmt.Errorf("writing skill id to parameter %s: %w", props.SkillIdParameterName, err)
	}
	return added, nil
}

func (p *Permission) addScoped(ctx context.Context, functionArn, skillId, sid string) error {
	_, err := p.AddPermission.AddPermission(ctx, &lambda.AddPermissionInput{
		FunctionName:     aws.String(functionArn),
		StatementId:      aws.String(sid),
		Action:           aws.String(invokeAction),
		Principal:        aws.String(AlexaPrincipal),
		EventSourceToken: aws.String(skillId),
	})
	if conflict, ok := errors.AsType[*lambdatypes.ResourceConflictException](err); ok {
		// Someone added the same id between our read and our write: accept it if it is ours.
		statements, rerr := p.statements(ctx, functionArn)
		if rerr != nil {
			return rerr
		}
		for _, s := range statements {
			if s.Sid == sid && s.grantsOnlySkill(skillId) {
				return nil
			}
		}
		return fmt.Errorf("adding statement %s to %s: %w", sid, functionArn, conflict)
	}
	if err != nil {
		return fmt.Errorf("adding statement %s to %s: %w", sid, functionArn, err)
	}
	p.logger(ctx).InfoContext(ctx, "added scoped Alexa statement",
		slog.String("function_arn", functionArn), slog.String("statement_id", sid), slog.String("skill_id", skillId))
	return nil
}

// removeOld removes the scoped statement of the previous function or skill. This function's
// role may act on the current function only, so when the function itself changed and the old
// one refuses access, the old statement is left (it still names only the old skill) and a
// warning says so. A function replaced inside the stack is deleted by CloudFormation, policy
// and all, so in the usual case nothing is left behind.
func (p *Permission) removeOld(ctx context.Context, oldArn, newArn, sid string) error {
	err := p.removeStatement(ctx, oldArn, sid)
	if err == nil {
		return nil
	}
	if oldArn != newArn && isAccessDenied(err) {
		p.logger(ctx).WarnContext(ctx, "left the previous function's scoped statement in place: this resource may change the current function's policy only",
			slog.String("function_arn", oldArn), slog.String("statement_id", sid))
		return nil
	}
	return err
}

// removeStatement removes one statement; a missing statement or function is success.
func (p *Permission) removeStatement(ctx context.Context, functionArn, sid string) error {
	_, err := p.RemovePermission.RemovePermission(ctx, &lambda.RemovePermissionInput{
		FunctionName: aws.String(functionArn),
		StatementId:  aws.String(sid),
	})
	if _, ok := errors.AsType[*lambdatypes.ResourceNotFoundException](err); ok {
		return nil
	}
	if err != nil {
		return fmt.Errorf("removing statement %s from %s: %w", sid, functionArn, err)
	}
	return nil
}

func (p *Permission) deleteParameter(ctx context.Context, name string) error {
	_, err := p.DeleteParameter.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String(name)})
	if _, ok := errors.AsType[*ssmtypes.ParameterNotFound](err); ok {
		return nil
	}
	if err != nil {
		return fmt.Errorf("deleting parameter %s: %w", name, err)
	}
	return nil
}

// statements returns the function's policy statements; a function without a policy has none.
func (p *Permission) statements(ctx context.Context, functionArn string) ([]Statement, error) {
	out, err := p.GetPolicy.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String(functionArn)})
	if _, ok := errors.AsType[*lambdatypes.ResourceNotFoundException](err); ok {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the policy of %s: %w", functionArn, err)
	}
	statements, err := ParsePolicy(aws.ToString(out.Policy))
	if err != nil {
		return nil, fmt.Errorf("reading the policy of %s: %w", functionArn, err)
	}
	return statements, nil
}

func (p *Permission) logger(ctx context.Context) *slog.Logger {
	l := p.Logger
	if l == nil {
		l = slog.Default()
	}
	return logging.WithRequest(ctx, l)
}

func isAccessDenied(err error) bool {
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && strings.Contains(apiErr.ErrorCode(), "AccessDenied")
}
