// Package pullthrough is the one way our constructs pull images that exist only on Docker Hub:
// an ECR pull-through cache rule with the user's Docker Hub credentials, so that Docker Hub is
// asked once per image and every later pull comes from the account's own ECR, without Docker
// Hub's anonymous limit (about 10 pulls an hour per IP address).
//
// ECR User Guide: "Creating a pull through cache rule"
// (https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache-creating-rule.html)
// requires a Secrets Manager secret whose name starts with "ecr-pullthroughcache/" for Docker
// Hub, and "IAM permissions required to sync an upstream registry"
// (https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache-iam.html) names
// what the first pull needs: ecr:BatchImportUpstreamImage and ecr:CreateRepository besides the
// usual pull actions.
package pullthrough

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecr"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/internal/nag"
)

// DockerHubUpstream is the upstream registry URL of Docker Hub for ECR pull-through cache.
const DockerHubUpstream = "registry-1.docker.io"

// SecretNamePrefix is the name prefix ECR requires of the credential secret.
const SecretNamePrefix = "ecr-pullthroughcache/"

// ValidSecretArn reports whether arn can be the credential of a cache rule: an unresolved token,
// or a secret ARN whose name starts with SecretNamePrefix.
func ValidSecretArn(arn *string) bool {
	return *awscdk.Token_IsUnresolved(arn) || strings.Contains(*arn, ":secret:"+SecretNamePrefix)
}

// Cache is one Docker Hub pull-through cache rule.
type Cache struct {
	// Rule is the cache rule.
	Rule awsecr.CfnPullThroughCacheRule
	// Prefix is its ECR repository prefix: 2 to 30 characters, unique per construct path (and
	// so per environment) in one registry.
	Prefix string

	stack awscdk.Stack
}

// New creates the cache rule of owner (whose path makes the prefix unique) with the
// credentials secret.
func New(owner constructs.Construct, id string, secret awssecretsmanager.ISecret) *Cache {
	c := &Cache{Prefix: "dockerhub-" + (*owner.Node().Addr())[:12], stack: awscdk.Stack_Of(owner)}
	c.Rule = awsecr.NewCfnPullThroughCacheRule(owner, jsii.String(id), &awsecr.CfnPullThroughCacheRuleProps{
		EcrRepositoryPrefix: jsii.String(c.Prefix),
		UpstreamRegistry:    jsii.String("docker-hub"),
		UpstreamRegistryUrl: jsii.String(DockerHubUpstream),
		CredentialArn:       secret.SecretArn(),
	})
	return c
}

// Registry is "<account>.dkr.ecr.<region>.<suffix>/<prefix>/": prepended to a Docker Hub
// reference ("semgrep/semgrep:1.177.0@sha256:..."), it names the same image through the cache.
func (c *Cache) Registry() string {
	return *c.stack.Account() + ".dkr.ecr." + *c.stack.Region() + "." + *c.stack.UrlSuffix() + "/" + c.Prefix + "/"
}

// RepositoriesArn is the ARN pattern of the repositories the cache creates.
func (c *Cache) RepositoriesArn() string {
	return *c.stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String("ecr"), Resource: jsii.String("repository"), ResourceName: jsii.String(c.Prefix + "/*")})
}

// Statements are what a principal needs to pull through the cache, the first pull included:
// the pull and import actions on the cache's repositories, and the registry login, which
// supports no resource-level permissions.
func (c *Cache) Statements() []awsiam.PolicyStatement {
	return []awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("PullThroughTheCache"),
			Actions:   jsii.Strings("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchImportUpstreamImage", "ecr:CreateRepository"),
			Resources: jsii.Strings(c.RepositoriesArn()),
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("RegistryLogin"), Actions: jsii.Strings("ecr:GetAuthorizationToken"), Resources: jsii.Strings("*"),
		}),
	}
}

// SuppressWildcards suppresses, on scope, the AwsSolutions-IAM5 finding of Statements, naming
// its two wildcards.
func (c *Cache) SuppressWildcards(scope constructs.IConstruct) {
	nag.SuppressTree(scope, nag.Rule{ID: "AwsSolutions-IAM5",
		Reason:    "The pull-through cache creates one repository per image under the construct's prefix (prefix/*); ecr:GetAuthorizationToken supports no resource-level permissions",
		AppliesTo: []string{"Resource::" + nag.ArnPrefix(c.stack, "ecr") + ":repository/" + c.Prefix + "/*", "Resource::*"}})
}
