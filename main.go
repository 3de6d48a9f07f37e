// Command securestacks-app is the CDK app: it loads the environments from the
// cdk.json context, builds every system stack of the selected environments,
// applies the cdk-nag packs and synthesizes, validating only the templates
// that changed since the last synth into the same cdk.out. Wiring only.
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

// run builds and synthesizes app. A panic from jsii during synthesis (for
// example a construct validation error) comes back as a one-line error.
func run(app awscdk.App) (err error) {
	cfnvalidate.Register(app, cfnvalidate.Options{})
	if _, err := stacks.BuildApp(app); err != nil {
		return err
	}
	nag.ApplyPacks(app)
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("synth: %s", stacks.OneLine(fmt.Sprint(r)))
		}
	}()
	app.Synth(nil)
	return nil
}
