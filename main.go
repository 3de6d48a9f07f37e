// Command securestacks-app is the CDK app: it loads the environments from the
// cdk.json context, builds every system stack of the selected environments,
// applies the cdk-nag packs and synthesizes. CloudFormation validation (the
// built-in rules plus the AWS Control Tower Guard rules) checks only the
// templates that changed since the last synth into the same cdk.out. Wiring
// only.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/internal/cfnvalidate"
	"github.com/securestacks/securestacks/internal/nag"
	"github.com/securestacks/securestacks/stacks"
)

func main() {
	err := run(awscdk.NewApp(nil))
	jsii.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, "securestacks:", err)
		os.Exit(1)
	}
}

// The AWS Control Tower proactive controls (cfn-guard rules pinned by
// package.json) and their reviewed exceptions.
const (
	guardRulesDir  = "node_modules/@cdklabs/cdk-validator-cfnguard/rules/control-tower/cfn-guard"
	guardAllowlist = "guard-allowlist.json"
)

// registerValidation puts the cached CloudFormation validation on app, with
// the Control Tower rules beside aws-cdk-lib's built-in ones.
func registerValidation(app awscdk.App) error {
	if os.Getenv(cfnvalidate.EnvValidation) == "false" {
		return nil
	}
	rules, err := cfnvalidate.GuardRulesFromDir(guardRulesDir)
	if err != nil {
		return fmt.Errorf("%w (run make deps)", err)
	}
	allow, err := cfnvalidate.LoadAllowlist(guardAllowlist)
	if err != nil {
		return err
	}
	cfnvalidate.Register(app, cfnvalidate.Options{
		Props:     &awscdk.CloudFormationValidatePluginProps{GuardRules: &rules},
		Allowlist: allow,
	})
	return nil
}

// run builds and synthesizes app.
func run(app awscdk.App) error {
	if err := registerValidation(app); err != nil {
		return err
	}
	if _, err := stacks.BuildApp(app); err != nil {
		return err
	}
	nag.ApplyPacks(app)
	return synth(app)
}

// synth synthesizes app. A panic from jsii during synthesis comes back as an
// error: one line, plus one line per construct validation error (a GoFunction
// whose handler does not build, say) with its construct path.
func synth(app awscdk.App) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("synth: %s", stacks.SynthFailure(fmt.Sprint(r)))
		}
	}()
	app.Synth(nil)
	return nil
}
