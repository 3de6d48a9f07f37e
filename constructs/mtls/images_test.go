package mtls_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/mtls"
	"github.com/securestacks/securestacks/internal/nag"
)

// pinned is repository:tag@sha256:digest, what docker and ECS pull by digest.
var pinned = regexp.MustCompile(`^[a-z0-9./-]+:[A-Za-z0-9._-]+@sha256:[0-9a-f]{64}$`)

// TestDefaultImagesArePinnedByDigest checks that a re-tagged Docker Hub image cannot run: ECS
// pulls repository@sha256 references by the digest alone
// (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#container_definition_image).
func TestDefaultImagesArePinnedByDigest(t *testing.T) {
	// GIVEN the default images WHEN they are read THEN each is tag@sha256
	for _, ref := range []string{mtls.DefaultEnvoyImage, mtls.DefaultAppImage} {
		if !pinned.MatchString(ref) {
			t.Errorf("%s is not pinned by digest", ref)
		}
	}
	// AND the Envoy plane's task definitions run exactly them
	got := map[string]bool{}
	for _, td := range resources(envoyTemplate, "AWS::ECS::TaskDefinition") {
		for _, c := range props(td)["ContainerDefinitions"].([]any) {
			got[c.(map[string]any)["Image"].(string)] = true
		}
	}
	if !got[mtls.DefaultEnvoyImage] || !got[mtls.DefaultAppImage] || len(got) != 2 {
		t.Errorf("images %v, want the two defaults", got)
	}
}

// TestDockerHubPullThroughCache checks the opt-in ECR pull-through cache for the default images
// (https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache-creating-rule.html)
// and that each endpoint's execution role may make the first pull, which imports the image
// (https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache-iam.html).
func TestDockerHubPullThroughCache(t *testing.T) {
	// GIVEN the system with DockerHubCredentials, in its own app
	cachedApp := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{"aws:cdk:bundling-stacks": []any{}}})
	nag.ApplyPacks(cachedApp)
	stack := awscdk.NewStack(cachedApp, jsii.String("Cached"), &awscdk.StackProps{Env: govCloud})
	mtls.NewMutualTls(stack, "Mtls", &mtls.MutualTlsProps{Vpc: newVpc(stack),
		DockerHubCredentials: awssecretsmanager.Secret_FromSecretCompleteArn(stack, jsii.String("Hub"),
			jsii.String("arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:ecr-pullthroughcache/docker-hub-AbCdEf"))})
	tpl := assertions.Template_FromStack(stack, nil)

	// WHEN the template is read
	rules := resources(tpl, "AWS::ECR::PullThroughCacheRule")
	// THEN there is one Docker Hub rule with the secret
	if len(rules) != 1 {
		t.Fatalf("%d cache rules, want 1", len(rules))
	}
	var prefix string
	for _, rule := range rules {
		r := props(rule)
		prefix, _ = r["EcrRepositoryPrefix"].(string)
		if r["UpstreamRegistryUrl"] != "registry-1.docker.io" || !strings.Contains(templateJSON(tpl), "ecr-pullthroughcache/docker-hub") || len(prefix) < 2 || len(prefix) > 30 {
			t.Errorf("cache rule %v", r)
		}
	}
	// AND every container runs its default image through the cache, by the same digest
	// (the URL suffix stays a reference: {"Fn::Join": ["", ["<account>.dkr.ecr.<region>.",
	// {"Ref": "AWS::URLSuffix"}, "/<prefix>/<image>"]]})
	for _, td := range resources(tpl, "AWS::ECS::TaskDefinition") {
		for _, c := range props(td)["ContainerDefinitions"].([]any) {
			b, _ := json.Marshal(c.(map[string]any)["Image"])
			img := string(b)
			if !strings.Contains(img, `"123456789012.dkr.ecr.us-gov-west-1.",{"Ref":"AWS::URLSuffix"},"/`+prefix+"/") ||
				(!strings.HasSuffix(img, prefix+"/"+mtls.DefaultEnvoyImage+`"]]}`) && !strings.HasSuffix(img, prefix+"/"+mtls.DefaultAppImage+`"]]}`)) {
				t.Errorf("container image %s does not come through the cache %s", img, prefix)
			}
		}
	}
	// AND each endpoint's execution policy allows the first pull on the cache's repositories
	policies := 0
	for _, p := range resources(tpl, "AWS::IAM::ManagedPolicy") {
		b, _ := json.Marshal(p)
		doc := string(b)
		if d, _ := props(p)["Description"].(string); !strings.HasPrefix(d, "Read the ") {
			continue // not an execution policy
		}
		policies++
		for _, want := range []string{"ecr:BatchImportUpstreamImage", "ecr:CreateRepository", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:GetAuthorizationToken", ":repository/" + prefix + "/*"} {
			if !strings.Contains(doc, want) {
				t.Errorf("execution policy lacks %s", want)
			}
		}
	}
	if policies != 2 {
		t.Errorf("%d execution policies, want 2", policies)
	}
	// AND no Docker Hub warning, and the stack stays nag-clean
	if w := *assertions.Annotations_FromStack(stack).FindWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String(".*"+mtls.DockerHubWarningId+".*"))); len(w) != 0 {
		t.Errorf("%d Docker Hub warnings with the cache", len(w))
	}
	for _, e := range nag.Errors(stack) {
		if strings.Contains(e, "/Mtls/") {
			t.Errorf("nag: %s", e)
		}
	}
	// AND without the cache, synth warns once
	if w := *assertions.Annotations_FromStack(envoyStack).FindWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String(".*"+mtls.DockerHubWarningId+".*"))); len(w) != 1 {
		t.Errorf("%d Docker Hub warnings without the cache, want 1", len(w))
	}
}

// props is a template resource's Properties.
func props(r map[string]any) map[string]any {
	p, _ := r["Properties"].(map[string]any)
	return p
}
