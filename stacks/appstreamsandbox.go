package stacks

import (
	"net/netip"
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/appstreamsandbox"
)

// AppStreamSandboxConfig is the "appStreamSandbox" section of an environment: the seed's cdk.json
// keys (vpc_cidr, appstream_image_name, appstream_environment_name, appstream_instance_type,
// appstream_fleet_type, idp_name) in this project's spelling, plus the fleet, notebook and
// alarm settings. A missing section, or a missing key, means the default.
type AppStreamSandboxConfig struct {
	// VpcCidr is the sandbox VPC's IPv4 CIDR, /16 to /24. Default "10.20.0.0/16".
	VpcCidr string `json:"vpcCidr,omitempty"`
	// ImageName is the AppStream image built with the launcher script (see
	// constructs/appstreamsandbox/README.md). Default appstreamsandbox.PlaceholderImageName, which
	// synthesizes but cannot deploy: the fleet fails with "image not found". Synth warns when an
	// environment other than sandbox uses it.
	ImageName string `json:"imageName,omitempty"`
	// EnvironmentName names the AppStream stack and fleet and the notebook ("<name>-Stack",
	// "<name>-Fleet", "<name>-Notebook"); it must be unique per account and region. Letters,
	// digits and dashes, at most 50. Default "<Env>-DataSandbox", e.g. "Sandbox-DataSandbox".
	EnvironmentName string `json:"environmentName,omitempty"`
	// InstanceType is the fleet's instance type, of the image's family. Default
	// "stream.standard.small".
	InstanceType string `json:"instanceType,omitempty"`
	// FleetType is ALWAYS_ON or ON_DEMAND. Default ON_DEMAND.
	FleetType string `json:"fleetType,omitempty"`
	// DesiredInstances is the fleet capacity, 1 to 100. Default 1.
	DesiredInstances int `json:"desiredInstances,omitempty"`
	// MaxUserDurationSeconds, 600 to 432000. Default 28800 (8 hours).
	MaxUserDurationSeconds int `json:"maxUserDurationSeconds,omitempty"`
	// DisconnectTimeoutSeconds, 60 to 36000. Default 900.
	DisconnectTimeoutSeconds int `json:"disconnectTimeoutSeconds,omitempty"`
	// IdleDisconnectTimeoutSeconds, 0 (off) or 60 to 3600. Default 900.
	IdleDisconnectTimeoutSeconds *int `json:"idleDisconnectTimeoutSeconds,omitempty"`
	// AllowPasteFromLocal enables pasting from the user's device into the session. Copy out,
	// file transfer and printing stay disabled. Default false.
	AllowPasteFromLocal bool `json:"allowPasteFromLocal,omitempty"`
	// StreamingEndpoint streams through an AppStream interface endpoint in the VPC; only where
	// the region offers it. Default false.
	StreamingEndpoint bool `json:"streamingEndpoint,omitempty"`
	// IdpName is an IAM SAML provider of the account; when set, a role for its users to stream
	// from this stack only. Default: none.
	IdpName string `json:"idpName,omitempty"`
	// SamlAudience overrides the SAML:aud of that role. Default: the partition's sign-in
	// endpoint. Requires idpName.
	SamlAudience string `json:"samlAudience,omitempty"`
	// NotebookInstanceType is the SageMaker notebook's type. Default "ml.t3.medium".
	NotebookInstanceType string `json:"notebookInstanceType,omitempty"`
	// NotebookVolumeSizeGb, 5 to 16384. Default 20.
	NotebookVolumeSizeGb int `json:"notebookVolumeSizeGb,omitempty"`
	// NotebookSessionSeconds is the presigned notebook session length: 1800, SageMaker's
	// minimum and the sandbox's maximum. Default 1800.
	NotebookSessionSeconds int `json:"notebookSessionSeconds,omitempty"`
	// MetricNamespace of the SpoofAttempts and InvalidSessions metrics. Default
	// "securestacks/AppStreamSandbox".
	MetricNamespace string `json:"metricNamespace,omitempty"`
	// RetainServiceRoles keeps the AppStream service roles the stack had to create when it is
	// deleted; the roles are account-wide and other environments' sandboxes use them. Default
	// true.
	RetainServiceRoles *bool `json:"retainServiceRoles,omitempty"`
	// RetainUsageReports keeps the account's usage-report subscription on when the stack is
	// deleted; other environments' sandboxes rely on it. Default true.
	RetainUsageReports *bool `json:"retainUsageReports,omitempty"`
	// FleetStopTimeoutSeconds bounds the wait for the fleet to stop on delete, 60 to 780.
	// Default 600.
	FleetStopTimeoutSeconds int `json:"fleetStopTimeoutSeconds,omitempty"`
	// Audit is the audit trail and the Athena queries. Default: the workgroup, the usage-report
	// tables and no trail (see AppStreamAuditConfig.Trail).
	Audit *AppStreamAuditConfig `json:"audit,omitempty"`
}

// AppStreamAuditConfig is the "appStreamSandbox.audit" section (appstreamsandbox.AuditProps).
type AppStreamAuditConfig struct {
	// Trail is "create", "existing" or "none". The trail logs every region's management
	// events, so at most one environment per account may create one; the others say
	// "existing" with existingTrailLogsUri (LoadConfig refuses two creators in one account).
	// Default "none", so that environments with default settings share an account without
	// duplicate trails; the embedded sandbox environment says "create".
	Trail string `json:"trail,omitempty"`
	// ExistingTrailLogsUri, with trail "existing": s3://BUCKET/[PREFIX/]AWSLogs/[ORG-ID/]
	// ACCOUNT/CloudTrail/ (the TrailLogsUri output of the environment that created it).
	ExistingTrailLogsUri string `json:"existingTrailLogsUri,omitempty"`
	// TrailRetentionDays, 1 to 3650. Default 365.
	TrailRetentionDays int `json:"trailRetentionDays,omitempty"`
	// CloudWatchLogs also delivers a created trail to CloudWatch Logs (Control Tower
	// CT.CLOUDTRAIL.PR.3). Default true with trail "create".
	CloudWatchLogs *bool `json:"cloudWatchLogs,omitempty"`
	// AthenaRegions the CloudTrail table covers; add us-east-1 for SAML logins. Default: the
	// stack's region.
	AthenaRegions []string `json:"athenaRegions,omitempty"`
	// ProjectionStart is the first day (yyyy/MM/dd) the CloudTrail table covers. Default
	// "2025/01/01".
	ProjectionStart string `json:"projectionStart,omitempty"`
}

// props maps the section onto the construct's props. The trail mode defaults to "none" here,
// unlike the construct's.
func (c *AppStreamAuditConfig) props() *appstreamsandbox.AuditProps {
	if c == nil {
		c = &AppStreamAuditConfig{}
	}
	p := &appstreamsandbox.AuditProps{CloudWatchLogs: c.CloudWatchLogs, Trail: jsii.String(appstreamsandbox.TrailNone)}
	if c.Trail != "" {
		p.Trail = jsii.String(c.Trail)
	}
	if c.ExistingTrailLogsUri != "" {
		p.ExistingTrailLogsUri = jsii.String(c.ExistingTrailLogsUri)
	}
	if c.TrailRetentionDays != 0 {
		p.TrailRetentionDays = jsii.Number(float64(c.TrailRetentionDays))
	}
	if c.AthenaRegions != nil {
		p.AthenaRegions = jsii.Strings(c.AthenaRegions...)
	}
	if c.ProjectionStart != "" {
		p.ProjectionStart = jsii.String(c.ProjectionStart)
	}
	return p
}

// createsTrail reports whether the environment's sandbox creates the audit trail.
func (c *AppStreamSandboxConfig) createsTrail() bool {
	return c != nil && c.Audit != nil && c.Audit.Trail == appstreamsandbox.TrailCreate
}

// checkOneTrailPerAccount refuses two environments of one account that both create the audit
// trail: it is multi-region and logs every management event and the account's home-folder
// bucket's data events, so a second one would log, and bill, every event twice.
func checkOneTrailPerAccount(cfg *Config) error {
	creator := map[string]string{}
	for _, name := range sortedKeys(cfg.Environments) {
		env := cfg.Environments[name]
		if env.Account == "" || !env.AppStreamSandbox.createsTrail() {
			continue
		}
		if other, taken := creator[env.Account]; taken {
			return errorf("environments."+name+".appStreamSandbox.audit.trail",
				"expected \"existing\" (with existingTrailLogsUri, the TrailLogsUri output of environments.%s) or \"none\": environments.%s already creates the audit trail of account %s", other, other, env.Account)
		}
		creator[env.Account] = name
	}
	return nil
}

var (
	appStreamNameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)
	sandboxEnvRe    = regexp.MustCompile(`^[A-Za-z0-9](-*[A-Za-z0-9]){0,49}$`)
	samlProviderRe  = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)
	namespaceRe     = regexp.MustCompile(`^[A-Za-z0-9 ._/#:-]{1,255}$`)
)

// validate checks the section; key is its dotted path, such as
// "environments.prod.appStreamSandbox". A nil section is valid.
func (c *AppStreamSandboxConfig) validate(key string) error {
	if c == nil {
		return nil
	}
	if c.VpcCidr != "" {
		p, err := netip.ParsePrefix(c.VpcCidr)
		if err != nil || !p.Addr().Is4() || p.Bits() < 16 || p.Bits() > 24 || p.Masked() != p {
			return errorf(key+".vpcCidr", "expected an IPv4 network from /16 to /24 such as 10.20.0.0/16, got %q", c.VpcCidr)
		}
	}
	strs := []struct {
		field, v string
		ok       bool
		expected string
	}{
		{"imageName", c.ImageName, appStreamNameRe.MatchString(c.ImageName), "an AppStream image name (letters, digits, . _ -)"},
		{"environmentName", c.EnvironmentName, sandboxEnvRe.MatchString(c.EnvironmentName), "letters, digits and dashes, starting and ending with a letter or digit, at most 50 characters"},
		{"instanceType", c.InstanceType, strings.HasPrefix(c.InstanceType, "stream.") && appStreamNameRe.MatchString(c.InstanceType), "an AppStream instance type such as stream.standard.small"},
		{"fleetType", c.FleetType, c.FleetType == appstreamsandbox.FleetTypeAlwaysOn || c.FleetType == appstreamsandbox.FleetTypeOnDemand, "ALWAYS_ON or ON_DEMAND"},
		{"idpName", c.IdpName, samlProviderRe.MatchString(c.IdpName), "the name of an IAM SAML identity provider"},
		{"samlAudience", c.SamlAudience, strings.HasPrefix(c.SamlAudience, "https://"), "an https URL"},
		{"notebookInstanceType", c.NotebookInstanceType, strings.HasPrefix(c.NotebookInstanceType, "ml.") && appStreamNameRe.MatchString(c.NotebookInstanceType), "a SageMaker notebook instance type such as ml.t3.medium"},
		{"metricNamespace", c.MetricNamespace, namespaceRe.MatchString(c.MetricNamespace) && !strings.HasPrefix(c.MetricNamespace, "AWS/"), "a custom CloudWatch namespace, not starting with AWS/"},
	}
	for _, s := range strs {
		if s.v != "" && !s.ok {
			return errorf(key+"."+s.field, "expected %s, got %q", s.expected, s.v)
		}
	}
	if c.SamlAudience != "" && c.IdpName == "" {
		return errorf(key+".samlAudience", "expected idpName as well: the audience belongs to the SAML role")
	}
	ints := []struct {
		field  string
		v      int
		lo, hi int
	}{
		{"desiredInstances", c.DesiredInstances, 1, 100},
		{"maxUserDurationSeconds", c.MaxUserDurationSeconds, 600, 432000},
		{"disconnectTimeoutSeconds", c.DisconnectTimeoutSeconds, 60, 36000},
		{"notebookVolumeSizeGb", c.NotebookVolumeSizeGb, 5, 16384},
		{"notebookSessionSeconds", c.NotebookSessionSeconds, 1800, 1800},
		{"fleetStopTimeoutSeconds", c.FleetStopTimeoutSeconds, 60, 780},
	}
	for _, n := range ints {
		if n.v != 0 && (n.v < n.lo || n.v > n.hi) {
			return errorf(key+"."+n.field, "expected %d to %d, got %d", n.lo, n.hi, n.v)
		}
	}
	if c.IdleDisconnectTimeoutSeconds != nil {
		if v := *c.IdleDisconnectTimeoutSeconds; v != 0 && (v < 60 || v > 3600) {
			return errorf(key+".idleDisconnectTimeoutSeconds", "expected 0 (off) or 60 to 3600, got %d", v)
		}
	}
	if err := c.Audit.props().Validate(); err != nil {
		// The props speak Go ("Audit.Trail"); the message names the config key ("audit.trail").
		msg := auditFieldRe.ReplaceAllStringFunc(err.Error(), func(f string) string {
			return "audit." + strings.ToLower(f[len("Audit."):][:1]) + f[len("Audit.")+1:]
		})
		return errorf(key+".audit", "%s", msg)
	}
	return nil
}

var auditFieldRe = regexp.MustCompile(`Audit\.[A-Z][A-Za-z]*`)

// props maps the section onto the construct's props; unset keys stay nil so the construct's
// defaults apply.
func (c *AppStreamSandboxConfig) props(env Environment) *appstreamsandbox.SandboxProps {
	var cfg AppStreamSandboxConfig
	if c != nil {
		cfg = *c
	}
	str := func(v string) *string {
		if v == "" {
			return nil
		}
		return jsii.String(v)
	}
	num := func(v int) *float64 {
		if v == 0 {
			return nil
		}
		return jsii.Number(float64(v))
	}
	p := &appstreamsandbox.SandboxProps{
		EnvironmentName:          jsii.String(cfg.EnvironmentName),
		VpcCidr:                  str(cfg.VpcCidr),
		ImageName:                jsii.String(cfg.ImageName),
		InstanceType:             str(cfg.InstanceType),
		FleetType:                str(cfg.FleetType),
		DesiredInstances:         num(cfg.DesiredInstances),
		MaxUserDurationSeconds:   num(cfg.MaxUserDurationSeconds),
		DisconnectTimeoutSeconds: num(cfg.DisconnectTimeoutSeconds),
		AllowPasteFromLocal:      jsii.Bool(cfg.AllowPasteFromLocal),
		StreamingEndpoint:        jsii.Bool(cfg.StreamingEndpoint),
		IdpName:                  str(cfg.IdpName),
		SamlAudience:             str(cfg.SamlAudience),
		NotebookInstanceType:     str(cfg.NotebookInstanceType),
		NotebookVolumeSizeGb:     num(cfg.NotebookVolumeSizeGb),
		NotebookSessionSeconds:   num(cfg.NotebookSessionSeconds),
		MetricNamespace:          str(cfg.MetricNamespace),
		RetainServiceRoles:       cfg.RetainServiceRoles,
		RetainUsageReports:       cfg.RetainUsageReports,
		Audit:                    cfg.Audit.props(),
	}
	if cfg.EnvironmentName == "" {
		p.EnvironmentName = jsii.String(env.StackPrefix() + "-DataSandbox")
	}
	if cfg.ImageName == "" {
		p.ImageName = jsii.String(appstreamsandbox.PlaceholderImageName)
	}
	if cfg.IdleDisconnectTimeoutSeconds != nil {
		p.IdleDisconnectTimeoutSeconds = jsii.Number(float64(*cfg.IdleDisconnectTimeoutSeconds))
	}
	if cfg.FleetStopTimeoutSeconds != 0 {
		p.FleetStopTimeout = awscdk.Duration_Seconds(jsii.Number(float64(cfg.FleetStopTimeoutSeconds)))
	}
	return p
}

// NewAppStreamSandboxStack builds <Env>-AppStreamSandbox: the isolated AppStream 2.0 data
// sandbox (constructs/appstreamsandbox) with the environment's "appStreamSandbox" settings, and
// outputs naming what an operator needs after deploying. An invalid section panics with one
// line, which BuildApp turns into an error.
func NewAppStreamSandboxStack(scope constructs.Construct, id string, props *SystemProps) awscdk.Stack {
	if props == nil {
		props = &SystemProps{}
	}
	section := props.Config.AppStreamSandbox
	if err := section.validate("environments." + props.Config.Name + ".appStreamSandbox"); err != nil {
		panic(err.Error())
	}
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	sandboxProps := section.props(props.Config)
	if *sandboxProps.ImageName == appstreamsandbox.PlaceholderImageName && props.Config.Name != SandboxEnv {
		awscdk.Annotations_Of(stack).AddWarningV2(jsii.String("securestacks:appstream-placeholder-image"), jsii.String(
			"appStreamSandbox.imageName is not set: the fleet uses the placeholder image and will fail to deploy; build an image with the launcher script and set its name"), nil)
	}
	s := appstreamsandbox.NewSandbox(stack, "Sandbox", sandboxProps)

	outputs := []struct {
		name, description string
		value             *string
	}{
		{"AppStreamStackName", "AppStream stack: create streaming URLs or federate users here", s.AppStreamStackName},
		{"FleetName", "AppStream fleet, started on create and stopped before delete", s.FleetName},
		{"NotebookName", "SageMaker notebook instance the validator hands out URLs for", s.NotebookName},
		{"ScriptsBucketName", "Bucket holding the session scripts under " + appstreamsandbox.ScriptsPrefix, s.ScriptsBucket.BucketName()},
		{"LauncherScriptKey", "Download this object and bake it into the AppStream image", jsii.String(appstreamsandbox.ScriptsPrefix + appstreamsandbox.LauncherScriptName)},
		{"HomeFolderBucketName", "AppStream home-folder bucket (owned by AppStream)", s.HomeFolderBucketName()},
		{"UsageReportsBucketName", "Bucket AppStream writes the daily usage reports to", s.UsageReports.Resource.GetAttString(jsii.String(appstreamsandbox.UsageReportsBucketAttribute))},
		{"AlarmTopicArn", "Subscribe here for SpoofAttempts and InvalidSessions alarms", s.AlarmTopic.TopicArn()},
		{"AuditWorkGroup", "Athena workgroup of the audit's named queries", jsii.String(s.AuditWorkGroupName())},
		{"AuditDatabase", "Glue database of the CloudTrail and usage-report tables", jsii.String(s.AuditDatabaseName())},
	}
	if s.Audit.TrailLogsUri != nil {
		outputs = append(outputs, struct {
			name, description string
			value             *string
		}{"TrailLogsUri", "CloudTrail files of this account: --prefix of securestacks appstream audit, existingTrailLogsUri of other environments", s.Audit.TrailLogsUri})
	}
	for _, o := range outputs {
		awscdk.NewCfnOutput(stack, jsii.String(o.name), &awscdk.CfnOutputProps{Description: jsii.String(o.description), Value: o.value})
	}
	return stack
}
