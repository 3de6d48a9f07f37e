package stacks

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodecommit"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/devsecops"
)

// DevSecOpsConfig is the "devSecOps" section of an environment. A missing section means every
// default: a new CodeCommit repository "<env>-sample-app" (retained on delete) on branch main,
// gitleaks, Grype, Opengrep, the image stage, threshold HIGH, no deploy targets (so no DAST or
// approval), the trail, alarms and state-change notifications; Config rules, the recorder,
// Security Hub and reserved concurrency are opt-in (synth warns about each one left off).
type DevSecOpsConfig struct {
	// RepositoryName names the CodeCommit repository the stack creates. Default
	// "<env>-sample-app". Conflicts with existingRepository and connection.
	RepositoryName string `json:"repositoryName,omitempty"`
	// ExistingRepository is the name of a CodeCommit repository to build instead. Conflicts
	// with connection.
	ExistingRepository string `json:"existingRepository,omitempty"`
	// Connection builds a GitHub, GitLab or Bitbucket repository through CodeConnections.
	Connection *DevSecOpsConnection `json:"connection,omitempty"`
	// Branch starts the pipeline on push. Default "main".
	Branch string `json:"branch,omitempty"`

	// SecretsTool is gitleaks (default) or git-secrets.
	SecretsTool string `json:"secretsTool,omitempty"`
	// ScaTool is grype (default), trivy, dependency-check or snyk.
	ScaTool string `json:"scaTool,omitempty"`
	// NvdAPIKeySecretArn is the complete ARN of the Secrets Manager secret holding an NVD API
	// key. Required with scaTool dependency-check.
	NvdAPIKeySecretArn string `json:"nvdApiKeySecretArn,omitempty"`
	// SnykTokenSecretArn is the complete ARN of the Secrets Manager secret holding a Snyk API
	// token. Required with scaTool or sastTool snyk.
	SnykTokenSecretArn string `json:"snykTokenSecretArn,omitempty"`
	// SastTool is opengrep (default), semgrep, sonarqube, phpstan or snyk.
	SastTool string `json:"sastTool,omitempty"`
	// SemgrepConfig is the --config of Opengrep or Semgrep. Default "p/default".
	SemgrepConfig string `json:"semgrepConfig,omitempty"`
	// SonarQube is required with sastTool sonarqube.
	SonarQube *DevSecOpsSonarQube `json:"sonarQube,omitempty"`
	// ImageScanTool is grype (default) or trivy.
	ImageScanTool string `json:"imageScanTool,omitempty"`
	// EnhancedScanning reads Amazon Inspector findings of the image. Default false.
	EnhancedScanning bool `json:"enhancedScanning,omitempty"`
	// NoImageStage leaves out the container image stage. Default false.
	NoImageStage bool `json:"noImageStage,omitempty"`
	// ContainerName is the container an ECS deploy updates. Default "app".
	ContainerName string `json:"containerName,omitempty"`
	// SeverityThreshold fails a scan at or above it: INFORMATIONAL, LOW, MEDIUM, HIGH
	// (default) or CRITICAL.
	SeverityThreshold string `json:"severityThreshold,omitempty"`

	// Staging and Production are the deploy targets. Production needs approverEmails.
	Staging    *DevSecOpsTarget `json:"staging,omitempty"`
	Production *DevSecOpsTarget `json:"production,omitempty"`
	// DastTargetURL is the staging URL ZAP scans. Default: no DAST stage.
	DastTargetURL string `json:"dastTargetUrl,omitempty"`
	// DastMode is baseline (default) or full.
	DastMode string `json:"dastMode,omitempty"`
	// DastVpc runs ZAP in a VPC, to scan a staging application that is not public.
	DastVpc *DevSecOpsDastVpc `json:"dastVpc,omitempty"`
	// RuntimeFindings imports Falco's events from a CloudWatch Logs group into Security Hub.
	RuntimeFindings *DevSecOpsRuntimeFindings `json:"runtimeFindings,omitempty"`
	// ApproverEmails approve production deploys. NotificationEmails receive state changes and
	// alarms.
	ApproverEmails     []string `json:"approverEmails,omitempty"`
	NotificationEmails []string `json:"notificationEmails,omitempty"`

	// DockerHubCredentialsSecretArn is the complete ARN of a secret named
	// "ecr-pullthroughcache/..." holding a Docker Hub username and access token, only with
	// sastTool semgrep: the Semgrep image is then pulled through an ECR pull-through cache the
	// stack creates. Default: anonymous Docker Hub pulls (rate-limited; synth warns). No other
	// tool uses Docker Hub.
	DockerHubCredentialsSecretArn string `json:"dockerHubCredentialsSecretArn,omitempty"`
	// IngestReservedConcurrency reserves concurrency for the ingestion function, 1 to 1000.
	// Default: none (new accounts cannot reserve any; see devsecops.PipelineProps).
	IngestReservedConcurrency int `json:"ingestReservedConcurrency,omitempty"`

	// Governance toggles; each left out keeps the construct's default.
	Governance *DevSecOpsGovernance `json:"governance,omitempty"`
}

// DevSecOpsConnection is a CodeConnections source.
type DevSecOpsConnection struct {
	// ConnectionArn, Owner and Repo are required.
	ConnectionArn string `json:"connectionArn"`
	Owner         string `json:"owner"`
	Repo          string `json:"repo"`
}

// DevSecOpsSonarQube points SAST at a SonarQube server.
type DevSecOpsSonarQube struct {
	// HostURL is the server URL. Required.
	HostURL string `json:"hostUrl"`
	// TokenSecretArn is the complete ARN of the secret holding the analysis token. Required.
	TokenSecretArn string `json:"tokenSecretArn"`
	// ProjectKey defaults to the repository name.
	ProjectKey string `json:"projectKey,omitempty"`
}

// DevSecOpsTarget is one deploy target: exactly one of elasticBeanstalk, ecsServiceArn and
// type eks.
type DevSecOpsTarget struct {
	// Type "eks" deploys with kubectl to Cluster/Namespace (devsecops.EksDeploy). Empty for
	// the other targets.
	Type string `json:"type,omitempty"`
	// Cluster is the existing EKS cluster's name, Namespace the Kubernetes namespace (both
	// required with type eks), Manifests the repository directory of the manifests (default
	// "k8s"), RolloutTimeoutMinutes the rollout wait (default 5).
	Cluster               string `json:"cluster,omitempty"`
	Namespace             string `json:"namespace,omitempty"`
	Manifests             string `json:"manifests,omitempty"`
	RolloutTimeoutMinutes int    `json:"rolloutTimeoutMinutes,omitempty"`
	// ElasticBeanstalk deploys the source bundle to an Elastic Beanstalk environment.
	ElasticBeanstalk *DevSecOpsBeanstalk `json:"elasticBeanstalk,omitempty"`
	// EcsServiceArn rolls the built image out to this ECS service (in the environment's
	// account and region).
	EcsServiceArn string `json:"ecsServiceArn,omitempty"`
}

// DevSecOpsDastVpc places the DAST build in existing subnets of an existing VPC. The subnets
// need a route to the internet (NAT) to download ZAP and to reach Security Hub's ingestion.
type DevSecOpsDastVpc struct {
	// VpcID, SubnetIDs and SecurityGroupIDs are required.
	VpcID            string   `json:"vpcId"`
	SubnetIDs        []string `json:"subnetIds"`
	SecurityGroupIDs []string `json:"securityGroupIds"`
}

// DevSecOpsRuntimeFindings names the log group where Falco writes its JSON events.
type DevSecOpsRuntimeFindings struct {
	// LogGroupName is the existing CloudWatch Logs group. Required.
	LogGroupName string `json:"logGroupName"`
}

// DevSecOpsBeanstalk names an Elastic Beanstalk application and environment.
type DevSecOpsBeanstalk struct {
	Application string `json:"application"`
	Environment string `json:"environment"`
}

// DevSecOpsGovernance switches the governance resources (see devsecops.GovernanceProps).
type DevSecOpsGovernance struct {
	CloudTrail               *bool `json:"cloudTrail,omitempty"`
	PipelineAlarms           *bool `json:"pipelineAlarms,omitempty"`
	ConfigRules              *bool `json:"configRules,omitempty"`
	ConfigRecorder           *bool `json:"configRecorder,omitempty"`
	StateChangeNotifications *bool `json:"stateChangeNotifications,omitempty"`
	SecurityHub              *bool `json:"securityHub,omitempty"`
}

var (
	codecommitNameRe = regexp.MustCompile(`^[A-Za-z0-9._-]{1,100}$`)
	secretArnRe      = regexp.MustCompile(`^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$`)
	connectionArnRe  = regexp.MustCompile(`^arn:aws[a-z-]*:(codeconnections|codestar-connections):[a-z0-9-]+:[0-9]{12}:connection/[0-9a-f-]{36}$`)
	ecsServiceArnRe  = regexp.MustCompile(`^arn:aws[a-z-]*:ecs:([a-z0-9-]+):([0-9]{12}):service/[A-Za-z0-9_-]+/[A-Za-z0-9_-]+$`)
	branchRe         = regexp.MustCompile(`^[A-Za-z0-9._/-]{1,255}$`)
	// EKS cluster names (https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateCluster.html#API_CreateCluster_RequestSyntax)
	// and Kubernetes namespaces (RFC 1123 labels).
	eksClusterRe   = regexp.MustCompile(`^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$`)
	k8sNamespaceRe = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)
	manifestsRe    = regexp.MustCompile(`^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$`)
	logGroupRe     = regexp.MustCompile(`^[A-Za-z0-9_\-/.#]{1,512}$`)
	vpcIDRe        = regexp.MustCompile(`^vpc-[0-9a-f]{8,17}$`)
	subnetIDRe     = regexp.MustCompile(`^subnet-[0-9a-f]{8,17}$`)
	sgIDRe         = regexp.MustCompile(`^sg-[0-9a-f]{8,17}$`)
)

// validate checks the section; key is its dotted path, such as "environments.prod.devSecOps".
// A nil section is valid.
func (c *DevSecOpsConfig) validate(key string) error {
	if c == nil {
		return nil
	}
	oneOf := func(field, v string, allowed ...string) error {
		if v == "" {
			return nil
		}
		for _, a := range allowed {
			if v == a {
				return nil
			}
		}
		return errorf(key+"."+field, "expected one of %s, got %q", strings.Join(allowed, ", "), v)
	}
	sources := 0
	for _, set := range []bool{c.RepositoryName != "", c.ExistingRepository != "", c.Connection != nil} {
		if set {
			sources++
		}
	}
	if sources > 1 {
		return errorf(key, "expected at most one of repositoryName, existingRepository and connection")
	}
	for field, v := range map[string]string{"repositoryName": c.RepositoryName, "existingRepository": c.ExistingRepository} {
		if v != "" && !codecommitNameRe.MatchString(v) {
			return errorf(key+"."+field, "expected a CodeCommit repository name (letters, digits, . _ -, at most 100), got %q", v)
		}
	}
	if cn := c.Connection; cn != nil {
		if !connectionArnRe.MatchString(cn.ConnectionArn) {
			return errorf(key+".connection.connectionArn", "expected a CodeConnections connection ARN, got %q", cn.ConnectionArn)
		}
		if cn.Owner == "" || cn.Repo == "" {
			return errorf(key+".connection", "expected owner and repo")
		}
	}
	if c.Branch != "" && !branchRe.MatchString(c.Branch) {
		return errorf(key+".branch", "expected a branch name, got %q", c.Branch)
	}
	checks := []error{
		oneOf("secretsTool", c.SecretsTool, "gitleaks", "git-secrets"),
		oneOf("scaTool", c.ScaTool, "grype", "trivy", "dependency-check", "snyk"),
		oneOf("sastTool", c.SastTool, "opengrep", "semgrep", "sonarqube", "phpstan", "snyk"),
		oneOf("imageScanTool", c.ImageScanTool, "grype", "trivy"),
		oneOf("severityThreshold", c.SeverityThreshold, "INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"),
		oneOf("dastMode", c.DastMode, "baseline", "full"),
	}
	for _, err := range checks {
		if err != nil {
			return err
		}
	}
	if (c.ScaTool == "dependency-check") != (c.NvdAPIKeySecretArn != "") {
		return errorf(key+".nvdApiKeySecretArn", "expected exactly when scaTool is dependency-check (Dependency-Check needs an NVD API key)")
	}
	if c.NvdAPIKeySecretArn != "" && !secretArnRe.MatchString(c.NvdAPIKeySecretArn) {
		return errorf(key+".nvdApiKeySecretArn", "expected the complete ARN of a Secrets Manager secret (with its 6-character suffix), got %q", c.NvdAPIKeySecretArn)
	}
	if (c.ScaTool == "snyk" || c.SastTool == "snyk") != (c.SnykTokenSecretArn != "") {
		return errorf(key+".snykTokenSecretArn", "expected exactly when scaTool or sastTool is snyk (the Snyk CLI needs an API token)")
	}
	if c.SnykTokenSecretArn != "" && !secretArnRe.MatchString(c.SnykTokenSecretArn) {
		return errorf(key+".snykTokenSecretArn", "expected the complete ARN of a Secrets Manager secret (with its 6-character suffix), got %q", c.SnykTokenSecretArn)
	}
	if v := c.DastVpc; v != nil {
		if c.DastTargetURL == "" {
			return errorf(key+".dastVpc", "expected only with dastTargetUrl")
		}
		if !vpcIDRe.MatchString(v.VpcID) {
			return errorf(key+".dastVpc.vpcId", "expected a VPC id such as vpc-0a1b2c3d, got %q", v.VpcID)
		}
		if len(v.SubnetIDs) == 0 || len(v.SecurityGroupIDs) == 0 {
			return errorf(key+".dastVpc", "expected subnetIds and securityGroupIds")
		}
		for i, id := range v.SubnetIDs {
			if !subnetIDRe.MatchString(id) {
				return errorf(fmt.Sprintf("%s.dastVpc.subnetIds[%d]", key, i), "expected a subnet id such as subnet-0a1b2c3d, got %q", id)
			}
		}
		for i, id := range v.SecurityGroupIDs {
			if !sgIDRe.MatchString(id) {
				return errorf(fmt.Sprintf("%s.dastVpc.securityGroupIds[%d]", key, i), "expected a security group id such as sg-0a1b2c3d, got %q", id)
			}
		}
	}
	if r := c.RuntimeFindings; r != nil && !logGroupRe.MatchString(r.LogGroupName) {
		return errorf(key+".runtimeFindings.logGroupName", "expected a CloudWatch Logs group name, got %q", r.LogGroupName)
	}
	if (c.SastTool == "sonarqube") != (c.SonarQube != nil) {
		return errorf(key+".sonarQube", "expected exactly when sastTool is sonarqube")
	}
	if s := c.SonarQube; s != nil {
		if u, err := url.Parse(s.HostURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return errorf(key+".sonarQube.hostUrl", "expected an http(s) URL, got %q", s.HostURL)
		}
		if !secretArnRe.MatchString(s.TokenSecretArn) {
			return errorf(key+".sonarQube.tokenSecretArn", "expected the complete ARN of a Secrets Manager secret (with its 6-character suffix), got %q", s.TokenSecretArn)
		}
	}
	if c.SemgrepConfig != "" && c.SastTool != "" && c.SastTool != "opengrep" && c.SastTool != "semgrep" {
		return errorf(key+".semgrepConfig", "expected only with sastTool opengrep or semgrep")
	}
	if c.NoImageStage && (c.ImageScanTool != "" || c.EnhancedScanning || c.ContainerName != "") {
		return errorf(key+".noImageStage", "conflicts with imageScanTool, enhancedScanning and containerName")
	}
	for field, t := range map[string]*DevSecOpsTarget{"staging": c.Staging, "production": c.Production} {
		if t == nil {
			continue
		}
		if t.Type != "" || t.Cluster != "" || t.Namespace != "" || t.Manifests != "" || t.RolloutTimeoutMinutes != 0 {
			if err := t.validateEks(key+"."+field, c.NoImageStage); err != nil {
				return err
			}
			continue
		}
		if (t.ElasticBeanstalk != nil) == (t.EcsServiceArn != "") {
			return errorf(key+"."+field, "expected exactly one of elasticBeanstalk, ecsServiceArn and type eks")
		}
		if eb := t.ElasticBeanstalk; eb != nil && (eb.Application == "" || eb.Environment == "") {
			return errorf(key+"."+field+".elasticBeanstalk", "expected application and environment")
		}
		if t.EcsServiceArn != "" {
			if !ecsServiceArnRe.MatchString(t.EcsServiceArn) {
				return errorf(key+"."+field+".ecsServiceArn", "expected arn:<partition>:ecs:<region>:<account>:service/<cluster>/<service>, got %q", t.EcsServiceArn)
			}
			if c.NoImageStage {
				return errorf(key+"."+field+".ecsServiceArn", "expected the image stage: an ECS deploy rolls out the image it builds; remove noImageStage")
			}
		}
	}
	if c.DastTargetURL != "" {
		if u, err := url.Parse(c.DastTargetURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return errorf(key+".dastTargetUrl", "expected an http(s) URL, got %q", c.DastTargetURL)
		}
	}
	if (c.Production != nil) != (len(c.ApproverEmails) > 0) {
		return errorf(key+".approverEmails", "expected exactly when production is set: production deploys only after a manual approval")
	}
	for field, list := range map[string][]string{"approverEmails": c.ApproverEmails, "notificationEmails": c.NotificationEmails} {
		for i, e := range list {
			if !emailRe.MatchString(e) {
				return errorf(fmt.Sprintf("%s.%s[%d]", key, field, i), "expected an email address, got %q", e)
			}
		}
	}
	if err := checkDockerHubSecret(key+".dockerHubCredentialsSecretArn", c.DockerHubCredentialsSecretArn); err != nil {
		return err
	}
	if c.DockerHubCredentialsSecretArn != "" && c.SastTool != "semgrep" {
		return errorf(key+".dockerHubCredentialsSecretArn", "expected only with sastTool semgrep, the one tool that pulls an image from Docker Hub")
	}
	if c.IngestReservedConcurrency < 0 || c.IngestReservedConcurrency > 1000 {
		return errorf(key+".ingestReservedConcurrency", "expected 1 to 1000, got %d", c.IngestReservedConcurrency)
	}
	if g := c.Governance; g != nil && g.PipelineAlarms != nil && *g.PipelineAlarms && g.CloudTrail != nil && !*g.CloudTrail {
		return errorf(key+".governance.pipelineAlarms", "expected cloudTrail too: the alarms read the trail's log group")
	}
	return nil
}

// validateEks checks a target of type eks.
func (t *DevSecOpsTarget) validateEks(key string, noImageStage bool) error {
	switch {
	case t.Type != "eks":
		return errorf(key+".type", "expected \"eks\" with cluster, namespace, manifests and rolloutTimeoutMinutes, got %q", t.Type)
	case t.ElasticBeanstalk != nil || t.EcsServiceArn != "":
		return errorf(key, "expected exactly one of elasticBeanstalk, ecsServiceArn and type eks")
	case !eksClusterRe.MatchString(t.Cluster):
		return errorf(key+".cluster", "expected the name of an existing EKS cluster, got %q", t.Cluster)
	case !k8sNamespaceRe.MatchString(t.Namespace):
		return errorf(key+".namespace", "expected a Kubernetes namespace (lower-case letters, digits and -, at most 63), got %q", t.Namespace)
	case t.Manifests != "" && (!manifestsRe.MatchString(t.Manifests) || strings.Contains(t.Manifests, "..")):
		return errorf(key+".manifests", "expected a directory relative to the repository root, got %q", t.Manifests)
	case t.RolloutTimeoutMinutes < 0 || t.RolloutTimeoutMinutes > 60:
		return errorf(key+".rolloutTimeoutMinutes", "expected 1 to 60, got %d", t.RolloutTimeoutMinutes)
	case noImageStage:
		return errorf(key+".type", "expected the image stage: an EKS deploy rolls out the image it builds; remove noImageStage")
	}
	return nil
}

// NewDevSecOpsStack builds <Env>-DevSecOps: the DevSecOps pipeline of the seed posts around a
// sample application repository, with the asff-ingest Lambda, the scan stages chosen in the
// "devSecOps" section, the configured deploy targets and the governance resources. An invalid
// section panics with one line, which BuildApp turns into an error.
func NewDevSecOpsStack(scope constructs.Construct, id string, props *SystemProps) awscdk.Stack {
	if props == nil {
		props = &SystemProps{}
	}
	key := "environments." + props.Config.Name + ".devSecOps"
	c := props.Config.DevSecOps
	if err := c.validate(key); err != nil {
		panic(err.Error())
	}
	if c == nil {
		c = &DevSecOpsConfig{}
	}
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)

	pp := &devsecops.PipelineProps{
		SecretsTool:        devsecops.SecretsTool(c.SecretsTool),
		ScaTool:            devsecops.ScaTool(c.ScaTool),
		SastTool:           devsecops.SastTool(c.SastTool),
		NoImageStage:       c.NoImageStage,
		DastMode:           devsecops.DastMode(c.DastMode),
		ApproverEmails:     c.ApproverEmails,
		NotificationEmails: c.NotificationEmails,
	}
	switch {
	case c.Connection != nil:
		pp.Connection = &devsecops.ConnectionSource{ConnectionArn: jsii.String(c.Connection.ConnectionArn), Owner: jsii.String(c.Connection.Owner), Repo: jsii.String(c.Connection.Repo)}
	case c.ExistingRepository != "":
		pp.ExistingRepository = awscodecommit.Repository_FromRepositoryName(stack, jsii.String("Repository"), jsii.String(c.ExistingRepository))
	default:
		name := c.RepositoryName
		if name == "" {
			name = props.Config.Name + "-sample-app"
		}
		pp.RepositoryName = jsii.String(name)
	}
	if c.DockerHubCredentialsSecretArn != "" {
		pp.DockerHubCredentials = awssecretsmanager.Secret_FromSecretCompleteArn(stack, jsii.String("DockerHubCredentials"), jsii.String(c.DockerHubCredentialsSecretArn))
	}
	if c.IngestReservedConcurrency > 0 {
		pp.IngestReservedConcurrency = jsii.Number(float64(c.IngestReservedConcurrency))
	}
	pp.Branch = strOrNil(c.Branch)
	pp.SemgrepConfig = strOrNil(c.SemgrepConfig)
	pp.SeverityThreshold = strOrNil(c.SeverityThreshold)
	pp.DastTargetURL = strOrNil(c.DastTargetURL)
	if c.NvdAPIKeySecretArn != "" {
		pp.NvdApiKeySecret = awssecretsmanager.Secret_FromSecretCompleteArn(stack, jsii.String("NvdApiKey"), jsii.String(c.NvdAPIKeySecretArn))
	}
	if c.SnykTokenSecretArn != "" {
		pp.SnykTokenSecret = awssecretsmanager.Secret_FromSecretCompleteArn(stack, jsii.String("SnykToken"), jsii.String(c.SnykTokenSecretArn))
	}
	if v := c.DastVpc; v != nil {
		pp.DastVpc = awsec2.Vpc_FromVpcAttributes(stack, jsii.String("DastVpc"), &awsec2.VpcAttributes{VpcId: jsii.String(v.VpcID), AvailabilityZones: awscdk.Fn_GetAzs(nil)})
		subnets := make([]awsec2.ISubnet, len(v.SubnetIDs))
		for i, id := range v.SubnetIDs {
			subnets[i] = awsec2.Subnet_FromSubnetId(stack, jsii.String(fmt.Sprintf("DastSubnet%d", i)), jsii.String(id))
		}
		pp.DastSubnets = &awsec2.SubnetSelection{Subnets: &subnets}
		for i, id := range v.SecurityGroupIDs {
			pp.DastSecurityGroups = append(pp.DastSecurityGroups, awsec2.SecurityGroup_FromSecurityGroupId(stack, jsii.String(fmt.Sprintf("DastSecurityGroup%d", i)), jsii.String(id), nil))
		}
	}
	if r := c.RuntimeFindings; r != nil {
		pp.RuntimeFindings = &devsecops.RuntimeFindingsProps{LogGroup: awslogs.LogGroup_FromLogGroupName(stack, jsii.String("FalcoLogGroup"), jsii.String(r.LogGroupName))}
	}
	if s := c.SonarQube; s != nil {
		pp.SonarQube = &devsecops.SonarQubeProps{
			HostURL:     jsii.String(s.HostURL),
			TokenSecret: awssecretsmanager.Secret_FromSecretCompleteArn(stack, jsii.String("SonarToken"), jsii.String(s.TokenSecretArn)),
			ProjectKey:  strOrNil(s.ProjectKey),
		}
	}
	if !c.NoImageStage {
		pp.Image = &devsecops.ImageProps{
			ScanTool: devsecops.ImageScanTool(c.ImageScanTool), EnhancedScanning: c.EnhancedScanning, ContainerName: strOrNil(c.ContainerName),
		}
	}
	pp.StagingDeploy = deployTarget(stack, props.Config, key+".staging", "Staging", c.Staging)
	pp.ProductionDeploy = deployTarget(stack, props.Config, key+".production", "Production", c.Production)
	if g := c.Governance; g != nil {
		pp.Governance = &devsecops.GovernanceProps{
			CloudTrail: g.CloudTrail, PipelineAlarms: g.PipelineAlarms, ConfigRules: g.ConfigRules,
			ConfigRecorder: g.ConfigRecorder, StateChangeNotifications: g.StateChangeNotifications, SecurityHub: g.SecurityHub,
		}
	}
	p := devsecops.NewPipeline(stack, "Pipeline", pp)

	outputs := []struct {
		name, description string
		value             *string
	}{
		{"PipelineName", "DevSecOps pipeline", p.Pipeline.PipelineName()},
		{"ReportBucketName", "Bucket of scan reports (scans/) and raw report envelopes (reports/)", p.ArtifactBucket.BucketName()},
		{"IngestFunctionName", "Findings ingestion Lambda (asff-ingest)", p.IngestFunction.FunctionName()},
		{"NotificationTopicArn", "Pipeline state changes and governance alarms", p.NotificationTopic.TopicArn()},
	}
	if p.Repository != nil {
		outputs = append(outputs, struct {
			name, description string
			value             *string
		}{"RepositoryCloneUrlGrc", "git clone URL (git-remote-codecommit)", p.Repository.RepositoryCloneUrlGrc()})
	}
	if p.ImageRepository != nil {
		outputs = append(outputs, struct {
			name, description string
			value             *string
		}{"ImageRepositoryUri", "ECR repository of the application image", p.ImageRepository.RepositoryUri()})
	}
	for _, o := range outputs {
		awscdk.NewCfnOutput(stack, jsii.String(o.name), &awscdk.CfnOutputProps{Value: o.value, Description: jsii.String(o.description)})
	}
	return stack
}

// deployTarget turns a validated target into a deploy factory. An ECS service must be in the
// environment's own account and region: CodePipeline deploys there, and a sandbox (no account
// or region) cannot place it.
func deployTarget(stack awscdk.Stack, env Environment, key, stage string, t *DevSecOpsTarget) devsecops.DeployActionFactory {
	switch {
	case t == nil:
		return nil
	case t.ElasticBeanstalk != nil:
		return devsecops.ElasticBeanstalkDeploy(t.ElasticBeanstalk.Application, t.ElasticBeanstalk.Environment)
	case t.Type == "eks":
		ep := &devsecops.EksDeployProps{ClusterName: jsii.String(t.Cluster), Namespace: jsii.String(t.Namespace), Manifests: strOrNil(t.Manifests)}
		if t.RolloutTimeoutMinutes > 0 {
			ep.RolloutTimeout = awscdk.Duration_Minutes(jsii.Number(float64(t.RolloutTimeoutMinutes)))
		}
		return devsecops.EksDeploy(ep)
	}
	m := ecsServiceArnRe.FindStringSubmatch(t.EcsServiceArn)
	if env.Region == "" || env.Account == "" || m[1] != env.Region || m[2] != env.Account {
		panic(errorf(key+".ecsServiceArn", "expected a service in this environment's account and region (%s, %s), got %q", env.Account, env.Region, t.EcsServiceArn).Error())
	}
	return devsecops.EcsDeploy(awsecs.BaseService_FromServiceArnWithCluster(stack, jsii.String(stage+"Service"), jsii.String(t.EcsServiceArn)))
}

// checkDockerHubSecret checks a dockerHubCredentialsSecretArn value (DevSecOps and Mtls) at
// key: empty, or the complete ARN of a Secrets Manager secret whose name starts with
// "ecr-pullthroughcache/", which ECR pull-through cache requires of its Docker Hub credentials.
func checkDockerHubSecret(key, v string) error {
	if v != "" && (!secretArnRe.MatchString(v) || !strings.Contains(v, ":secret:ecr-pullthroughcache/")) {
		return errorf(key, "expected the complete ARN of a Secrets Manager secret whose name starts with ecr-pullthroughcache/, got %q", v)
	}
	return nil
}
