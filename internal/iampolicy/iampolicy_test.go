package iampolicy_test

import (
	"testing"

	"github.com/securestacks/securestacks/internal/iampolicy"
)

func TestOverlap(t *testing.T) {
	cases := []struct {
		policy, format string
		want           bool
	}{
		{"arn:aws:s3:::bucket/*", "arn:${Partition}:s3:::${BucketName}/${ObjectName}", true},
		{"arn:aws:s3:::bucket", "arn:${Partition}:s3:::${BucketName}/${ObjectName}", false},
		{"arn:aws:s3:::bucket", "arn:${Partition}:s3:::${BucketName}", true},
		{"arn:aws:s3:::bucket/*", "arn:${Partition}:s3:::${BucketName}", false},
		{"arn:aws:s3:::*", "arn:${Partition}:s3:::${BucketName}/${ObjectName}", true},
		{"arn:aws:s3:::bucket/a:b", "arn:${Partition}:s3:::${BucketName}/${ObjectName}", false},
		// A variable is one segment: a log stream is no log group, a qualified
		// function ARN is not the function's.
		{"arn:aws:logs:eu-west-1:123456789012:log-group:g:log-stream:s", "arn:${Partition}:logs:${Region}:${Account}:log-group:${LogGroupName}", false},
		{"arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/fn", "arn:${Partition}:logs:${Region}:${Account}:log-group:${LogGroupName}", true},
		{"arn:aws:lambda:eu-west-1:123456789012:function:fn:*", "arn:${Partition}:lambda:${Region}:${Account}:function:${FunctionName}", false},
		{"arn:aws:lambda:eu-west-1:123456789012:function:fn:*", "arn:${Partition}:lambda:${Region}:${Account}:function:${FunctionName}:${Qualifier}", true},
		{"arn:aws:logs:eu-west-1:123456789012:log-group:g", "arn:${Partition}:logs:${Region}:${Account}:log-group:${LogGroupName}:log-stream:${LogStreamName}", false},
		{"arn:aws:iam::*:role/a?c", "arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}", true},
		{"arn:aws:iam::123456789012:role/x", "arn:${Partition}:sts::${Account}:assumed-role/${RoleName}/${RoleSessionName}", false},
		// A regional service's ARN needs a region.
		{"arn:aws:sqs:::q", "arn:${Partition}:sqs:${Region}:${Account}:${QueueName}", false},
		{"arn:aws:iam::${aws:PrincipalAccount}:role/x", "arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}", true},
	}
	for _, c := range cases {
		if got := iampolicy.Overlap(iampolicy.PolicyPattern(c.policy), iampolicy.FormatPattern(c.format)); got != c.want {
			t.Errorf("Overlap(%s, %s) = %v, want %v", c.policy, c.format, got, c.want)
		}
	}
}

func TestResolveTurnsTokensIntoWildcards(t *testing.T) {
	format := iampolicy.FormatPattern("arn:${Partition}:logs:${Region}:${Account}:log-group:${LogGroupName}")
	cases := []struct {
		name     string
		value    any
		wantText string
		want     bool
	}{
		{"pseudo parameters are one segment each", map[string]any{"Fn::Join": []any{"", []any{"arn:", map[string]any{"Ref": "AWS::Partition"}, ":logs:", map[string]any{"Ref": "AWS::Region"}, ":", map[string]any{"Ref": "AWS::AccountId"}, ":log-group:g"}}},
			"arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:g", true},
		{"a pseudo parameter never spans segments", map[string]any{"Fn::Sub": "arn:aws:logs:${AWS::Region}:log-group:g"},
			"arn:aws:logs:${AWS::Region}:log-group:g", false},
		{"a GetAtt may be a whole ARN", map[string]any{"Fn::Sub": []any{"${Arn}", map[string]any{"Arn": map[string]any{"Fn::GetAtt": []any{"G", "Arn"}}}}},
			"${G.Arn}", true},
		{"Sub's ${!Literal} is a policy variable", map[string]any{"Fn::Sub": "arn:aws:logs:eu-west-1:123456789012:log-group:${!aws:username}"},
			"arn:aws:logs:eu-west-1:123456789012:log-group:${aws:username}", true},
		{"Fn::ImportValue", map[string]any{"Fn::ImportValue": "x"}, "${Fn::ImportValue}", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			vals, ok := iampolicy.Resolve(c.value)
			if !ok || len(vals) != 1 {
				t.Fatalf("Resolve = %v, %v", vals, ok)
			}
			if vals[0].Text != c.wantText {
				t.Errorf("Text = %s, want %s", vals[0].Text, c.wantText)
			}
			if got := iampolicy.Overlap(vals[0].Pattern, format); got != c.want {
				t.Errorf("matches the log-group format = %v, want %v", got, c.want)
			}
		})
	}
	// Fn::If yields both branches.
	if vals, _ := iampolicy.Resolve(map[string]any{"Fn::If": []any{"C", "a", map[string]any{"Ref": "AWS::NoValue"}}}); len(vals) != 1 || vals[0].Text != "a" {
		t.Errorf("Fn::If = %v", vals)
	}
}

func TestReference(t *testing.T) {
	ref, err := iampolicy.LoadNearest()
	if err != nil {
		t.Fatal(err)
	}
	// Global keys come from the package's table
	// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html).
	for key, want := range map[string]string{"aws:SourceArn": "ARN", "aws:PrincipalTag/team": "String", "aws:TagKeys": "ArrayOfString", "aws:SecureTransport": "Bool"} {
		def, global, err := ref.ConditionKey(key)
		if err != nil || def == nil || !global || def.Type != want {
			t.Errorf("ConditionKey(%s) = %+v, %v, %v; want a global %s key", key, def, global, err, want)
		}
	}
	// Service keys with a variable, and keys of identity providers that STS owns.
	for key, want := range map[string]string{
		"kms:EncryptionContext:aws:cloudtrail:arn": "kms:EncryptionContext:${EncryptionContextKey}",
		"s3:ExistingObjectTag/team":                "s3:ExistingObjectTag/<key>",
		"cognito-identity.amazonaws.com:aud":       "cognito-identity.amazonaws.com:aud",
	} {
		def, global, err := ref.ConditionKey(key)
		if err != nil || def == nil || global || def.Key != want {
			t.Errorf("ConditionKey(%s) = %+v, %v, %v; want %s", key, def, global, err, want)
		}
	}
	// CloudWatch Logs authorizes log-group actions on NAME:*, tagging on the bare ARN.
	logs, err := ref.Service("logs")
	if err != nil || logs == nil {
		t.Fatal(err)
	}
	bare, _ := iampolicy.Resolve("arn:aws:logs:eu-west-1:123456789012:log-group:g")
	star, _ := iampolicy.Resolve("arn:aws:logs:eu-west-1:123456789012:log-group:g:*")
	for action, want := range map[string][2]bool{"CreateLogGroup": {false, true}, "TagResource": {true, false}} {
		a := logs.MatchActions(action)[0]
		if got := [2]bool{logs.AcceptsResource(a, bare[0]), logs.AcceptsResource(a, star[0])}; got != want {
			t.Errorf("%s accepts bare, :* = %v, want %v", action, got, want)
		}
	}
	// Lambda authorizes a function by its ARN or a qualified one.
	lambda, _ := ref.Service("lambda")
	invoke := lambda.MatchActions("InvokeFunction")[0]
	for _, arn := range []string{"arn:aws:lambda:eu-west-1:123456789012:function:fn", "arn:aws:lambda:eu-west-1:123456789012:function:fn:live"} {
		if v, _ := iampolicy.Resolve(arn); !lambda.AcceptsResource(invoke, v[0]) {
			t.Errorf("lambda:InvokeFunction refuses %s", arn)
		}
	}
	if got := len(logs.MatchActions("Describe*")); got < 10 {
		t.Errorf("logs:Describe* matches %d actions", got)
	}
	if s, err := ref.Service("nosuchservice"); s != nil || err != nil {
		t.Errorf("Service(nosuchservice) = %v, %v", s, err)
	}
}
