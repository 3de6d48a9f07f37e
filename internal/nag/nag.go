// Package nag is the only code in securestacks that touches cdk-nag. It applies
// the three rule packs every stack must pass (AwsSolutions, NIST 800-53 R5 and
// HIPAA Security) and records suppressions.
//
// A suppression belongs next to the resource whose design causes the finding,
// and its reason names the decision, not the rule: "the bucket is the access-log
// target itself" rather than "S1 not needed".
package nag

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// Packs lists the rule packs that ApplyPacks adds, by the prefix of their rule ids.
var Packs = []string{"AwsSolutions", "NIST.800.53.R5", "HIPAA.Security"}

// ApplyPacks adds the AwsSolutions, NIST 800-53 R5 and HIPAA Security packs to
// scope (normally the App). Each pack writes a CSV report per stack into the
// cloud assembly directory (cdk.out). Unsuppressed findings become error
// annotations, which fail `cdk synth` and main_test.go.
func ApplyPacks(scope constructs.IConstruct) {
	props := &cdknag.NagPackProps{Reports: jsii.Bool(true), Verbose: jsii.Bool(false)}
	aspects := awscdk.Aspects_Of(scope)
	aspects.Add(cdknag.NewAwsSolutionsChecks(props), nil)
	aspects.Add(cdknag.NewNIST80053R5Checks(props), nil)
	aspects.Add(cdknag.NewHIPAASecurityChecks(props), nil)
}

// Rule is one suppressed cdk-nag rule.
type Rule struct {
	// ID is the full rule id, e.g. "AwsSolutions-IAM5" or "NIST.800.53.R5-LambdaConcurrency".
	ID string
	// Reason names the design decision that makes the finding acceptable. At
	// least 20 characters: cdk-nag itself requires 10, we ask for a sentence.
	Reason string
	// AppliesTo narrows the suppression to these finding values, for example
	// "Resource::<Key.Arn>/*" for IAM5. Empty means the whole rule.
	AppliesTo []string
}

// Suppress records rules on the resource scope itself (for an L2, its default
// child too, as cdk-nag resolves it). It panics when a reason is too short,
// because a suppression without a reason hides a decision nobody can review.
func Suppress(scope constructs.IConstruct, rules ...Rule) {
	cdknag.NagSuppressions_AddResourceSuppressions(scope, suppressions(rules), jsii.Bool(false))
}

// SuppressTree records rules on scope and every construct under it. Use it only
// for a construct whose whole subtree shares the decision, such as a provider
// framework's generated functions.
func SuppressTree(scope constructs.IConstruct, rules ...Rule) {
	cdknag.NagSuppressions_AddResourceSuppressions(scope, suppressions(rules), jsii.Bool(true))
}

// SuppressPath records rules on the construct at path inside stack, for
// resources that CDK creates without giving us a handle (for example the
// singleton log-retention or bucket-notification functions).
func SuppressPath(stack awscdk.Stack, path string, applyToChildren bool, rules ...Rule) {
	cdknag.NagSuppressions_AddResourceSuppressionsByPath(stack, jsii.String(path), suppressions(rules), jsii.Bool(applyToChildren))
}

const minReason = 20

func suppressions(rules []Rule) *[]*cdknag.NagPackSuppression {
	if len(rules) == 0 {
		panic("nag: a suppression needs at least one rule")
	}
	out := make([]*cdknag.NagPackSuppression, 0, len(rules))
	for _, r := range rules {
		if !knownPack(r.ID) {
			panic(fmt.Sprintf("nag: rule %q: expected an id of one of the packs %s", r.ID, strings.Join(Packs, ", ")))
		}
		if len(strings.TrimSpace(r.Reason)) < minReason {
			panic(fmt.Sprintf("nag: rule %s: reason %q is too short: name the decision in at least %d characters", r.ID, r.Reason, minReason))
		}
		s := &cdknag.NagPackSuppression{Id: jsii.String(r.ID), Reason: jsii.String(r.Reason)}
		if len(r.AppliesTo) > 0 {
			applies := make([]any, len(r.AppliesTo))
			for i, a := range r.AppliesTo {
				applies[i] = a
			}
			s.AppliesTo = &applies
		}
		out = append(out, s)
	}
	return &out
}

func knownPack(id string) bool {
	for _, p := range Packs {
		if strings.HasPrefix(id, p+"-") {
			return true
		}
	}
	return false
}

// Errors returns the unsuppressed error findings of every rule pack on stack,
// one "path: message" line each. It synthesizes the stack's app first, since
// the packs run as aspects during synthesis. Tests call it after building a
// stack; an empty result means the stack is nag-clean.
func Errors(stack awscdk.Stack) []string {
	assertions.Template_FromStack(stack, nil)
	var out []string
	for _, c := range *stack.Node().FindAll(constructs.ConstructOrder_PREORDER) {
		for _, m := range *c.Node().Metadata() {
			if *m.Type == "aws:cdk:error" {
				out = append(out, fmt.Sprintf("/%s: %s", *c.Node().Path(), firstLine(fmt.Sprint(m.Data))))
			}
		}
	}
	return out
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// NISTAndHIPAA returns the rule named name (for example "LambdaDLQ") in both
// the NIST 800-53 R5 and the HIPAA Security packs, which share most rule
// names and, for one resource, the decision behind a suppression.
func NISTAndHIPAA(name, reason string) []Rule {
	return []Rule{
		{ID: "NIST.800.53.R5-" + name, Reason: reason},
		{ID: "HIPAA.Security-" + name, Reason: reason},
	}
}

// ArnPrefix is "arn:<partition>:<service>:<region>:<account>" of stack as cdk-nag prints it in
// AppliesTo values: literal where the stack knows the value, <AWS::Partition>, <AWS::Region>
// and <AWS::AccountId> where it does not (CDK writes the partition literally once it knows the
// region).
func ArnPrefix(stack awscdk.Stack, service string) string {
	partition, region, account := "<AWS::Partition>", "<AWS::Region>", "<AWS::AccountId>"
	if !*awscdk.Token_IsUnresolved(stack.Partition()) {
		partition = *stack.Partition()
	}
	if !*awscdk.Token_IsUnresolved(stack.Region()) {
		region = *stack.Region()
	}
	if !*awscdk.Token_IsUnresolved(stack.Account()) {
		account = *stack.Account()
	}
	return "arn:" + partition + ":" + service + ":" + region + ":" + account
}
