package devsecops_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/devsecops"
	"github.com/securestacks/securestacks/constructs/internal/policytest"
)

// allowsService returns the Allow statements for service principal svc in the resource
// policies of type typ of tp that grant action.
func allowsService(tp tmpl, typ, svc, action string) []policytest.Statement {
	var raw map[string]any
	_ = json.Unmarshal([]byte(tp.raw), &raw)
	var out []policytest.Statement
	for _, s := range policytest.AllowsService(raw, svc, action) {
		if s.Type == typ {
			out = append(out, s)
		}
	}
	return out
}

func contains(l []string, v string) bool {
	for _, e := range l {
		if e == v {
			return true
		}
	}
	return false
}

// TestServicePrincipals checks that every AWS service that writes into the pipeline's resources
// finds the resource-policy statements its documentation requires.
func TestServicePrincipals(t *testing.T) {
	// GIVEN the GovCloud stack, with every governance resource
	tp := template(t, gov)
	trailArn := `"trail/` + govPipe.TrailName() + `"`

	t.Run("CloudTrail to the key", func(t *testing.T) {
		// https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html
		// "Required KMS key policy elements for trails":
		//   encrypt:  {"Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "kms:GenerateDataKey*",
		//              "Condition": {"StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": "arn:aws:cloudtrail:*:account-id:trail/*"},
		//                            "StringEquals": {"aws:SourceArn": "arn:aws:cloudtrail:region:account-id:trail/trailName"}}}
		//   describe: {"Action": "kms:DescribeKey", "Condition": {"StringEquals": {"aws:SourceArn": <trail>}}}
		//   decrypt:  "If you are using an existing S3 bucket with an S3 Bucket Key, kms:Decrypt
		//              permissions are required to create or update a trail with SSE-KMS encryption
		//              enabled" ("Allow CloudTrail to decrypt a trail": kms:Decrypt for the service).
		// "As a security best practice, add an aws:SourceArn condition key to the KMS key policy."
		// DescribeKey carries no encryption context, so a context condition on it never matches.
		for _, action := range []string{"kms:GenerateDataKey*", "kms:DescribeKey", "kms:Decrypt"} {
			sts := allowsService(tp, "AWS::KMS::Key", "cloudtrail.amazonaws.com", action)
			if len(sts) != 1 {
				t.Fatalf("%d statements allow CloudTrail %s", len(sts), action)
			}
			cond := sts[0].Condition()
			if !strings.Contains(cond, `"StringEquals":{"aws:SourceArn":`) || !strings.Contains(cond, trailArn[1:]) {
				t.Errorf("%s is not limited to the trail %s: %s", action, govPipe.TrailName(), cond)
			}
			hasContext := strings.Contains(cond, `"StringLike":{"kms:EncryptionContext:aws:cloudtrail:arn":"arn:<AWS::Partition>:cloudtrail:*:123456789012:trail/*"}`)
			if hasContext != (action == "kms:GenerateDataKey*") {
				t.Errorf("%s: encryption-context condition %v: %s", action, hasContext, cond)
			}
		}
		// AND the trail bucket does use an S3 Bucket Key, the reason for kms:Decrypt
		for id, b := range tp.ofType("AWS::S3::Bucket") {
			if strings.HasPrefix(id, "PipelineTrailBucket") && !strings.Contains(js(b["BucketEncryption"]), `"BucketKeyEnabled":true`) {
				t.Errorf("trail bucket %s has no S3 Bucket Key: %s", id, js(b["BucketEncryption"]))
			}
		}
	})

	t.Run("CloudTrail to the bucket", func(t *testing.T) {
		// https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-s3-bucket-policy-for-cloudtrail.html:
		//   {"Sid": "AWSCloudTrailAclCheck20150319", "Principal": {"Service": "cloudtrail.amazonaws.com"},
		//    "Action": "s3:GetBucketAcl", "Resource": "arn:aws:s3:::myBucketName"}
		//   {"Sid": "AWSCloudTrailWrite20150319", "Principal": {"Service": "cloudtrail.amazonaws.com"},
		//    "Action": "s3:PutObject", "Resource": "arn:aws:s3:::myBucketName/[optional prefix]/AWSLogs/myAccountID/*",
		//    "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}}
		// "As a security best practice, add an aws:SourceArn condition key to the Amazon S3 bucket
		// policy ... The value of aws:SourceArn is always the ARN of the trail."
		// Every statement for CloudTrail must carry it: one without would still let any trail write.
		acl := allowsService(tp, "AWS::S3::BucketPolicy", "cloudtrail.amazonaws.com", "s3:GetBucketAcl")
		put := allowsService(tp, "AWS::S3::BucketPolicy", "cloudtrail.amazonaws.com", "s3:PutObject")
		if len(acl) != 1 || len(put) != 1 {
			t.Fatalf("%d GetBucketAcl and %d PutObject statements for CloudTrail, want 1 and 1", len(acl), len(put))
		}
		for _, st := range append(acl, put...) {
			if cond := st.Condition(); !strings.Contains(cond, `"aws:SourceArn":`) || !strings.Contains(cond, trailArn[1:]) {
				t.Errorf("%v is not limited to the trail %s: %s", st.Statement["Action"], govPipe.TrailName(), cond)
			}
		}
		if !strings.Contains(js(put[0].Statement), `/AWSLogs/123456789012/*`) || !strings.Contains(put[0].Condition(), `"s3:x-amz-acl":"bucket-owner-full-control"`) {
			t.Errorf("CloudTrail PutObject statement %s", js(put[0].Statement))
		}
		// AND the trail waits for the bucket policy, which CloudTrail checks at creation
		for id, r := range tp.Resources {
			if r.Type == "AWS::CloudTrail::Trail" && !strings.Contains(js(tp.dependsOn(id)), "PipelineTrailBucketPolicy") {
				t.Errorf("trail %s does not depend on its bucket policy: %v", id, tp.dependsOn(id))
			}
		}
	})

	t.Run("CloudWatch alarms to the encrypted topic", func(t *testing.T) {
		// Topic policy, https://repost.aws/knowledge-center/cloudwatch-receive-sns-for-alarm-trigger:
		//   {"Principal": {"Service": ["cloudwatch.amazonaws.com"]}, "Action": "sns:Publish",
		//    "Resource": <topic>, "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:cloudwatch:REGION:ACCOUNT_ID:alarm:ALARM_NAME"}}}
		// ("To restrict the ability to publish messages to the topic for specific alarms").
		want := `:alarm:` + govPipe.AlarmNamePrefix() + `*"`
		sts := allowsService(tp, "AWS::SNS::TopicPolicy", "cloudwatch.amazonaws.com", "sns:Publish")
		if len(sts) != 1 {
			t.Fatalf("%d topic statements allow CloudWatch sns:Publish", len(sts))
		}
		if cond := sts[0].Condition(); !strings.Contains(cond, `"ArnLike":{"aws:SourceArn":`) || !strings.Contains(cond, want) || !strings.Contains(cond, `"aws:SourceAccount":"123456789012"`) {
			t.Errorf("topic statement not limited to the pipeline's alarms: %s", cond)
		}
		// Key policy, https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services
		// and https://repost.aws/knowledge-center/cloudwatch-configure-alarm-sns:
		//   {"Principal": {"Service": "cloudwatch.amazonaws.com"}, "Action": ["kms:GenerateDataKey*", "kms:Decrypt"], "Resource": "*"}
		// with no condition: AWS documents none for this path, and a condition the request
		// does not carry would drop every notification without an error anyone sees.
		keySts := allowsService(tp, "AWS::KMS::Key", "cloudwatch.amazonaws.com", "kms:GenerateDataKey*")
		if len(keySts) != 1 || !contains(texts(keySts[0].Statement["Action"]), "kms:Decrypt") || keySts[0].Condition() != "" {
			t.Errorf("key statements for CloudWatch: %v", keySts)
		}
		// AND every alarm's name matches the pattern the topic policy names
		for id, a := range tp.ofType("AWS::CloudWatch::Alarm") {
			if name, _ := a["AlarmName"].(string); !strings.HasPrefix(name, govPipe.AlarmNamePrefix()) {
				t.Errorf("alarm %s is named %q, outside %s*", id, name, govPipe.AlarmNamePrefix())
			}
		}
	})

	t.Run("EventBridge to the encrypted topic", func(t *testing.T) {
		// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html#eb-sns-permissions:
		//   {"Sid": "PublishEventsToMyTopic", "Principal": {"Service": "events.amazonaws.com"},
		//    "Action": "sns:Publish", "Resource": "arn:aws:sns:region:account-id:topic-name"}
		// "You can't use Condition blocks in Amazon SNS topic policies for EventBridge."
		// Key policy: the SNS statement for AWS event sources, as for CloudWatch above
		// (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services).
		pub := allowsService(tp, "AWS::SNS::TopicPolicy", "events.amazonaws.com", "sns:Publish")
		if len(pub) != 1 || pub[0].Condition() != "" {
			t.Errorf("topic statements for EventBridge (one, without Condition): %v", pub)
		}
		keySts := allowsService(tp, "AWS::KMS::Key", "events.amazonaws.com", "kms:GenerateDataKey*")
		if len(keySts) != 1 || !contains(texts(keySts[0].Statement["Action"]), "kms:Decrypt") {
			t.Errorf("key statements for EventBridge: %v", keySts)
		}
	})

	t.Run("Config to its bucket and the key", func(t *testing.T) {
		// https://docs.aws.amazon.com/config/latest/developerguide/s3-bucket-policy.html:
		// GetBucketAcl and ListBucket on the bucket, PutObject under AWSLogs/<account>/Config/
		// with bucket-owner-full-control, aws:SourceAccount; and the delivery channel's key.
		for _, action := range []string{"s3:GetBucketAcl", "s3:ListBucket", "s3:PutObject"} {
			sts := allowsService(tp, "AWS::S3::BucketPolicy", "config.amazonaws.com", action)
			if len(sts) != 1 || !strings.Contains(sts[0].Condition(), `"aws:SourceAccount":"123456789012"`) {
				t.Errorf("Config %s: %v", action, sts)
			}
		}
		if len(allowsService(tp, "AWS::KMS::Key", "config.amazonaws.com", "kms:GenerateDataKey")) != 1 {
			t.Error("the key does not let Config encrypt deliveries")
		}
	})

	t.Run("Config delivers to its own account's bucket as the recorder role", func(t *testing.T) {
		// https://docs.aws.amazon.com/config/latest/developerguide/s3-bucket-policy.html: "When
		// AWS Config sends configuration information (history files and snapshots) to Amazon S3
		// bucket in your account, it assumes the IAM role that you assigned when you set up AWS
		// Config." The bucket policy for config.amazonaws.com serves only another account's
		// bucket or the service-linked role. So the role needs, per
		// https://docs.aws.amazon.com/config/latest/developerguide/iamrole-permissions.html:
		//   {"Action": ["s3:PutObject", "s3:PutObjectAcl"], "Resource": "arn:aws:s3:::myBucketName/prefix/AWSLogs/myAccountID/*",
		//    "Condition": {"StringLike": {"s3:x-amz-acl": "bucket-owner-full-control"}}}
		//   {"Action": ["s3:GetBucketAcl"], "Resource": "arn:aws:s3:::myBucketName"}
		//   {"Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": "myKMSKeyARN"}
		// and its trust policy may carry "AWS:SourceAccount" (same page).
		var roleID string
		for id, r := range tp.ofType("AWS::IAM::Role") {
			if strings.Contains(js(r["AssumeRolePolicyDocument"]), "config.amazonaws.com") {
				roleID = id
				if !strings.Contains(js(r["AssumeRolePolicyDocument"]), `"Condition":{"StringEquals":{"aws:SourceAccount":"123456789012"}}`) {
					t.Errorf("recorder role trust is not limited to this account: %s", js(r["AssumeRolePolicyDocument"]))
				}
			}
		}
		if roleID == "" {
			t.Fatal("no recorder role")
		}
		var policyID, doc string
		for id, mp := range tp.ofType("AWS::IAM::ManagedPolicy") {
			if strings.Contains(js(mp["Roles"]), `"Ref":"`+roleID+`"`) {
				policyID, doc = id, js(mp["PolicyDocument"])
			}
		}
		for _, want := range []string{
			`"Action":["s3:PutObject","s3:PutObjectAcl"],"Condition":{"StringLike":{"s3:x-amz-acl":"bucket-owner-full-control"}}`,
			`/AWSLogs/123456789012/Config/*"`,
			`"Action":"s3:GetBucketAcl"`,
			`"Action":["kms:Decrypt","kms:GenerateDataKey"]`,
		} {
			if !strings.Contains(doc, want) {
				t.Errorf("recorder role's delivery policy lacks %s: %s", want, doc)
			}
		}
		// AND the delivery channel waits for it: AWS Config checks delivery when it is created
		for id, r := range tp.Resources {
			if r.Type == "AWS::Config::DeliveryChannel" && !contains(tp.dependsOn(id), policyID) {
				t.Errorf("delivery channel %s does not depend on %s: %v", id, policyID, tp.dependsOn(id))
			}
		}
	})
}

// anonymousSemgrep is a stack that runs Semgrep's Docker Hub image without DockerHubCredentials.
func anonymousSemgrep() awscdk.Stack {
	app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{"aws:cdk:bundling-stacks": []any{}}})
	stack := awscdk.NewStack(app, jsii.String("AnonymousSemgrep"), nil)
	devsecops.NewPipeline(stack, "Pipeline", &devsecops.PipelineProps{SastTool: devsecops.SastSemgrep})
	return stack
}

// TestOptInWarnings checks that synth prints one warning for each seed feature the props
// leave off, and none for the features a stack turns on.
func TestOptInWarnings(t *testing.T) {
	all := []string{devsecops.WarnConfigRules, devsecops.WarnReservedConcurrency, devsecops.WarnSecurityHub, devsecops.WarnDockerHubAnonymous}
	tests := []struct {
		name  string
		stack awscdk.Stack
		want  []string
	}{
		// The default SAST tool (Opengrep) and ZAP are checksummed downloads: no Docker Hub.
		{"defaults: every opt-in left off", defaultsStack, []string{devsecops.WarnConfigRules, devsecops.WarnReservedConcurrency, devsecops.WarnSecurityHub}},
		{"GovCloud: every opt-in on", gov, nil},
		{"Semgrep through the pull-through cache", semgrepStack, []string{devsecops.WarnConfigRules, devsecops.WarnReservedConcurrency, devsecops.WarnSecurityHub}},
		{"Semgrep from anonymous Docker Hub", anonymousSemgrep(), all},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN the stack WHEN its warnings are read
			warnings := *assertions.Annotations_FromStack(tt.stack).FindWarning(jsii.String("*"), assertions.Match_AnyValue())
			text := js(warnings)
			// THEN each opt-in left off has exactly one line
			for _, id := range all {
				n := strings.Count(text, "[ack: "+id+"]")
				want := 0
				if contains(tt.want, id) {
					want = 1
				}
				if n != want {
					t.Errorf("%d warnings %s, want %d; warnings: %s", n, id, want, text)
				}
			}
		})
	}
}

// TestRepositoryIsRetained checks that deleting the stack, or renaming the repository, keeps the
// application's history.
func TestRepositoryIsRetained(t *testing.T) {
	// GIVEN the default stack, which creates the CodeCommit repository
	// WHEN its template is read
	// THEN the repository is retained on delete and on replacement
	assertions.Template_FromStack(defaultsStack, nil).HasResource(jsii.String("AWS::CodeCommit::Repository"), map[string]any{
		"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
	})
}

// TestScannerImagesThroughThePullThroughCache checks the ECR pull-through cache for Docker Hub
// (https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache-creating-rule.html)
// and what the image-running projects need for a first pull through it
// (https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache-iam.html).
func TestScannerImagesThroughThePullThroughCache(t *testing.T) {
	// GIVEN the Semgrep stack, with DockerHubCredentials, and the default stack without
	tp, def := template(t, semgrepStack), template(t, defaultsStack)
	// WHEN the cache rules are read
	rules := tp.ofType("AWS::ECR::PullThroughCacheRule")
	// THEN there is one rule for Docker Hub with the secret
	if len(rules) != 1 {
		t.Fatalf("%d cache rules", len(rules))
	}
	for _, r := range rules {
		prefix, _ := r["EcrRepositoryPrefix"].(string)
		if r["UpstreamRegistryUrl"] != devsecops.DockerHubUpstream || !strings.Contains(js(r["CredentialArn"]), "ecr-pullthroughcache/docker-hub") || len(prefix) < 2 || len(prefix) > 30 {
			t.Errorf("cache rule %s", js(r))
		}
	}
	if n := len(def.ofType("AWS::ECR::PullThroughCacheRule")); n != 0 {
		t.Errorf("the default stack has %d cache rules", n)
	}
	// AND the SAST project (Semgrep) pulls through it, with the first-pull actions on the prefix
	specs := buildspecs(t, tp)
	for name, spec := range specs {
		if strings.Contains(spec, "docker pull") && !strings.Contains(spec, `"${SCANNER_REGISTRY:-}`) {
			t.Errorf("%s pulls an image without the cache registry", name)
		}
	}
	var grants string
	for _, p := range tp.ofType("AWS::IAM::Policy") {
		if strings.Contains(js(p), "ecr:BatchImportUpstreamImage") {
			grants += js(p)
		}
	}
	for _, want := range []string{"ecr:BatchImportUpstreamImage", "ecr:CreateRepository", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", ":repository/dockerhub-"} {
		if !strings.Contains(grants, want) {
			t.Errorf("pull-through grants lack %s: %s", want, grants)
		}
	}
}

// TestSeveralEnvironmentsInOneAccount builds two pipelines in two stacks of one account and
// region and checks that no physical name they set collides.
func TestSeveralEnvironmentsInOneAccount(t *testing.T) {
	// GIVEN two environments' stacks in the same account and region
	env := &awscdk.Environment{Account: jsii.String("123456789012"), Region: jsii.String("eu-west-1")}
	envApp := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{"aws:cdk:bundling-stacks": []any{}}})
	names := map[string]string{}
	envStacks := map[string]awscdk.Stack{}
	for _, stackName := range []string{"Staging-DevSecOps", "Prod-DevSecOps"} {
		stack := awscdk.NewStack(envApp, jsii.String(stackName), &awscdk.StackProps{Env: env})
		devsecops.NewPipeline(stack, "Pipeline", &devsecops.PipelineProps{
			DastTargetURL: jsii.String("https://staging.example.com"),
			SastTool:      devsecops.SastSemgrep,
			DockerHubCredentials: awssecretsmanager.Secret_FromSecretCompleteArn(stack, jsii.String("DockerHub"),
				jsii.String("arn:aws:secretsmanager:eu-west-1:123456789012:secret:ecr-pullthroughcache/docker-hub-MnOpQr")),
		})
		envStacks[stackName] = stack
	}
	for stackName, stack := range envStacks {
		tp := template(t, stack)
		// WHEN the physical names they give are collected
		var got []string
		for _, r := range tp.ofType("AWS::CloudTrail::Trail") {
			got = append(got, "trail "+r["TrailName"].(string))
		}
		for _, r := range tp.ofType("AWS::CloudWatch::Alarm") {
			got = append(got, "alarm "+r["AlarmName"].(string))
		}
		for _, r := range tp.ofType("AWS::Logs::MetricFilter") {
			got = append(got, "metric "+js(r["MetricTransformations"]))
		}
		for _, r := range tp.ofType("AWS::CodeCommit::Repository") {
			got = append(got, "repository "+r["RepositoryName"].(string))
		}
		for _, r := range tp.ofType("AWS::ECR::PullThroughCacheRule") {
			got = append(got, "cache prefix "+r["EcrRepositoryPrefix"].(string))
		}
		if len(got) != 7 {
			t.Errorf("%s: %d named resources, want 7: %v", stackName, len(got), got)
		}
		// THEN no name is used twice
		for _, n := range got {
			if other, dup := names[n]; dup {
				t.Errorf("%s and %s both use %s", other, stackName, n)
			}
			names[n] = stackName
		}
	}
}

// texts returns v, a string or a list of strings, as a list.
func texts(v any) []string {
	if l, ok := v.([]any); ok {
		out := make([]string, 0, len(l))
		for _, e := range l {
			out = append(out, policytest.Text(e))
		}
		return out
	}
	return []string{policytest.Text(v)}
}

// dependsOn returns the DependsOn of resource id of tp.
func (tp tmpl) dependsOn(id string) []string {
	var raw struct {
		Resources map[string]struct {
			DependsOn []string `json:"DependsOn"`
		} `json:"Resources"`
	}
	_ = json.Unmarshal([]byte(tp.raw), &raw)
	return raw.Resources[id].DependsOn
}
