package stacks_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/internal/nag"
	"github.com/securestacks/securestacks/stacks"
)

func devSecOpsProps(name, account, region string, section *stacks.DevSecOpsConfig) *stacks.SystemProps {
	p := &stacks.SystemProps{Config: stacks.Environment{Name: name, Account: account, Region: region, DevSecOps: section}}
	p.StackName = jsii.String(stacks.Environment{Name: name}.StackPrefix() + "-DevSecOps")
	if account != "" {
		p.Env = &awscdk.Environment{Account: jsii.String(account), Region: jsii.String(region)}
	}
	return p
}

func TestDevSecOpsStack(t *testing.T) {
	// GIVEN one app with the sandbox stack (all defaults) and a GovCloud stack with every setting
	app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{"aws:cdk:bundling-stacks": []any{}}})
	sandbox := stacks.NewDevSecOpsStack(app, "Sandbox-DevSecOps", devSecOpsProps("sandbox", "", "", nil))
	yes := true
	gov := stacks.NewDevSecOpsStack(app, "Gov-DevSecOps", devSecOpsProps("gov", "123456789012", "us-gov-west-1", &stacks.DevSecOpsConfig{
		ExistingRepository: "wordpress",
		Branch:             "release",
		SecretsTool:        "git-secrets",
		ScaTool:            "dependency-check",
		NvdAPIKeySecretArn: "arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:devsecops/nvd-AbCdEf",
		SastTool:           "sonarqube",
		SonarQube:          &stacks.DevSecOpsSonarQube{HostURL: "https://sonar.example.com", TokenSecretArn: "arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:devsecops/sonar-GhIjKl"},
		ImageScanTool:      "trivy",
		ContainerName:      "web",
		SeverityThreshold:  "MEDIUM",
		Staging:            &stacks.DevSecOpsTarget{EcsServiceArn: "arn:aws-us-gov:ecs:us-gov-west-1:123456789012:service/app/app-staging"},
		Production:         &stacks.DevSecOpsTarget{ElasticBeanstalk: &stacks.DevSecOpsBeanstalk{Application: "wordpress", Environment: "wordpress-prod"}},
		DastTargetURL:      "https://staging.example.com",
		ApproverEmails:     []string{"approver@example.com"},
		NotificationEmails: []string{"security@example.com"},
		Governance:         &stacks.DevSecOpsGovernance{SecurityHub: &yes},
	}))
	eks := stacks.NewDevSecOpsStack(app, "Eks-DevSecOps", devSecOpsProps("eks", "123456789012", "eu-west-1", &stacks.DevSecOpsConfig{
		ScaTool: "snyk", SastTool: "snyk", SnykTokenSecretArn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:devsecops/snyk-StUvWx",
		Staging:         &stacks.DevSecOpsTarget{Type: "eks", Cluster: "shop-staging", Namespace: "shop"},
		Production:      &stacks.DevSecOpsTarget{Type: "eks", Cluster: "shop-production", Namespace: "shop", Manifests: "deploy/k8s", RolloutTimeoutMinutes: 10},
		DastTargetURL:   "https://staging.shop.internal",
		DastVpc:         &stacks.DevSecOpsDastVpc{VpcID: "vpc-0a1b2c3d4e5f60718", SubnetIDs: []string{"subnet-0a1b2c3d4e5f60718", "subnet-1a1b2c3d4e5f60718"}, SecurityGroupIDs: []string{"sg-0a1b2c3d4e5f60718"}},
		RuntimeFindings: &stacks.DevSecOpsRuntimeFindings{LogGroupName: "/eks/shop/falco"},
		ApproverEmails:  []string{"approver@example.com"},
	}))
	nag.ApplyPacks(app)

	cases := []struct {
		name      string
		stack     awscdk.Stack
		stages    string
		threshold string
		repo      string
	}{
		{"sandbox defaults", sandbox, "Source,Secrets,Analysis,Image", "HIGH", `"RepositoryName":"sandbox-sample-app"`},
		{"GovCloud, every setting", gov, "Source,Secrets,Analysis,Image,Staging,DAST,Approval,Production", "MEDIUM", `"RepositoryName":"wordpress"`},
		{"EKS, Snyk, Falco, private DAST", eks, "Source,Secrets,Analysis,Image,Staging,DAST,Approval,Production", "HIGH", `"ClusterName":"shop-production"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// WHEN the stack is synthesized with the three nag packs
			errs := nag.Errors(tc.stack)
			b, _ := json.Marshal(assertions.Template_FromStack(tc.stack, nil).ToJSON())
			raw := string(b)

			// THEN it is nag-clean
			if len(errs) > 0 {
				t.Errorf("cdk-nag errors:\n%s", strings.Join(errs, "\n"))
			}
			// AND the pipeline has the configured stages, threshold and repository
			var tpl struct {
				Resources map[string]struct {
					Type       string
					Properties map[string]any
				}
				Outputs map[string]any
			}
			_ = json.Unmarshal(b, &tpl)
			var stages []string
			for _, r := range tpl.Resources {
				if r.Type == "AWS::CodePipeline::Pipeline" {
					var ss []struct{ Name string }
					sb, _ := json.Marshal(r.Properties["Stages"])
					_ = json.Unmarshal(sb, &ss)
					for _, s := range ss {
						stages = append(stages, s.Name)
					}
				}
			}
			if strings.Join(stages, ",") != tc.stages {
				t.Errorf("stages %v, want %s", stages, tc.stages)
			}
			if !strings.Contains(raw, `{"Name":"SEVERITY_THRESHOLD","Type":"PLAINTEXT","Value":"`+tc.threshold+`"}`) {
				t.Errorf("threshold %s not applied", tc.threshold)
			}
			if !strings.Contains(raw, tc.repo) {
				t.Errorf("repository %s not used", tc.repo)
			}
			for _, o := range []string{"PipelineName", "ReportBucketName", "IngestFunctionName", "NotificationTopicArn", "ImageRepositoryUri"} {
				if _, ok := tpl.Outputs[o]; !ok {
					t.Errorf("no output %s", o)
				}
			}
		})
	}
	// AND the sandbox, with every default, prints one line per seed feature left opt-in:
	// Config rules, reserved concurrency, Security Hub; and none for Docker Hub, which no
	// default tool uses
	wb, _ := json.Marshal(*assertions.Annotations_FromStack(sandbox).FindWarning(jsii.String("*"), assertions.Match_AnyValue()))
	warnings := string(wb)
	for id, want := range map[string]int{"config-rules-off": 1, "ingest-concurrency-unreserved": 1, "security-hub-prerequisite": 1, "docker-hub-anonymous": 0} {
		if n := strings.Count(warnings, "[ack: securestacks:devsecops-"+id+"]"); n != want {
			t.Errorf("%d warnings %s, want %d: %s", n, id, want, warnings)
		}
	}
	// AND the GovCloud template names no commercial-partition ARN
	b, _ := json.Marshal(assertions.Template_FromStack(gov, nil).ToJSON())
	if i := strings.Index(string(b), "arn:aws:"); i >= 0 {
		t.Errorf("arn:aws: literal in the GovCloud stack: ...%s...", string(b)[max(0, i-150):min(len(b), i+150)])
	}
}

func TestDevSecOpsConfigErrors(t *testing.T) {
	secret := "arn:aws:secretsmanager:eu-west-1:123456789012:secret:nvd-AbCdEf"
	tests := []struct {
		name    string
		section map[string]any
		want    string
	}{
		{"two sources", map[string]any{"repositoryName": "a", "existingRepository": "b"},
			"config: environments.prod.devSecOps: expected at most one of repositoryName, existingRepository and connection"},
		{"unknown tool", map[string]any{"scaTool": "nessus"},
			`config: environments.prod.devSecOps.scaTool: expected one of grype, trivy, dependency-check, snyk, got "nessus"`},
		{"snyk without token", map[string]any{"sastTool": "snyk"},
			"config: environments.prod.devSecOps.snykTokenSecretArn: expected exactly when scaTool or sastTool is snyk (the Snyk CLI needs an API token)"},
		{"eks without namespace", map[string]any{"staging": map[string]any{"type": "eks", "cluster": "shop"}},
			`config: environments.prod.devSecOps.staging.namespace: expected a Kubernetes namespace (lower-case letters, digits and -, at most 63), got ""`},
		{"unknown target type", map[string]any{"staging": map[string]any{"type": "nomad", "cluster": "shop"}},
			`config: environments.prod.devSecOps.staging.type: expected "eks" with cluster, namespace, manifests and rolloutTimeoutMinutes, got "nomad"`},
		{"eks and ECS", map[string]any{"staging": map[string]any{"type": "eks", "cluster": "shop", "namespace": "shop", "ecsServiceArn": "arn:aws:ecs:eu-west-1:123456789012:service/c/s"}},
			"config: environments.prod.devSecOps.staging: expected exactly one of elasticBeanstalk, ecsServiceArn and type eks"},
		{"eks manifests outside the repository", map[string]any{"staging": map[string]any{"type": "eks", "cluster": "shop", "namespace": "shop", "manifests": "../k8s"}},
			`config: environments.prod.devSecOps.staging.manifests: expected a directory relative to the repository root, got "../k8s"`},
		{"DAST VPC without DAST", map[string]any{"dastVpc": map[string]any{"vpcId": "vpc-0a1b2c3d", "subnetIds": []any{"subnet-0a1b2c3d"}, "securityGroupIds": []any{"sg-0a1b2c3d"}}},
			"config: environments.prod.devSecOps.dastVpc: expected only with dastTargetUrl"},
		{"DAST VPC bad subnet", map[string]any{"dastTargetUrl": "https://s.internal", "dastVpc": map[string]any{"vpcId": "vpc-0a1b2c3d", "subnetIds": []any{"subnet-x"}, "securityGroupIds": []any{"sg-0a1b2c3d"}}},
			`config: environments.prod.devSecOps.dastVpc.subnetIds[0]: expected a subnet id such as subnet-0a1b2c3d, got "subnet-x"`},
		{"runtime findings without a log group", map[string]any{"runtimeFindings": map[string]any{}},
			`config: environments.prod.devSecOps.runtimeFindings.logGroupName: expected a CloudWatch Logs group name, got ""`},
		{"the seed's typo", map[string]any{"severityThreshold": "Meduim"},
			`config: environments.prod.devSecOps.severityThreshold: expected one of INFORMATIONAL, LOW, MEDIUM, HIGH, CRITICAL, got "Meduim"`},
		{"dependency-check without key", map[string]any{"scaTool": "dependency-check"},
			"config: environments.prod.devSecOps.nvdApiKeySecretArn: expected exactly when scaTool is dependency-check (Dependency-Check needs an NVD API key)"},
		{"partial secret ARN", map[string]any{"scaTool": "dependency-check", "nvdApiKeySecretArn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:nvd"},
			`config: environments.prod.devSecOps.nvdApiKeySecretArn: expected the complete ARN of a Secrets Manager secret (with its 6-character suffix), got "arn:aws:secretsmanager:eu-west-1:123456789012:secret:nvd"`},
		{"sonarqube without server", map[string]any{"sastTool": "sonarqube"},
			"config: environments.prod.devSecOps.sonarQube: expected exactly when sastTool is sonarqube"},
		{"target with two kinds", map[string]any{"staging": map[string]any{"ecsServiceArn": "arn:aws:ecs:eu-west-1:123456789012:service/c/s", "elasticBeanstalk": map[string]any{"application": "a", "environment": "e"}}},
			"config: environments.prod.devSecOps.staging: expected exactly one of elasticBeanstalk, ecsServiceArn and type eks"},
		{"production without approvers", map[string]any{"production": map[string]any{"elasticBeanstalk": map[string]any{"application": "a", "environment": "e"}}},
			"config: environments.prod.devSecOps.approverEmails: expected exactly when production is set: production deploys only after a manual approval"},
		{"bad email", map[string]any{"notificationEmails": []any{"security"}},
			`config: environments.prod.devSecOps.notificationEmails[0]: expected an email address, got "security"`},
		{"ECS without image", map[string]any{"noImageStage": true, "staging": map[string]any{"ecsServiceArn": "arn:aws:ecs:eu-west-1:123456789012:service/c/s"}},
			"config: environments.prod.devSecOps.staging.ecsServiceArn: expected the image stage: an ECS deploy rolls out the image it builds; remove noImageStage"},
		{"bad DAST URL", map[string]any{"dastTargetUrl": "staging"},
			`config: environments.prod.devSecOps.dastTargetUrl: expected an http(s) URL, got "staging"`},
		{"reserved concurrency out of range", map[string]any{"ingestReservedConcurrency": 5000},
			"config: environments.prod.devSecOps.ingestReservedConcurrency: expected 1 to 1000, got 5000"},
		{"Docker Hub secret without the pull-through cache prefix", map[string]any{"dockerHubCredentialsSecretArn": secret},
			"config: environments.prod.devSecOps.dockerHubCredentialsSecretArn: expected the complete ARN of a Secrets Manager secret whose name starts with ecr-pullthroughcache/"},
		{"unknown key", map[string]any{"brach": "main"},
			"config: environments.prod.devSecOps.brach: unknown key: expected one of"},
		{"Docker Hub secret without Semgrep", map[string]any{"dockerHubCredentialsSecretArn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ecr-pullthroughcache/docker-hub-AbCdEf"},
			"config: environments.prod.devSecOps.dockerHubCredentialsSecretArn: expected only with sastTool semgrep, the one tool that pulls an image from Docker Hub"},
		{"valid", map[string]any{"scaTool": "dependency-check", "nvdApiKeySecretArn": secret, "branch": "develop", "sastTool": "semgrep",
			"ingestReservedConcurrency": 5, "dockerHubCredentialsSecretArn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ecr-pullthroughcache/docker-hub-AbCdEf"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN a prod environment with the section
			raw := map[string]any{"prod": map[string]any{"account": "123456789012", "region": "eu-west-1", "devSecOps": tt.section}}
			// WHEN the configuration is loaded
			_, err := stacks.LoadConfig(raw)
			// THEN a bad section fails with one line naming the key
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("valid section rejected: %v", err)
			case tt.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.want)):
				t.Errorf("err = %v\nwant  %s", err, tt.want)
			}
		})
	}
}

func TestDevSecOpsEcsServiceMustBeInTheEnvironment(t *testing.T) {
	// GIVEN an ECS staging target in another region than the environment
	app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{"aws:cdk:bundling-stacks": []any{}}})
	section := &stacks.DevSecOpsConfig{Staging: &stacks.DevSecOpsTarget{EcsServiceArn: "arn:aws:ecs:us-east-1:123456789012:service/app/staging"}}
	// WHEN the stack is built
	msg := func() (msg string) {
		defer func() {
			msg = strings.TrimSpace(strings.Split(strings.TrimPrefix(jsString(recover()), "Error: "), "\n")[0])
		}()
		stacks.NewDevSecOpsStack(app, "Prod-DevSecOps", devSecOpsProps("prod", "123456789012", "eu-west-1", section))
		return ""
	}()
	// THEN it fails with one line naming the key
	want := `config: environments.prod.devSecOps.staging.ecsServiceArn: expected a service in this environment's account and region (123456789012, eu-west-1), got "arn:aws:ecs:us-east-1:123456789012:service/app/staging"`
	if msg != want {
		t.Errorf("panic %q\nwant  %q", msg, want)
	}
}

func jsString(v any) string {
	if v == nil {
		return ""
	}
	if s, ok := v.(string); ok {
		return s
	}
	if e, ok := v.(error); ok {
		return e.Error()
	}
	b, _ := json.Marshal(v)
	return string(b)
}
