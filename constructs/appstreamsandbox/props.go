package appstreamsandbox

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
)

// The Go import paths of the construct's Lambda handlers. GoFunction builds them in the caller's
// module, so an app that imports this package builds them from its own module cache.
const (
	ValidatorEntry          = "github.com/securestacks/securestacks/lambda-src/appstream-session-validator"
	ServiceRolesEntry       = "github.com/securestacks/securestacks/lambda-src/appstream-service-roles"
	UsageReportsEntry       = "github.com/securestacks/securestacks/lambda-src/appstream-usage-reports"
	FleetLifecycleEntry     = "github.com/securestacks/securestacks/lambda-src/appstream-fleet-lifecycle"
	HomeFolderNotifierEntry = "github.com/securestacks/securestacks/lambda-src/appstream-homefolder-notification"
)

// The fleet types the sandbox supports (AppStream's ELASTIC fleets take no VPC image and are not
// offered).
const (
	FleetTypeAlwaysOn = "ALWAYS_ON"
	FleetTypeOnDemand = "ON_DEMAND"
)

// Defaults of SandboxProps.
const (
	DefaultVpcCidr              = "10.20.0.0/16"
	DefaultInstanceType         = "stream.standard.small"
	DefaultFleetType            = FleetTypeOnDemand
	DefaultDesiredInstances     = 1
	DefaultMaxUserDuration      = 8 * 3600
	DefaultDisconnectTimeout    = 15 * 60
	DefaultIdleDisconnect       = 15 * 60
	DefaultNotebookInstanceType = "ml.t3.medium"
	DefaultNotebookVolumeGb     = 20
	DefaultSessionSeconds       = 1800
	DefaultMetricNamespace      = "securestacks/AppStreamSandbox"
	DefaultFleetStopTimeout     = 10 * 60
)

// PlaceholderImageName is the image name of the sandbox environment's configuration. It lets the
// stack synthesize (and be reviewed, nag-checked and diffed) before anyone has built an AppStream
// image; a deploy with it fails at the fleet with "image not found". Build an image with the
// launcher script (see README.md) and set its name before deploying.
const PlaceholderImageName = "REPLACE-ME-build-an-appstream-image-with-the-launcher"

// ScriptsPrefix is the key prefix of the session scripts in the scripts bucket. The fleet role
// may read this prefix and nothing else.
const ScriptsPrefix = "appstream-scripts/"

// ScriptsBucketParameterPrefix starts the name of the SSM parameter that holds the scripts
// bucket's name: ScriptsBucketParameterPrefix + <AppStream stack name> + "/scripts-bucket". The
// launcher baked into the image derives the same name from AppStream_Stack_Name, so one image
// serves every deployment.
const ScriptsBucketParameterPrefix = "/securestacks/appstream-sandbox/"

// HomeFolderBucketPrefix starts the name of the bucket AppStream creates for home folders:
// HomeFolderBucketPrefix + <region> + "-" + <account>. The prefix is the same in every account.
const HomeFolderBucketPrefix = "appstream2-36fb080bb8-"

// SandboxProps configures a Sandbox. nil means all defaults, with the placeholder image
// (PlaceholderImageName is not a default: ImageName is required).
type SandboxProps struct {
	// EnvironmentName names the AppStream stack ("<name>-Stack"), fleet ("<name>-Fleet") and
	// notebook ("<name>-Notebook"). Letters, digits and dashes, at most 50 characters, a
	// plain string (not a token). Default: a name unique to the construct's path.
	EnvironmentName *string

	// VpcCidr is the CIDR block of the new VPC, at least a /24 (two /26 isolated subnets are
	// carved out of it, one per AZ). Default DefaultVpcCidr.
	VpcCidr *string

	// ImageName is the AppStream image the fleet runs, built with the launcher script as its
	// application. Required.
	ImageName *string
	// InstanceType is the fleet's instance type, of the image's family. Default
	// DefaultInstanceType.
	InstanceType *string
	// FleetType is FleetTypeOnDemand or FleetTypeAlwaysOn. Default DefaultFleetType.
	FleetType *string
	// DesiredInstances is the fleet capacity, 1 to 100. Default DefaultDesiredInstances.
	DesiredInstances *float64
	// MaxUserDurationSeconds ends a session after this long, 600 to 432000. Default
	// DefaultMaxUserDuration.
	MaxUserDurationSeconds *float64
	// DisconnectTimeoutSeconds keeps a disconnected session this long, 60 to 36000. Default
	// DefaultDisconnectTimeout.
	DisconnectTimeoutSeconds *float64
	// IdleDisconnectTimeoutSeconds disconnects an idle user after this long, 0 (off) or 60 to
	// 3600. Default DefaultIdleDisconnect.
	IdleDisconnectTimeoutSeconds *float64

	// AllowPasteFromLocal enables the clipboard from the user's device into the session. Copy
	// out of the session, file transfer and printing stay disabled whatever this says.
	// Default false.
	AllowPasteFromLocal *bool

	// StreamingEndpoint adds an interface endpoint for AppStream streaming and makes it the
	// stack's streaming access endpoint, so users stream through the VPC (over VPN or Direct
	// Connect) rather than the internet. Not every region offers the endpoint, and an
	// environment-agnostic stack cannot look it up, so it is opt-in. Default false.
	StreamingEndpoint *bool

	// IdpName is the name of an IAM SAML identity provider in this account. When set, the
	// construct creates SamlRole, which that provider's users assume to stream from this
	// stack and nothing else. Default: nil (no SAML role; use streaming URLs).
	IdpName *string
	// SamlAudience is the SAML:aud the SAML role's trust requires. Default: the AWS sign-in
	// SAML endpoint of the stack's partition.
	SamlAudience *string

	// NotebookInstanceType is the SageMaker notebook instance type. Default
	// DefaultNotebookInstanceType.
	NotebookInstanceType *string
	// NotebookVolumeSizeGb is the notebook's encrypted volume size, 5 to 16384. Default
	// DefaultNotebookVolumeGb.
	NotebookVolumeSizeGb *float64
	// NotebookSessionSeconds is the length of the notebook session the presigned URL opens.
	// SageMaker accepts 1800 to 43200 and the sandbox allows no more than 1800, so 1800 is
	// the only value today; it is a setting so that the bound is visible. Default
	// DefaultSessionSeconds.
	NotebookSessionSeconds *float64

	// MetricNamespace is the CloudWatch namespace of the validator's SpoofAttempts and
	// InvalidSessions metrics. Default DefaultMetricNamespace.
	MetricNamespace *string
	// AlarmTopic receives both security alarms. A topic you pass must let
	// cloudwatch.amazonaws.com publish (and, if it is encrypted, use its key) for the alarms
	// named Sandbox.AlarmNamePrefix()*; the construct adds those statements only to its own
	// topic. Default: a new topic encrypted with a new KMS
	// key (subscribe to it after deploying).
	AlarmTopic awssns.ITopic

	// LogsKey encrypts every log group of the construct. Default: a new key from
	// defaults.LogsKey.
	LogsKey awskms.IKey

	// RetainServiceRoles keeps the AppStream service roles this construct had to create when
	// it is deleted (roles that existed before are never deleted). The roles are account-wide:
	// the first sandbox of an account creates them and every later one uses them, so deleting
	// the first must not take them from the others. Default true; false only where this is the
	// account's one sandbox.
	RetainServiceRoles *bool
	// RetainUsageReports keeps the AppStream usage-report subscription on when the sandbox is
	// deleted, even when this sandbox turned it on. The subscription is one per account and
	// region, and every other sandbox there relies on it for its audit trail. Default true.
	RetainUsageReports *bool
	// FleetStopTimeout bounds the wait for the fleet to stop when the stack is deleted, 1 to
	// 13 minutes. Default DefaultFleetStopTimeout seconds.
	FleetStopTimeout awscdk.Duration

	// Audit configures the audit trail (CloudTrail, with the home-folder and scripts buckets'
	// S3 data events) and the Athena workgroup, Glue tables and named queries over it and the
	// usage reports. Default: all AuditProps defaults, which create a trail.
	Audit *AuditProps
}
