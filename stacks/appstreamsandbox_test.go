package stacks_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/appstreamsandbox"
	"github.com/securestacks/securestacks/internal/nag"
	"github.com/securestacks/securestacks/stacks"
)

func sandboxStackProps(env stacks.Environment) *stacks.SystemProps {
	p := &stacks.SystemProps{Config: env}
	p.StackName = jsii.String(env.StackPrefix() + "-AppStreamSandbox")
	if env.Account != "" {
		p.Env = &awscdk.Environment{Account: jsii.String(env.Account), Region: jsii.String(env.Region)}
	}
	return p
}

func TestAppStreamSandboxStack(t *testing.T) {
	// GIVEN the sandbox config as loaded (embedded sandbox.json), a GovCloud prod environment
	// with every key of the section, and a staging environment without the section
	idle := 0
	cfg, err := stacks.LoadConfig(map[string]any{
		"prod": map[string]any{"account": "123456789012", "region": "us-gov-west-1", "appStreamSandbox": map[string]any{
			"vpcCidr": "10.60.0.0/20", "imageName": "DataSandbox-2026-03", "environmentName": "DataSandbox",
			"instanceType": "stream.standard.medium", "fleetType": "ALWAYS_ON", "desiredInstances": 2,
			"maxUserDurationSeconds": 14400, "disconnectTimeoutSeconds": 600, "idleDisconnectTimeoutSeconds": idle,
			"allowPasteFromLocal": true, "streamingEndpoint": true, "idpName": "CorpIdP",
			"notebookInstanceType": "ml.t3.large", "notebookVolumeSizeGb": 50, "notebookSessionSeconds": 1800,
			"metricNamespace": "Corp/DataSandbox", "retainServiceRoles": true, "fleetStopTimeoutSeconds": 780,
		}},
		"staging": map[string]any{"account": "210987654321", "region": "eu-west-1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{"aws:cdk:bundling-stacks": []any{}}})
	sandbox := stacks.NewAppStreamSandboxStack(app, "Sandbox-AppStreamSandbox", sandboxStackProps(cfg.Environments["sandbox"]))
	prod := stacks.NewAppStreamSandboxStack(app, "Prod-AppStreamSandbox", sandboxStackProps(cfg.Environments["prod"]))
	staging := stacks.NewAppStreamSandboxStack(app, "Staging-AppStreamSandbox", sandboxStackProps(cfg.Environments["staging"]))
	nag.ApplyPacks(app)

	cases := []struct {
		name        string
		stack       awscdk.Stack
		fleet       map[string]any
		notebook    map[string]any
		streaming   bool
		samlRole    bool
		wantWarning bool
	}{
		{
			name:  "sandbox: offline defaults with the documented placeholder image",
			stack: sandbox,
			fleet: map[string]any{"Name": "Sandbox-DataSandbox-Fleet", "ImageName": appstreamsandbox.PlaceholderImageName,
				"FleetType": "ON_DEMAND", "InstanceType": "stream.standard.small", "ComputeCapacity": map[string]any{"DesiredInstances": 1},
				"EnableDefaultInternetAccess": false},
			notebook: map[string]any{"NotebookInstanceName": "Sandbox-DataSandbox-Notebook", "InstanceType": "ml.t3.medium",
				"RootAccess": "Disabled", "DirectInternetAccess": "Disabled"},
		},
		{
			name:  "prod: every key of the section reaches the template",
			stack: prod,
			fleet: map[string]any{"Name": "DataSandbox-Fleet", "ImageName": "DataSandbox-2026-03", "FleetType": "ALWAYS_ON",
				"InstanceType": "stream.standard.medium", "ComputeCapacity": map[string]any{"DesiredInstances": 2},
				"MaxUserDurationInSeconds": 14400, "DisconnectTimeoutInSeconds": 600, "IdleDisconnectTimeoutInSeconds": 0,
				"EnableDefaultInternetAccess": false},
			notebook:  map[string]any{"NotebookInstanceName": "DataSandbox-Notebook", "InstanceType": "ml.t3.large", "VolumeSizeInGB": 50},
			streaming: true, samlRole: true,
		},
		{
			name:        "staging without the section: defaults, and a warning about the placeholder image",
			stack:       staging,
			fleet:       map[string]any{"Name": "Staging-DataSandbox-Fleet", "ImageName": appstreamsandbox.PlaceholderImageName},
			notebook:    map[string]any{"NotebookInstanceName": "Staging-DataSandbox-Notebook"},
			wantWarning: true,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// WHEN the stack is synthesized
			tpl := assertions.Template_FromStack(tc.stack, nil)
			raw, _ := json.Marshal(tpl.ToJSON())

			// THEN the section's values (or the defaults) are in the fleet and the notebook
			tpl.HasResourceProperties(jsii.String("AWS::AppStream::Fleet"), tc.fleet)
			tpl.HasResourceProperties(jsii.String("AWS::SageMaker::NotebookInstance"), tc.notebook)
			if got := strings.Contains(string(raw), `.appstream.streaming"`); got != tc.streaming {
				t.Errorf("streaming endpoint present = %v, want %v", got, tc.streaming)
			}
			if got := strings.Contains(string(raw), `"sts:AssumeRoleWithSAML"`); got != tc.samlRole {
				t.Errorf("SAML role present = %v, want %v", got, tc.samlRole)
			}
			// AND the outputs an operator needs exist
			for _, o := range []string{"AppStreamStackName", "FleetName", "NotebookName", "ScriptsBucketName", "LauncherScriptKey",
				"HomeFolderBucketName", "UsageReportsBucketName", "AlarmTopicArn"} {
				tpl.HasOutput(jsii.String(o), map[string]any{})
			}
			// AND a pinned environment has no aws-partition literal
			if tc.stack == prod && strings.Contains(string(raw), "arn:aws:") {
				t.Error("prod (us-gov-west-1) template holds an arn:aws: literal")
			}
			// AND the placeholder image is flagged outside the sandbox environment only
			warnings := assertions.Annotations_FromStack(tc.stack).FindWarning(jsii.String("*"),
				assertions.Match_StringLikeRegexp(jsii.String("placeholder image")))
			if got := len(*warnings) > 0; got != tc.wantWarning {
				t.Errorf("placeholder warning = %v, want %v", got, tc.wantWarning)
			}
			// AND the stack is nag-clean under the three packs
			if errs := nag.Errors(tc.stack); len(errs) > 0 {
				t.Errorf("unsuppressed nag errors:\n%s", strings.Join(errs, "\n"))
			}
		})
	}
}

func TestAppStreamSandboxStackIsRegistered(t *testing.T) {
	// GIVEN the registered systems WHEN they are listed THEN AppStreamSandbox is one of them
	names := []string{}
	for _, s := range stacks.Systems() {
		names = append(names, s.Name)
	}
	if !slices.Contains(names, "AppStreamSandbox") {
		t.Errorf("systems = %v, want AppStreamSandbox among them", names)
	}
}

func TestAppStreamSandboxConfigErrorsNameTheKey(t *testing.T) {
	cases := []struct {
		name    string
		section map[string]any
		want    string
	}{
		{"CIDR too small", map[string]any{"vpcCidr": "10.0.0.0/28"}, `config: environments.prod.appStreamSandbox.vpcCidr: expected an IPv4 network from /16 to /24`},
		{"not a CIDR", map[string]any{"vpcCidr": "ten"}, `environments.prod.appStreamSandbox.vpcCidr: expected an IPv4 network`},
		{"elastic fleet", map[string]any{"fleetType": "ELASTIC"}, `environments.prod.appStreamSandbox.fleetType: expected ALWAYS_ON or ON_DEMAND, got "ELASTIC"`},
		{"no capacity", map[string]any{"desiredInstances": -1}, `environments.prod.appStreamSandbox.desiredInstances: expected 1 to 100, got -1`},
		{"idle timeout too short", map[string]any{"idleDisconnectTimeoutSeconds": 30}, `environments.prod.appStreamSandbox.idleDisconnectTimeoutSeconds: expected 0 (off) or 60 to 3600`},
		{"long notebook sessions", map[string]any{"notebookSessionSeconds": 3600}, `environments.prod.appStreamSandbox.notebookSessionSeconds: expected 1800 to 1800, got 3600`},
		{"image name with a space", map[string]any{"imageName": "my image"}, `environments.prod.appStreamSandbox.imageName: expected an AppStream image name`},
		{"environment name with an underscore", map[string]any{"environmentName": "data_sandbox"}, `environments.prod.appStreamSandbox.environmentName: expected letters, digits and dashes`},
		{"EC2 instance type", map[string]any{"instanceType": "t3.small"}, `environments.prod.appStreamSandbox.instanceType: expected an AppStream instance type`},
		{"audience without a provider", map[string]any{"samlAudience": "https://signin.aws.amazon.com/saml"}, `environments.prod.appStreamSandbox.samlAudience: expected idpName as well`},
		{"AWS namespace", map[string]any{"metricNamespace": "AWS/AppStream"}, `environments.prod.appStreamSandbox.metricNamespace: expected a custom CloudWatch namespace`},
		{"stop timeout beyond Lambda", map[string]any{"fleetStopTimeoutSeconds": 900}, `environments.prod.appStreamSandbox.fleetStopTimeoutSeconds: expected 60 to 780, got 900`},
		{"seed spelling", map[string]any{"vpc_cidr": "10.0.0.0/16"}, `config: environments.prod.appStreamSandbox.vpc_cidr: unknown key: expected one of allowPasteFromLocal,`},
		{"wrong type", map[string]any{"streamingEndpoint": "yes"}, `config: environments.prod.appStreamSandbox.streamingEndpoint: expected true or false`},
		{"unknown trail mode", map[string]any{"audit": map[string]any{"trail": "organization"}}, `config: environments.prod.appStreamSandbox.audit: audit.trail "organization": expected create, existing or none`},
		{"existing trail without its logs", map[string]any{"audit": map[string]any{"trail": "existing"}}, `environments.prod.appStreamSandbox.audit: audit.existingTrailLogsUri: expected s3://BUCKET/[PREFIX/]AWSLogs/`},
		{"two problems on one line", map[string]any{"audit": map[string]any{"trailRetentionDays": 5000, "projectionStart": "2025-01-01"}},
			`audit.trailRetentionDays 5000: expected a whole number from 1 to 3650; audit.projectionStart "2025-01-01": expected a day as yyyy/MM/dd`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// GIVEN an environment whose appStreamSandbox section has one defect
			// WHEN it is loaded
			_, err := stacks.LoadConfig(map[string]any{"prod": map[string]any{"account": "123456789012", "region": "eu-west-1", "appStreamSandbox": tc.section}})
			// THEN one line names the key and what was expected
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestAppStreamSandboxAuditTrailByEnvironment(t *testing.T) {
	// GIVEN the embedded sandbox environment (audit.trail "create") and one without the section
	cfg, err := stacks.LoadConfig(map[string]any{"staging": map[string]any{"account": "210987654321", "region": "eu-west-1"}})
	if err != nil {
		t.Fatal(err)
	}
	app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{"aws:cdk:bundling-stacks": []any{}}})
	sandbox := stacks.NewAppStreamSandboxStack(app, "Sandbox-AppStreamSandbox", sandboxStackProps(cfg.Environments["sandbox"]))
	staging := stacks.NewAppStreamSandboxStack(app, "Staging-AppStreamSandbox", sandboxStackProps(cfg.Environments["staging"]))
	// THEN the sandbox has the trail and the TrailLogsUri output, the other neither, and both
	// have the workgroup and the usage-report tables
	for _, c := range []struct {
		stack  awscdk.Stack
		trails int
	}{{sandbox, 1}, {staging, 0}} {
		tpl := assertions.Template_FromStack(c.stack, nil)
		tpl.ResourceCountIs(jsii.String("AWS::CloudTrail::Trail"), jsii.Number(float64(c.trails)))
		tpl.ResourceCountIs(jsii.String("AWS::Athena::WorkGroup"), jsii.Number(1))
		tpl.ResourceCountIs(jsii.String("AWS::Glue::Table"), jsii.Number(float64(2+c.trails)))
		outputs := tpl.FindOutputs(jsii.String("TrailLogsUri"), nil)
		if len(*outputs) != c.trails {
			t.Errorf("%s: TrailLogsUri outputs %v", *c.stack.StackName(), *outputs)
		}
	}
}
