package devsecops

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodecommit"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodepipeline"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecr"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
)

// SecretsTool scans the source for committed credentials.
type SecretsTool string

// Secrets scanners.
const (
	// SecretsGitleaks runs gitleaks over the working tree (default).
	SecretsGitleaks SecretsTool = "gitleaks"
	// SecretsGitSecrets runs awslabs/git-secrets with the AWS patterns, as in the
	// Kubernetes seed post; its text output is turned into SARIF.
	SecretsGitSecrets SecretsTool = "git-secrets"
)

// ScaTool scans dependencies for known vulnerabilities.
type ScaTool string

// SCA scanners.
const (
	// ScaGrype runs Grype over the source tree (default: no API key needed).
	ScaGrype ScaTool = "grype"
	// ScaTrivy runs trivy fs (vulnerabilities, misconfigurations and secrets).
	ScaTrivy ScaTool = "trivy"
	// ScaDependencyCheck runs OWASP Dependency-Check, as in the first seed post. Requires
	// NvdApiKeySecret.
	ScaDependencyCheck ScaTool = "dependency-check"
	// ScaSnyk runs `snyk test --all-projects`, as in the Kubernetes seed post. Requires
	// SnykTokenSecret.
	ScaSnyk ScaTool = "snyk"
)

// SastTool analyses source code.
type SastTool string

// SAST scanners.
const (
	// SastOpengrep runs Opengrep, the community fork of Semgrep CE, with SemgrepConfig
	// (default). It is one checksummed binary: no container image, no Docker Hub.
	SastOpengrep SastTool = "opengrep"
	// SastSemgrep runs Semgrep with SemgrepConfig from its official image, which is on Docker
	// Hub only: set DockerHubCredentials to pull it through an ECR pull-through cache.
	SastSemgrep SastTool = "semgrep"
	// SastSonarQube runs the SonarScanner against a SonarQube server, waits for the quality
	// gate and ingests the open issues. Requires SonarQube.
	SastSonarQube SastTool = "sonarqube"
	// SastPHPStan runs PHPStan, as in the first seed post.
	SastPHPStan SastTool = "phpstan"
	// SastSnyk runs `snyk code test` (Snyk Code) and ingests its SARIF. Requires
	// SnykTokenSecret.
	SastSnyk SastTool = "snyk"
)

// ImageScanTool scans the built container image before it is pushed.
type ImageScanTool string

// Image scanners.
const (
	// ImageGrype scans the image with Grype (default).
	ImageGrype ImageScanTool = "grype"
	// ImageTrivy scans the image with trivy image.
	ImageTrivy ImageScanTool = "trivy"
)

// DastMode selects the ZAP scan.
type DastMode string

// ZAP scans.
const (
	// DastBaseline is zap-baseline.py: passive scan, safe against shared staging (default).
	DastBaseline DastMode = "baseline"
	// DastFull is zap-full-scan.py: active attacks; use only against a disposable staging.
	DastFull DastMode = "full"
)

// Severity thresholds (Security Hub labels).
const (
	SeverityInformational = "INFORMATIONAL"
	SeverityLow           = "LOW"
	SeverityMedium        = "MEDIUM"
	SeverityHigh          = "HIGH"
	SeverityCritical      = "CRITICAL"
)

// Defaults of PipelineProps.
const (
	DefaultBranch            = "main"
	DefaultSeverityThreshold = SeverityHigh
	DefaultSemgrepConfig     = "p/default"
	DefaultDockerfile        = "Dockerfile"
	DefaultContainerName     = "app"
)

// ConnectionSource is a GitHub, GitLab or Bitbucket repository reached through an AWS
// CodeConnections connection. The pipeline starts on push through the connection.
type ConnectionSource struct {
	// ConnectionArn is the connection's ARN (arn:<partition>:codeconnections:... or the older
	// codestar-connections ARN). Required.
	ConnectionArn *string
	// Owner is the repository owner or workspace. Required.
	Owner *string
	// Repo is the repository name. Required.
	Repo *string
}

// SonarQubeProps point the SAST stage at a SonarQube server.
type SonarQubeProps struct {
	// HostURL is the server, e.g. https://sonarqube.example.com. Required.
	HostURL *string
	// TokenSecret holds the analysis token (the whole secret string). Required; it reaches the
	// build only as a secrets-manager environment variable.
	TokenSecret awssecretsmanager.ISecret
	// ProjectKey is the SonarQube project. Default: the repository name.
	ProjectKey *string
}

// ImageProps configure the container image stage.
type ImageProps struct {
	// Repository receives the image. Default: a new ECR repository with scan-on-push, immutable
	// tags, KMS encryption with the pipeline key and a lifecycle of 100 images.
	Repository awsecr.IRepository
	// ScanTool scans the image before it is pushed. Default ImageGrype.
	ScanTool ImageScanTool
	// EnhancedScanning reads Amazon Inspector (enhanced scanning) findings instead of basic
	// scan findings. It does not switch the registry to enhanced scanning, which is an
	// account-wide setting; turn that on in the account. Default false. Note that Inspector
	// already sends enhanced findings to Security Hub; ingesting them too shows them with
	// the repository and branch.
	EnhancedScanning bool
	// Dockerfile is the path of the Dockerfile in the repository. The stage builds only when it
	// exists. Default "Dockerfile".
	Dockerfile *string
	// ContainerName is the name in imagedefinitions.json, the container an ECS deployment
	// updates. Default "app".
	ContainerName *string
}

// GovernanceProps switch the governance resources. CloudTrail, PipelineAlarms and
// StateChangeNotifications default to on. ConfigRules, ConfigRecorder and SecurityHub default
// to off: the rules need a configuration recorder, and the recorder and Security Hub are
// account-wide singletons that fail to deploy when the account already has one. Synth warns
// about each seed feature left off (WarnConfigRules, WarnSecurityHub).
type GovernanceProps struct {
	// CloudTrail creates a multi-region trail with log-file validation, KMS encryption and a
	// CloudWatch Logs group. Default true. Required by PipelineAlarms.
	CloudTrail *bool
	// PipelineAlarms adds metric filters and alarms on UpdatePipeline, DeletePipeline,
	// CreateProject and DeleteProject, notified to NotificationEmails. Default true.
	PipelineAlarms *bool
	// ConfigRules adds CODEBUILD_PROJECT_ENVVAR_AWSCRED_CHECK,
	// CODEBUILD_PROJECT_SOURCE_REPO_URL_CHECK and CLOUD_TRAIL_LOG_FILE_VALIDATION_ENABLED.
	// They need a configuration recorder in the account and region (this stack's
	// ConfigRecorder, or one managed centrally); without one the deploy fails with
	// NoAvailableConfigurationRecorderException. Default false.
	ConfigRules *bool
	// ConfigRecorder creates the account's AWS Config recorder and delivery channel. Default
	// false: an account has at most one, usually managed centrally.
	ConfigRecorder *bool
	// StateChangeNotifications sends pipeline and stage state changes to NotificationEmails.
	// Default true.
	StateChangeNotifications *bool
	// SecurityHub enables Security Hub in this account and region. Default false: it fails when
	// Security Hub is already enabled, which is the usual case.
	SecurityHub *bool
}

// RuntimeFindingsProps subscribe the falco-ingest Lambda to the CloudWatch Logs group where
// Falco writes its events as JSON (json_output: true, through FireLens or falcosidekick's
// CloudWatch Logs output). Each event becomes an ASFF finding whose id is the rule and the
// workload (namespace, pod, container), so a repeated event updates its finding; the raw
// events are stored under runtime/ in the artifact bucket first.
type RuntimeFindingsProps struct {
	// LogGroup receives Falco's JSON events, one per log event. Required. A log group has at
	// most two subscription filters; this one uses one.
	LogGroup awslogs.ILogGroup
}

// DeployContext is what a DeployActionFactory gets to build its action.
type DeployContext struct {
	// Stage is "Staging" or "Production".
	Stage string
	// Source is the source artifact (for Elastic Beanstalk and similar bundle deploys).
	Source awscodepipeline.Artifact
	// ImageDefinitions is imagedefinitions.json from the image stage, nil without one.
	ImageDefinitions awscodepipeline.Artifact
}

// DeployActionFactory builds the deploy action of one stage. ElasticBeanstalkDeploy,
// EcsDeploy and EksDeploy are ready-made; anything that returns a CodePipeline action works.
type DeployActionFactory func(scope constructs.Construct, ctx DeployContext) awscodepipeline.IAction

// PipelineProps configure a Pipeline. A nil *PipelineProps means a new CodeCommit repository,
// branch main, gitleaks, Grype, Semgrep, a Grype-scanned image stage, threshold HIGH, no deploy
// or DAST stages, and every default governance resource.
type PipelineProps struct {
	// RepositoryName names the CodeCommit repository the construct creates. Default
	// "<stack name>-app" in lower case. Conflicts with ExistingRepository and Connection.
	RepositoryName *string
	// ExistingRepository is a CodeCommit repository to build. Conflicts with Connection.
	ExistingRepository awscodecommit.IRepository
	// Connection builds a GitHub, GitLab or Bitbucket repository instead. Conflicts with
	// ExistingRepository and RepositoryName.
	Connection *ConnectionSource
	// Branch triggers and feeds the pipeline. Default "main".
	Branch *string

	// SecretsTool default SecretsGitleaks.
	SecretsTool SecretsTool
	// ScaTool default ScaGrype.
	ScaTool ScaTool
	// NvdApiKeySecret holds an NVD API key (the whole secret string). Required with
	// ScaDependencyCheck, which cannot download the NVD without one; conflicts with the others.
	NvdApiKeySecret awssecretsmanager.ISecret
	// SnykTokenSecret holds a Snyk API token (the whole secret string). Required with ScaSnyk
	// or SastSnyk; conflicts with the other tools. It reaches the build only as a
	// secrets-manager environment variable (SNYK_TOKEN).
	SnykTokenSecret awssecretsmanager.ISecret
	// SastTool default SastOpengrep.
	SastTool SastTool
	// SemgrepConfig is the --config of Opengrep or Semgrep: a registry ruleset or a path in the
	// repository. Default "p/default".
	SemgrepConfig *string
	// SonarQube is required with SastSonarQube and conflicts with the other SAST tools.
	SonarQube *SonarQubeProps
	// Image configures the container image stage. Default: the stage with ImageProps defaults.
	// Conflicts with NoImageStage.
	Image *ImageProps
	// NoImageStage leaves the container image stage out. Default false.
	NoImageStage bool

	// SeverityThreshold fails a scan build when the report has a finding at or above it:
	// INFORMATIONAL, LOW, MEDIUM, HIGH or CRITICAL. Default HIGH.
	SeverityThreshold *string

	// StagingDeploy deploys to staging. Default: no staging stage.
	StagingDeploy DeployActionFactory
	// DastTargetURL is the staging URL ZAP scans. Default: no DAST stage.
	DastTargetURL *string
	// DastMode default DastBaseline.
	DastMode DastMode
	// DastVpc runs the DAST build in this VPC, so that ZAP reaches a staging application that
	// is not public (an internal load balancer). The subnets need a route to the internet
	// (NAT) to download ZAP. Default: no VPC. Requires DastTargetURL.
	DastVpc awsec2.IVpc
	// DastSubnets selects the DAST build's subnets in DastVpc. Default: the private subnets
	// with egress. Requires DastVpc.
	DastSubnets *awsec2.SubnetSelection
	// DastSecurityGroups are the DAST build's security groups; allow them in the staging load
	// balancer's security group. Default: one new group with all outbound traffic allowed.
	// Requires DastVpc.
	DastSecurityGroups []awsec2.ISecurityGroup
	// ProductionDeploy deploys to production after a manual approval. Default: no approval
	// and production stages. Requires ApproverEmails.
	ProductionDeploy DeployActionFactory
	// ApproverEmails receive the approval request (an SNS topic encrypted with the pipeline
	// key). Required with ProductionDeploy.
	ApproverEmails []string
	// NotificationEmails receive pipeline state changes and governance alarms. Default: none
	// (the topic exists; subscribe later).
	NotificationEmails []string

	// DockerHubCredentials is a Secrets Manager secret of this account and region whose name
	// starts with "ecr-pullthroughcache/", holding {"username", "accessToken"} of a Docker Hub
	// account. With it the construct creates an ECR pull-through cache rule for Docker Hub and
	// the SastSemgrep stage pulls its pinned image through it: Docker Hub is asked once per
	// image, and builds pull from this account's ECR. Only SastSemgrep needs Docker Hub; every
	// other tool, ZAP included, is a checksummed download. Default: none, and a SastSemgrep
	// image is pulled from Docker Hub anonymously, which Docker Hub limits to about 10 pulls an
	// hour per IP address (CodeBuild builds share addresses); synth warns.
	DockerHubCredentials awssecretsmanager.ISecret

	// IngestReservedConcurrency reserves concurrency for the ingestion function, as the seed
	// did (IngestConcurrency). Default: none, because Lambda refuses a reservation that would
	// leave the account less than 100 unreserved executions, which new accounts with a quota of
	// 10 cannot meet. 1 to 1000.
	IngestReservedConcurrency *float64

	// RuntimeFindings imports the runtime events of Falco on your clusters into Security Hub.
	// Default: none.
	RuntimeFindings *RuntimeFindingsProps

	// Governance switches the governance resources. Default: see GovernanceProps.
	Governance *GovernanceProps

	// EncryptionKey encrypts artifacts, reports, logs, topics and the image repository.
	// Default: a new key with rotation. A key you pass must let CloudWatch Logs, SNS from
	// EventBridge and CloudWatch, and CloudTrail use it; the construct adds those statements
	// only to its own key.
	EncryptionKey awskms.IKey
}
