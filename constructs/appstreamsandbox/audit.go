package appstreamsandbox

import (
	_ "embed"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsathena"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudtrail"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsglue"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/internal/defaults"
	"github.com/securestacks/securestacks/internal/nag"
)

// The trail modes of AuditProps.Trail.
const (
	// TrailCreate creates the sandbox's trail: management events of every region plus S3 data
	// events on the home-folder and scripts buckets, log file validation, KMS-encrypted bucket.
	TrailCreate = "create"
	// TrailExisting uses a trail that already exists (another sandbox's, or an organization
	// trail): nothing is created, and the Athena table reads AuditProps.ExistingTrailLogsUri.
	TrailExisting = "existing"
	// TrailNone creates no trail and no Athena table for it.
	TrailNone = "none"
)

// Defaults of AuditProps.
const (
	DefaultTrailRetentionDays   = 365
	DefaultResultsRetentionDays = 30
	// DefaultProjectionStart is the first day the CloudTrail table's partition projection
	// covers.
	DefaultProjectionStart = "2025/01/01"
)

// AuditProps configures the sandbox's audit trail and the Athena queries over it. nil means all
// defaults.
type AuditProps struct {
	// Trail is TrailCreate, TrailExisting or TrailNone. The home-folder bucket is one per account
	// and region, so two trails logging its data events would log every event twice: in an
	// account with several sandboxes, one creates the trail and every other one says
	// TrailExisting with that trail's ExistingTrailLogsUri. Default TrailCreate.
	Trail *string
	// ExistingTrailLogsUri is, with TrailExisting, the S3 URI under which the existing trail's
	// files for this account lie, ending in ".../CloudTrail/": s3://BUCKET/[PREFIX/]AWSLogs/
	// [ORG-ID/]ACCOUNT/CloudTrail/. The trail must log management events and S3 data events for
	// the home-folder and scripts buckets (see README.md). Required with TrailExisting only.
	ExistingTrailLogsUri *string
	// TrailRetentionDays expires the trail's log files after this many days, 1 to 3650.
	// Default DefaultTrailRetentionDays.
	TrailRetentionDays *float64
	// CloudWatchLogs also delivers a created trail to a KMS-encrypted log group, as Control
	// Tower's CT.CLOUDTRAIL.PR.3 and NIST 800-53 require (CloudWatch Logs ingestion is charged per
	// GB; false needs a guard-allowlist entry for CT.CLOUDTRAIL.PR.3). Default true with
	// TrailCreate; only with TrailCreate.
	CloudWatchLogs *bool
	// AthenaRegions are the regions whose CloudTrail folders the Athena table projects. Logins
	// through the global STS endpoint (AssumeRoleWithSAML) are logged in us-east-1: add it to
	// find SAML logins. Default: the stack's region.
	AthenaRegions *[]*string
	// ProjectionStart is the first day ("yyyy/MM/dd") the CloudTrail table covers. Default
	// DefaultProjectionStart.
	ProjectionStart *string
}

// Audit is the sandbox's audit trail and its Athena queries.
type Audit struct {
	// Key encrypts the trail's log files (TrailCreate) and the Athena results.
	Key awskms.Key
	// TrailBucket holds the trail's log files; nil unless TrailCreate.
	TrailBucket awss3.Bucket
	// Trail is the trail; nil unless TrailCreate.
	Trail awscloudtrail.Trail
	// TrailLogGroup receives the trail when AuditProps.CloudWatchLogs is set.
	TrailLogGroup awslogs.LogGroup
	// TrailLogsUri is where the CloudTrail files for this account lie: s3://.../CloudTrail/.
	TrailLogsUri *string
	// ResultsBucket holds the Athena query results (KMS, expiring).
	ResultsBucket awss3.Bucket
	// WorkGroup runs the queries, its configuration enforced: results encrypted with Key.
	WorkGroup awsathena.CfnWorkGroup
	// Database holds the tables.
	Database awsglue.CfnDatabase
	// CloudTrailTable is the trail's files (partition projection, no crawler), when there is a
	// trail; SessionsTable and ApplicationsTable are the usage reports.
	CloudTrailTable, SessionsTable, ApplicationsTable awsglue.CfnTable
	// Queries are the named queries by name: QueryWhoTouchedObject, QueryUserActivity,
	// QueryForeignHomeFolderWrites.
	Queries map[string]awsathena.CfnNamedQuery
}

// The names of the named queries (each in the workgroup, prefixed by the environment name).
const (
	QueryWhoTouchedObject        = "who-touched-object"
	QueryUserActivity            = "user-activity"
	QueryForeignHomeFolderWrites = "foreign-home-folder-writes"
)

// The named queries' SQL, in Athena's dialect (Trino). "{database}" stands for the Glue
// database; "?" are execution parameters, in the order each file's header names them.
var (
	//go:embed queries/who-touched-object.sql
	whoTouchedObjectSQL string
	//go:embed queries/user-activity.sql
	userActivitySQL string
	//go:embed queries/foreign-home-folder-writes.sql
	foreignHomeFolderWritesSQL string
)

// QuerySQL returns the named queries' SQL templates by query name.
func QuerySQL() map[string]string {
	return map[string]string{
		QueryWhoTouchedObject:        whoTouchedObjectSQL,
		QueryUserActivity:            userActivitySQL,
		QueryForeignHomeFolderWrites: foreignHomeFolderWritesSQL,
	}
}

// The Glue table names.
const (
	CloudTrailTableName   = "cloudtrail_logs"
	SessionsTableName     = "appstream_sessions"
	ApplicationsTableName = "appstream_applications"
)

var (
	trailLogsURIRe = regexp.MustCompile(`^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/([^ ]*/)?AWSLogs/([^ /]+/)?[0-9]{12}/CloudTrail/$`)
	projectionRe   = regexp.MustCompile(`^20[0-9]{2}/(0[1-9]|1[0-2])/(0[1-9]|[12][0-9]|3[01])$`)
	regionRe       = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]$`)
)

// resolvedAudit is AuditProps after defaults and validation.
type resolvedAudit struct {
	trail, existingURI, projectionStart string
	retentionDays                       float64
	cloudWatch                          bool
	regions                             []string
}

// Validate reports every problem of the props, each as "Audit.<Field>: expected ...", joined
// by "; " on one line. nil props are valid.
func (p *AuditProps) Validate() error {
	_, err := resolveAudit(p)
	return err
}

func resolveAudit(p *AuditProps) (resolvedAudit, error) {
	if p == nil {
		p = &AuditProps{}
	}
	r := resolvedAudit{trail: TrailCreate, retentionDays: DefaultTrailRetentionDays, projectionStart: DefaultProjectionStart}
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if p.Trail != nil {
		r.trail = *p.Trail
	}
	switch r.trail {
	case TrailCreate, TrailNone:
		if p.ExistingTrailLogsUri != nil {
			bad("Audit.ExistingTrailLogsUri: set only with Audit.Trail %q", TrailExisting)
		}
	case TrailExisting:
		if p.ExistingTrailLogsUri == nil || !trailLogsURIRe.MatchString(*p.ExistingTrailLogsUri) {
			bad("Audit.ExistingTrailLogsUri: expected s3://BUCKET/[PREFIX/]AWSLogs/[ORG-ID/]ACCOUNT/CloudTrail/, got %s", show(p.ExistingTrailLogsUri))
		} else {
			r.existingURI = *p.ExistingTrailLogsUri
		}
	default:
		bad("Audit.Trail %q: expected %s, %s or %s", r.trail, TrailCreate, TrailExisting, TrailNone)
	}
	if p.TrailRetentionDays != nil {
		r.retentionDays = *p.TrailRetentionDays
		if v := r.retentionDays; v != float64(int64(v)) || v < 1 || v > 3650 {
			bad("Audit.TrailRetentionDays %v: expected a whole number from 1 to 3650", v)
		}
	}
	r.cloudWatch = r.trail == TrailCreate && (p.CloudWatchLogs == nil || *p.CloudWatchLogs)
	if p.CloudWatchLogs != nil && *p.CloudWatchLogs && r.trail != TrailCreate {
		bad("Audit.CloudWatchLogs: set only with Audit.Trail %q: another trail is not ours to change", TrailCreate)
	}
	if p.AthenaRegions != nil {
		for _, region := range *p.AthenaRegions {
			if region == nil || !regionRe.MatchString(*region) {
				bad("Audit.AthenaRegions: expected region names such as us-east-1, got %s", show(region))
				continue
			}
			r.regions = append(r.regions, *region)
		}
	}
	if p.ProjectionStart != nil {
		if !projectionRe.MatchString(*p.ProjectionStart) {
			bad("Audit.ProjectionStart %q: expected a day as yyyy/MM/dd", *p.ProjectionStart)
		} else {
			r.projectionStart = *p.ProjectionStart
		}
	}
	if len(problems) > 0 {
		return r, errors.New(strings.Join(problems, "; "))
	}
	return r, nil
}

// TrailName is the name of the trail the sandbox creates with TrailCreate.
func (s *Sandbox) TrailName() string { return *s.EnvironmentName + "-AuditTrail" }

// AuditDatabaseName is the Glue database of the audit tables: the environment name in lower
// case with underscores (Glue and Athena names), plus "_audit".
func (s *Sandbox) AuditDatabaseName() string {
	return strings.ToLower(strings.ReplaceAll(*s.EnvironmentName, "-", "_")) + "_audit"
}

// AuditWorkGroupName is the Athena workgroup of the audit.
func (s *Sandbox) AuditWorkGroupName() string { return *s.EnvironmentName + "-Audit" }

func (s *Sandbox) audit(r resolvedAudit) {
	a := &Audit{Queries: map[string]awsathena.CfnNamedQuery{}}
	s.Audit = a
	stack := awscdk.Stack_Of(s)
	a.Key = defaults.Key(s, "AuditKey", &awskms.KeyProps{Description: jsii.String("Encrypts the AppStream sandbox's audit trail and Athena results")})

	switch r.trail {
	case TrailCreate:
		s.createTrail(a, r)
	case TrailExisting:
		a.TrailLogsUri = jsii.String(r.existingURI)
	}

	a.ResultsBucket = defaults.Bucket(s, "AuditResultsBucket", &awss3.BucketProps{
		EncryptionKey:          a.Key,
		ServerAccessLogsBucket: s.AccessLogsBucket,
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id:                                  jsii.String("expire-query-results"),
			Expiration:                          awscdk.Duration_Days(jsii.Number(DefaultResultsRetentionDays)),
			NoncurrentVersionExpiration:         awscdk.Duration_Days(jsii.Number(1)),
			AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(1)),
		}},
	})
	a.WorkGroup = awsathena.NewCfnWorkGroup(s, jsii.String("AuditWorkGroup"), &awsathena.CfnWorkGroupProps{
		Name:        jsii.String(s.AuditWorkGroupName()),
		Description: jsii.String("AppStream sandbox audit: who did what to which object"),
		// Deleting the stack deletes the saved queries and the query history with it.
		RecursiveDeleteOption: jsii.Bool(true),
		WorkGroupConfiguration: &awsathena.CfnWorkGroup_WorkGroupConfigurationProperty{
			EnforceWorkGroupConfiguration:   jsii.Bool(true),
			PublishCloudWatchMetricsEnabled: jsii.Bool(true),
			EngineVersion:                   &awsathena.CfnWorkGroup_EngineVersionProperty{SelectedEngineVersion: jsii.String("Athena engine version 3")},
			ResultConfiguration: &awsathena.CfnWorkGroup_ResultConfigurationProperty{
				OutputLocation: jsii.String("s3://" + *a.ResultsBucket.BucketName() + "/results/"),
				EncryptionConfiguration: &awsathena.CfnWorkGroup_EncryptionConfigurationProperty{
					EncryptionOption: jsii.String("SSE_KMS"),
					KmsKey:           a.Key.KeyArn(),
				},
				ExpectedBucketOwner: stack.Account(),
			},
		},
	})

	a.Database = awsglue.NewCfnDatabase(s, jsii.String("AuditDatabase"), &awsglue.CfnDatabaseProps{
		CatalogId: stack.Account(),
		DatabaseInput: &awsglue.CfnDatabase_DatabaseInputProperty{
			Name:        jsii.String(s.AuditDatabaseName()),
			Description: jsii.String("AppStream sandbox audit: CloudTrail logs and AppStream usage reports"),
		},
	})
	if a.TrailLogsUri != nil {
		a.CloudTrailTable = s.cloudTrailTable(a, r)
	}
	reports := s.UsageReports.Resource.GetAttString(jsii.String(UsageReportsBucketAttribute))
	a.SessionsTable = s.reportTable(a, "SessionsTable", SessionsTableName, "sessions", sessionsReportColumns, reports)
	a.ApplicationsTable = s.reportTable(a, "ApplicationsTable", ApplicationsTableName, "applications", applicationsReportColumns, reports)

	for _, name := range []string{QueryWhoTouchedObject, QueryUserActivity, QueryForeignHomeFolderWrites} {
		if a.CloudTrailTable == nil {
			break
		}
		q := awsathena.NewCfnNamedQuery(s, jsii.String("Query-"+name), &awsathena.CfnNamedQueryProps{
			Name:        jsii.String(*s.EnvironmentName + "-" + name),
			Database:    jsii.String(s.AuditDatabaseName()),
			WorkGroup:   a.WorkGroup.Ref(),
			Description: jsii.String(firstLine(QuerySQL()[name])),
			QueryString: jsii.String(strings.ReplaceAll(QuerySQL()[name], "{database}", s.AuditDatabaseName())),
		})
		q.AddResourceDependency(a.CloudTrailTable, jsii.String("the query names the table"))
		q.AddResourceDependency(a.SessionsTable, jsii.String("the query names the table"))
		a.Queries[name] = q
	}
}

// createTrail creates the trail, its bucket and key-policy statements, and its selectors.
func (s *Sandbox) createTrail(a *Audit, r resolvedAudit) {
	stack := awscdk.Stack_Of(s)
	trailArn := defaults.AllowCloudTrail(s, a.Key, s.TrailName())
	var bucketRef awss3.IBucket
	a.TrailBucket, bucketRef = defaults.CloudTrailBucket(s, "TrailBucket", &awss3.BucketProps{
		EncryptionKey:          a.Key,
		ServerAccessLogsBucket: s.AccessLogsBucket,
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id:                                  jsii.String("expire-trail-logs"),
			Expiration:                          awscdk.Duration_Days(jsii.Number(r.retentionDays)),
			NoncurrentVersionExpiration:         awscdk.Duration_Days(jsii.Number(30)),
			AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(7)),
		}},
	}, trailArn)
	props := &awscloudtrail.TrailProps{
		TrailName: jsii.String(s.TrailName()),
		// The reference: the bucket's policy is CloudTrailBucket's, limited to this trail.
		Bucket:               bucketRef,
		EncryptionKey:        a.Key,
		EnableFileValidation: jsii.Bool(true),
		// Every region: logins through the global STS endpoint are logged in us-east-1.
		IsMultiRegionTrail:         jsii.Bool(true),
		IncludeGlobalServiceEvents: jsii.Bool(true),
	}
	if r.cloudWatch {
		a.TrailLogGroup = defaults.LogGroup(s, "TrailLogGroup", &awslogs.LogGroupProps{EncryptionKey: s.LogsKey})
		props.SendToCloudWatchLogs = jsii.Bool(true)
		props.CloudWatchLogGroup = a.TrailLogGroup
	}
	a.Trail = awscloudtrail.NewTrail(s, jsii.String("Trail"), props)
	a.Trail.Node().AddDependency(a.Key, a.TrailBucket.Policy())
	// Advanced event selectors (the L2 Trail writes only basic ones): all management events,
	// which include AppStream's CreateStreamingURL, STS's AssumeRoleWithSAML and SageMaker's
	// notebook API (CreatePresignedNotebookInstanceUrl, DescribeNotebookInstance, ...), and S3
	// object-level data events on exactly the home-folder and scripts buckets
	// (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/filtering-data-events.html).
	cfn := a.Trail.Node().DefaultChild().(awscloudtrail.CfnTrail)
	cfn.AddPropertyDeletionOverride(jsii.String("EventSelectors"))
	cfn.AddPropertyOverride(jsii.String("AdvancedEventSelectors"), []any{
		map[string]any{"Name": "Management events", "FieldSelectors": []any{
			map[string]any{"Field": "eventCategory", "Equals": []any{"Management"}},
		}},
		map[string]any{"Name": "S3 data events of the home-folder and scripts buckets", "FieldSelectors": []any{
			map[string]any{"Field": "eventCategory", "Equals": []any{"Data"}},
			map[string]any{"Field": "resources.type", "Equals": []any{"AWS::S3::Object"}},
			map[string]any{"Field": "resources.ARN", "StartsWith": []any{
				"arn:" + *stack.Partition() + ":s3:::" + *s.HomeFolderBucketName() + "/",
				*s.ScriptsBucket.BucketArn() + "/",
			}},
		}},
	})
	a.TrailLogsUri = jsii.String("s3://" + *a.TrailBucket.BucketName() + "/AWSLogs/" + *stack.Account() + "/CloudTrail/")
	if r.cloudWatch {
		generated := "CloudTrail's generated log-delivery role gets its one grant (write to the trail's log group) as CDK's inline default policy"
		nag.SuppressTree(a.Trail,
			nag.Rule{ID: "NIST.800.53.R5-IAMNoInlinePolicy", Reason: generated},
			nag.Rule{ID: "HIPAA.Security-IAMNoInlinePolicy", Reason: generated},
		)
	} else {
		nag.Suppress(a.Trail,
			nag.Rule{ID: "NIST.800.53.R5-CloudTrailCloudWatchLogsEnabled", Reason: "CloudWatch Logs delivery is opt-in (Audit.CloudWatchLogs): the audit reads the trail from S3 with Athena and the CLI, and CloudWatch ingestion is charged per GB"},
			nag.Rule{ID: "HIPAA.Security-CloudTrailCloudWatchLogsEnabled", Reason: "CloudWatch Logs delivery is opt-in (Audit.CloudWatchLogs): the audit reads the trail from S3 with Athena and the CLI, and CloudWatch ingestion is charged per GB"},
		)
	}
}

// column is one Glue column.
type column struct{ name, typ string }

// cloudTrailColumns are the columns of AWS's CloudTrail table for Athena
// (https://docs.aws.amazon.com/athena/latest/ug/create-cloudtrail-table-partition-projection.html).
var cloudTrailColumns = []column{
	{"eventversion", "string"},
	{"useridentity", "struct<type:string,principalid:string,arn:string,accountid:string,invokedby:string,accesskeyid:string,username:string," +
		"onbehalfof:struct<userid:string,identitystorearn:string>," +
		"sessioncontext:struct<attributes:struct<mfaauthenticated:string,creationdate:string>,sessionissuer:struct<type:string,principalid:string,arn:string,accountid:string,username:string>," +
		"ec2roledelivery:string,webidfederationdata:struct<federatedprovider:string,attributes:map<string,string>>>>"},
	{"eventtime", "string"}, {"eventsource", "string"}, {"eventname", "string"}, {"awsregion", "string"},
	{"sourceipaddress", "string"}, {"useragent", "string"}, {"errorcode", "string"}, {"errormessage", "string"},
	{"requestparameters", "string"}, {"responseelements", "string"}, {"additionaleventdata", "string"},
	{"requestid", "string"}, {"eventid", "string"}, {"readonly", "string"},
	{"resources", "array<struct<arn:string,accountid:string,type:string>>"},
	{"eventtype", "string"}, {"apiversion", "string"}, {"recipientaccountid", "string"}, {"serviceeventdetails", "string"},
	{"sharedeventid", "string"}, {"vpcendpointid", "string"}, {"vpcendpointaccountid", "string"}, {"eventcategory", "string"},
	{"tlsdetails", "struct<tlsversion:string,ciphersuite:string,clientprovidedhostheader:string>"},
}

// sessionsReportColumns and applicationsReportColumns are the usage reports' CSV columns, in
// file order, as AppStream documents them
// (https://docs.aws.amazon.com/appstream2/latest/developerguide/usage-reports-fields-sessions-reports.html,
// https://docs.aws.amazon.com/appstream2/latest/developerguide/usage-reports-fields-applications-reports.html);
// schedule, year, month and day are the key's partitions, not columns of the file. Every column
// is a string (OpenCSVSerde reads nothing else); the queries convert times.
var (
	sessionsReportColumns = strColumns("user_session_id", "aws_account_id", "region", "session_start_time", "session_end_time",
		"session_duration_in_seconds", "user_id", "user_arn", "authentication_type", "authentication_type_user_id", "fleet_name",
		"stack_name", "instance_type", "eni_private_ip_address", "connected_at_least_once", "client_ip_addresses",
		"google_drive_enabled", "one_drive_enabled", "home_folders_storage_location", "user_settings_clipboard_copy_from_local_device",
		"user_settings_clipboard_copy_to_local_device", "user_settings_file_upload", "user_settings_file_download",
		"user_settings_printing_to_local_device", "application_settings_persistence", "domain_joined", "max_session_duration",
		"session_type", "stream_view", "streaming_experience_settings_protocol")
	applicationsReportColumns = strColumns("user_session_id", "application_name")
)

func strColumns(names ...string) []column {
	out := make([]column, len(names))
	for i, n := range names {
		out[i] = column{n, "string"}
	}
	return out
}

func glueColumns(cols []column) *[]any {
	out := make([]any, len(cols))
	for i, c := range cols {
		out[i] = &awsglue.CfnTable_ColumnProperty{Name: jsii.String(c.name), Type: jsii.String(c.typ)}
	}
	return &out
}

// cloudTrailTable is AWS's documented CloudTrail table with partition projection, no crawler,
// extended with a region partition so that one table covers AuditProps.AthenaRegions.
func (s *Sandbox) cloudTrailTable(a *Audit, r resolvedAudit) awsglue.CfnTable {
	stack := awscdk.Stack_Of(s)
	regions := strings.Join(r.regions, ",")
	if regions == "" {
		regions = *stack.Region()
	}
	t := awsglue.NewCfnTable(s, jsii.String("CloudTrailTable"), &awsglue.CfnTableProps{
		CatalogId:    stack.Account(),
		DatabaseName: jsii.String(s.AuditDatabaseName()),
		TableInput: &awsglue.CfnTable_TableInputProperty{
			Name:          jsii.String(CloudTrailTableName),
			Description:   jsii.String("CloudTrail log files of this account (partition projection by region and day)"),
			TableType:     jsii.String("EXTERNAL_TABLE"),
			PartitionKeys: glueColumns([]column{{"region", "string"}, {"timestamp", "string"}}),
			Parameters: map[string]any{
				"classification":                     "cloudtrail",
				"projection.enabled":                 "true",
				"projection.region.type":             "enum",
				"projection.region.values":           regions,
				"projection.timestamp.type":          "date",
				"projection.timestamp.format":        "yyyy/MM/dd",
				"projection.timestamp.range":         r.projectionStart + ",NOW",
				"projection.timestamp.interval":      "1",
				"projection.timestamp.interval.unit": "DAYS",
				"storage.location.template":          *a.TrailLogsUri + "${region}/${timestamp}",
			},
			StorageDescriptor: &awsglue.CfnTable_StorageDescriptorProperty{
				Columns:      glueColumns(cloudTrailColumns),
				Location:     a.TrailLogsUri,
				InputFormat:  jsii.String("com.amazon.emr.cloudtrail.CloudTrailInputFormat"),
				OutputFormat: jsii.String("org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"),
				SerdeInfo:    &awsglue.CfnTable_SerdeInfoProperty{SerializationLibrary: jsii.String("org.apache.hive.hcatalog.data.JsonSerDe")},
			},
		},
	})
	t.AddResourceDependency(a.Database, jsii.String("the table is in the database"))
	return t
}

// reportTable is one usage report as a CSV table over AppStream's bucket, with projection over
// the schedule=DAILY/year=/month=/day= layout AppStream writes.
func (s *Sandbox) reportTable(a *Audit, id, name, folder string, cols []column, bucket *string) awsglue.CfnTable {
	stack := awscdk.Stack_Of(s)
	location := "s3://" + *bucket + "/" + folder + "/"
	t := awsglue.NewCfnTable(s, jsii.String(id), &awsglue.CfnTableProps{
		CatalogId:    stack.Account(),
		DatabaseName: jsii.String(s.AuditDatabaseName()),
		TableInput: &awsglue.CfnTable_TableInputProperty{
			Name:          jsii.String(name),
			Description:   jsii.String("AppStream usage reports: " + folder),
			TableType:     jsii.String("EXTERNAL_TABLE"),
			PartitionKeys: glueColumns(strColumns("schedule", "year", "month", "day")),
			Parameters: map[string]any{
				"classification":           "csv",
				"skip.header.line.count":   "1",
				"projection.enabled":       "true",
				"projection.schedule.type": "enum", "projection.schedule.values": "DAILY",
				"projection.year.type": "integer", "projection.year.range": "2020,2099",
				"projection.month.type": "integer", "projection.month.range": "1,12", "projection.month.digits": "2",
				"projection.day.type": "integer", "projection.day.range": "1,31", "projection.day.digits": "2",
				"storage.location.template": location + "schedule=${schedule}/year=${year}/month=${month}/day=${day}/",
			},
			StorageDescriptor: &awsglue.CfnTable_StorageDescriptorProperty{
				Columns:      glueColumns(cols),
				Location:     jsii.String(location),
				InputFormat:  jsii.String("org.apache.hadoop.mapred.TextInputFormat"),
				OutputFormat: jsii.String("org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"),
				SerdeInfo: &awsglue.CfnTable_SerdeInfoProperty{
					SerializationLibrary: jsii.String("org.apache.hadoop.hive.serde2.OpenCSVSerde"),
					Parameters:           map[string]any{"separatorChar": ",", "quoteChar": "\""},
				},
			},
		},
	})
	t.AddResourceDependency(a.Database, jsii.String("the table is in the database"))
	return t
}

// firstLine is the first comment line of a query, without the "-- ".
func firstLine(sql string) string {
	line, _, _ := strings.Cut(sql, "\n")
	return strings.TrimPrefix(line, "-- ")
}
