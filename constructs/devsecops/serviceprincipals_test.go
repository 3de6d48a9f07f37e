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
		// https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html:
		// encrypt (GenerateDataKey* with the aws:cloudtrail:arn encryption context), describe the
		// key, and kms:Decrypt because the trail bucket uses an S3 Bucket Key; aws:SourceArn the
		// trail as a best practice. DescribeKey carries no encryption context, so a context
		// condition on it never matches.
		for _, action := range []string{"kms:GenerateDataKey*", "kms:DescribeKey", "kms:Decrypt"} {
			sts := allowsService(tp, "AWS::KMS::Key", "cloudtrail.amazonaws.com", action)
			if len(sts) != 1 {
				t.Fatalf("%d statements allow CloudTrail %s", len(sts), action)
			}
			cond := sts[0].Condition()
			if !strings.Contains(cond, `"StringEquals":{"aws:SourceArn":`) || !strings.Contains(cond, trailArn[1:]) {
				t.Errorf("%s is not limited to the trail %s: %s", action, govPipe.TrailName(), cond)
			}
			hasContext := strings.Contains(cond, "kms:EncryptionContext:aws:cloudtrail:arn")
			if hasContext != (action == "kms:GenerateDataKey*") {
				t.Errorf("%s: encryption-context condition %v: %s", action, hasContext, cond)
			}
		}
	})

	t.Run("CloudTrail to the bucket", func(t *testing.T) {
		// https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-s3-bucket-policy-for-cloudtrail.html:
		// s3:GetBucketAcl on the bucket, s3:PutObject under AWSLogs/<account>/ with
		// bucket-owner-full-control.
		if len(allowsService(tp, "AWS::S3::BucketPolicy", "cloudtrail.amazonaws.com", "s3:GetBucketAcl")) != 1 {
			t.Error("no GetBucketAcl for CloudTrail")
		}
		put := allowsService(tp, "AWS::S3::BucketPolicy", "cloudtrail.amazonaws.com", "s3:PutObject")
		if len(put) != 1 || !strings.Contains(js(put[0].Statement), `/AWSLogs/123456789012/*`) || !strings.Contains(js(put[0].Statement), `"s3:x-amz-acl":"bucket-owner-full-control"`) {
			t.Errorf("CloudTrail PutObject statement %v", put)
		}
	})

	t.Run("CloudWatch alarms to the encrypted topic", func(t *testing.T) {
		// https://repost.aws/knowledge-center/cloudwatch-receive-sns-for-alarm-trigger (topic
		// policy for cloudwatch.amazonaws.com, aws:SourceArn the alarms) and
		// https://repost.aws/knowledge-center/cloudwatch-configure-alarm-sns (kms:Decrypt and
		// kms:GenerateDataKey* on the topic's customer managed key).
		want := `:alarm:` + govPipe.AlarmNamePrefix() + `*"`
		for typ, action := range map[string]string{"AWS::SNS::TopicPolicy": "sns:Publish", "AWS::KMS::Key": "kms:GenerateDataKey*"} {
			sts := allowsService(tp, typ, "cloudwatch.amazonaws.com", action)
			if len(sts) != 1 {
				t.Fatalf("%d %s statements allow CloudWatch %s", len(sts), typ, action)
			}
			cond := sts[0].Condition()
			if !strings.Contains(cond, `"ArnLike":{"aws:SourceArn":`) || !strings.Contains(cond, want) || !strings.Contains(cond, `"aws:SourceAccount":"123456789012"`) {
				t.Errorf("%s: not limited to the pipeline's alarms: %s", typ, cond)
			}
		}
		// AND every alarm's name matches the pattern the policies name
		for id, a := range tp.ofType("AWS::CloudWatch::Alarm") {
			if name, _ := a["AlarmName"].(string); !strings.HasPrefix(name, govPipe.AlarmNamePrefix()) {
				t.Errorf("alarm %s is named %q, outside %s*", id, name, govPipe.AlarmNamePrefix())
			}
		}
	})

	t.Run("EventBridge to the encrypted topic", func(t *testing.T) {
		// https://repost.aws/knowledge-center/sns-not-getting-eventbridge-notification: the topic
		// policy allows events.amazonaws.com sns:Publish, and the customer managed key lets it
		// GenerateDataKey* and Decrypt.
		if len(allowsService(tp, "AWS::SNS::TopicPolicy", "events.amazonaws.com", "sns:Publish")) != 1 {
			t.Error("the notification topic does not let EventBridge publish")
		}
		if len(allowsService(tp, "AWS::KMS::Key", "events.amazonaws.com", "kms:GenerateDataKey*")) == 0 {
			t.Error("the key does not let EventBridge encrypt for the topic")
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
