// Command securestacks-app is the CDK app: it loads the environments from the
// cdk.json context, builds every system stack of the selected environments,
// applies the cdk-nag packs and synthesizes. Wiring only.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

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

// run builds and synthesizes app.
func run(app awscdk.App) error {
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
