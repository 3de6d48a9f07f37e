package iampolicy

import (
	"fmt"
	"regexp"
	"strings"
)

// Value is one possible value of a policy string whose CloudFormation
// intrinsics are unresolved: Text shows it with its tokens as ${...}, and
// Pattern matches what it may resolve to.
type Value struct {
	Text    string
	Pattern Pattern
}

// maxAlternatives bounds the Fn::If combinations of one value.
const maxAlternatives = 16

// pseudoSegments are the pseudo parameters that resolve to one ARN segment.
var pseudoSegments = map[string]bool{
	"AWS::Partition": true, "AWS::Region": true, "AWS::AccountId": true, "AWS::URLSuffix": true,
}

// Resolver resolves the intrinsics of one template.
type Resolver struct {
	// Types maps the template's logical ids to their resource types, so a
	// Ref or Fn::GetAtt of a known type takes that type's form.
	Types map[string]string
}

// Resolve resolves v with no knowledge of the template's resources.
func Resolve(v any) ([]Value, bool) { return Resolver{}.Resolve(v) }

// Resolve returns the values a policy string may take. A plain string is a
// policy pattern (its * and ? are wildcards). Ref to AWS::Partition, Region,
// AccountId or URLSuffix becomes one wildcard segment. A Ref or Fn::GetAtt
// of a resource whose type is in refForms/attForms takes that form (a
// bucket's Ref is its name, its Arn an S3 bucket ARN); any other Ref,
// Fn::GetAtt, Fn::ImportValue (and every intrinsic not joined) becomes a
// wildcard that may span segments. Fn::Join and Fn::Sub concatenate; Fn::If
// yields both branches. ok is false for a value that is not a string or an
// intrinsic (a malformed policy).
func (r Resolver) Resolve(v any) (values []Value, ok bool) {
	switch x := v.(type) {
	case string:
		return []Value{{Text: x, Pattern: PolicyPattern(x)}}, true
	case map[string]any:
		if len(x) != 1 {
			return nil, false
		}
		for fn, arg := range x {
			return r.resolveIntrinsic(fn, arg), true
		}
	}
	return nil, false
}

func token(text string, p Pattern) []Value { return []Value{{Text: "${" + text + "}", Pattern: p}} }

func (r Resolver) resolveIntrinsic(fn string, arg any) []Value {
	switch fn {
	case "Ref":
		name, _ := arg.(string)
		if pseudoSegments[name] {
			return token(name, segment())
		}
		if name == "AWS::NoValue" {
			return nil
		}
		return token(name, r.form(refForms, name, ""))
	case "Fn::GetAtt":
		parts, _ := arg.([]any)
		var names []string
		for _, p := range parts {
			names = append(names, fmt.Sprint(p))
		}
		if s, ok := arg.(string); ok {
			names = strings.SplitN(s, ".", 2)
		}
		if len(names) != 2 {
			return token(strings.Join(names, "."), anything())
		}
		return token(names[0]+"."+names[1], r.form(attForms, names[0], names[1]))
	case "Fn::Join":
		args, _ := arg.([]any)
		if len(args) != 2 {
			return token(fn, anything())
		}
		sep, _ := args[0].(string)
		parts, ok := args[1].([]any)
		if !ok {
			return token(fn, anything())
		}
		out := []Value{{}}
		for i, part := range parts {
			vals, ok := r.Resolve(part)
			if !ok {
				vals = token("?", anything())
			}
			if i > 0 && sep != "" {
				vals = prefix(sep, vals)
			}
			out = concat(out, vals)
		}
		return out
	case "Fn::Sub":
		tmpl, _ := arg.(string)
		vars := map[string]any{}
		if args, ok := arg.([]any); ok && len(args) == 2 {
			tmpl, _ = args[0].(string)
			vars, _ = args[1].(map[string]any)
		}
		return r.resolveSub(tmpl, vars)
	case "Fn::If":
		args, _ := arg.([]any)
		if len(args) != 3 {
			return token(fn, anything())
		}
		var out []Value
		for _, branch := range args[1:] {
			vals, _ := r.Resolve(branch)
			out = append(out, vals...)
		}
		return out
	}
	return token(fn, anything())
}

var subVariable = regexp.MustCompile(`\$\{([^}]*)\}`)

// resolveSub resolves a Fn::Sub template; ${!Literal} is the literal ${Literal}.
func (r Resolver) resolveSub(tmpl string, vars map[string]any) []Value {
	out := []Value{{}}
	last := 0
	for _, m := range subVariable.FindAllStringSubmatchIndex(tmpl, -1) {
		out = concat(out, []Value{{Text: tmpl[last:m[0]], Pattern: PolicyPattern(tmpl[last:m[0]])}})
		name := tmpl[m[2]:m[3]]
		var vals []Value
		switch {
		case strings.HasPrefix(name, "!"):
			vals = []Value{{Text: "${" + name[1:] + "}", Pattern: anything()}} // an IAM policy variable
		case vars[name] != nil:
			vals, _ = r.Resolve(vars[name])
		case pseudoSegments[name]:
			vals = token(name, segment())
		case strings.Contains(name, "."):
			id, att, _ := strings.Cut(name, ".")
			vals = token(name, r.form(attForms, id, att))
		default:
			vals = token(name, r.form(refForms, name, ""))
		}
		out = concat(out, vals)
		last = m[1]
	}
	return concat(out, []Value{{Text: tmpl[last:], Pattern: PolicyPattern(tmpl[last:])}})
}

func prefix(sep string, vals []Value) []Value {
	out := make([]Value, len(vals))
	for i, v := range vals {
		out[i] = Value{Text: sep + v.Text, Pattern: append(PolicyPattern(sep), v.Pattern...)}
	}
	return out
}

func concat(heads, tails []Value) []Value {
	var out []Value
	for _, h := range heads {
		for _, t := range tails {
			if len(out) == maxAlternatives {
				return out
			}
			p := append(append(Pattern{}, h.Pattern...), t.Pattern...)
			out = append(out, Value{Text: h.Text + t.Text, Pattern: p})
		}
	}
	return out
}

// refForms are the values of Ref for resource types whose Ref is documented
// in https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-template-resource-type-ref.html
// (each type's "Return values"), as ARN formats with ${Variables}.
var refForms = map[string]string{
	"AWS::S3::Bucket":                      "${BucketName}",
	"AWS::SQS::Queue":                      "https://sqs.${Region}.${URLSuffix}/${Account}/${QueueName}",
	"AWS::SNS::Topic":                      "arn:${Partition}:sns:${Region}:${Account}:${TopicName}",
	"AWS::SecretsManager::Secret":          "arn:${Partition}:secretsmanager:${Region}:${Account}:secret:${SecretId}",
	"AWS::Lambda::Function":                "${FunctionName}",
	"AWS::IAM::Role":                       "${RoleName}",
	"AWS::KMS::Key":                        "${KeyId}",
	"AWS::Logs::LogGroup":                  "${LogGroupName}",
	"AWS::DynamoDB::Table":                 "${TableName}",
	"AWS::ACMPCA::CertificateAuthority":    "arn:${Partition}:acm-pca:${Region}:${Account}:certificate-authority/${CertificateAuthorityId}",
	"AWS::StepFunctions::StateMachine":     "arn:${Partition}:states:${Region}:${Account}:stateMachine:${StateMachineName}",
	"AWS::CodeBuild::Project":              "${ProjectName}",
	"AWS::ECR::Repository":                 "${RepositoryName}",
	"AWS::SSM::Parameter":                  "${ParameterName}",
	"AWS::CertificateManager::Certificate": "arn:${Partition}:acm:${Region}:${Account}:certificate/${CertificateId}",
}

// attForms are the Fn::GetAtt values of the same page, keyed by type and attribute.
var attForms = map[string]string{
	"AWS::S3::Bucket Arn":                   "arn:${Partition}:s3:::${BucketName}",
	"AWS::SQS::Queue Arn":                   "arn:${Partition}:sqs:${Region}:${Account}:${QueueName}",
	"AWS::SNS::Topic TopicArn":              "arn:${Partition}:sns:${Region}:${Account}:${TopicName}",
	"AWS::Lambda::Function Arn":             "arn:${Partition}:lambda:${Region}:${Account}:function:${FunctionName}",
	"AWS::IAM::Role Arn":                    "arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}",
	"AWS::KMS::Key Arn":                     "arn:${Partition}:kms:${Region}:${Account}:key/${KeyId}",
	"AWS::Logs::LogGroup Arn":               "arn:${Partition}:logs:${Region}:${Account}:log-group:${LogGroupName}:*",
	"AWS::DynamoDB::Table Arn":              "arn:${Partition}:dynamodb:${Region}:${Account}:table/${TableName}",
	"AWS::CodeBuild::Project Arn":           "arn:${Partition}:codebuild:${Region}:${Account}:project/${ProjectName}",
	"AWS::ECR::Repository Arn":              "arn:${Partition}:ecr:${Region}:${Account}:repository/${RepositoryName}",
	"AWS::CodeCommit::Repository Arn":       "arn:${Partition}:codecommit:${Region}:${Account}:${RepositoryName}",
	"AWS::StepFunctions::StateMachine Arn":  "arn:${Partition}:states:${Region}:${Account}:stateMachine:${StateMachineName}",
	"AWS::CloudTrail::Trail Arn":            "arn:${Partition}:cloudtrail:${Region}:${Account}:trail/${TrailName}",
	"AWS::Events::Rule Arn":                 "arn:${Partition}:events:${Region}:${Account}:rule/${RuleName}",
	"AWS::ACMPCA::CertificateAuthority Arn": "arn:${Partition}:acm-pca:${Region}:${Account}:certificate-authority/${CertificateAuthorityId}",
}

// form returns what a Ref (att "") or Fn::GetAtt of logical id resolves to:
// its type's form, where known, else a wildcard that may span segments.
func (r Resolver) form(forms map[string]string, id, att string) Pattern {
	typ, ok := r.Types[id]
	if !ok {
		return anything()
	}
	key := typ
	if att != "" {
		key += " " + att
	}
	if f, ok := forms[key]; ok {
		return FormatPattern(f)
	}
	return anything()
}
