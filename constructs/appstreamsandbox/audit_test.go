package appstreamsandbox_test

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/appstreamsandbox"
	"github.com/securestacks/securestacks/constructs/internal/policytest"
	"github.com/securestacks/securestacks/internal/appstreamaudit"
	"github.com/securestacks/securestacks/internal/appstreamaudit/audittest"
	"github.com/securestacks/securestacks/internal/nag"
)

var pinnedEnv = &awscdk.Environment{Account: jsii.String("123456789012"), Region: jsii.String("eu-west-1")}

func withAudit(a *appstreamsandbox.AuditProps) *appstreamsandbox.SandboxProps {
	p := placeholder()
	p.EnvironmentName = jsii.String("Audit-Sandbox")
	p.Audit = a
	return p
}

func rawTemplate(t *testing.T, tpl assertions.Template) (map[string]any, string) {
	t.Helper()
	b, err := json.Marshal(tpl.ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	_ = json.Unmarshal(b, &raw)
	return raw, string(b)
}

func TestAuditTrail(t *testing.T) {
	// GIVEN the default sandbox (it creates the trail)
	stack, s, tp, tpl := build(t, pinnedEnv, withAudit(nil))
	raw, js := rawTemplate(t, tpl)
	_, trail := tp.one(t, "AWS::CloudTrail::Trail")

	t.Run("validation, every region, KMS, no basic selectors", func(t *testing.T) {
		p := trail.Properties
		if p["TrailName"] != s.TrailName() || p["EnableLogFileValidation"] != true || p["IsMultiRegionTrail"] != true ||
			p["IncludeGlobalServiceEvents"] != true || p["KMSKeyId"] == nil || p["IsLogging"] != true {
			t.Errorf("trail %v", asJSON(p))
		}
		// CloudTrail refuses a trail with both kinds of selector
		// (https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_PutEventSelectors.html).
		if _, ok := p["EventSelectors"]; ok {
			t.Errorf("basic event selectors next to the advanced ones: %v", asJSON(p["EventSelectors"]))
		}
	})
	t.Run("management events and the two buckets' S3 data events", func(t *testing.T) {
		// https://docs.aws.amazon.com/awscloudtrail/latest/userguide/filtering-data-events.html
		sel := asJSON(trail.Properties["AdvancedEventSelectors"])
		for _, want := range []string{
			`{"Equals":["Management"],"Field":"eventCategory"}`,
			`{"Equals":["Data"],"Field":"eventCategory"}`,
			`{"Equals":["AWS::S3::Object"],"Field":"resources.type"}`,
			`":s3:::appstream2-36fb080bb8-eu-west-1-123456789012/"`,
		} {
			if !strings.Contains(sel, want) {
				t.Errorf("selectors lack %s: %s", want, sel)
			}
		}
		scripts := asJSON(tp.Resources[ref(t, tp, "AWS::S3::Bucket", "ScriptsBucket")].Type)
		if !strings.Contains(sel, `"StartsWith":[`) || scripts == "" || !strings.Contains(sel, "ScriptsBucket") {
			t.Errorf("the scripts bucket's objects are not selected: %s", sel)
		}
	})
	t.Run("CloudTrail to the bucket", func(t *testing.T) {
		// https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-s3-bucket-policy-for-cloudtrail.html:
		// s3:GetBucketAcl on the bucket, s3:PutObject under AWSLogs/<account>/ with
		// bucket-owner-full-control.
		if len(policytest.AllowsService(raw, "cloudtrail.amazonaws.com", "s3:GetBucketAcl")) != 1 {
			t.Error("no GetBucketAcl for CloudTrail")
		}
		put := policytest.AllowsService(raw, "cloudtrail.amazonaws.com", "s3:PutObject")
		if len(put) != 1 || !strings.Contains(asJSON(put[0].Statement), `/AWSLogs/123456789012/*`) ||
			!strings.Contains(asJSON(put[0].Statement), `"s3:x-amz-acl":"bucket-owner-full-control"`) {
			t.Errorf("CloudTrail PutObject statement %v", put)
		}
	})
	t.Run("CloudTrail to the key", func(t *testing.T) {
		// https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html
		for _, action := range []string{"kms:GenerateDataKey*", "kms:DescribeKey", "kms:Decrypt"} {
			sts := policytest.AllowsService(raw, "cloudtrail.amazonaws.com", action)
			if len(sts) != 1 || !strings.Contains(sts[0].Condition(), "trail/"+s.TrailName()) {
				t.Errorf("%s: %v", action, sts)
			}
		}
	})
	t.Run("CloudWatch Logs delivery by default (CT.CLOUDTRAIL.PR.3), KMS-encrypted", func(t *testing.T) {
		p := trail.Properties
		if p["CloudWatchLogsLogGroupArn"] == nil || p["CloudWatchLogsRoleArn"] == nil {
			t.Errorf("trail %v", asJSON(p))
		}
		id := ref(t, tp, "AWS::Logs::LogGroup", "TrailLogGroup")
		if tp.Resources[id].Properties["KmsKeyId"] == nil || tp.Resources[id].Properties["RetentionInDays"] == nil {
			t.Errorf("trail log group %v", asJSON(tp.Resources[id].Properties))
		}
	})
	t.Run("log retention", func(t *testing.T) {
		if !strings.Contains(js, `"ExpirationInDays":365`) || !strings.Contains(js, `"Id":"expire-trail-logs"`) {
			t.Error("the trail bucket does not expire logs after 365 days")
		}
	})
	t.Run("Athena workgroup with encrypted, enforced results", func(t *testing.T) {
		_, wg := tp.one(t, "AWS::Athena::WorkGroup")
		c := asJSON(wg.Properties["WorkGroupConfiguration"])
		if wg.Properties["Name"] != s.AuditWorkGroupName() || !strings.Contains(c, `"EnforceWorkGroupConfiguration":true`) ||
			!strings.Contains(c, `"EncryptionOption":"SSE_KMS"`) || !strings.Contains(c, `"KmsKey":{"Fn::GetAtt":["SandboxAuditKey`) {
			t.Errorf("workgroup %s", c)
		}
	})
	t.Run("nag-clean", func(t *testing.T) {
		if errs := nag.Errors(stack); len(errs) > 0 {
			t.Errorf("nag: %v", errs)
		}
	})
}

func TestAuditTables(t *testing.T) {
	_, s, tp, _ := build(t, pinnedEnv, withAudit(&appstreamsandbox.AuditProps{AthenaRegions: jsii.Strings("eu-west-1", "us-east-1")}))
	tables := map[string]map[string]any{}
	for _, id := range tp.ofType("AWS::Glue::Table") {
		in := tp.Resources[id].Properties["TableInput"].(map[string]any)
		if tp.Resources[id].Properties["DatabaseName"] != s.AuditDatabaseName() {
			t.Errorf("%s is not in the audit database", id)
		}
		tables[in["Name"].(string)] = in
	}
	t.Run("CloudTrail table: AWS's SerDe and input format, partition projection, no crawler", func(t *testing.T) {
		// https://docs.aws.amazon.com/athena/latest/ug/create-cloudtrail-table-partition-projection.html
		ct := asJSON(tables[appstreamsandbox.CloudTrailTableName])
		for _, want := range []string{
			`"InputFormat":"com.amazon.emr.cloudtrail.CloudTrailInputFormat"`,
			`"SerializationLibrary":"org.apache.hive.hcatalog.data.JsonSerDe"`,
			`"projection.enabled":"true"`, `"projection.timestamp.format":"yyyy/MM/dd"`, `"projection.timestamp.type":"date"`,
			`"projection.timestamp.range":"2025/01/01,NOW"`, `"projection.region.values":"eu-west-1,us-east-1"`,
			`/AWSLogs/123456789012/CloudTrail/${region}/${timestamp}`,
		} {
			if !strings.Contains(ct, want) {
				t.Errorf("CloudTrail table lacks %s: %s", want, ct)
			}
		}
		if len(tp.ofType("AWS::Glue::Crawler")) != 0 {
			t.Error("a crawler")
		}
	})
	t.Run("sessions table has every column the audit correlates on", func(t *testing.T) {
		cols := columnNames(tables[appstreamsandbox.SessionsTableName])
		for _, c := range []string{appstreamaudit.ColSessionID, appstreamaudit.ColUserID, appstreamaudit.ColAuthType, appstreamaudit.ColStack,
			appstreamaudit.ColFleet, appstreamaudit.ColInstanceIP, appstreamaudit.ColStart, appstreamaudit.ColEnd} {
			if !slices.Contains(cols, c) {
				t.Errorf("sessions table lacks %s", c)
			}
		}
		// The report's columns in file order, as the OpenCSVSerde maps them by position: the
		// testdata header (the documented one) must be exactly the table's columns.
		if got := strings.Join(cols, ","); got != sessionsHeader(t) {
			t.Errorf("sessions columns\n%s\nwant the report header\n%s", got, sessionsHeader(t))
		}
		if apps := columnNames(tables[appstreamsandbox.ApplicationsTableName]); strings.Join(apps, ",") != "user_session_id,application_name" {
			t.Errorf("applications columns %v", apps)
		}
		if !strings.Contains(asJSON(tables[appstreamsandbox.SessionsTableName]), `schedule=${schedule}/year=${year}/month=${month}/day=${day}/`) {
			t.Error("the sessions table does not project AppStream's key layout")
		}
	})
	t.Run("named queries: Athena's dialect, as far as it can be checked offline", func(t *testing.T) {
		// What is checked here: each query names only this database's tables, balances its
		// parentheses and quotes, takes the execution parameters its header documents, and uses
		// no identifier Trino reserves as a bare CTE name. Trino's own parser and the columns'
		// existence at run time are checked only when Athena runs the query.
		ids := tp.ofType("AWS::Athena::NamedQuery")
		if len(ids) != 3 {
			t.Fatalf("named queries %v", ids)
		}
		params := map[string]int{appstreamsandbox.QueryWhoTouchedObject: 4, appstreamsandbox.QueryUserActivity: 6, appstreamsandbox.QueryForeignHomeFolderWrites: 2}
		tableRe := regexp.MustCompile(`"([a-z0-9_]+)"\."([a-z0-9_]+)"`)
		for _, id := range ids {
			p := tp.Resources[id].Properties
			name := strings.TrimPrefix(p["Name"].(string), "Audit-Sandbox-")
			sql := p["QueryString"].(string)
			if p["Database"] != s.AuditDatabaseName() {
				t.Errorf("%s: database %v", name, p["Database"])
			}
			for _, m := range tableRe.FindAllStringSubmatch(sql, -1) {
				if m[1] != s.AuditDatabaseName() || tables[m[2]] == nil {
					t.Errorf("%s: references %s.%s", name, m[1], m[2])
				}
			}
			code := stripComments(sql)
			if n := strings.Count(code, "?"); n != params[name] {
				t.Errorf("%s: %d parameters, want %d", name, n, params[name])
			}
			if strings.Count(code, "(") != strings.Count(code, ")") || strings.Count(code, "'")%2 != 0 || strings.Count(code, `"`)%2 != 0 {
				t.Errorf("%s: unbalanced parentheses or quotes", name)
			}
			if regexp.MustCompile(`(?im)^\s*(window|values|table|user|current_time)\s+AS\s*\(`).MatchString(code) {
				t.Errorf("%s: a CTE named with a Trino reserved word", name)
			}
		}
	})
}

func TestAuditModes(t *testing.T) {
	t.Run("existing trail: nothing created, the table reads its logs", func(t *testing.T) {
		uri := "s3://org-trail-logs/AWSLogs/o-abc123def4/123456789012/CloudTrail/"
		stack, _, tp, tpl := build(t, pinnedEnv, withAudit(&appstreamsandbox.AuditProps{Trail: jsii.String(appstreamsandbox.TrailExisting), ExistingTrailLogsUri: jsii.String(uri)}))
		if len(tp.ofType("AWS::CloudTrail::Trail")) != 0 {
			t.Error("a trail was created")
		}
		_, js := rawTemplate(t, tpl)
		if !strings.Contains(js, `"storage.location.template":"`+uri+`${region}/${timestamp}"`) || len(tp.ofType("AWS::Athena::NamedQuery")) != 3 {
			t.Error("the CloudTrail table does not read the existing trail's logs")
		}
		if errs := nag.Errors(stack); len(errs) > 0 {
			t.Errorf("nag: %v", errs)
		}
	})
	t.Run("no trail: the usage-report tables only", func(t *testing.T) {
		_, _, tp, _ := build(t, pinnedEnv, withAudit(&appstreamsandbox.AuditProps{Trail: jsii.String(appstreamsandbox.TrailNone)}))
		if len(tp.ofType("AWS::CloudTrail::Trail")) != 0 || len(tp.ofType("AWS::Athena::NamedQuery")) != 0 || len(tp.ofType("AWS::Glue::Table")) != 2 {
			t.Errorf("trails %v, queries %v, tables %v", tp.ofType("AWS::CloudTrail::Trail"), tp.ofType("AWS::Athena::NamedQuery"), tp.ofType("AWS::Glue::Table"))
		}
	})
	t.Run("CloudWatch Logs delivery turned off", func(t *testing.T) {
		stack, _, tp, _ := build(t, pinnedEnv, withAudit(&appstreamsandbox.AuditProps{CloudWatchLogs: jsii.Bool(false)}))
		_, trail := tp.one(t, "AWS::CloudTrail::Trail")
		if trail.Properties["CloudWatchLogsLogGroupArn"] != nil || slices.ContainsFunc(tp.ofType("AWS::Logs::LogGroup"), func(id string) bool {
			return strings.HasPrefix(id, "SandboxTrailLogGroup")
		}) {
			t.Errorf("trail %v, log groups %v", asJSON(trail.Properties), tp.ofType("AWS::Logs::LogGroup"))
		}
		if errs := nag.Errors(stack); len(errs) > 0 {
			t.Errorf("nag: %v", errs)
		}
	})
}

func columnNames(table map[string]any) []string {
	var out []string
	for _, c := range table["StorageDescriptor"].(map[string]any)["Columns"].([]any) {
		out = append(out, c.(map[string]any)["Name"].(string))
	}
	return out
}

func stripComments(sql string) string {
	var b strings.Builder
	for line := range strings.Lines(sql) {
		code, _, _ := strings.Cut(line, "--")
		b.WriteString(code)
	}
	return b.String()
}

// ref returns the logical id of the one resource of type typ whose id starts with "Sandbox"+id.
func ref(t *testing.T, tp tmpl, typ, id string) string {
	t.Helper()
	for _, l := range tp.ofType(typ) {
		if strings.HasPrefix(l, "Sandbox"+id) {
			return l
		}
	}
	t.Fatalf("no %s %s", typ, id)
	return ""
}

// sessionsHeader is the header of the testdata sessions report.
func sessionsHeader(t *testing.T) string {
	t.Helper()
	for name, b := range audittest.Reports() {
		if strings.HasPrefix(name, "sessions/") {
			header, _, _ := strings.Cut(string(b), "\n")
			return header
		}
	}
	t.Fatal("no sessions report in the testdata")
	return ""
}
