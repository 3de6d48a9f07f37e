package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/securestacks/securestacks/internal/iampolicy"
)

// The rules come from AWS's Service Authorization Reference,
// https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html,
// and these service pages of it:
//   - AppStream 2.0 (DescribeFleets has no resource types):
//     https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonappstream2.0.html
//   - CloudWatch Logs (log-group, log-stream):
//     https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatchlogs.html
//     with the ":*" form of
//     https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/iam-access-control-overview-cwl.html
//   - KMS (kms:EncryptionContext:${EncryptionContextKey} on cryptographic operations only):
//     https://docs.aws.amazon.com/service-authorization/latest/reference/list_awskeymanagementservice.html
//   - S3, SQS, SNS, Lambda, STS, IAM, EC2, X-Ray, SSM for the correct policy.
//
// Global condition keys:
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html;
// operators and their key types:
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
// and set operators:
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html

const fixture = "testdata/mistakes.template.json"

func dataDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join("..", "..", "..", iampolicy.DataDir)
	if _, err := os.Stat(filepath.Join(dir, "data", "services.json")); err != nil {
		t.Fatalf("iam-data not installed (%v): run make deps first", err)
	}
	return dir
}

func writeAllowlist(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "allow.json")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestEveryCheckFiresOnItsMistake(t *testing.T) {
	// GIVEN the fixture: correct policies of every kind (identity, trust,
	// key, topic, Lambda permission) and one resource per mistake; a Ref or
	// Fn::GetAtt of a resource the template declares takes its type's form
	// (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-sqs-queue.html#aws-resource-sqs-queue-return-values:
	// a queue's Ref is its URL)
	var out, errOut strings.Builder
	// WHEN the gate runs over it with an empty allowlist
	code := run([]string{"-data", dataDir(t), "-allowlist", writeAllowlist(t, "[]"), fixture}, &out, &errOut)
	// THEN it fails, with exactly one line per mistake, naming the template,
	// logical id, statement, action and check
	if code != 1 {
		t.Fatalf("exit %d, want 1; stderr %s", code, errOut.String())
	}
	want := []struct{ line, detail string }{
		{"UnknownAction Typo s3:GetObjekt: action:", "s3 has no action GetObjekt"},
		{"UnknownWildcardAction #0 s3:Fly*: action:", "the wildcard matches no s3 action"},
		{"UnknownService #0 nosuchservice:Do: action:", `no service has the prefix "nosuchservice"`},
		{"NoResourceLevelPermissions StartStopThisFleet appstream:DescribeFleets: resource:", `supports no resource-level permissions: Resource must be "*", got arn:${AWS::Partition}:appstream:${AWS::Region}:${AWS::AccountId}:fleet/${Fleet}`},
		{"WrongArnForm BareLogGroupArn logs:CreateLogGroup: resource:", "log-group:${LogGroupName}:*): got"},
		{"ObjectActionOnBucketArn NoSlashStar s3:GetObject: resource:", "object arn:${Partition}:s3:::${BucketName}/${ObjectName}): got ${Bucket.Arn}"},
		{"QueueUrlAsResource RefIsTheUrl sqs:SendMessage: resource:", "got ${Queue}"},
		{"TrustTypo/AssumeRolePolicyDocument #0 sts:AssumeRol: action:", "sts has no action AssumeRol"},
		{"DeadResource QueueArnInBucketPolicy -: resource:", "Resource arn:aws:sqs:eu-west-1:123456789012:queue matches a resource type of none"},
		{"KeyNotInRequestContext CloudTrailDescribe kms:DescribeKey: condition-key:", "kms:EncryptionContext:aws:cloudtrail:arn is not in the request context of kms:DescribeKey"},
		{"UnknownConditionKey Typo -: condition-key:", "aws:SourceArnn is not a global condition key and no service defines it"},
		{"OperatorMismatch NumericOnArn -: condition-operator:", "NumericEquals does not fit aws:SourceArn, of type ARN"},
		{"OperatorMismatch StringOnBool -: condition-operator:", "StringEquals does not fit aws:SecureTransport, of type Bool: Bool keys take Bool operators"},
		{"OperatorMismatch NoSetOperator -: condition-operator:", "aws:TagKeys, a multivalued ArrayOfString key, needs ForAllValues: or ForAnyValue:"},
		{"OperatorMismatch SetOnSingleValued -: condition-operator:", "set operators are for multivalued keys"},
		{"OperatorMismatch UnknownOperator -: condition-operator:", "unknown condition operator StringEqualz"},
	}
	var fails []string
	for _, l := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(l, "FAIL ") {
			fails = append(fails, l)
		}
	}
	for _, w := range want {
		i := slices.IndexFunc(fails, func(l string) bool {
			return strings.HasPrefix(l, "FAIL mistakes.template.json "+w.line) && strings.Contains(l, w.detail)
		})
		if i < 0 {
			t.Errorf("no finding %q ... %q in:\n%s", w.line, w.detail, out.String())
		}
	}
	// AND the correct policies pass: no finding names them
	for _, l := range fails {
		if strings.HasPrefix(l, "FAIL mistakes.template.json Correct") {
			t.Errorf("a correct policy fails: %s", l)
		}
	}
	if len(fails) != len(want) {
		t.Errorf("%d findings, want %d:\n%s", len(fails), len(want), out.String())
	}
	if !strings.Contains(out.String(), "1 templates, 19 documents, 16 findings, 0 allowlisted, 16 not allowed") {
		t.Errorf("summary line: %s", out.String())
	}
}

func TestAllowlist(t *testing.T) {
	everything := `[
	  {"check":"action","logicalId":"UnknownAction","action":"s3:GetObjekt","reason":"fixture: a reviewed typo kept on purpose"},
	  {"check":"action","template":"mistakes.*","logicalId":"UnknownWildcardAction","action":"s3:Fly*","reason":"fixture: a reviewed wildcard kept on purpose"},
	  {"check":"action","logicalId":"UnknownService","action":"nosuchservice:Do","reason":"fixture: a service that does not exist"},
	  {"check":"resource","logicalId":"NoResourceLevelPermissions","action":"appstream:DescribeFleets","reason":"fixture: no resource-level permissions"},
	  {"check":"resource","logicalId":"WrongArnForm","action":"logs:CreateLogGroup","reason":"fixture: the bare log-group ARN form"},
	  {"check":"resource","logicalId":"DeadResource","action":"","reason":"fixture: a queue ARN in a bucket policy"},
	  {"check":"condition-key","logicalId":"KeyNotInRequestContext","action":"kms:DescribeKey","reason":"fixture: encryption context on DescribeKey"},
	  {"check":"condition-key","logicalId":"UnknownConditionKey","action":"","reason":"fixture: a misspelt global key"},
	  {"check":"action","logicalId":"TrustTypo","action":"sts:AssumeRol","reason":"fixture: a misspelt trust-policy action"},
	  {"check":"resource","logicalId":"ObjectActionOnBucketArn","action":"s3:GetObject","reason":"fixture: objects named by the bucket's ARN"},
	  {"check":"resource","logicalId":"QueueUrlAsResource","action":"sqs:SendMessage","reason":"fixture: a queue's URL is not its ARN"},
	  {"check":"condition-operator","logicalId":"OperatorMismatch","action":"","reason":"fixture: every operator mistake of one policy"}
	]`
	cases := []struct {
		name      string
		allowlist string
		wantCode  int
		wantOut   string
		wantErr   string
	}{
		{"every finding allowlisted passes", everything, 0, "16 findings, 16 allowlisted, 0 not allowed, 0 stale", ""},
		{"an entry for another template does not apply", strings.Replace(everything, `"mistakes.*"`, `"*-DevSecOps.template.json"`, 1), 1,
			"FAIL mistakes.template.json UnknownWildcardAction #0 s3:Fly*", ""},
		{"a stale entry fails", strings.Replace(everything, `[`, `[{"check":"action","logicalId":"Gone","action":"s3:GetObject","reason":"fixture: matches nothing any more"},`, 1), 1,
			"STALE", ""},
		{"an entry needs a reason", `[{"check":"action","logicalId":"UnknownAction","action":"s3:GetObjekt","reason":"short"}]`, 2,
			"", "entry 0: expected check, logicalId and a reason of at least 20 characters"},
		{"unknown fields are refused", `[{"rule":"x","logicalId":"UnknownAction","reason":"fixture: the guard allowlist's shape"}]`, 2,
			"", `unknown field "rule"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// GIVEN the fixture and an allowlist
			var out, errOut strings.Builder
			// WHEN the gate runs
			code := run([]string{"-data", dataDir(t), "-allowlist", writeAllowlist(t, tc.allowlist), fixture}, &out, &errOut)
			// THEN the exit code and output are the case's
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d; stdout %s stderr %s", code, tc.wantCode, out.String(), errOut.String())
			}
			if !strings.Contains(out.String(), tc.wantOut) || !strings.Contains(errOut.String(), tc.wantErr) {
				t.Errorf("stdout %q\nstderr %q", out.String(), errOut.String())
			}
			if tc.wantErr != "" && strings.Count(errOut.String(), "\n") != 1 {
				t.Errorf("want one line on stderr, got %q", errOut.String())
			}
		})
	}
}

func TestUsage(t *testing.T) {
	// GIVEN no templates WHEN the gate runs THEN it prints its usage on one line
	var out, errOut strings.Builder
	if code := run([]string{"-data", "x", "-allowlist", "y"}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "expected -data DIR -allowlist FILE TEMPLATE...") {
		t.Fatalf("exit %d, stderr %q", code, errOut.String())
	}
}
