package cfnvalidate_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3assets"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/internal/cfnvalidate"
)

// A topic property that is not in the AWS::SNS::Topic schema: the engine's
// schema check reports it as error F3002 ("Additional properties are not
// allowed"; the report names the rule to acknowledge).
const badProperty = "NotATopicProperty"

// ackID acknowledges F3002 for the plugin named "CloudFormation Validate".
const ackID = "CloudFormation-Validate::F3002"

// app describes one synth of a two-stack app.
type app struct {
	outdir string
	// bad adds the unknown property to stack A's topic.
	bad bool
	// ack acknowledges F3002 on stack A's topic.
	ack bool
	// tag changes stack B's template (a changed template without violation).
	tag string
	// asset, when set, is a directory published as a file asset whose S3
	// key becomes stack B's topic display name.
	asset string
	// opts are passed to Register; nil means the default plugin of
	// aws-cdk-lib, not ours.
	opts *cfnvalidate.Options
}

// synth runs the app and returns the plugin (nil for the default plugin) and
// the synth error, if any.
func (a app) synth(t *testing.T) (*cfnvalidate.Plugin, error) {
	t.Helper()
	ctx := map[string]any{
		"@aws-cdk/core:validateAgainstDefaultRules": true,
		"aws:cdk:bundling-stacks":                   []any{},
	}
	cdk := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(a.outdir), Context: &ctx})
	var plugin *cfnvalidate.Plugin
	if a.opts != nil {
		plugin = cfnvalidate.Register(cdk, *a.opts)
	}
	stackA := awscdk.NewStack(cdk, jsii.String("A"), nil)
	props := map[string]any{"DisplayName": "a"}
	if a.bad {
		props[badProperty] = "x"
	}
	topic := awscdk.NewCfnResource(stackA, jsii.String("Topic"), &awscdk.CfnResourceProps{
		Type: jsii.String("AWS::SNS::Topic"), Properties: &props,
	})
	if a.ack {
		awscdk.Validations_Of(topic).Acknowledge(&awscdk.Acknowledgment{Id: jsii.String(ackID), Reason: jsii.String("test")})
	}
	stackB := awscdk.NewStack(cdk, jsii.String("B"), nil)
	var name any = "b" + a.tag
	if a.asset != "" {
		name = awss3assets.NewAsset(stackB, jsii.String("Asset"), &awss3assets.AssetProps{Path: jsii.String(a.asset)}).S3ObjectKey()
	}
	awscdk.NewCfnResource(stackB, jsii.String("Topic"), &awscdk.CfnResourceProps{
		Type: jsii.String("AWS::SNS::Topic"), Properties: &map[string]any{"DisplayName": name},
	})
	return plugin, synthErr(cdk)
}

func synthErr(cdk awscdk.App) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	cdk.Synth(nil)
	return nil
}

// report returns the validation report aws-cdk-lib wrote for the last synth
// into outdir, without the paths that name outdir.
func report(t *testing.T, outdir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(outdir, "validation-report.json"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(string(b), outdir, "OUTDIR")
}

func wantFail(t *testing.T, err error) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), "Validation failed") {
		t.Fatalf("synth error = %v, want a validation failure", err)
	}
}

func wantValidated(t *testing.T, p *cfnvalidate.Plugin, n int) {
	t.Helper()
	if p.Validated != n {
		t.Errorf("real plugin validated %d templates, want %d", p.Validated, n)
	}
}

func TestCacheNeverHidesAViolation(t *testing.T) {
	t.Setenv(cfnvalidate.EnvCache, "")
	opts := &cfnvalidate.Options{CacheDir: t.TempDir()}

	t.Run("changed template with a violation fails", func(t *testing.T) {
		// GIVEN a clean app validated once, so both templates are cached
		a := app{outdir: t.TempDir(), opts: opts}
		p, err := a.synth(t)
		if err != nil {
			t.Fatal(err)
		}
		wantValidated(t, p, 2)
		// WHEN stack A gains a violation
		a.bad = true
		p, err = a.synth(t)
		// THEN the synth fails, and only A went to the real plugin
		wantFail(t, err)
		wantValidated(t, p, 1)
	})

	t.Run("unchanged template with a cached violation fails", func(t *testing.T) {
		// GIVEN stack A with a violation, validated once (the synth failed)
		a := app{outdir: t.TempDir(), opts: opts, bad: true}
		_, err := a.synth(t)
		wantFail(t, err)
		// WHEN the same app synthesizes again
		p, err := a.synth(t)
		// THEN it fails again from the cache alone, with the same report
		wantFail(t, err)
		wantValidated(t, p, 0)
	})

	t.Run("a rule-set change invalidates the cache", func(t *testing.T) {
		// GIVEN a clean app cached under the built-in rules only
		dir := t.TempDir()
		a := app{outdir: t.TempDir(), opts: &cfnvalidate.Options{CacheDir: dir}}
		if _, err := a.synth(t); err != nil {
			t.Fatal(err)
		}
		// WHEN a Guard rule that every topic breaks joins the rule set
		a.opts = &cfnvalidate.Options{CacheDir: dir, Props: &awscdk.CloudFormationValidatePluginProps{
			GuardRules: &[]*awscdk.ValidationRuleSource{{Name: jsii.String("topics.guard"), Content: jsii.String(topicNeedsKey)}},
		}}
		p, err := a.synth(t)
		// THEN both templates are validated again, and the new rule fails the synth
		wantValidated(t, p, 2)
		wantFail(t, err)
	})

	t.Run("acknowledgements work on cached reports", func(t *testing.T) {
		// GIVEN a violation acknowledged on its resource, validated once
		a := app{outdir: t.TempDir(), opts: opts, bad: true, ack: true}
		if _, err := a.synth(t); err != nil {
			t.Fatalf("acknowledged violation failed the synth: %v", err)
		}
		// WHEN it synthesizes again from the cache
		p, err := a.synth(t)
		// THEN the acknowledgement still holds
		if err != nil {
			t.Fatalf("acknowledged cached violation failed the synth: %v", err)
		}
		wantValidated(t, p, 0)
		// AND without the acknowledgement the cached violation fails
		a.ack = false
		p, err = a.synth(t)
		wantFail(t, err)
		wantValidated(t, p, 0)
	})
}

// topicNeedsKey fails every SNS topic without a KMS key.
const topicNeedsKey = `
let topics = Resources.*[ Type == 'AWS::SNS::Topic' ]
rule sns_topic_has_kms_key when %topics !empty {
    %topics.Properties.KmsMasterKeyId exists
}
`

func TestReportIsTheDefaultPluginsReport(t *testing.T) {
	t.Setenv(cfnvalidate.EnvCache, "")
	// GIVEN the same app validated by aws-cdk-lib's default plugin, by ours
	// from scratch, by ours from the cache, and by ours after one template
	// changed (one cached share, one fresh)
	for _, ack := range []bool{false, true} {
		base := app{bad: true, ack: ack}
		reports := map[string]string{}
		run := func(name string, a app) {
			_, err := a.synth(t)
			if ack != (err == nil) {
				t.Fatalf("%s (ack %v): synth error %v", name, ack, err)
			}
			reports[name] = report(t, a.outdir)
		}
		def := base
		def.outdir = t.TempDir()
		run("default plugin", def)
		ours := base
		ours.outdir = t.TempDir()
		ours.opts = &cfnvalidate.Options{}
		run("ours, cold", ours)
		run("ours, cached", ours)
		changed := ours
		changed.tag = "-changed"
		run("ours, B changed", changed)
		changedDef := def
		changedDef.tag = "-changed"
		run("default plugin, B changed", changedDef)
		// THEN every report, acknowledgements included, is the default plugin's
		for _, name := range []string{"ours, cold", "ours, cached"} {
			if reports[name] != reports["default plugin"] {
				t.Errorf("ack %v: %s report differs from the default plugin's:\n%s\nwant:\n%s", ack, name, reports[name], reports["default plugin"])
			}
		}
		if reports["ours, B changed"] != reports["default plugin, B changed"] {
			t.Errorf("ack %v: report after a change differs:\n%s\nwant:\n%s", ack, reports["ours, B changed"], reports["default plugin, B changed"])
		}
	}
}

func TestCacheOffValidatesFromScratch(t *testing.T) {
	// GIVEN the cache switched off as `make test` does
	t.Setenv(cfnvalidate.EnvCache, "off")
	dir := t.TempDir()
	a := app{outdir: t.TempDir(), opts: &cfnvalidate.Options{CacheDir: dir}}
	// WHEN the app synthesizes twice
	for range 2 {
		p, err := a.synth(t)
		if err != nil {
			t.Fatal(err)
		}
		// THEN every template goes to the real plugin each time, and nothing is written
		wantValidated(t, p, 2)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("cache off wrote %d entries", len(entries))
	}
}

func TestValidationOffRegistersNothing(t *testing.T) {
	t.Setenv(cfnvalidate.EnvValidation, "false")
	cdk := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	if p := cfnvalidate.Register(cdk, cfnvalidate.Options{}); p != nil {
		t.Fatal("CDK_VALIDATION=false registered a plugin")
	}
}

func TestAssetHashChangeReusesTheReport(t *testing.T) {
	t.Setenv(cfnvalidate.EnvCache, "")
	// GIVEN stack B naming its topic after a file asset's S3 key, validated once
	src := t.TempDir()
	writeFile(t, filepath.Join(src, "bootstrap"), "v1")
	a := app{outdir: t.TempDir(), opts: &cfnvalidate.Options{CacheDir: t.TempDir()}, asset: src}
	if _, err := a.synth(t); err != nil {
		t.Fatal(err)
	}
	// WHEN only the asset's content changes (an edited handler)
	writeFile(t, filepath.Join(src, "bootstrap"), "v2")
	p, err := a.synth(t)
	// THEN the template changed only in the asset hash, and its report is reused
	if err != nil {
		t.Fatal(err)
	}
	wantValidated(t, p, 0)
	// AND a change beside the asset hash is validated again
	a.bad = true
	p, err = a.synth(t)
	wantFail(t, err)
	wantValidated(t, p, 1)
}

func writeFile(t *testing.T, name, body string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestAllowlistedGuardFailuresPassAndOthersFail(t *testing.T) {
	t.Setenv(cfnvalidate.EnvCache, "")
	guard := &awscdk.CloudFormationValidatePluginProps{
		GuardRules: &[]*awscdk.ValidationRuleSource{{Name: jsii.String("topics.guard"), Content: jsii.String(topicNeedsKey)}},
	}
	dir := t.TempDir()
	for _, tt := range []struct {
		name  string
		allow []cfnvalidate.Allowed
		fail  bool
	}{
		{"an entry for another logical id allows nothing", []cfnvalidate.Allowed{{Rule: "sns_topic_has_kms_key", LogicalID: "OtherTopic", Reason: "x"}}, true},
		{"both topics allowed (one logical id, any template)", []cfnvalidate.Allowed{{Rule: "sns_topic_has_kms_key", LogicalID: "Topic", Reason: "x"}}, false},
		{"another rule's entry allows nothing", []cfnvalidate.Allowed{{Rule: "other_rule", LogicalID: "Topic", Reason: "x"}}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN a Guard rule both topics break, and an allowlist, validated
			// once from scratch and once from the cache
			a := app{outdir: t.TempDir(), opts: &cfnvalidate.Options{CacheDir: dir, Props: guard, Allowlist: tt.allow}}
			for range 2 {
				// WHEN the app synthesizes
				_, err := a.synth(t)
				// THEN only failures outside the allowlist fail it
				if tt.fail {
					wantFail(t, err)
				} else if err != nil {
					t.Fatalf("allowlisted failures failed the synth: %v", err)
				}
			}
		})
	}
}

func TestGuardRulesAndAllowlistLoad(t *testing.T) {
	// GIVEN a rules tree and allowlists
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "b.guard"), "rule b { true }")
	if err := os.Mkdir(filepath.Join(dir, "a"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "a", "x.guard"), "rule x { true }")
	writeFile(t, filepath.Join(dir, "README.md"), "not a rule")
	// WHEN they load
	rules, err := cfnvalidate.GuardRulesFromDir(dir)
	// THEN every .guard file is a source, sorted by path
	if err != nil || len(rules) != 2 || *rules[0].Name != "a/x.guard" || *rules[1].Name != "b.guard" {
		t.Fatalf("rules %v, error %v", rules, err)
	}
	if _, err := cfnvalidate.GuardRulesFromDir(filepath.Join(dir, "a", "missing")); err == nil {
		t.Error("a missing rules directory loaded")
	}
	// AND an allowlist entry needs a reason that names the decision
	short := filepath.Join(dir, "short.json")
	writeFile(t, short, `[{"rule":"sqs_dlq_check","logicalId":"Q","reason":""}]`)
	if _, err := cfnvalidate.LoadAllowlist(short); err == nil || !strings.Contains(err.Error(), "entry 0: expected rule, logicalId and a reason") {
		t.Errorf("error %v, want the entry named", err)
	}
	good, err := cfnvalidate.LoadAllowlist("../../guard-allowlist.json")
	if err != nil || len(good) == 0 {
		t.Errorf("the committed allowlist: %d entries, %v", len(good), err)
	}
}
