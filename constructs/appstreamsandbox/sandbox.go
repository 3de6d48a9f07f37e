package appstreamsandbox

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsappstream"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3deployment"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssagemaker"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsssm"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/gofunction"
	"github.com/securestacks/securestacks/constructs/internal/defaults"
)

// Sandbox is the isolated AppStream 2.0 data sandbox: a VPC without any route to the internet,
// an AppStream fleet and stack in it, a SageMaker notebook, and the session validator that hands
// out notebook URLs only to sessions AppStream confirms. Every resource is exposed.
type Sandbox struct {
	constructs.Construct

	// EnvironmentName is the resolved SandboxProps.EnvironmentName.
	EnvironmentName *string
	// AppStreamStackName, FleetName and NotebookName are the names of those resources.
	AppStreamStackName *string
	FleetName          *string
	NotebookName       *string

	// LogsKey encrypts every log group of the construct.
	LogsKey awskms.IKey

	// Vpc has one isolated subnet per AZ in two AZs, no internet gateway and no NAT.
	Vpc awsec2.Vpc
	// FlowLogGroup receives the VPC's flow logs (all traffic), KMS-encrypted, one year.
	FlowLogGroup awslogs.LogGroup
	// FlowLog is the VPC flow log.
	FlowLog awsec2.FlowLog
	// EndpointSecurityGroup admits 443 from the VPC's CIDR to every interface endpoint.
	EndpointSecurityGroup awsec2.SecurityGroup
	// S3Endpoint is the S3 gateway endpoint (home folders, the scripts bucket).
	S3Endpoint awsec2.GatewayVpcEndpoint
	// InterfaceEndpoints are the interface endpoints by short name: ssm, sts, kms, logs,
	// sagemaker-api, sagemaker-runtime, sagemaker-notebook, appstream-api, and
	// appstream-streaming when SandboxProps.StreamingEndpoint is set.
	InterfaceEndpoints map[string]awsec2.InterfaceVpcEndpoint

	// ScriptsBucket holds the session scripts under ScriptsPrefix (KMS, versioned, TLS only,
	// access logs to a separate bucket).
	ScriptsBucket awss3.Bucket
	// AccessLogsBucket receives the server access logs of ScriptsBucket, Audit.TrailBucket and
	// Audit.ResultsBucket (SSE-S3: S3 log delivery supports nothing else).
	AccessLogsBucket awss3.Bucket
	// ScriptsDeployment copies the two PowerShell scripts into ScriptsBucket.
	ScriptsDeployment awss3deployment.BucketDeployment
	// ScriptsBucketParameter is the SSM String parameter holding ScriptsBucket's name.
	ScriptsBucketParameter awsssm.StringParameter

	// ServiceRoles creates the AppStream service roles that are missing, and deletes only those.
	ServiceRoles *CustomResource

	// FleetSecurityGroup is the fleet's: no ingress, 443 out (the VPC routes only to the
	// endpoints).
	FleetSecurityGroup awsec2.SecurityGroup
	// FleetRole is the fleet instances' role: read ScriptsPrefix, read its own parameter.
	FleetRole awsiam.Role
	// FleetPolicy is FleetRole's only policy.
	FleetPolicy awsiam.ManagedPolicy
	// Fleet is the AppStream fleet, in the isolated subnets, without default internet access.
	Fleet awsappstream.CfnFleet
	// Stack is the AppStream stack: home folders, no clipboard out, no file transfer, no
	// printing, no persistent application settings.
	Stack awsappstream.CfnStack
	// StackFleetAssociation associates Stack and Fleet.
	StackFleetAssociation awsappstream.CfnStackFleetAssociation
	// FleetLifecycle starts the fleet on create and stops it before it is deleted.
	FleetLifecycle *CustomResource
	// UsageReports turns AppStream usage reports on (and off only if it turned them on).
	UsageReports *CustomResource
	// SamlRole lets the SandboxProps.IdpName provider's users stream from Stack; nil without
	// IdpName.
	SamlRole awsiam.Role

	// NotebookKey encrypts the notebook's volume (rotation on).
	NotebookKey awskms.Key
	// NotebookSecurityGroup admits 443 from FleetSecurityGroup only.
	NotebookSecurityGroup awsec2.SecurityGroup
	// NotebookRole is the notebook's execution role: its own logs only.
	NotebookRole awsiam.Role
	// Notebook is the SageMaker notebook instance: isolated subnet, no direct internet, no root.
	Notebook awssagemaker.CfnNotebookInstance

	// Validator is the session validator function, in the VPC.
	Validator *gofunction.GoFunction
	// ValidatorRole is Validator's role; ValidatorPolicy is its only policy.
	ValidatorRole   awsiam.Role
	ValidatorPolicy awsiam.ManagedPolicy
	// ValidatorSecurityGroup is Validator's: no ingress, 443 out.
	ValidatorSecurityGroup awsec2.SecurityGroup
	// ValidatorDeadLetterQueue receives S3 events the validator failed on after Lambda's retries.
	ValidatorDeadLetterQueue awssqs.Queue
	// HomeFolderPermission lets S3 invoke Validator for the home-folder bucket of this account.
	HomeFolderPermission awslambda.CfnPermission
	// HomeFolderNotification merges Validator's notification into the home-folder bucket.
	HomeFolderNotification *CustomResource
	// SpoofAttemptsAlarm and InvalidSessionsAlarm fire on the first denial in 5 minutes.
	SpoofAttemptsAlarm   awscloudwatch.Alarm
	InvalidSessionsAlarm awscloudwatch.Alarm
	// AlarmTopic receives both alarms.
	AlarmTopic awssns.ITopic

	// Audit is the audit trail and the Athena queries over it (SandboxProps.Audit).
	Audit *Audit
}

// resolved are the props after defaults and validation.
type resolved struct {
	env, cidr, image, instanceType, fleetType string
	desired, maxDuration, disconnect, idle    float64
	pasteFromLocal, streaming, retainRoles    bool
	retainReports                             bool
	idpName, samlAudience                     *string
	notebookType                              string
	notebookVolume, sessionSeconds            float64
	namespace                                 string
	stopTimeoutSeconds                        float64
	audit                                     resolvedAudit
}

var (
	envNameRe   = regexp.MustCompile(`^[A-Za-z0-9](-*[A-Za-z0-9]){0,49}$`)
	simpleRe    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)
	idpNameRe   = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)
	namespaceRe = regexp.MustCompile(`^[A-Za-z0-9 ._/#:-]{1,255}$`)
)

func fail(format string, args ...any) {
	panic("appstreamsandbox: " + fmt.Sprintf(format, args...))
}

func resolve(scope constructs.Construct, p *SandboxProps) resolved {
	if p == nil {
		p = &SandboxProps{}
	}
	r := resolved{
		cidr: DefaultVpcCidr, instanceType: DefaultInstanceType, fleetType: DefaultFleetType,
		desired: DefaultDesiredInstances, maxDuration: DefaultMaxUserDuration,
		disconnect: DefaultDisconnectTimeout, idle: DefaultIdleDisconnect,
		notebookType: DefaultNotebookInstanceType, notebookVolume: DefaultNotebookVolumeGb,
		sessionSeconds: DefaultSessionSeconds, namespace: DefaultMetricNamespace,
		stopTimeoutSeconds: DefaultFleetStopTimeout,
	}
	if p.EnvironmentName != nil {
		r.env = *p.EnvironmentName
	} else {
		r.env = *awscdk.Names_UniqueResourceName(scope, &awscdk.UniqueResourceNameOptions{MaxLength: jsii.Number(40), Separator: jsii.String("-")})
		r.env = strings.Trim(r.env, "-")
	}
	if !envNameRe.MatchString(r.env) {
		fail("EnvironmentName %q: expected letters, digits and dashes, starting and ending with a letter or digit, at most 50 characters, not a token", r.env)
	}
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	setN := func(dst *float64, v *float64) {
		if v != nil {
			*dst = *v
		}
	}
	set(&r.cidr, p.VpcCidr)
	if prefix, err := netip.ParsePrefix(r.cidr); err != nil || !prefix.Addr().Is4() || prefix.Bits() < 16 || prefix.Bits() > 24 || prefix.Masked() != prefix {
		fail("VpcCidr %q: expected an IPv4 network from /16 to /24, such as %s", r.cidr, DefaultVpcCidr)
	}
	if p.ImageName == nil || !simpleRe.MatchString(*p.ImageName) {
		fail("ImageName: expected the name of an AppStream image (letters, digits, . _ -), got %s", show(p.ImageName))
	}
	r.image = *p.ImageName
	set(&r.instanceType, p.InstanceType)
	if !strings.HasPrefix(r.instanceType, "stream.") {
		fail("InstanceType %q: expected an AppStream instance type such as %s", r.instanceType, DefaultInstanceType)
	}
	set(&r.fleetType, p.FleetType)
	if r.fleetType != FleetTypeAlwaysOn && r.fleetType != FleetTypeOnDemand {
		fail("FleetType %q: expected %s or %s", r.fleetType, FleetTypeAlwaysOn, FleetTypeOnDemand)
	}
	setN(&r.desired, p.DesiredInstances)
	inRange("DesiredInstances", r.desired, 1, 100)
	setN(&r.maxDuration, p.MaxUserDurationSeconds)
	inRange("MaxUserDurationSeconds", r.maxDuration, 600, 432000)
	setN(&r.disconnect, p.DisconnectTimeoutSeconds)
	inRange("DisconnectTimeoutSeconds", r.disconnect, 60, 36000)
	setN(&r.idle, p.IdleDisconnectTimeoutSeconds)
	if r.idle != 0 {
		inRange("IdleDisconnectTimeoutSeconds", r.idle, 60, 3600)
	}
	r.pasteFromLocal = p.AllowPasteFromLocal != nil && *p.AllowPasteFromLocal
	r.streaming = p.StreamingEndpoint != nil && *p.StreamingEndpoint
	r.retainRoles = p.RetainServiceRoles == nil || *p.RetainServiceRoles
	r.retainReports = p.RetainUsageReports == nil || *p.RetainUsageReports
	if p.IdpName != nil && !idpNameRe.MatchString(*p.IdpName) {
		fail("IdpName %q: expected the name of an IAM SAML provider", *p.IdpName)
	}
	r.idpName, r.samlAudience = p.IdpName, p.SamlAudience
	if r.samlAudience != nil && r.idpName == nil {
		fail("SamlAudience: set only together with IdpName")
	}
	set(&r.notebookType, p.NotebookInstanceType)
	if !strings.HasPrefix(r.notebookType, "ml.") {
		fail("NotebookInstanceType %q: expected a SageMaker notebook instance type such as %s", r.notebookType, DefaultNotebookInstanceType)
	}
	setN(&r.notebookVolume, p.NotebookVolumeSizeGb)
	inRange("NotebookVolumeSizeGb", r.notebookVolume, 5, 16384)
	setN(&r.sessionSeconds, p.NotebookSessionSeconds)
	inRange("NotebookSessionSeconds", r.sessionSeconds, 1800, 1800)
	set(&r.namespace, p.MetricNamespace)
	if !namespaceRe.MatchString(r.namespace) || strings.HasPrefix(r.namespace, "AWS/") {
		fail("MetricNamespace %q: expected a custom CloudWatch namespace (not AWS/...)", r.namespace)
	}
	if p.FleetStopTimeout != nil {
		r.stopTimeoutSeconds = *p.FleetStopTimeout.ToSeconds(nil)
		inRange("FleetStopTimeout (seconds)", r.stopTimeoutSeconds, 60, 13*60)
	}
	audit, err := resolveAudit(p.Audit)
	if err != nil {
		fail("%v", err)
	}
	r.audit = audit
	return r
}

func inRange(name string, v, lo, hi float64) {
	if v != float64(int64(v)) || v < lo || v > hi {
		fail("%s %v: expected a whole number from %v to %v", name, v, lo, hi)
	}
}

func show(s *string) string {
	if s == nil {
		return "nothing"
	}
	return fmt.Sprintf("%q", *s)
}

// NewSandbox defines the sandbox at scope/id. It panics, with a message starting
// "appstreamsandbox:", when a prop is invalid; props may be nil only to get that panic for the
// missing ImageName.
func NewSandbox(scope constructs.Construct, id string, props *SandboxProps) *Sandbox {
	s := &Sandbox{}
	constructs.NewConstruct_Override(s, scope, jsii.String(id))
	r := resolve(s, props)
	s.EnvironmentName = jsii.String(r.env)
	s.AppStreamStackName = jsii.String(r.env + "-Stack")
	s.FleetName = jsii.String(r.env + "-Fleet")
	s.NotebookName = jsii.String(r.env + "-Notebook")

	if props != nil && props.LogsKey != nil {
		s.LogsKey = props.LogsKey
	} else {
		s.LogsKey = defaults.LogsKey(s, "LogsKey")
	}

	s.network(r)
	s.scripts()
	s.appStream(r)
	s.notebook(r)
	s.validator(r, props)
	s.audit(r.audit)
	return s
}

// HomeFolderBucketName is the name of the bucket AppStream creates for home folders in this
// stack's account and region, HomeFolderBucketPrefix + <region> + "-" + <account>. AppStream, not
// this construct, owns it.
func (s *Sandbox) HomeFolderBucketName() *string {
	stack := awscdk.Stack_Of(s)
	return jsii.String(HomeFolderBucketPrefix + *stack.Region() + "-" + *stack.Account())
}
