package devsecops

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudtrail"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodebuild"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodecommit"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodepipeline"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodepipelineactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsconfig"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecr"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecurityhub"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/gofunction"
	"github.com/securestacks/securestacks/constructs/internal/defaults"
	"github.com/securestacks/securestacks/constructs/internal/pullthrough"
	"github.com/securestacks/securestacks/internal/nag"
)

// Stage names, in pipeline order. Stages without their props are left out.
const (
	StageSource     = "Source"
	StageSecrets    = "Secrets"
	StageAnalysis   = "Analysis" // SCA and SAST, in parallel
	StageImage      = "Image"
	StageStaging    = "Staging"
	StageDast       = "DAST"
	StageApproval   = "Approval"
	StageProduction = "Production"
)

// Pipeline is a DevSecOps CodePipeline: source, secrets scan, SCA and SAST in parallel, an
// image build-scan-push stage, staging deploy, DAST, manual approval and production deploy.
// Every scan ingests its report into Security Hub through IngestFunction and fails its build
// at the severity threshold. See README.md.
type Pipeline struct {
	constructs.Construct
	// Key encrypts artifacts, reports, log groups, topics, the trail and the image repository.
	Key awskms.IKey
	// ArtifactBucket holds pipeline artifacts, scan reports (scans/), raw report envelopes
	// (reports/) and scan state (state/). Versioned, SSE-KMS, TLS only, access-logged; puts
	// without SSE-KMS are denied.
	ArtifactBucket awss3.Bucket
	// AccessLogsBucket receives the server access logs of every bucket of the construct.
	AccessLogsBucket awss3.Bucket
	// Repository is the CodeCommit repository; nil with a Connection source.
	Repository awscodecommit.IRepository
	// Pipeline is the CodePipeline (V2).
	Pipeline awscodepipeline.Pipeline
	// IngestFunction is the asff-ingest Lambda, IngestRole its role.
	IngestFunction *gofunction.GoFunction
	IngestRole     awsiam.Role
	// RuntimeFunction is the falco-ingest Lambda, RuntimeRole its role and RuntimeSubscription
	// its subscription filter on RuntimeFindings.LogGroup; nil without RuntimeFindings.
	RuntimeFunction     *gofunction.GoFunction
	RuntimeRole         awsiam.Role
	RuntimeSubscription awslogs.SubscriptionFilter
	// SecretsProject, ScaProject and SastProject are the scan builds.
	SecretsProject, ScaProject, SastProject awscodebuild.PipelineProject
	// ImageProject builds, scans and pushes the image; nil with NoImageStage.
	ImageProject awscodebuild.PipelineProject
	// ImageRepository receives the image; nil with NoImageStage.
	ImageRepository awsecr.IRepository
	// DastProject runs ZAP; nil without DastTargetURL.
	DastProject awscodebuild.PipelineProject
	// NotificationTopic gets state changes and alarms; ApprovalTopic approval requests (nil
	// without ProductionDeploy).
	NotificationTopic, ApprovalTopic awssns.Topic
	// Trail and TrailLogGroup exist with Governance.CloudTrail.
	Trail         awscloudtrail.Trail
	TrailLogGroup awslogs.LogGroup
	// Alarms are the UpdatePipeline/DeletePipeline and CreateProject/DeleteProject alarms.
	Alarms []awscloudwatch.Alarm
	// ConfigRules are the AWS Config managed rules.
	ConfigRules []awsconfig.ManagedRule
	// SecurityHub is set with Governance.SecurityHub.
	SecurityHub awssecurityhub.CfnHub
	// PullThroughCache is the ECR pull-through cache rule for Docker Hub, with
	// DockerHubCredentials and SastSemgrep, the one stage that runs a scanner image; nil
	// otherwise.
	PullThroughCache awsecr.CfnPullThroughCacheRule

	props            resolved
	cache            *pullthrough.Cache
	source           awscodepipeline.Artifact
	imageDefinitions awscodepipeline.Artifact
	commit           *string
	recorder         awscdk.CfnResource
}

// resolved is PipelineProps with every default applied and every conflict checked.
type resolved struct {
	PipelineProps
	branch, threshold, semgrepConfig, dockerfile, container string
	governance                                              struct{ trail, alarms, rules, recorder, events, hub bool }
}

// NewPipeline defines a Pipeline at scope/id. Conflicting or missing props panic with a
// one-line message prefixed "devsecops:".
func NewPipeline(scope constructs.Construct, id string, props *PipelineProps) *Pipeline {
	p := &Pipeline{props: resolve(props)}
	constructs.NewConstruct_Override(p, scope, jsii.String(id))
	r := &p.props

	p.Key = r.EncryptionKey
	if p.Key == nil {
		p.Key = defaults.Key(p, "Key", &awskms.KeyProps{Description: jsii.String("DevSecOps pipeline: artifacts, scan reports, logs, notifications")})
	}
	p.allowServices()
	// One access-log target for every bucket of the construct.
	p.AccessLogsBucket = defaults.AccessLogsBucket(p, "AccessLogs")
	p.ArtifactBucket = defaults.Bucket(p, "ArtifactBucket", &awss3.BucketProps{EncryptionKey: p.Key, ServerAccessLogsBucket: p.AccessLogsBucket})
	p.ArtifactBucket.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("DenyUnencryptedObjectUploads"),
		Effect:     awsiam.Effect_DENY,
		Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
		Actions:    jsii.Strings("s3:PutObject"),
		Resources:  jsii.Strings(*p.ArtifactBucket.ArnForObjects(jsii.String("*"))),
		Conditions: &map[string]any{"StringNotEquals": map[string]any{"s3:x-amz-server-side-encryption": "aws:kms"}},
	}))

	p.NotificationTopic = p.topic("NotificationTopic", "DevSecOps pipeline notifications", r.NotificationEmails)
	p.newIngestFunction()
	p.newRuntimeFunction()

	p.Pipeline = awscodepipeline.NewPipeline(p, jsii.String("Pipeline"), &awscodepipeline.PipelineProps{
		ArtifactBucket:           p.ArtifactBucket,
		PipelineType:             awscodepipeline.PipelineType_V2,
		RestartExecutionOnUpdate: jsii.Bool(false),
	})
	p.addSourceStage()
	p.addScanStages()
	p.addDeployStages()
	p.addGovernance()
	p.warnOptIns()
	generated := "CodePipeline's L2 gives the pipeline, each action and the source event rule a role limited to the artifact bucket, the pipeline key and the one project, repository or topic each uses, as CDK inline default policies"
	nag.SuppressTree(p.Pipeline,
		nag.Rule{ID: "NIST.800.53.R5-IAMNoInlinePolicy", Reason: generated},
		nag.Rule{ID: "HIPAA.Security-IAMNoInlinePolicy", Reason: generated},
		nag.Rule{ID: "AwsSolutions-IAM5", Reason: "Pipeline artifacts are objects under the artifact bucket (ARN/*) read and written with the S3 and KMS action families CDK grants for artifact stores",
			AppliesTo: []string{
				"Action::s3:GetObject*", "Action::s3:GetBucket*", "Action::s3:List*", "Action::s3:DeleteObject*", "Action::s3:Abort*",
				"Action::kms:GenerateDataKey*", "Action::kms:ReEncrypt*", "Resource::<" + p.bucketLogicalID() + ".Arn>/*",
			}},
		nag.Rule{ID: "AwsSolutions-IAM4", Reason: "ElasticBeanstalkDeploy's action role needs AdministratorAccess-AWSElasticBeanstalk, the policy AWS maintains for Elastic Beanstalk deployments, which drive CloudFormation, EC2 and Auto Scaling for the environment",
			AppliesTo: []string{"Policy::arn:<AWS::Partition>:iam::aws:policy/AdministratorAccess-AWSElasticBeanstalk"}},
	)
	return p
}

func resolve(props *PipelineProps) resolved {
	r := resolved{}
	if props != nil {
		r.PipelineProps = *props
	}
	fail := func(format string, args ...any) { panic("devsecops: " + fmt.Sprintf(format, args...)) }
	switch {
	case r.Connection != nil && r.ExistingRepository != nil:
		fail("Connection conflicts with ExistingRepository; set one source")
	case r.RepositoryName != nil && (r.Connection != nil || r.ExistingRepository != nil):
		fail("RepositoryName names the repository the construct creates; it conflicts with ExistingRepository and Connection")
	case r.Connection != nil && (r.Connection.ConnectionArn == nil || r.Connection.Owner == nil || r.Connection.Repo == nil):
		fail("Connection needs ConnectionArn, Owner and Repo")
	}
	r.branch = deref(r.Branch, DefaultBranch)
	if strings.TrimSpace(r.branch) == "" {
		fail("Branch: expected a branch name, got an empty string")
	}
	if r.SecretsTool == "" {
		r.SecretsTool = SecretsGitleaks
	}
	if r.SecretsTool != SecretsGitleaks && r.SecretsTool != SecretsGitSecrets {
		fail("SecretsTool %q: expected gitleaks or git-secrets", r.SecretsTool)
	}
	if r.ScaTool == "" {
		r.ScaTool = ScaGrype
	}
	switch r.ScaTool {
	case ScaDependencyCheck:
		if r.NvdApiKeySecret == nil {
			fail("ScaTool dependency-check needs NvdApiKeySecret: Dependency-Check 12 cannot download the NVD without an API key")
		}
	case ScaGrype, ScaTrivy, ScaSnyk:
		if r.NvdApiKeySecret != nil {
			fail("NvdApiKeySecret is used only by ScaTool dependency-check, not %s", r.ScaTool)
		}
	default:
		fail("ScaTool %q: expected grype, trivy, dependency-check or snyk", r.ScaTool)
	}
	if r.SastTool == "" {
		r.SastTool = SastOpengrep
	}
	switch r.SastTool {
	case SastSonarQube:
		if r.SonarQube == nil || r.SonarQube.HostURL == nil || r.SonarQube.TokenSecret == nil {
			fail("SastTool sonarqube needs SonarQube with HostURL and TokenSecret")
		}
		if !strings.HasPrefix(*r.SonarQube.HostURL, "https://") && !strings.HasPrefix(*r.SonarQube.HostURL, "http://") {
			fail("SonarQube.HostURL: expected an http(s) URL, got %q", *r.SonarQube.HostURL)
		}
	case SastOpengrep, SastSemgrep, SastPHPStan, SastSnyk:
		if r.SonarQube != nil {
			fail("SonarQube is used only by SastTool sonarqube, not %s", r.SastTool)
		}
	default:
		fail("SastTool %q: expected opengrep, semgrep, sonarqube, phpstan or snyk", r.SastTool)
	}
	usesSnyk := r.ScaTool == ScaSnyk || r.SastTool == SastSnyk
	switch {
	case usesSnyk && r.SnykTokenSecret == nil:
		fail("ScaTool or SastTool snyk needs SnykTokenSecret: the Snyk CLI authenticates with an API token")
	case !usesSnyk && r.SnykTokenSecret != nil:
		fail("SnykTokenSecret is used only by ScaTool or SastTool snyk")
	}
	switch {
	case r.DastVpc != nil && r.DastTargetURL == nil:
		fail("DastVpc is used only with DastTargetURL (the DAST stage)")
	case r.DastVpc == nil && (r.DastSubnets != nil || len(r.DastSecurityGroups) > 0):
		fail("DastSubnets and DastSecurityGroups need DastVpc")
	}
	if r.SemgrepConfig != nil && r.SastTool != SastOpengrep && r.SastTool != SastSemgrep {
		fail("SemgrepConfig is used only by SastTool opengrep or semgrep, not %s", r.SastTool)
	}
	r.semgrepConfig = deref(r.SemgrepConfig, DefaultSemgrepConfig)
	if r.NoImageStage && r.Image != nil {
		fail("Image conflicts with NoImageStage")
	}
	if r.Image == nil {
		r.Image = &ImageProps{}
	}
	if r.Image.ScanTool == "" {
		r.Image.ScanTool = ImageGrype
	}
	if r.Image.ScanTool != ImageGrype && r.Image.ScanTool != ImageTrivy {
		fail("Image.ScanTool %q: expected grype or trivy", r.Image.ScanTool)
	}
	r.dockerfile = deref(r.Image.Dockerfile, DefaultDockerfile)
	r.container = deref(r.Image.ContainerName, DefaultContainerName)
	r.threshold = strings.ToUpper(strings.TrimSpace(deref(r.SeverityThreshold, DefaultSeverityThreshold)))
	if !validThreshold(r.threshold) {
		fail("SeverityThreshold %q: expected INFORMATIONAL, LOW, MEDIUM, HIGH or CRITICAL", deref(r.SeverityThreshold, ""))
	}
	if r.DastMode == "" {
		r.DastMode = DastBaseline
	}
	if r.DastMode != DastBaseline && r.DastMode != DastFull {
		fail("DastMode %q: expected baseline or full", r.DastMode)
	}
	if r.DastTargetURL != nil && !strings.HasPrefix(*r.DastTargetURL, "https://") && !strings.HasPrefix(*r.DastTargetURL, "http://") &&
		!*awscdk.Token_IsUnresolved(r.DastTargetURL) {
		fail("DastTargetURL: expected an http(s) URL, got %q", *r.DastTargetURL)
	}
	if r.ProductionDeploy != nil && len(r.ApproverEmails) == 0 {
		fail("ProductionDeploy needs ApproverEmails: production is deployed only after a manual approval")
	}
	if r.ProductionDeploy == nil && len(r.ApproverEmails) > 0 {
		fail("ApproverEmails are used only with ProductionDeploy")
	}
	if sec := r.DockerHubCredentials; sec != nil && !pullthrough.ValidSecretArn(sec.SecretArn()) {
		fail("DockerHubCredentials %s: expected a secret whose name starts with ecr-pullthroughcache/, as ECR pull-through cache requires", *sec.SecretArn())
	}
	if r.DockerHubCredentials != nil && r.SastTool != SastSemgrep {
		fail("DockerHubCredentials is used only by SastTool semgrep, the one stage that pulls an image from Docker Hub, not %s", r.SastTool)
	}
	if r.RuntimeFindings != nil && r.RuntimeFindings.LogGroup == nil {
		fail("RuntimeFindings.LogGroup: expected the CloudWatch Logs group where Falco writes its JSON events")
	}
	if c := r.IngestReservedConcurrency; c != nil && (*c != float64(int64(*c)) || *c < 1 || *c > 1000) {
		fail("IngestReservedConcurrency %v: expected a whole number from 1 to 1000", *c)
	}
	g := r.Governance
	if g == nil {
		g = &GovernanceProps{}
	}
	r.governance.trail = derefBool(g.CloudTrail, true)
	r.governance.alarms = derefBool(g.PipelineAlarms, true)
	r.governance.rules = derefBool(g.ConfigRules, false)
	r.governance.recorder = derefBool(g.ConfigRecorder, false)
	r.governance.events = derefBool(g.StateChangeNotifications, true)
	r.governance.hub = derefBool(g.SecurityHub, false)
	if r.governance.alarms && !r.governance.trail {
		fail("Governance.PipelineAlarms needs Governance.CloudTrail: the alarms read the trail's log group")
	}
	return r
}

// allowServices lets CloudWatch Logs use the pipeline key for the log groups of this account
// and region. CloudTrail and CloudWatch alarms get statements scoped to the trail and the
// alarms where those are created (governance.go); EventBridge gets its statement from the SNS
// rule target, which CDK adds to the key of an encrypted topic.
func (p *Pipeline) allowServices() {
	stack := awscdk.Stack_Of(p)
	p.Key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("AllowCloudWatchLogs"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("logs."+*stack.Region()+"."+*stack.UrlSuffix()), nil)},
		Actions:    jsii.Strings("kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*"), // DescribeKey carries no encryption context
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{"ArnLike": map[string]any{
			"kms:EncryptionContext:aws:logs:arn": stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String("logs"), Resource: jsii.String("log-group"), ResourceName: jsii.String("*"), ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME}),
		}},
	}), jsii.Bool(true))
}

func (p *Pipeline) topic(id, name string, emails []string) awssns.Topic {
	t := awssns.NewTopic(p, jsii.String(id), &awssns.TopicProps{DisplayName: jsii.String(name), MasterKey: p.Key, EnforceSSL: jsii.Bool(true)})
	for _, e := range emails {
		t.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(e), nil))
	}
	return t
}

func (p *Pipeline) addSourceStage() {
	r := &p.props
	p.source = awscodepipeline.NewArtifact(jsii.String("Source"), nil)
	var action awscodepipeline.IAction
	switch {
	case r.Connection != nil:
		a := awscodepipelineactions.NewCodeStarConnectionsSourceAction(&awscodepipelineactions.CodeStarConnectionsSourceActionProps{
			ActionName: jsii.String("Source"), ConnectionArn: r.Connection.ConnectionArn, Owner: r.Connection.Owner, Repo: r.Connection.Repo,
			Branch: jsii.String(r.branch), Output: p.source, TriggerOnPush: jsii.Bool(true), VariablesNamespace: jsii.String("SourceVariables"),
		})
		p.commit = a.Variables().CommitId
		action = a
	default:
		p.Repository = r.ExistingRepository
		if p.Repository == nil {
			name := deref(r.RepositoryName, strings.ToLower(*awscdk.Stack_Of(p).StackName())+"-app")
			p.Repository = awscodecommit.NewRepository(p, jsii.String("Repository"), &awscodecommit.RepositoryProps{
				RepositoryName: jsii.String(name),
				Description:    jsii.String("Application source built by the DevSecOps pipeline"),
				KmsKey:         p.Key,
			})
			// The application's history outlives the pipeline: cdk destroy or a renamed
			// repository must never delete it.
			p.Repository.ApplyRemovalPolicy(awscdk.RemovalPolicy_RETAIN)
		}
		// Trigger EVENTS: an EventBridge rule on pushes to this branch starts the pipeline.
		a := awscodepipelineactions.NewCodeCommitSourceAction(&awscodepipelineactions.CodeCommitSourceActionProps{
			ActionName: jsii.String("Source"), Repository: p.Repository, Branch: jsii.String(r.branch), Output: p.source,
			Trigger: awscodepipelineactions.CodeCommitTrigger_EVENTS, VariablesNamespace: jsii.String("SourceVariables"),
		})
		p.commit = a.Variables().CommitId
		action = a
	}
	p.Pipeline.AddStage(&awscodepipeline.StageOptions{StageName: jsii.String(StageSource), Actions: &[]awscodepipeline.IAction{action}})
}

// repositoryName is what findings name as the repository.
func (p *Pipeline) repositoryName() *string {
	if c := p.props.Connection; c != nil {
		return jsii.String(*c.Owner + "/" + *c.Repo)
	}
	return p.Repository.RepositoryName()
}

// project defines one scan build with its log group and the grants every scan needs: upload
// reports under scans/, invoke the ingestion function.
func (p *Pipeline) project(id, stage, description string, spec map[string]any, privileged bool, env map[string]*awscodebuild.BuildEnvironmentVariable) awscodebuild.PipelineProject {
	return p.projectIn(nil, id, stage, description, spec, privileged, env)
}

// network places a CodeBuild project in a VPC.
type network struct {
	vpc            awsec2.IVpc
	subnets        *awsec2.SubnetSelection
	securityGroups []awsec2.ISecurityGroup
}

// dastNetwork is the DAST project's VPC placement; nil without DastVpc.
func (r *resolved) dastNetwork() *network {
	if r.DastVpc == nil {
		return nil
	}
	return &network{vpc: r.DastVpc, subnets: r.DastSubnets, securityGroups: r.DastSecurityGroups}
}

// projectIn is project placed in net (nil: no VPC).
func (p *Pipeline) projectIn(net *network, id, stage, description string, spec map[string]any, privileged bool, env map[string]*awscodebuild.BuildEnvironmentVariable) awscodebuild.PipelineProject {
	logGroup := defaults.LogGroup(p, id+"Logs", &awslogs.LogGroupProps{EncryptionKey: p.Key})
	vars := map[string]*awscodebuild.BuildEnvironmentVariable{
		envReportBucket: plainVar(p.ArtifactBucket.BucketName()),
		envReportKey:    plainVar(p.Key.KeyArn()),
		envIngest:       plainVar(p.IngestFunction.FunctionName()),
		envThreshold:    plainVar(jsii.String(p.props.threshold)),
		envRepository:   plainVar(p.repositoryName()),
		envBranch:       plainVar(jsii.String(p.props.branch)),
		envStage:        plainVar(jsii.String(stage)),
	}
	for k, v := range env {
		vars[k] = v
	}
	props := &awscodebuild.PipelineProjectProps{
		Description:   jsii.String(description),
		BuildSpec:     awscodebuild.BuildSpec_FromObjectToYaml(&spec),
		EncryptionKey: p.Key,
		Environment: &awscodebuild.BuildEnvironment{
			BuildImage:  awscodebuild.LinuxBuildImage_STANDARD_7_0(),
			ComputeType: awscodebuild.ComputeType_MEDIUM,
			Privileged:  jsii.Bool(privileged),
		},
		EnvironmentVariables: &vars,
		Logging:              &awscodebuild.LoggingOptions{CloudWatch: &awscodebuild.CloudWatchLoggingOptions{LogGroup: logGroup}},
		Timeout:              awscdk.Duration_Minutes(jsii.Number(60)),
	}
	if net != nil {
		props.Vpc = net.vpc
		props.SubnetSelection = net.subnets
		if len(net.securityGroups) > 0 {
			props.SecurityGroups = &net.securityGroups
		}
	}
	proj := awscodebuild.NewPipelineProject(p, jsii.String(id), props)
	if net != nil {
		// CodeBuild's L2 grants the ENI actions it needs in a VPC; ec2:CreateNetworkInterface and
		// the Describe calls support no resource-level restriction it could use.
		const eni = "CodeBuild's L2 gives a project in a VPC the policy CodeBuild documents for creating its network interfaces: the EC2 Describe actions and Create/DeleteNetworkInterface on *, CreateNetworkInterfacePermission on network interfaces of the given subnets for codebuild.amazonaws.com only"
		nag.SuppressTree(proj, nag.Rule{ID: "AwsSolutions-IAM5", Reason: eni,
			AppliesTo: []string{"Resource::*", "Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:network-interface/*"}},
			nag.Rule{ID: "NIST.800.53.R5-IAMNoInlinePolicy", Reason: eni + ", as an inline policy of the project's role"},
			nag.Rule{ID: "HIPAA.Security-IAMNoInlinePolicy", Reason: eni + ", as an inline policy of the project's role"})
	}
	p.IngestFunction.GrantInvoke(proj)
	p.ArtifactBucket.GrantPut(proj, jsii.String("scans/*"))
	p.suppressProjectRole(proj)
	nag.Suppress(proj, nag.Rule{ID: "HIPAA.Security-CodeBuildProjectSourceRepoUrl",
		Reason: "The project's source is the pipeline artifact (type CODEPIPELINE), not a GitHub or Bitbucket URL, so there is no repository credential to carry by OAuth or otherwise"})
	if privileged {
		const docker = "The build runs Docker (building the image, or a scanner pinned by image digest), which CodeBuild allows only in privileged mode"
		nag.Suppress(proj, nag.Rule{ID: "AwsSolutions-CB3", Reason: docker})
	}
	return proj
}

func (p *Pipeline) bucketLogicalID() string { return logicalID(p.ArtifactBucket) }

// suppressProjectRole records why the grants CDK gives a scan project's generated role are
// acceptable, naming each wildcard.
func (p *Pipeline) suppressProjectRole(proj awscodebuild.PipelineProject) {
	id := logicalID(proj)
	bucket := p.bucketLogicalID()
	generated := "CodeBuild's generated service role receives the pipeline's artifact, key and log grants as CDK's inline default policy"
	nag.SuppressTree(proj.Role(),
		nag.Rule{ID: "NIST.800.53.R5-IAMNoInlinePolicy", Reason: generated},
		nag.Rule{ID: "HIPAA.Security-IAMNoInlinePolicy", Reason: generated},
		nag.Rule{ID: "AwsSolutions-IAM5",
			Reason: "The build reads and writes pipeline artifacts and uploads reports under scans/ (object ARNs end in /*), uses the pipeline key through the KMS GenerateDataKey*/ReEncrypt* families, writes its own log streams and report groups, and may invoke any version of the ingestion function",
			AppliesTo: []string{
				"Action::s3:GetObject*", "Action::s3:GetBucket*", "Action::s3:List*", "Action::s3:DeleteObject*", "Action::s3:Abort*",
				"Action::kms:GenerateDataKey*", "Action::kms:ReEncrypt*",
				"Resource::<" + bucket + ".Arn>/*", "Resource::<" + bucket + ".Arn>/scans/*", "Resource::<" + bucket + ".Arn>/cache/*",
				"Resource::" + p.arnPrefix("logs") + ":log-group:/aws/codebuild/<" + id + ">:*",
				"Resource::" + p.arnPrefix("codebuild") + ":report-group/<" + id + ">-*",
				"Resource::<" + logicalID(p.IngestFunction) + ".Arn>:*",
			}},
	)
}

func (p *Pipeline) arnPrefix(service string) string {
	return nag.ArnPrefix(awscdk.Stack_Of(p), service)
}

// logicalID is the template logical id of c's CloudFormation resource, as cdk-nag writes it
// in AppliesTo values.
func logicalID(c constructs.IConstruct) string {
	el, ok := c.(awscdk.CfnElement)
	if !ok {
		el = c.Node().DefaultChild().(awscdk.CfnElement)
	}
	return *awscdk.Stack_Of(c).GetLogicalId(el)
}

// suppressSecretGrant records why a project's secret grant ends in a wildcard: CodeBuild's L2
// grants the secret ARN followed by * so that "arn:json-key:version-stage" references work.
// The suppression names the exact ARN when it can be printed as cdk-nag prints it (a literal
// ARN, or a reference to a secret of the same stack); otherwise it covers the rule.
func (p *Pipeline) suppressSecretGrant(proj awscodebuild.PipelineProject, arn *string) {
	rule := nag.Rule{ID: "AwsSolutions-IAM5", Reason: "CodeBuild grants a secrets-manager environment variable's secret ARN followed by * so that json-key and version suffixes resolve; only this secret matches"}
	switch v := awscdk.Stack_Of(p).Resolve(arn).(type) {
	case string:
		rule.AppliesTo = []string{"Resource::" + v + "*"}
	case map[string]any:
		if ref, ok := v["Ref"].(string); ok {
			rule.AppliesTo = []string{"Resource::<" + ref + ">*"}
		}
	}
	nag.SuppressTree(proj.Role(), rule)
}

func secretVar(arn *string) *awscodebuild.BuildEnvironmentVariable {
	return &awscodebuild.BuildEnvironmentVariable{Type: awscodebuild.BuildEnvironmentVariableType_SECRETS_MANAGER, Value: arn}
}

func plainVar(v *string) *awscodebuild.BuildEnvironmentVariable {
	return &awscodebuild.BuildEnvironmentVariable{Type: awscodebuild.BuildEnvironmentVariableType_PLAINTEXT, Value: v}
}

// build is the CodeBuild action of a scan project, fed the commit id from the source action.
func (p *Pipeline) build(name string, proj awscodebuild.IProject, outputs ...awscodepipeline.Artifact) awscodepipeline.IAction {
	props := &awscodepipelineactions.CodeBuildActionProps{
		ActionName: jsii.String(name), Project: proj, Input: p.source, RunOrder: jsii.Number(1),
		EnvironmentVariables: &map[string]*awscodebuild.BuildEnvironmentVariable{envCommit: plainVar(p.commit)},
	}
	if len(outputs) > 0 {
		props.Outputs = &outputs
	}
	return awscodepipelineactions.NewCodeBuildAction(props)
}

func (p *Pipeline) addScanStages() {
	r := &p.props
	p.SecretsProject = p.project("SecretsScan", StageSecrets, "Secrets scan ("+string(r.SecretsTool)+") with Security Hub ingestion",
		buildSpec(secretsScript(r.SecretsTool), nil, nil), false, nil)
	p.Pipeline.AddStage(&awscodepipeline.StageOptions{StageName: jsii.String(StageSecrets),
		Actions: &[]awscodepipeline.IAction{p.build("SecretsScan", p.SecretsProject)}})

	var scaEnv map[string]*awscodebuild.BuildEnvironmentVariable
	var scaRuntimes map[string]any
	var scaCache []string
	if r.ScaTool == ScaSnyk {
		scaEnv = map[string]*awscodebuild.BuildEnvironmentVariable{envSnykToken: secretVar(r.SnykTokenSecret.SecretArn())}
	}
	if r.ScaTool == ScaDependencyCheck {
		scaEnv = map[string]*awscodebuild.BuildEnvironmentVariable{envNvdAPIKey: secretVar(r.NvdApiKeySecret.SecretArn())}
		scaRuntimes = map[string]any{"java": "corretto21"}
		scaCache = []string{"/root/.dependency-check/**/*"}
	}
	p.ScaProject = p.project("ScaScan", StageAnalysis, "Software composition analysis ("+string(r.ScaTool)+") with Security Hub ingestion",
		buildSpec(scaScript(r.ScaTool), scaRuntimes, scaCache), false, scaEnv)
	if r.NvdApiKeySecret != nil {
		p.suppressSecretGrant(p.ScaProject, r.NvdApiKeySecret.SecretArn())
	}
	if r.ScaTool == ScaSnyk {
		p.suppressSecretGrant(p.ScaProject, r.SnykTokenSecret.SecretArn())
	}
	if scaCache != nil {
		// The NVD mirror takes many minutes to build; keep it between builds.
		p.ScaProject.Node().DefaultChild().(awscodebuild.CfnProject).SetCache(&awscodebuild.CfnProject_ProjectCacheProperty{
			Type: jsii.String("S3"), Location: jsii.String(*p.ArtifactBucket.BucketName() + "/cache/dependency-check"),
		})
		p.ArtifactBucket.GrantReadWrite(p.ScaProject, jsii.String("cache/*"))
	}

	var sastEnv map[string]*awscodebuild.BuildEnvironmentVariable
	var sastRuntimes map[string]any
	privileged := false
	switch r.SastTool {
	case SastSonarQube:
		sastEnv = map[string]*awscodebuild.BuildEnvironmentVariable{
			envSonarToken:   secretVar(r.SonarQube.TokenSecret.SecretArn()),
			envSonarHost:    plainVar(r.SonarQube.HostURL),
			envSonarProject: plainVar(deref2(r.SonarQube.ProjectKey, p.repositoryName())),
		}
		sastRuntimes = map[string]any{"java": "corretto21"}
	case SastPHPStan:
		sastRuntimes = map[string]any{"php": "8.3"}
	case SastSnyk:
		sastEnv = map[string]*awscodebuild.BuildEnvironmentVariable{envSnykToken: secretVar(r.SnykTokenSecret.SecretArn())}
	case SastSemgrep:
		sastEnv = p.scannerImageEnv()
		sastEnv[envSemgrepConfig] = plainVar(jsii.String(r.semgrepConfig))
		privileged = true
	default:
		sastEnv = map[string]*awscodebuild.BuildEnvironmentVariable{envSemgrepConfig: plainVar(jsii.String(r.semgrepConfig))}
	}
	p.SastProject = p.project("SastScan", StageAnalysis, "Static analysis ("+string(r.SastTool)+") with Security Hub ingestion",
		buildSpec(sastScript(r.SastTool), sastRuntimes, nil), privileged, sastEnv)
	if r.SonarQube != nil {
		p.suppressSecretGrant(p.SastProject, r.SonarQube.TokenSecret.SecretArn())
	}
	if r.SastTool == SastSnyk {
		p.suppressSecretGrant(p.SastProject, r.SnykTokenSecret.SecretArn())
	}
	if r.SastTool == SastSemgrep {
		p.grantScannerImages(p.SastProject)
	}
	// SCA and SAST run in parallel, as in the seed: the same runOrder in one stage.
	p.Pipeline.AddStage(&awscodepipeline.StageOptions{StageName: jsii.String(StageAnalysis),
		Actions: &[]awscodepipeline.IAction{p.build("SCA", p.ScaProject), p.build("SAST", p.SastProject)}})

	if r.NoImageStage {
		return
	}
	p.ImageRepository = r.Image.Repository
	if p.ImageRepository == nil {
		p.ImageRepository = awsecr.NewRepository(p, jsii.String("ImageRepository"), &awsecr.RepositoryProps{
			ImageScanOnPush:    jsii.Bool(true),
			ImageTagMutability: awsecr.TagMutability_IMMUTABLE,
			Encryption:         awsecr.RepositoryEncryption_KMS(),
			EncryptionKey:      p.Key,
			LifecycleRules:     &[]*awsecr.LifecycleRule{{Description: jsii.String("Keep the last 100 images"), MaxImageCount: jsii.Number(100)}},
			RemovalPolicy:      awscdk.RemovalPolicy_RETAIN,
		})
	}
	enhanced := "false"
	if r.Image.EnhancedScanning {
		enhanced = "true"
	}
	p.ImageProject = p.project("ImageBuild", StageImage, "Container image build, scan ("+string(r.Image.ScanTool)+"), push and ECR scan ingestion",
		buildSpec(imageScript(r.Image.ScanTool), nil, nil, "imagedefinitions.json"), true,
		map[string]*awscodebuild.BuildEnvironmentVariable{
			envEcrURI:        plainVar(p.ImageRepository.RepositoryUri()),
			envEcrName:       plainVar(p.ImageRepository.RepositoryName()),
			envEcrEnhanced:   plainVar(jsii.String(enhanced)),
			envDockerfile:    plainVar(jsii.String(r.dockerfile)),
			envContainerName: plainVar(jsii.String(r.container)),
		})
	p.ImageRepository.GrantPullPush(p.ImageProject)
	p.ImageRepository.Grant(p.ImageProject, jsii.String("ecr:DescribeImages"), jsii.String("ecr:DescribeImageScanFindings"))
	if r.Image.EnhancedScanning {
		// Enhanced findings come from Inspector, whose ListFindings has no resource-level permissions.
		p.ImageProject.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("ReadInspectorFindings"), Actions: jsii.Strings("inspector2:ListFindings"), Resources: jsii.Strings("*"),
		}))
	}
	nag.SuppressTree(p.ImageProject.Role(), nag.Rule{ID: "AwsSolutions-IAM5",
		Reason:    "ecr:GetAuthorizationToken and inspector2:ListFindings support no resource-level permissions, so they must name *",
		AppliesTo: []string{"Resource::*"}})
	p.imageDefinitions = awscodepipeline.NewArtifact(jsii.String("ImageDefinitions"), nil)
	p.Pipeline.AddStage(&awscodepipeline.StageOptions{StageName: jsii.String(StageImage),
		Actions: &[]awscodepipeline.IAction{p.build("BuildScanPush", p.ImageProject, p.imageDefinitions)}})
}

func (p *Pipeline) addDeployStages() {
	r := &p.props
	ctx := func(stage string) DeployContext {
		return DeployContext{Stage: stage, Source: p.source, ImageDefinitions: p.imageDefinitions}
	}
	if r.StagingDeploy != nil {
		p.Pipeline.AddStage(&awscodepipeline.StageOptions{StageName: jsii.String(StageStaging),
			Actions: &[]awscodepipeline.IAction{r.StagingDeploy(p, ctx(StageStaging))}})
	}
	if r.DastTargetURL != nil {
		dastEnv := map[string]*awscodebuild.BuildEnvironmentVariable{envDastTarget: plainVar(r.DastTargetURL)}
		p.DastProject = p.projectIn(r.dastNetwork(), "DastScan", StageDast, "Dynamic scan (ZAP "+string(r.DastMode)+") of staging with Security Hub ingestion",
			buildSpec(dastScript(r.DastMode), map[string]any{"java": "corretto21"}, nil), false, dastEnv)
		p.Pipeline.AddStage(&awscodepipeline.StageOptions{StageName: jsii.String(StageDast),
			Actions: &[]awscodepipeline.IAction{p.build("ZAP", p.DastProject)}})
	}
	if r.ProductionDeploy == nil {
		return
	}
	p.ApprovalTopic = p.topic("ApprovalTopic", "DevSecOps production approvals", r.ApproverEmails)
	p.Pipeline.AddStage(&awscodepipeline.StageOptions{StageName: jsii.String(StageApproval),
		Actions: &[]awscodepipeline.IAction{awscodepipelineactions.NewManualApprovalAction(&awscodepipelineactions.ManualApprovalActionProps{
			ActionName:            jsii.String("ApproveProduction"),
			NotificationTopic:     p.ApprovalTopic,
			AdditionalInformation: jsii.String("Every scan passed the severity threshold " + r.threshold + ". Review the findings in Security Hub before approving."),
		})}})
	p.Pipeline.AddStage(&awscodepipeline.StageOptions{StageName: jsii.String(StageProduction),
		Actions: &[]awscodepipeline.IAction{r.ProductionDeploy(p, ctx(StageProduction))}})
}

// The ids of the synth warnings for the seed's features this construct leaves opt-in, one
// per feature the props leave off.
const (
	WarnConfigRules         = "securestacks:devsecops-config-rules-off"
	WarnConfigRecorder      = "securestacks:devsecops-config-rules-need-a-recorder"
	WarnReservedConcurrency = "securestacks:devsecops-ingest-concurrency-unreserved"
	WarnSecurityHub         = "securestacks:devsecops-security-hub-prerequisite"
	WarnDockerHubAnonymous  = "securestacks:devsecops-docker-hub-anonymous"
)

// warnOptIns prints one synth warning for each feature of the seed posts that the props leave
// off because it needs more than the CDK bootstrap in a fresh account.
func (p *Pipeline) warnOptIns() {
	r := &p.props
	warn := func(id, text string) { awscdk.Annotations_Of(p).AddWarningV2(jsii.String(id), jsii.String(text), nil) }
	switch {
	case !r.governance.rules:
		warn(WarnConfigRules, "Governance.ConfigRules is off: the seed's AWS Config rules need a configuration recorder in the account; turn them on where one records (aws configservice describe-configuration-recorder-status)")
	case !r.governance.recorder:
		warn(WarnConfigRecorder, "Governance.ConfigRules needs a configuration recorder in this account and region, which this stack does not create (Governance.ConfigRecorder); without one the deploy fails with NoAvailableConfigurationRecorderException")
	}
	if r.IngestReservedConcurrency == nil {
		warn(WarnReservedConcurrency, fmt.Sprintf("IngestReservedConcurrency is not set: the ingestion function shares the account's unreserved concurrency; the seed reserved %d, which accounts with a low concurrency quota refuse", IngestConcurrency))
	}
	if r.DockerHubCredentials == nil && r.SastTool == SastSemgrep {
		warn(WarnDockerHubAnonymous, "DockerHubCredentials is not set: the Semgrep image is pulled from Docker Hub anonymously, which allows about 10 pulls an hour per IP address that CodeBuild builds share; set it to pull the image once through an ECR pull-through cache, or use SastTool opengrep (the default), which needs no image")
	}
	if !r.governance.hub {
		warn(WarnSecurityHub, "Governance.SecurityHub is off: Security Hub must already be enabled in this account and region, or every scan's ingestion fails (aws securityhub describe-hub)")
	}
}

// DockerHubUpstream is the upstream registry URL of Docker Hub for ECR pull-through cache.
const DockerHubUpstream = pullthrough.DockerHubUpstream

// scannerImageEnv is the environment of a project that runs a scanner image: SCANNER_REGISTRY,
// the cache's registry and repository prefix, with DockerHubCredentials; nothing (Docker Hub)
// without. It creates the cache rule on first use.
func (p *Pipeline) scannerImageEnv() map[string]*awscodebuild.BuildEnvironmentVariable {
	env := map[string]*awscodebuild.BuildEnvironmentVariable{}
	secret := p.props.DockerHubCredentials
	if secret == nil {
		return env
	}
	if p.cache == nil {
		p.cache = pullthrough.New(p, "DockerHubCache", secret)
		p.PullThroughCache = p.cache.Rule
	}
	env[envScannerRegistry] = plainVar(jsii.String(p.cache.Registry()))
	return env
}

// grantScannerImages lets proj pull the scanner images through the cache, including the first
// pull, which creates the cached repository and imports the image.
func (p *Pipeline) grantScannerImages(proj awscodebuild.PipelineProject) {
	if p.cache == nil {
		return
	}
	for _, st := range p.cache.Statements() {
		proj.AddToRolePolicy(st)
	}
	p.cache.SuppressWildcards(proj.Role())
}

func deref(s *string, d string) string {
	if s == nil {
		return d
	}
	return *s
}

func deref2(s *string, d *string) *string {
	if s == nil {
		return d
	}
	return s
}

func derefBool(b *bool, d bool) bool {
	if b == nil {
		return d
	}
	return *b
}

// GrantReadReports lets grantee read the stored scan reports (scans/) and raw report envelopes
// (reports/), the objects every finding's SourceUrl points to, and decrypt them with Key.
func (p *Pipeline) GrantReadReports(grantee awsiam.IGrantable) {
	p.ArtifactBucket.GrantRead(grantee, jsii.String("reports/*"))
	p.ArtifactBucket.GrantRead(grantee, jsii.String("scans/*"))
}
