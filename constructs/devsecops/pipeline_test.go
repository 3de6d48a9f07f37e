package devsecops_test

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodecommit"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/devsecops"
	"github.com/securestacks/securestacks/internal/nag"
)

// One app for the whole test binary: every test binary starts a node process.
var (
	app                          awscdk.App
	defaultsStack, gov, gitStack awscdk.Stack
	semgrepStack, eksStack       awscdk.Stack
	eksPipe                      *devsecops.Pipeline
	defaultsPipe, govPipe        *devsecops.Pipeline
	gitPipe                      *devsecops.Pipeline
)

func TestMain(m *testing.M) {
	app = awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{"aws:cdk:bundling-stacks": []any{}}})

	// Every default, environment-agnostic.
	defaultsStack = awscdk.NewStack(app, jsii.String("Defaults"), nil)
	defaultsPipe = devsecops.NewPipeline(defaultsStack, "Pipeline", nil)

	// Every option, pinned to GovCloud.
	gov = awscdk.NewStack(app, jsii.String("Gov"), &awscdk.StackProps{Env: &awscdk.Environment{Account: jsii.String("123456789012"), Region: jsii.String("us-gov-west-1")}})
	service := awsecs.BaseService_FromServiceArnWithCluster(gov, jsii.String("StagingService"),
		jsii.String("arn:aws-us-gov:ecs:us-gov-west-1:123456789012:service/app-cluster/app-staging"))
	govPipe = devsecops.NewPipeline(gov, "Pipeline", &devsecops.PipelineProps{
		ExistingRepository: awscodecommit.Repository_FromRepositoryName(gov, jsii.String("Repo"), jsii.String("wordpress")),
		Branch:             jsii.String("release"),
		SecretsTool:        devsecops.SecretsGitleaks,
		ScaTool:            devsecops.ScaDependencyCheck,
		NvdApiKeySecret:    awssecretsmanager.Secret_FromSecretCompleteArn(gov, jsii.String("Nvd"), jsii.String("arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:devsecops/nvd-api-key-AbCdEf")),
		SastTool:           devsecops.SastSonarQube,
		SonarQube: &devsecops.SonarQubeProps{
			HostURL:     jsii.String("https://sonarqube.example.com"),
			TokenSecret: awssecretsmanager.Secret_FromSecretCompleteArn(gov, jsii.String("Sonar"), jsii.String("arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:devsecops/sonar-token-GhIjKl")),
		},
		Image:                     &devsecops.ImageProps{ScanTool: devsecops.ImageTrivy, EnhancedScanning: true, ContainerName: jsii.String("web")},
		SeverityThreshold:         jsii.String("critical"),
		StagingDeploy:             devsecops.EcsDeploy(service),
		DastTargetURL:             jsii.String("https://staging.example.com"),
		DastMode:                  devsecops.DastFull,
		ProductionDeploy:          devsecops.ElasticBeanstalkDeploy("wordpress", "wordpress-prod"),
		ApproverEmails:            []string{"approver@example.com"},
		NotificationEmails:        []string{"security@example.com"},
		Governance:                &devsecops.GovernanceProps{ConfigRules: jsii.Bool(true), ConfigRecorder: jsii.Bool(true), SecurityHub: jsii.Bool(true)},
		IngestReservedConcurrency: jsii.Number(devsecops.IngestConcurrency),
	})

	// Semgrep from its Docker Hub image, through the pull-through cache.
	semgrepStack = awscdk.NewStack(app, jsii.String("Semgrep"), &awscdk.StackProps{Env: &awscdk.Environment{Account: jsii.String("123456789012"), Region: jsii.String("eu-west-1")}})
	devsecops.NewPipeline(semgrepStack, "Pipeline", &devsecops.PipelineProps{
		SastTool: devsecops.SastSemgrep,
		DockerHubCredentials: awssecretsmanager.Secret_FromSecretCompleteArn(semgrepStack, jsii.String("DockerHub"),
			jsii.String("arn:aws:secretsmanager:eu-west-1:123456789012:secret:ecr-pullthroughcache/docker-hub-MnOpQr")),
	})

	// Kubernetes: EKS staging and production, Snyk, Falco runtime findings, DAST in a VPC.
	eksStack = awscdk.NewStack(app, jsii.String("Eks"), &awscdk.StackProps{Env: &awscdk.Environment{Account: jsii.String("123456789012"), Region: jsii.String("eu-west-1")}})
	vpc := awsec2.Vpc_FromVpcAttributes(eksStack, jsii.String("Vpc"), &awsec2.VpcAttributes{
		VpcId: jsii.String("vpc-0a1b2c3d4e5f60718"), AvailabilityZones: jsii.Strings("eu-west-1a", "eu-west-1b"),
		PrivateSubnetIds: jsii.Strings("subnet-0a1b2c3d4e5f60718", "subnet-1a1b2c3d4e5f60718"),
	})
	eksPipe = devsecops.NewPipeline(eksStack, "Pipeline", &devsecops.PipelineProps{
		ScaTool: devsecops.ScaSnyk, SastTool: devsecops.SastSnyk,
		SnykTokenSecret:    awssecretsmanager.Secret_FromSecretCompleteArn(eksStack, jsii.String("Snyk"), jsii.String("arn:aws:secretsmanager:eu-west-1:123456789012:secret:devsecops/snyk-token-StUvWx")),
		StagingDeploy:      devsecops.EksDeploy(&devsecops.EksDeployProps{ClusterName: jsii.String("shop-staging"), Namespace: jsii.String("shop")}),
		DastTargetURL:      jsii.String("https://staging.shop.internal"),
		DastVpc:            vpc,
		DastSecurityGroups: []awsec2.ISecurityGroup{awsec2.SecurityGroup_FromSecurityGroupId(eksStack, jsii.String("DastSg"), jsii.String("sg-0a1b2c3d4e5f60718"), nil)},
		ProductionDeploy: devsecops.EksDeploy(&devsecops.EksDeployProps{ClusterName: jsii.String("shop-production"), Namespace: jsii.String("shop"),
			Manifests: jsii.String("deploy/k8s"), RolloutTimeout: awscdk.Duration_Minutes(jsii.Number(10))}),
		ApproverEmails:  []string{"approver@example.com"},
		RuntimeFindings: &devsecops.RuntimeFindingsProps{LogGroup: awslogs.LogGroup_FromLogGroupName(eksStack, jsii.String("FalcoLogs"), jsii.String("/eks/staging/falco"))},
	})

	// A GitHub repository through CodeConnections, the other tools, no image, no governance.
	gitStack = awscdk.NewStack(app, jsii.String("Git"), nil)
	off := jsii.Bool(false)
	gitPipe = devsecops.NewPipeline(gitStack, "Pipeline", &devsecops.PipelineProps{
		Connection: &devsecops.ConnectionSource{
			ConnectionArn: jsii.String("arn:aws:codeconnections:eu-west-1:123456789012:connection/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d"),
			Owner:         jsii.String("example"), Repo: jsii.String("shop"),
		},
		SecretsTool:       devsecops.SecretsGitSecrets,
		ScaTool:           devsecops.ScaTrivy,
		SastTool:          devsecops.SastPHPStan,
		NoImageStage:      true,
		SeverityThreshold: jsii.String("MEDIUM"),
		Governance: &devsecops.GovernanceProps{CloudTrail: off, PipelineAlarms: off, ConfigRules: off,
			StateChangeNotifications: off},
	})

	nag.ApplyPacks(app)
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}

// tmpl is a synthesized template as plain JSON, with helpers.
type tmpl struct {
	raw       string
	Resources map[string]struct {
		Type       string         `json:"Type"`
		Properties map[string]any `json:"Properties"`
	} `json:"Resources"`
}

var templates = map[string]tmpl{}

func template(t *testing.T, stack awscdk.Stack) tmpl {
	t.Helper()
	if tp, ok := templates[*stack.StackName()]; ok {
		return tp
	}
	b, err := json.Marshal(assertions.Template_FromStack(stack, nil).ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	var tp tmpl
	if err := json.Unmarshal(b, &tp); err != nil {
		t.Fatal(err)
	}
	tp.raw = string(b)
	templates[*stack.StackName()] = tp
	return tp
}

func (tp tmpl) ofType(typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range tp.Resources {
		if r.Type == typ {
			out[id] = r.Properties
		}
	}
	return out
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

var stacks = []struct {
	name  string
	stack func() awscdk.Stack
}{
	{"defaults", func() awscdk.Stack { return defaultsStack }},
	{"every option in GovCloud", func() awscdk.Stack { return gov }},
	{"CodeConnections source", func() awscdk.Stack { return gitStack }},
	{"Semgrep through the pull-through cache", func() awscdk.Stack { return semgrepStack }},
	{"EKS, Snyk, Falco and DAST in a VPC", func() awscdk.Stack { return eksStack }},
}

func TestNagClean(t *testing.T) {
	for _, s := range stacks {
		t.Run(s.name, func(t *testing.T) {
			// GIVEN the stack with the AwsSolutions, NIST 800-53 R5 and HIPAA packs applied
			// WHEN it is synthesized
			errs := nag.Errors(s.stack())
			// THEN no finding is left unsuppressed
			if len(errs) > 0 {
				t.Errorf("%d cdk-nag errors:\n%s", len(errs), strings.Join(errs, "\n"))
			}
		})
	}
}

// pipelineStages returns the stages of the one pipeline: names, and each action's name and
// run order.
func pipelineStages(t *testing.T, tp tmpl) []struct {
	Name    string
	Actions []struct {
		Name     string
		RunOrder float64
		Category string
	}
} {
	t.Helper()
	pipes := tp.ofType("AWS::CodePipeline::Pipeline")
	if len(pipes) != 1 {
		t.Fatalf("%d pipelines", len(pipes))
	}
	var out []struct {
		Name    string
		Actions []struct {
			Name     string
			RunOrder float64
			Category string
		}
	}
	for _, p := range pipes {
		var stages []struct {
			Name    string
			Actions []struct {
				Name         string
				RunOrder     float64
				ActionTypeID map[string]any `json:"ActionTypeId"`
			}
		}
		if err := json.Unmarshal([]byte(js(p["Stages"])), &stages); err != nil {
			t.Fatal(err)
		}
		for _, s := range stages {
			st := struct {
				Name    string
				Actions []struct {
					Name     string
					RunOrder float64
					Category string
				}
			}{Name: s.Name}
			for _, a := range s.Actions {
				c, _ := a.ActionTypeID["Category"].(string)
				st.Actions = append(st.Actions, struct {
					Name     string
					RunOrder float64
					Category string
				}{a.Name, a.RunOrder, c})
			}
			out = append(out, st)
		}
	}
	return out
}

func TestStageOrder(t *testing.T) {
	tests := []struct {
		name   string
		stack  func() awscdk.Stack
		stages []string
	}{
		{"defaults", func() awscdk.Stack { return defaultsStack }, []string{"Source", "Secrets", "Analysis", "Image"}},
		{"every option", func() awscdk.Stack { return gov }, []string{"Source", "Secrets", "Analysis", "Image", "Staging", "DAST", "Approval", "Production"}},
		{"no image stage", func() awscdk.Stack { return gitStack }, []string{"Source", "Secrets", "Analysis"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN a synthesized pipeline
			stages := pipelineStages(t, template(t, tt.stack()))
			// WHEN its stages are listed
			var names []string
			for _, s := range stages {
				names = append(names, s.Name)
			}
			// THEN they come in the DevSecOps order: scans before deploys, DAST and approval
			// between staging and production
			if strings.Join(names, ",") != strings.Join(tt.stages, ",") {
				t.Errorf("stages %v, want %v", names, tt.stages)
			}
			// AND SCA and SAST run in parallel in Analysis
			for _, s := range stages {
				if s.Name != "Analysis" {
					continue
				}
				if len(s.Actions) != 2 || s.Actions[0].RunOrder != s.Actions[1].RunOrder || s.Actions[0].Name != "SCA" || s.Actions[1].Name != "SAST" {
					t.Errorf("Analysis actions %+v, want SCA and SAST with the same run order", s.Actions)
				}
			}
		})
	}
	// AND every option's deploy and approval actions are of the expected kinds
	want := map[string]string{"Staging": "Deploy", "DAST": "Build", "Approval": "Approval", "Production": "Deploy"}
	for _, s := range pipelineStages(t, template(t, gov)) {
		if c, ok := want[s.Name]; ok && s.Actions[0].Category != c {
			t.Errorf("stage %s action category %s, want %s", s.Name, s.Actions[0].Category, c)
		}
	}
}

func TestSourceTriggersOnTheBranch(t *testing.T) {
	// GIVEN the default CodeCommit source and the GovCloud one on branch release
	for name, tc := range map[string]struct {
		stack  awscdk.Stack
		branch string
	}{"defaults": {defaultsStack, "main"}, "branch prop": {gov, "release"}} {
		t.Run(name, func(t *testing.T) {
			tp := template(t, tc.stack)
			// WHEN the event rules are read
			found := false
			for _, r := range tp.ofType("AWS::Events::Rule") {
				pattern := js(r["EventPattern"])
				if strings.Contains(pattern, `"aws.codecommit"`) {
					found = true
					// THEN a push to exactly that branch starts the pipeline
					if !strings.Contains(pattern, `"referenceName":["`+tc.branch+`"]`) || !strings.Contains(js(r["Targets"]), "codepipeline") {
						t.Errorf("rule pattern %s targets %s", pattern, js(r["Targets"]))
					}
				}
			}
			if !found {
				t.Error("no CodeCommit event rule")
			}
		})
	}
	// AND the CodeConnections source is on main, triggered by push through the connection
	tp := template(t, gitStack)
	if !strings.Contains(tp.raw, `"BranchName":"main"`) || !strings.Contains(tp.raw, `"FullRepositoryId":"example/shop"`) {
		t.Errorf("connection source configuration missing")
	}
}

func TestEncryptionEverywhere(t *testing.T) {
	for _, s := range stacks {
		t.Run(s.name, func(t *testing.T) {
			// GIVEN the synthesized stack
			tp := template(t, s.stack())
			// WHEN every storage resource is read
			// THEN each is encrypted with a KMS key (S3 access-log targets excepted: S3 log
			// delivery accepts only SSE-S3)
			for id, b := range tp.ofType("AWS::S3::Bucket") {
				enc := js(b["BucketEncryption"])
				if strings.Contains(id, "AccessLogs") {
					if !strings.Contains(enc, "AES256") {
						t.Errorf("%s: %s", id, enc)
					}
					continue
				}
				if !strings.Contains(enc, `"SSEAlgorithm":"aws:kms"`) || !strings.Contains(enc, "KMSMasterKeyID") {
					t.Errorf("bucket %s encryption %s", id, enc)
				}
			}
			checks := map[string]string{
				"AWS::SNS::Topic":             "KmsMasterKeyId",
				"AWS::Logs::LogGroup":         "KmsKeyId",
				"AWS::CodeBuild::Project":     "EncryptionKey",
				"AWS::ECR::Repository":        "EncryptionConfiguration",
				"AWS::CloudTrail::Trail":      "KMSKeyId",
				"AWS::CodeCommit::Repository": "KmsKeyId",
			}
			for typ, field := range checks {
				for id, r := range tp.ofType(typ) {
					if r[field] == nil {
						t.Errorf("%s %s has no %s", typ, id, field)
					}
				}
			}
			for id, p := range tp.ofType("AWS::CodePipeline::Pipeline") {
				if !strings.Contains(js(p["ArtifactStore"]), `"EncryptionKey"`) {
					t.Errorf("pipeline %s artifact store not KMS-encrypted", id)
				}
			}
			for id, k := range tp.ofType("AWS::KMS::Key") {
				if k["EnableKeyRotation"] != true {
					t.Errorf("key %s without rotation", id)
				}
			}
		})
	}
	// AND the artifact and report bucket denies puts that are not SSE-KMS
	tp := template(t, defaultsStack)
	found := false
	for _, p := range tp.ofType("AWS::S3::BucketPolicy") {
		doc := js(p["PolicyDocument"])
		if strings.Contains(doc, `"Sid":"DenyUnencryptedObjectUploads"`) && strings.Contains(doc, `{"StringNotEquals":{"s3:x-amz-server-side-encryption":"aws:kms"}}`) {
			found = true
		}
	}
	if !found {
		t.Error("no DenyUnencryptedObjectUploads statement")
	}
}

var secretName = regexp.MustCompile(`(?i)(TOKEN|SECRET|PASSWORD|API_KEY|CREDENTIAL)`)

func TestNoPlaintextSecrets(t *testing.T) {
	for _, s := range stacks {
		t.Run(s.name, func(t *testing.T) {
			// GIVEN every CodeBuild project of the stack
			tp := template(t, s.stack())
			for id, p := range tp.ofType("AWS::CodeBuild::Project") {
				var env struct {
					EnvironmentVariables []struct{ Name, Type string }
				}
				_ = json.Unmarshal([]byte(js(p["Environment"])), &env)
				// WHEN its environment variables are read
				for _, v := range env.EnvironmentVariables {
					// THEN tokens and keys come only from Secrets Manager, never as plaintext
					if secretName.MatchString(v.Name) && v.Type != "SECRETS_MANAGER" {
						t.Errorf("%s: %s is %s", id, v.Name, v.Type)
					}
					if v.Name == "AWS_ACCESS_KEY_ID" || v.Name == "AWS_SECRET_ACCESS_KEY" {
						t.Errorf("%s: AWS credentials in the environment", id)
					}
				}
			}
		})
	}
	// AND the GovCloud stack's NVD key and SonarQube token are secrets-manager variables
	tp := template(t, gov)
	for _, name := range []string{"NVD_API_KEY", "SONAR_TOKEN"} {
		if !regexp.MustCompile(`\{"Name":"` + name + `","Type":"SECRETS_MANAGER","Value":`).MatchString(tp.raw) {
			t.Errorf("%s is not a SECRETS_MANAGER variable", name)
		}
	}
}

// starResourceActions are the only actions allowed on Resource "*": each API supports no
// resource-level permissions (README.md lists them).
var starResourceActions = map[string]bool{
	"ecr:GetAuthorizationToken":  true,
	"xray:PutTraceSegments":      true,
	"xray:PutTelemetryRecords":   true,
	"inspector2:ListFindings":    true,
	"ecs:RegisterTaskDefinition": true,
	"ecs:DescribeTaskDefinition": true,
	// A CodeBuild project in a VPC (DastVpc): the policy CodeBuild documents for it names
	// these on "*" (https://docs.aws.amazon.com/codebuild/latest/userguide/auth-and-access-control-iam-identity-based-access-control.html#customer-managed-policies-example-create-vpc-network-interface);
	// the ENI permission itself is scoped to the subnets and to codebuild.amazonaws.com.
	"ec2:CreateNetworkInterface":    true,
	"ec2:DescribeDhcpOptions":       true,
	"ec2:DescribeNetworkInterfaces": true,
	"ec2:DeleteNetworkInterface":    true,
	"ec2:DescribeSubnets":           true,
	"ec2:DescribeSecurityGroups":    true,
	"ec2:DescribeVpcs":              true,
}

func TestIAMLeastPrivilege(t *testing.T) {
	for _, s := range stacks {
		t.Run(s.name, func(t *testing.T) {
			// GIVEN every identity policy of the stack
			tp := template(t, s.stack())
			var docs []any
			for _, p := range tp.ofType("AWS::IAM::Policy") {
				docs = append(docs, p["PolicyDocument"])
			}
			for _, p := range tp.ofType("AWS::IAM::ManagedPolicy") {
				docs = append(docs, p["PolicyDocument"])
			}
			for _, r := range tp.ofType("AWS::IAM::Role") {
				if pols, ok := r["Policies"].([]any); ok {
					for _, p := range pols {
						docs = append(docs, p.(map[string]any)["PolicyDocument"])
					}
				}
			}
			// WHEN their Allow statements are read
			for _, d := range docs {
				var doc struct {
					Statement []struct {
						Effect   string
						Action   any
						Resource any
					}
				}
				_ = json.Unmarshal([]byte(js(d)), &doc)
				for _, st := range doc.Statement {
					actions, resources := list(st.Action), list(st.Resource)
					// THEN no action is "*" or "service:*"
					for _, a := range actions {
						if a == "*" || strings.HasSuffix(a, ":*") {
							t.Errorf("wildcard action %s", a)
						}
					}
					// AND "*" resources appear only for APIs without resource-level permissions
					for _, r := range resources {
						if r != "*" {
							continue
						}
						for _, a := range actions {
							if !starResourceActions[a] {
								t.Errorf("action %s on Resource *", a)
							}
						}
					}
				}
			}
			// AND no role has an AWS managed policy but the two the README names
			for id, r := range tp.ofType("AWS::IAM::Role") {
				for _, m := range list(r["ManagedPolicyArns"]) {
					if strings.Contains(m, ":iam::aws:policy/") && !strings.Contains(m, "AdministratorAccess-AWSElasticBeanstalk") && !strings.Contains(m, "AWS_ConfigRole") {
						t.Errorf("role %s has AWS managed policy %s", id, m)
					}
				}
			}
		})
	}
}

func list(v any) []string {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		return []string{x}
	case []any:
		out := make([]string, len(x))
		for i, e := range x {
			if s, ok := e.(string); ok {
				out[i] = s
			} else {
				out[i] = js(e)
			}
		}
		return out
	}
	return []string{js(v)}
}

func TestPartitionAgnostic(t *testing.T) {
	// GIVEN the stack pinned to us-gov-west-1
	tp := template(t, gov)
	// WHEN its template is searched
	// THEN no ARN names the commercial partition literally
	if i := strings.Index(tp.raw, "arn:aws:"); i >= 0 {
		t.Errorf("arn:aws: literal in the GovCloud template: ...%s...", tp.raw[max(0, i-200):min(len(tp.raw), i+200)])
	}
	// AND the Security Hub import is granted on the account's default product in the stack's partition
	if !strings.Contains(tp.raw, `"Action":"securityhub:BatchImportFindings","Effect":"Allow","Resource":{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":securityhub:us-gov-west-1:123456789012:product/123456789012/default"]]}`) {
		t.Error("BatchImportFindings is not granted on the partitioned default product ARN")
	}
}

// buildspecs returns each CodeBuild project's buildspec by project description prefix.
func buildspecs(t *testing.T, tp tmpl) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, p := range tp.ofType("AWS::CodeBuild::Project") {
		desc, _ := p["Description"].(string)
		kind, _, _ := strings.Cut(desc, " (")
		spec := js(p["Source"].(map[string]any)["BuildSpec"])
		var s string
		_ = json.Unmarshal([]byte(spec), &s)
		if s == "" {
			s = spec
		}
		out[kind] = s
	}
	return out
}

func TestBuildspecsPinAndVerifyEveryTool(t *testing.T) {
	tests := []struct {
		name     string
		stack    func() awscdk.Stack
		kind     string
		releases []devsecops.Release
		images   []devsecops.ContainerImage
		ingests  []string
	}{
		{"gitleaks", func() awscdk.Stack { return defaultsStack }, "Secrets scan", []devsecops.Release{devsecops.Gitleaks}, nil, []string{"ingest gitleaks gitleaks.json"}},
		{"grype", func() awscdk.Stack { return defaultsStack }, "Software composition analysis", []devsecops.Release{devsecops.Grype}, nil, []string{"ingest grype grype.json"}},
		{"opengrep", func() awscdk.Stack { return defaultsStack }, "Static analysis", []devsecops.Release{devsecops.Opengrep}, nil, []string{"ingest opengrep opengrep.json", `opengrep scan --config "$SEMGREP_CONFIG" --json`}},
		{"semgrep", func() awscdk.Stack { return semgrepStack }, "Static analysis", nil, []devsecops.ContainerImage{devsecops.Semgrep}, []string{"ingest semgrep semgrep.json"}},
		{"image with grype and ECR", func() awscdk.Stack { return defaultsStack }, "Container image build, scan", []devsecops.Release{devsecops.Grype}, nil, []string{"ingest grype image-scan.json", "ingest ecr ecr-scan.json"}},
		{"dependency-check", func() awscdk.Stack { return gov }, "Software composition analysis", []devsecops.Release{devsecops.DependencyCheck}, nil, []string{"ingest dependency-check dependency-check/dependency-check-report.json"}},
		{"sonarqube", func() awscdk.Stack { return gov }, "Static analysis", []devsecops.Release{devsecops.SonarScanner}, nil, []string{"ingest sonarqube sonarqube.json", "-Dsonar.qualitygate.wait=true"}},
		{"image with trivy", func() awscdk.Stack { return gov }, "Container image build, scan", []devsecops.Release{devsecops.Trivy}, nil, []string{"ingest trivy image-scan.json", "ingest ecr ecr-scan.json"}},
		{"zap full scan", func() awscdk.Stack { return gov }, "Dynamic scan", []devsecops.Release{devsecops.ZAP}, nil, []string{`zap.sh -cmd -silent -autorun "$PWD/zap/plan.yaml"`, "  - type: activeScan", "template: traditional-json", "ingest zap zap/zap.json"}},
		{"git-secrets", func() awscdk.Stack { return gitStack }, "Secrets scan", []devsecops.Release{devsecops.GitSecrets}, nil, []string{"{ grep -E '^[^:]+:[0-9]+:' git-secrets.txt || true; } | cut", "ingest sarif git-secrets.sarif"}},
		{"trivy fs", func() awscdk.Stack { return gitStack }, "Software composition analysis", []devsecops.Release{devsecops.Trivy}, nil, []string{"ingest trivy trivy.json"}},
		{"phpstan", func() awscdk.Stack { return gitStack }, "Static analysis", []devsecops.Release{devsecops.PHPStan}, nil, []string{"ingest phpstan phpstan.json"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN the generated buildspec of the stage
			spec, ok := buildspecs(t, template(t, tt.stack()))[tt.kind]
			if !ok {
				t.Fatalf("no %s project", tt.kind)
			}
			// WHEN it is read
			// THEN each tool is downloaded from its pinned URL and checked against its pinned
			// SHA-256 before use, or pulled by digest
			for _, r := range tt.releases {
				if !strings.Contains(spec, "fetch "+r.URL+" "+r.SHA256+" ") {
					t.Errorf("%s %s is not fetched by pinned URL and checksum", r.Tool, r.Version)
				}
			}
			if len(tt.releases) > 0 && !strings.Contains(spec, `sha256sum --check --strict -`) {
				t.Error("fetch does not verify checksums")
			}
			for _, img := range tt.images {
				if strings.Count(spec, img.Reference) < 2 {
					t.Errorf("%s is not pulled and run by digest", img.Reference)
				}
			}
			// AND the report goes through ingest, which names the stage (so that the same tool
			// in two stages keeps two states) and fails the build at the threshold
			for _, want := range append(tt.ingests, "aws lambda invoke --function-name \"$INGEST_FUNCTION\"", `jq -e '.FunctionError'`, `at or above $SEVERITY_THRESHOLD`, `stage:$st`) {
				if !strings.Contains(spec, want) {
					t.Errorf("buildspec lacks %q", want)
				}
			}
			// AND no other tool's download sneaks in
			for _, r := range devsecops.Releases() {
				if strings.Contains(spec, r.URL) && !containsRelease(tt.releases, r) {
					t.Errorf("buildspec also fetches %s", r.Tool)
				}
			}
		})
	}
	// AND the threshold each project applies is the configured one
	for stack, want := range map[awscdk.Stack]string{defaultsStack: "HIGH", gov: "CRITICAL", gitStack: "MEDIUM"} {
		if !strings.Contains(template(t, stack).raw, `{"Name":"SEVERITY_THRESHOLD","Type":"PLAINTEXT","Value":"`+want+`"}`) {
			t.Errorf("%s: threshold %s not set", *stack.StackName(), want)
		}
	}
}

func containsRelease(rs []devsecops.Release, r devsecops.Release) bool {
	for _, x := range rs {
		if x.Tool == r.Tool {
			return true
		}
	}
	return false
}

var hex64 = regexp.MustCompile(`^[0-9a-f]{64}$`)

func TestPinnedVersions(t *testing.T) {
	// GIVEN the pinned releases and images
	for _, r := range devsecops.Releases() {
		// THEN each names its version in its URL and has a well-formed SHA-256 and its source
		if !hex64.MatchString(r.SHA256) || !strings.Contains(r.URL, r.Version) || r.ChecksumSource == "" {
			t.Errorf("%s: version %s url %s sha %q", r.Tool, r.Version, r.URL, r.SHA256)
		}
	}
	for _, img := range devsecops.ContainerImages() {
		if !regexp.MustCompile(`:` + regexp.QuoteMeta(img.Version) + `@sha256:[0-9a-f]{64}$`).MatchString(img.Reference) {
			t.Errorf("%s: reference %s is not tag@sha256", img.Tool, img.Reference)
		}
	}
	// AND Trivy stays at or below 0.69.3, never the compromised 0.69.4 (CVE-2026-33634)
	if v := version(devsecops.Trivy.Version); v > version("0.69.3") || devsecops.Trivy.Version == "0.69.4" {
		t.Errorf("Trivy %s: expected at most 0.69.3", devsecops.Trivy.Version)
	}
	// AND Dependency-Check is at least 12.1
	if version(devsecops.DependencyCheck.Version) < version("12.1.0") {
		t.Errorf("Dependency-Check %s: expected at least 12.1", devsecops.DependencyCheck.Version)
	}
}

// version orders dotted versions numerically (three parts).
func version(v string) int {
	n := 0
	parts := strings.SplitN(v, ".", 3)
	for i := 0; i < 3; i++ {
		x := 0
		if i < len(parts) {
			x, _ = strconv.Atoi(parts[i])
		}
		n = n*10000 + x
	}
	return n
}

func TestIngestFunction(t *testing.T) {
	// GIVEN the ingestion function of the default stack
	tp := template(t, defaultsStack)
	fns := tp.ofType("AWS::Lambda::Function")
	if len(fns) != 1 {
		t.Fatalf("%d functions", len(fns))
	}
	for _, fn := range fns {
		// WHEN its configuration is read
		env := js(fn["Environment"])
		// THEN it runs on provided.al2023 arm64 without reserved concurrency (opt-in: Lambda
		// keeps 100 executions unreserved, which a new account with a quota of 10 cannot,
		// https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html), and
		// knows its partition, account and URL suffix from the stack (never literals)
		for _, want := range []string{`"PARTITION":{"Ref":"AWS::Partition"}`, `"ACCOUNT_ID":{"Ref":"AWS::AccountId"}`, `"URL_SUFFIX":{"Ref":"AWS::URLSuffix"}`, `"REPORT_BUCKET":{"Ref":`, `"REPORT_KEY_ARN":{"Fn::GetAtt":[`} {
			if !strings.Contains(env, want) {
				t.Errorf("environment %s lacks %s", env, want)
			}
		}
		if fn["Runtime"] != "provided.al2023" || js(fn["Architectures"]) != `["arm64"]` || fn["ReservedConcurrentExecutions"] != nil {
			t.Errorf("runtime %v arch %v concurrency %v", fn["Runtime"], fn["Architectures"], fn["ReservedConcurrentExecutions"])
		}
	}
	// AND the GovCloud stack, which opts in, reserves the seed's concurrency
	for _, fn := range template(t, gov).ofType("AWS::Lambda::Function") {
		if fn["ReservedConcurrentExecutions"] != float64(devsecops.IngestConcurrency) {
			t.Errorf("opted-in concurrency %v", fn["ReservedConcurrentExecutions"])
		}
	}
	// AND its role writes only reports/ and state/, reads only scans/ and state/
	var policy string
	for _, p := range tp.ofType("AWS::IAM::ManagedPolicy") {
		if strings.Contains(js(p), "BatchImportFindings") {
			policy = js(p["PolicyDocument"])
		}
	}
	for _, want := range []string{`"Action":"s3:PutObject"`, `/reports/*`, `/state/*`, `"Action":"s3:GetObject"`, `/scans/*`, `{"StringLike":{"s3:prefix":"state/*"}}`, `"Action":["kms:GenerateDataKey","kms:Decrypt"]`} {
		if !strings.Contains(policy, want) {
			t.Errorf("ingest policy lacks %s: %s", want, policy)
		}
	}
	// AND every scan project may invoke it
	invokers := 0
	for _, p := range tp.ofType("AWS::IAM::Policy") {
		if strings.Contains(js(p), `"lambda:InvokeFunction"`) {
			invokers++
		}
	}
	if invokers != 4 {
		t.Errorf("%d policies grant lambda:InvokeFunction, want the 4 scan projects", invokers)
	}
}

func TestGovernance(t *testing.T) {
	// GIVEN the GovCloud stack with every governance resource and the Git stack with none
	tp, none := template(t, gov), template(t, gitStack)
	// WHEN the governance resources are read
	trails := tp.ofType("AWS::CloudTrail::Trail")
	// THEN there is one multi-region, validated, KMS-encrypted trail sending to CloudWatch Logs
	for _, tr := range trails {
		if tr["IsMultiRegionTrail"] != true || tr["EnableLogFileValidation"] != true || tr["KMSKeyId"] == nil || tr["CloudWatchLogsLogGroupArn"] == nil {
			t.Errorf("trail %s", js(tr))
		}
	}
	if len(trails) != 1 {
		t.Errorf("%d trails", len(trails))
	}
	// AND the two metric filters watch the seed's four events, with alarms to SNS
	var patterns []string
	for _, f := range tp.ofType("AWS::Logs::MetricFilter") {
		patterns = append(patterns, f["FilterPattern"].(string))
	}
	sort.Strings(patterns)
	want := []string{
		`{ ($.eventSource = "codebuild.amazonaws.com") && (($.eventName = "CreateProject") || ($.eventName = "DeleteProject")) }`,
		`{ ($.eventSource = "codepipeline.amazonaws.com") && (($.eventName = "UpdatePipeline") || ($.eventName = "DeletePipeline")) }`,
	}
	if strings.Join(patterns, "\n") != strings.Join(want, "\n") {
		t.Errorf("filter patterns:\n%s", strings.Join(patterns, "\n"))
	}
	for id, a := range tp.ofType("AWS::CloudWatch::Alarm") {
		if len(list(a["AlarmActions"])) != 1 || a["ActionsEnabled"] != true {
			t.Errorf("alarm %s actions %v", id, a["AlarmActions"])
		}
	}
	// AND the three Config rules, the recorder, Security Hub and state-change events exist
	var rules []string
	for _, r := range tp.ofType("AWS::Config::ConfigRule") {
		rules = append(rules, js(r["Source"].(map[string]any)["SourceIdentifier"]))
	}
	sort.Strings(rules)
	if fmt.Sprint(rules) != `["CLOUD_TRAIL_LOG_FILE_VALIDATION_ENABLED" "CODEBUILD_PROJECT_ENVVAR_AWSCRED_CHECK" "CODEBUILD_PROJECT_SOURCE_REPO_URL_CHECK"]` {
		t.Errorf("config rules %v", rules)
	}
	for typ, n := range map[string]int{"AWS::Config::ConfigurationRecorder": 1, "AWS::Config::DeliveryChannel": 1, "AWS::SecurityHub::Hub": 1} {
		if got := len(tp.ofType(typ)); got != n {
			t.Errorf("%d %s, want %d", got, typ, n)
		}
	}
	stateRule := false
	for _, r := range tp.ofType("AWS::Events::Rule") {
		if strings.Contains(js(r["EventPattern"]), "CodePipeline Stage Execution State Change") {
			stateRule = true
		}
	}
	if !stateRule {
		t.Error("no pipeline state-change rule")
	}
	// AND the governance switches turn each of them off
	for _, typ := range []string{"AWS::CloudTrail::Trail", "AWS::CloudWatch::Alarm", "AWS::Config::ConfigRule", "AWS::Config::ConfigurationRecorder", "AWS::SecurityHub::Hub"} {
		if got := len(none.ofType(typ)); got != 0 {
			t.Errorf("Git stack has %d %s", got, typ)
		}
	}
	// AND the approval goes to its own encrypted topic with the approvers subscribed
	subs := tp.ofType("AWS::SNS::Subscription")
	if len(subs) != 2 || !strings.Contains(js(subs), `"Endpoint":"approver@example.com"`) || !strings.Contains(js(subs), `"Endpoint":"security@example.com"`) {
		t.Errorf("subscriptions %s", js(subs))
	}
}

func TestEcsDeployRoleIsScoped(t *testing.T) {
	// GIVEN the ECS staging deploy of the GovCloud stack
	tp := template(t, gov)
	var policy string
	for _, p := range tp.ofType("AWS::IAM::ManagedPolicy") {
		if strings.Contains(js(p), "ecs:UpdateService") {
			policy = js(p["PolicyDocument"])
		}
	}
	// WHEN its policy is read
	// THEN UpdateService is granted on the one service, PassRole only to ECS tasks
	for _, want := range []string{
		`"Action":["ecs:DescribeServices","ecs:UpdateService"],"Effect":"Allow","Resource":"arn:aws-us-gov:ecs:us-gov-west-1:123456789012:service/app-cluster/app-staging"`,
		`{"StringEqualsIfExists":{"iam:PassedToService":"ecs-tasks.amazonaws.com"}}`,
	} {
		if !strings.Contains(policy, want) {
			t.Errorf("ECS deploy policy lacks %s: %s", want, policy)
		}
	}
}

func TestImageRepository(t *testing.T) {
	// GIVEN the default image repository
	for _, r := range template(t, defaultsStack).ofType("AWS::ECR::Repository") {
		// THEN it scans on push, has immutable tags, KMS and a lifecycle policy
		if js(r["ImageScanningConfiguration"]) != `{"ScanOnPush":true}` || r["ImageTagMutability"] != "IMMUTABLE" ||
			!strings.Contains(js(r["EncryptionConfiguration"]), `"EncryptionType":"KMS"`) || r["LifecyclePolicy"] == nil {
			t.Errorf("repository %s", js(r))
		}
	}
}

func TestInvalidProps(t *testing.T) {
	tests := []struct {
		name  string
		props *devsecops.PipelineProps
		want  string
	}{
		{"two sources", &devsecops.PipelineProps{Connection: &devsecops.ConnectionSource{ConnectionArn: jsii.String("a"), Owner: jsii.String("o"), Repo: jsii.String("r")}, RepositoryName: jsii.String("x")},
			"devsecops: RepositoryName names the repository the construct creates; it conflicts with ExistingRepository and Connection"},
		{"incomplete connection", &devsecops.PipelineProps{Connection: &devsecops.ConnectionSource{Owner: jsii.String("o")}}, "devsecops: Connection needs ConnectionArn, Owner and Repo"},
		{"dependency-check without key", &devsecops.PipelineProps{ScaTool: devsecops.ScaDependencyCheck},
			"devsecops: ScaTool dependency-check needs NvdApiKeySecret: Dependency-Check 12 cannot download the NVD without an API key"},
		{"unknown SCA tool", &devsecops.PipelineProps{ScaTool: "nessus"}, `devsecops: ScaTool "nessus": expected grype, trivy, dependency-check or snyk`},
		{"snyk without token", &devsecops.PipelineProps{SastTool: devsecops.SastSnyk}, "devsecops: ScaTool or SastTool snyk needs SnykTokenSecret: the Snyk CLI authenticates with an API token"},
		{"DAST VPC without DAST", &devsecops.PipelineProps{DastVpc: awsec2.Vpc_FromVpcAttributes(awscdk.NewStack(awscdk.NewApp(nil), jsii.String("V"), nil), jsii.String("V"),
			&awsec2.VpcAttributes{VpcId: jsii.String("vpc-1"), AvailabilityZones: jsii.Strings("a")})}, "devsecops: DastVpc is used only with DastTargetURL (the DAST stage)"},
		{"runtime findings without a log group", &devsecops.PipelineProps{RuntimeFindings: &devsecops.RuntimeFindingsProps{}},
			"devsecops: RuntimeFindings.LogGroup: expected the CloudWatch Logs group where Falco writes its JSON events"},
		{"EKS deploy without image", &devsecops.PipelineProps{NoImageStage: true, StagingDeploy: devsecops.EksDeploy(&devsecops.EksDeployProps{ClusterName: jsii.String("c"), Namespace: jsii.String("n")})},
			"devsecops: EksDeploy needs the image stage (imagedefinitions.json); remove NoImageStage"},
		{"sonarqube without server", &devsecops.PipelineProps{SastTool: devsecops.SastSonarQube}, "devsecops: SastTool sonarqube needs SonarQube with HostURL and TokenSecret"},
		{"bad threshold", &devsecops.PipelineProps{SeverityThreshold: jsii.String("Meduim")}, `devsecops: SeverityThreshold "Meduim": expected INFORMATIONAL, LOW, MEDIUM, HIGH or CRITICAL`},
		{"production without approvers", &devsecops.PipelineProps{ProductionDeploy: devsecops.ElasticBeanstalkDeploy("a", "b")},
			"devsecops: ProductionDeploy needs ApproverEmails: production is deployed only after a manual approval"},
		{"image and no image", &devsecops.PipelineProps{NoImageStage: true, Image: &devsecops.ImageProps{}}, "devsecops: Image conflicts with NoImageStage"},
		{"alarms without trail", &devsecops.PipelineProps{Governance: &devsecops.GovernanceProps{CloudTrail: jsii.Bool(false)}},
			"devsecops: Governance.PipelineAlarms needs Governance.CloudTrail: the alarms read the trail's log group"},
		{"bad DAST URL", &devsecops.PipelineProps{DastTargetURL: jsii.String("staging.example.com")}, `devsecops: DastTargetURL: expected an http(s) URL, got "staging.example.com"`},
		{"ECS deploy without image", &devsecops.PipelineProps{NoImageStage: true, StagingDeploy: func() devsecops.DeployActionFactory {
			return devsecops.EcsDeploy(nil)
		}()}, "devsecops: EcsDeploy needs the image stage (imagedefinitions.json); remove NoImageStage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN props that conflict or lack a required value
			scratch := awscdk.NewStack(awscdk.NewApp(nil), jsii.String("Scratch"), nil)
			// WHEN the pipeline is defined
			msg := func() (msg string) {
				defer func() { msg = fmt.Sprint(recover()) }()
				devsecops.NewPipeline(scratch, "Pipeline", tt.props)
				return ""
			}()
			// THEN it panics with one line that names the prop
			if msg != tt.want {
				t.Errorf("panic %q\nwant    %q", msg, tt.want)
			}
		})
	}
}
