package rolecoverage_test

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/securestacks/securestacks/internal/rolecoverage"
)

// A handler is what static analysis cannot know about one lambda-src main
// package: which functions of the templates run it, and which resource each
// operation it calls acts on at run time, derived from the function's
// environment and the custom resources it serves. The operations themselves
// come from the code (rolecoverage.HandlerOperations): a new handler, or an
// operation missing here, fails TestEveryHandlerOperationHasItsRuntimeResources
// with the line to add.
type handler struct {
	// functions are the construct ids (logical ids without their hash) of the
	// Lambda functions built from the handler.
	functions []string
	// targets gives, per operation ("s3.GetObject"), the resources the call
	// acts on. No target means the configuration never makes the call.
	targets map[string]targetsFunc
}

type targetsFunc func(f *rolecoverage.Function) ([]rolecoverage.Target, error)

var handlers = map[string]handler{
	"alexa-skill-backend": {
		functions: []string{"SkillBackend"},
		targets: map[string]targetsFunc{
			"ssm.GetParameter": parameter(env("SKILL_ID_PARAMETER")),
		},
	},
	"alexa-skill-permission": {
		functions: []string{"SkillPermissionFunction"},
		targets: map[string]targetsFunc{
			"lambda.AddPermission":    each(crProp("FunctionArn")),
			"lambda.GetPolicy":        each(crProp("FunctionArn")),
			"lambda.RemovePermission": each(crProp("FunctionArn")),
			"ssm.PutParameter":        parameter(crProp("SkillIdParameterName")),
			"ssm.DeleteParameter":     parameter(crProp("SkillIdParameterName")),
		},
	},
	"appstream-fleet-lifecycle": {
		functions: []string{"SandboxFleetLifecycleFunction"},
		targets: map[string]targetsFunc{
			"appstream.DescribeFleets": arnOf("appstream", "fleet/", crProp("FleetName")),
			"appstream.StartFleet":     arnOf("appstream", "fleet/", crProp("FleetName")),
			"appstream.StopFleet":      arnOf("appstream", "fleet/", crProp("FleetName")),
		},
	},
	"appstream-homefolder-notification": {
		functions: []string{"SandboxHomeFolderNotificationFunction"},
		targets: map[string]targetsFunc{
			"s3.GetBucketNotificationConfiguration": bucket(crProp("BucketName")),
			"s3.PutBucketNotificationConfiguration": bucket(crProp("BucketName")),
		},
	},
	"appstream-service-roles": {
		functions: []string{"SandboxServiceRolesFunction"},
		targets: map[string]targetsFunc{
			// GetRole names only the role; IAM authorizes the ARN of the role as
			// it exists, at whatever path the console or a user created it.
			"iam.GetRole":                  rolesAtAnyPath,
			"iam.CreateRole":               serviceRoles(nil, "iam:CreateRole", "iam:TagRole"),
			"iam.ListAttachedRolePolicies": serviceRoles(nil),
			"iam.ListRolePolicies":         serviceRoles(nil),
			"iam.AttachRolePolicy":         serviceRoles(servicePolicy),
			"iam.DetachRolePolicy":         serviceRoles(ownerTag(servicePolicy)),
			"iam.DeleteRolePolicy":         serviceRoles(ownerTag(nil)),
			"iam.DeleteRole":               serviceRoles(ownerTag(nil)),
		},
	},
	"appstream-session-validator": {
		functions: []string{"SandboxValidator"},
		targets: map[string]targetsFunc{
			"s3.GetObject": sessionObject("session.json"),
			"s3.PutObject": sessionObject("session_url.txt"),
			"appstream.DescribeSessions": func(f *rolecoverage.Function) ([]rolecoverage.Target, error) {
				fleet, err := arnOf("appstream", "fleet/", env("APPSTREAM_FLEET_NAME"))(f)
				if err != nil {
					return nil, err
				}
				stack, err := arnOf("appstream", "stack/", env("APPSTREAM_STACK_NAME"))(f)
				return append(fleet, stack...), err
			},
			"sagemaker.CreatePresignedNotebookInstanceUrl": arnOf("sagemaker", "notebook-instance/", lower(env("NOTEBOOK_INSTANCE_NAME"))),
		},
	},
	"appstream-usage-reports": {
		functions: []string{"SandboxUsageReportsFunction"},
		targets: map[string]targetsFunc{
			"appstream.DescribeUsageReportSubscriptions": anyResource,
			"appstream.CreateUsageReportSubscription":    anyResource,
			"appstream.DeleteUsageReportSubscription":    anyResource,
		},
	},
	"asff-ingest": {
		functions: []string{"PipelineIngestFunction"},
		targets: map[string]targetsFunc{
			// Raw envelopes and parsed state are written with SSE-KMS named in
			// the request (the bucket policy denies anything else).
			"s3.PutObject": withContext(map[string]any{"s3:x-amz-server-side-encryption": "aws:kms"},
				object(env("REPORT_BUCKET"), "reports/trivy/1-2026.json", "state/trivy/0123.json")),
			// The state read expects NoSuchKey for a first run, which S3
			// answers only with s3:ListBucket; otherwise it is AccessDenied
			// (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html#API_GetObject_Permissions).
			"s3.GetObject": func(f *rolecoverage.Function) ([]rolecoverage.Target, error) {
				objs, err := object(env("REPORT_BUCKET"), "scans/trivy/report.json", "state/trivy/0123.json")(f)
				if err != nil {
					return nil, err
				}
				list, err := bucket(env("REPORT_BUCKET"))(f)
				if err != nil {
					return nil, err
				}
				list[0].Actions = []string{"s3:ListBucket"}
				list[0].Context = map[string]any{"s3:prefix": "state/trivy/0123.json"}
				return append(objs, list...), nil
			},
			"securityhub.BatchImportFindings": defaultProduct,
		},
	},
	"falco-ingest": {
		functions: []string{"PipelineRuntimeFunction"},
		targets: map[string]targetsFunc{
			// Raw events are written with SSE-KMS named in the request (the bucket policy
			// denies anything else).
			"s3.PutObject": withContext(map[string]any{"s3:x-amz-server-side-encryption": "aws:kms"},
				object(env("REPORT_BUCKET"), "runtime/eks_shop-staging_falco/2026-11-20/falco-x2k9p-3797.json")),
			"securityhub.BatchImportFindings": defaultProduct,
		},
	},
	"fieldencryption-store": {
		functions: []string{"FieldEncryptionStoreFunction"},
		targets: map[string]targetsFunc{
			// One object per request under records/, SSE-KMS named in the request.
			"s3.PutObject": withContext(map[string]any{"s3:x-amz-server-side-encryption": "aws:kms"},
				object(env("BUCKET"), "records/2026/12/03/req-1")),
		},
	},
	"fle-decrypt": {
		functions: []string{"EncryptionKeyDecryptFunction"},
		targets: map[string]targetsFunc{
			"kms.Decrypt": withContext(map[string]any{"kms:EncryptionAlgorithm": "RSAES_OAEP_SHA_256", "kms:CallerAccount": ""}, each(env("KEY_ID"))),
			// Every request's authorization, a MAC under the invoke key.
			"kms.VerifyMac": withContext(map[string]any{"kms:MacAlgorithm": "HMAC_SHA_256", "kms:CallerAccount": ""}, each(env("INVOKE_KEY_ID"))),
		},
	},
	"kms-public-key": {
		functions: []string{"EncryptionKeyPublicationFunction", "SigningKeyPublicationFunction"},
		targets: map[string]targetsFunc{
			"kms.GetPublicKey":    each(crProp("KeyId")),
			"s3.PutObject":        publicKeyObjects(false),
			"s3.DeleteObject":     publicKeyObjects(true),
			"ssm.PutParameter":    parameter(crProp("ParameterName")),
			"ssm.DeleteParameter": onDestroy(parameter(crProp("ParameterName"))),
		},
	},
	"origin-updater": {
		functions: []string{"UpdaterUpdaterFunction"},
		targets: map[string]targetsFunc{
			"ec2.DescribeSecurityGroups":          onTarget("security-groups", anyResource),
			"ec2.DescribeNetworkInterfaces":       onTarget("security-groups", anyResource),
			"ec2.CreateSecurityGroup":             onTarget("security-groups", originGroups(true, true)),
			"ec2.AuthorizeSecurityGroupIngress":   onTarget("security-groups", originGroups(false, false)),
			"ec2.RevokeSecurityGroupIngress":      onTarget("security-groups", originGroups(false, false)),
			"ec2.ModifyNetworkInterfaceAttribute": onTarget("security-groups", originInterfaces),
			"ec2.CreateTags": func(f *rolecoverage.Function) ([]rolecoverage.Target, error) {
				if f.Env["TARGET"] == "security-groups" {
					return originGroups(true, false)(f)
				}
				return originPrefixLists(f)
			},
			"ec2.DescribeManagedPrefixLists":  onTarget("prefix-list", anyResource),
			"ec2.GetManagedPrefixListEntries": onTarget("prefix-list", originPrefixLists),
			"ec2.ModifyManagedPrefixList":     onTarget("prefix-list", originPrefixLists),
		},
	},
	"origin-prefix-list": {
		functions: []string{"OriginLookupFunction"},
		targets: map[string]targetsFunc{
			"ec2.DescribeManagedPrefixLists": anyResource,
		},
	},
	"mtls-cert-export": {
		functions: []string{"MtlsExportFunction"},
		targets: map[string]targetsFunc{
			"acm.ExportCertificate":            each(crProp("CertificateArn")),
			"secretsmanager.PutSecretValue":    each(crProp("SecretArn")),
			"secretsmanager.GetRandomPassword": anyResource,
			// The gateway's client certificate: AWS Private CA issues it from the
			// clientAuth template, on the gateway's CA.
			"acmpca.IssueCertificate": issueTargets(crIssues, true),
			"acmpca.GetCertificate":   issueTargets(crIssues, false),
		},
	},
	"mtls-cert-renew": {
		functions: []string{"MtlsRenewFunction"},
		targets: map[string]targetsFunc{
			"acm.DescribeCertificate":          renewTargets("certificateArn"),
			"acm.RenewCertificate":             renewTargets("certificateArn"),
			"acm.ExportCertificate":            renewTargets("certificateArn"),
			"secretsmanager.GetSecretValue":    renewTargets("secretArn"),
			"secretsmanager.PutSecretValue":    renewTargets("secretArn"),
			"secretsmanager.GetRandomPassword": anyResource,
			"ecs.UpdateService":                renewTargets("services"),
			"acmpca.IssueCertificate":          issueTargets(renewIssues, true),
			"acmpca.GetCertificate":            issueTargets(renewIssues, false),
			"acmpca.DescribeCertificateAuthority": func(f *rolecoverage.Function) ([]rolecoverage.Target, error) {
				var cas []string
				if err := json.Unmarshal([]byte(f.Env["MTLS_ISSUING_CAS"]), &cas); err != nil {
					return nil, fmt.Errorf("%s: MTLS_ISSUING_CAS: %w", f.Name(), err)
				}
				return each(func(*rolecoverage.Function) ([]string, error) { return cas, nil })(f)
			},
		},
	},
	"tenant-shipment-tracking": {
		functions: []string{"ShipmentTrackingFunction"},
		targets: map[string]targetsFunc{
			// The tagged AssumeRole is authorized as sts:AssumeRole and sts:TagSession
			// (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html#id_session-tags_permissions-required).
			"sts.AssumeRole": func(f *rolecoverage.Function) ([]rolecoverage.Target, error) {
				ts, err := withContext(map[string]any{"aws:RequestTag/TenantID": "yellow", "aws:TagKeys": []string{"TenantID"}},
					each(env("ACCESS_ROLE_ARN")))(f)
				for i := range ts {
					ts[i].Actions = []string{"sts:AssumeRole", "sts:TagSession"}
				}
				return ts, err
			},
			"dynamodb.GetItem": tenantSession,
			"s3.GetObject":     tenantSession,
		},
	},
}

// A value is one string the function knows at run time, from every place
// it can come from (one per custom resource it serves).
type value func(f *rolecoverage.Function) ([]string, error)

func env(name string) value {
	return func(f *rolecoverage.Function) ([]string, error) {
		v, ok := f.Env[name]
		if !ok {
			return nil, fmt.Errorf("%s has no environment variable %s", f.Name(), name)
		}
		return []string{v}, nil
	}
}

func crProp(name string) value {
	return func(f *rolecoverage.Function) ([]string, error) {
		if len(f.CustomResources) == 0 {
			return nil, fmt.Errorf("%s serves no custom resource", f.Name())
		}
		var out []string
		for _, cr := range f.CustomResources {
			if s, ok := cr[name].(string); ok {
				out = append(out, s)
			}
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("%s: no custom resource it serves has a string property %s", f.Name(), name)
		}
		return out, nil
	}
}

func lower(v value) value {
	return func(f *rolecoverage.Function) ([]string, error) {
		vs, err := v(f)
		for i := range vs {
			vs[i] = strings.ToLower(vs[i])
		}
		return vs, err
	}
}

func each(v value) targetsFunc {
	return func(f *rolecoverage.Function) ([]rolecoverage.Target, error) {
		vs, err := v(f)
		var out []rolecoverage.Target
		for _, s := range vs {
			out = append(out, rolecoverage.Target{Resource: s})
		}
		return out, err
	}
}

func arnOf(service, prefix string, v value) targetsFunc {
	return func(f *rolecoverage.Function) ([]rolecoverage.Target, error) {
		vs, err := v(f)
		e := f.T.Env
		var out []rolecoverage.Target
		for _, s := range vs {
			out = append(out, rolecoverage.Target{Resource: "arn:" + e.Partition + ":" + service + ":" + e.Region + ":" + e.Account + ":" + prefix + s})
		}
		return out, err
	}
}

// parameter is the ARN of an SSM parameter named by v; a path name drops
// its leading slash in the ARN.
func parameter(v value) targetsFunc {
	return arnOf("ssm", "parameter/", func(f *rolecoverage.Function) ([]string, error) {
		vs, err := v(f)
		for i := range vs {
			vs[i] = strings.TrimPrefix(vs[i], "/")
		}
		return vs, err
	})
}

func bucket(v value) targetsFunc {
	return func(f *rolecoverage.Function) ([]rolecoverage.Target, error) {
		vs, err := v(f)
		var out []rolecoverage.Target
		for _, s := range vs {
			out = append(out, rolecoverage.Target{Resource: "arn:" + f.T.Env.Partition + ":s3:::" + s})
		}
		return out, err
	}
}

// sessionObject is a file in a user's home folder, in the folder the session script names after
// the sandbox's AppStream stack: user/<type>/<hash>/<stack>/<file>.
func sessionObject(file string) targetsFunc {
	return func(f *rolecoverage.Function) ([]rolecoverage.Target, error) {
		stacks, err := env("APPSTREAM_STACK_NAME")(f)
		if err != nil {
			return nil, err
		}
		return object(env("HOME_FOLDER_BUCKET"), "user/custom/0123456789abcdef/"+stacks[0]+"/"+file)(f)
	}
}

func object(bucketName value, keys ...string) targetsFunc {
	return func(f *rolecoverage.Function) ([]rolecoverage.Target, error) {
		bs, err := bucket(bucketName)(f)
		var out []rolecoverage.Target
		for _, b := range bs {
			for _, k := range keys {
				out = append(out, rolecoverage.Target{Resource: b.Resource + "/" + k})
			}
		}
		return out, err
	}
}

func withContext(ctx map[string]any, next targetsFunc) targetsFunc {
	return func(f *rolecoverage.Function) ([]rolecoverage.Target, error) {
		ts, err := next(f)
		for i := range ts {
			ts[i].Context = map[string]any{}
			for k, v := range ctx {
				if k == "kms:CallerAccount" {
					v = f.T.Env.Account
				}
				ts[i].Context[k] = v
			}
		}
		return ts, err
	}
}

// defaultProduct is the account's default Security Hub product, where BatchImportFindings
// imports the account's own findings.
func defaultProduct(f *rolecoverage.Function) ([]rolecoverage.Target, error) {
	e := f.T.Env
	return []rolecoverage.Target{{Resource: "arn:" + e.Partition + ":securityhub:" + e.Region + ":" + e.Account + ":product/" + e.Account + "/default"}}, nil
}

func anyResource(*rolecoverage.Function) ([]rolecoverage.Target, error) {
	return []rolecoverage.Target{{Resource: "*"}}, nil
}

// serviceRoles are the two AppStream service roles the handler creates
// under /service-role/ (lambda-src/appstream-service-roles), with ctx on
// each call, and actions instead of the operation's own when given.
func serviceRoles(ctx func(role string, f *rolecoverage.Function) []map[string]any, actions ...string) targetsFunc {
	return func(f *rolecoverage.Function) ([]rolecoverage.Target, error) {
		var out []rolecoverage.Target
		for _, role := range []string{"AmazonAppStreamServiceAccess", "ApplicationAutoScalingForAmazonAppStreamAccess"} {
			arn := "arn:" + f.T.Env.Partition + ":iam::" + f.T.Env.Account + ":role/service-role/" + role
			ctxs := []map[string]any{nil}
			if ctx != nil {
				ctxs = ctx(role, f)
			}
			for _, c := range ctxs {
				out = append(out, rolecoverage.Target{Resource: arn, Context: c, Actions: actions})
			}
		}
		return out, nil
	}
}

// servicePolicy is the AWS managed policy attached to each service role.
func servicePolicy(role string, f *rolecoverage.Function) []map[string]any {
	return []map[string]any{{"iam:PolicyARN": "arn:" + f.T.Env.Partition + ":iam::aws:policy/service-role/" + role}}
}

// ownerTag adds the tag the handler puts on the roles it creates, and only
// deletes roles that carry.
func ownerTag(next func(string, *rolecoverage.Function) []map[string]any) func(string, *rolecoverage.Function) []map[string]any {
	return func(role string, f *rolecoverage.Function) []map[string]any {
		ctxs := []map[string]any{{}}
		if next != nil {
			ctxs = next(role, f)
		}
		for _, c := range ctxs {
			c["aws:ResourceTag/securestacks:owner"] = "Sandbox-AppStreamSandbox/ServiceRoles"
		}
		return ctxs
	}
}

// publicKeyObjects are the two copies the kms-public-key handler writes
// under ObjectKeyPrefix; deletes happen only with RemovalPolicy destroy.
func publicKeyObjects(deleting bool) targetsFunc {
	return func(f *rolecoverage.Function) ([]rolecoverage.Target, error) {
		var out []rolecoverage.Target
		for _, cr := range f.CustomResources {
			if deleting && cr["RemovalPolicy"] != "destroy" {
				continue
			}
			b, _ := cr["BucketName"].(string)
			p, _ := cr["ObjectKeyPrefix"].(string)
			for _, name := range []string{"public-key.der", "public-key.pem"} {
				out = append(out, rolecoverage.Target{Resource: "arn:" + f.T.Env.Partition + ":s3:::" + b + "/" + p + name})
			}
		}
		return out, nil
	}
}

func onDestroy(next targetsFunc) targetsFunc {
	return func(f *rolecoverage.Function) ([]rolecoverage.Target, error) {
		for _, cr := range f.CustomResources {
			if cr["RemovalPolicy"] == "destroy" {
				return next(f)
			}
		}
		return nil, nil
	}
}

// renewTargets reads field of each entry of MTLS_TARGETS, the renew
// function's JSON list of certificate, secret, cluster and services.
func renewTargets(field string) targetsFunc {
	return func(f *rolecoverage.Function) ([]rolecoverage.Target, error) {
		var entries []map[string]any
		if err := json.Unmarshal([]byte(f.Env["MTLS_TARGETS"]), &entries); err != nil {
			return nil, fmt.Errorf("%s: MTLS_TARGETS: %w", f.Name(), err)
		}
		var out []rolecoverage.Target
		for _, e := range entries {
			switch v := e[field].(type) {
			case string:
				out = append(out, rolecoverage.Target{Resource: v})
			case []any:
				for _, s := range v {
					out = append(out, rolecoverage.Target{Resource: fmt.Sprint(s), Context: map[string]any{"ecs:cluster": e["cluster"]}})
				}
			case nil:
				// An entry the Private CA issues (issue) has no certificateArn.
			default:
				return nil, fmt.Errorf("%s: MTLS_TARGETS entry has a %s of type %T", f.Name(), field, v)
			}
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("%s: no MTLS_TARGETS entry has %s", f.Name(), field)
		}
		return out, nil
	}
}

// An issue is a certificate the function has AWS Private CA issue (the
// export custom resource's Issue property, a renew target's issue field).
type issue struct {
	CertificateAuthorityArn string `json:"certificateAuthorityArn"`
	TemplateArn             string `json:"templateArn"`
}

// crIssues are the Issue properties of the custom resources f serves.
func crIssues(f *rolecoverage.Function) ([]issue, error) {
	var out []issue
	for _, cr := range f.CustomResources {
		raw, ok := cr["Issue"]
		if !ok {
			continue
		}
		b, err := json.Marshal(raw)
		if err != nil {
			return nil, err
		}
		var is issue
		if err := json.Unmarshal(b, &is); err != nil {
			return nil, fmt.Errorf("%s: Issue property: %w", f.Name(), err)
		}
		out = append(out, is)
	}
	return out, nil
}

// renewIssues are the issue fields of f's MTLS_TARGETS.
func renewIssues(f *rolecoverage.Function) ([]issue, error) {
	var entries []struct {
		Issue *issue `json:"issue"`
	}
	if err := json.Unmarshal([]byte(f.Env["MTLS_TARGETS"]), &entries); err != nil {
		return nil, fmt.Errorf("%s: MTLS_TARGETS: %w", f.Name(), err)
	}
	var out []issue
	for _, e := range entries {
		if e.Issue != nil {
			out = append(out, *e.Issue)
		}
	}
	return out, nil
}

// issueTargets is the issuing CA of every certificate from issues; with
// template, IssueCertificate's request carries acm-pca:TemplateArn.
func issueTargets(issues func(*rolecoverage.Function) ([]issue, error), template bool) targetsFunc {
	return func(f *rolecoverage.Function) ([]rolecoverage.Target, error) {
		is, err := issues(f)
		if err != nil {
			return nil, err
		}
		if len(is) == 0 {
			return nil, fmt.Errorf("%s issues no certificate from AWS Private CA", f.Name())
		}
		var out []rolecoverage.Target
		for _, i := range is {
			t := rolecoverage.Target{Resource: i.CertificateAuthorityArn}
			if template {
				t.Context = map[string]any{"acm-pca:TemplateArn": i.TemplateArn}
			}
			out = append(out, t)
		}
		return out, nil
	}
}

// rolesAtAnyPath are the AppStream service roles at the root path, at
// /service-role/ and at another path.
func rolesAtAnyPath(f *rolecoverage.Function) ([]rolecoverage.Target, error) {
	var out []rolecoverage.Target
	for _, p := range []string{"/", "/service-role/", "/team/"} {
		for _, role := range []string{"AmazonAppStreamServiceAccess", "ApplicationAutoScalingForAmazonAppStreamAccess"} {
			out = append(out, rolecoverage.Target{Resource: "arn:" + f.T.Env.Partition + ":iam::" + f.T.Env.Account + ":role" + p + role})
		}
	}
	return out, nil
}

// tenantSession is for the calls a handler makes only with a tenant's
// session of the tenantisolation access role, never with its own role: the
// function role must not be allowed them, so there is nothing to check here.
// constructs/tenantisolation's TestPolicyProof evaluates the access role's
// synthesized policies for those calls instead.
func tenantSession(*rolecoverage.Function) ([]rolecoverage.Target, error) { return nil, nil }

// onTarget makes the origin updater's call only for its TARGET.
func onTarget(target string, next targetsFunc) targetsFunc {
	return func(f *rolecoverage.Function) ([]rolecoverage.Target, error) {
		if f.Env["TARGET"] != target {
			return nil, nil
		}
		return next(f)
	}
}

func ec2Arn(f *rolecoverage.Function, resource string) string {
	e := f.T.Env
	return "arn:" + e.Partition + ":ec2:" + e.Region + ":" + e.Account + ":" + resource
}

// originGroups are the security groups the origin updater writes: its first group (GROUP_ID),
// which carries its owner tag, and with creating the groups it makes, which request the tag
// (plus the VPC they are made in, when vpc is set).
func originGroups(creating, vpc bool) targetsFunc {
	return func(f *rolecoverage.Function) ([]rolecoverage.Target, error) {
		owner := "securestacks:origin-updater"
		out := []rolecoverage.Target{{Resource: ec2Arn(f, "security-group/"+f.Env["GROUP_ID"]), Context: map[string]any{"aws:ResourceTag/" + owner: f.Env["NAME"]}}}
		if creating {
			out = append(out, rolecoverage.Target{Resource: ec2Arn(f, "security-group/sg-0123456789abcdef0"), Context: map[string]any{"aws:RequestTag/" + owner: f.Env["NAME"]}})
		}
		if vpc {
			out = out[1:]
			out = append(out, rolecoverage.Target{Resource: ec2Arn(f, "vpc/"+f.Env["VPC_ID"])})
		}
		return out, nil
	}
}

// originInterfaces: attaching groups names the interface and every group, all in the VPC.
func originInterfaces(f *rolecoverage.Function) ([]rolecoverage.Target, error) {
	ctx := map[string]any{"ec2:Vpc": ec2Arn(f, "vpc/"+f.Env["VPC_ID"])}
	return []rolecoverage.Target{
		{Resource: ec2Arn(f, "network-interface/eni-0123456789abcdef0"), Context: ctx},
		{Resource: ec2Arn(f, "security-group/"+f.Env["GROUP_ID"]), Context: ctx},
	}, nil
}

func originPrefixLists(f *rolecoverage.Function) ([]rolecoverage.Target, error) {
	var out []rolecoverage.Target
	for _, id := range strings.Split(f.Env["PREFIX_LIST_IDS"], ",") {
		out = append(out, rolecoverage.Target{Resource: ec2Arn(f, "prefix-list/"+id)})
	}
	return out, nil
}
