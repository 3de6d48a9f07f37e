package incidentresponse

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctionstasks"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/internal/defaults"
	"github.com/securestacks/securestacks/internal/incident"
)

// newStateMachine chains one Lambda task per incident.Steps entry. Each
// task retries Lambda's transient errors and a failed attempt, then its
// Catch records the error in the state (caught_<step>) and goes on to the
// next step, which writes it into the case record: containment goes on
// where it safely can. The manifest step's Catch ends the execution failed,
// since a case without its manifest must not look complete.
func (ir *IncidentResponse) newStateMachine() {
	sfn := awsstepfunctions.NewStateMachine
	var tasks []awsstepfunctionstasks.LambdaInvoke
	for _, s := range incident.Steps {
		fn := ir.EvidenceFunction
		if s.Function == incident.FunctionContain {
			fn = ir.ContainFunction
		}
		t := awsstepfunctionstasks.NewLambdaInvoke(ir, jsii.String(stateName(s.Name)), &awsstepfunctionstasks.LambdaInvokeProps{
			LambdaFunction: fn,
			Comment:        jsii.String(s.Doc),
			Payload: awsstepfunctions.TaskInput_FromObject(&map[string]any{
				"step":  s.Name,
				"state": awsstepfunctions.JsonPath_EntirePayload(),
			}),
			ResultSelector:           &map[string]any{"caseId.$": "$.Payload.caseId"},
			ResultPath:               jsii.String("$"),
			RetryOnServiceExceptions: jsii.Bool(true),
		})
		t.AddRetry(&awsstepfunctions.RetryProps{
			Errors:      jsii.Strings("States.TaskFailed", "States.Timeout"),
			MaxAttempts: jsii.Number(2), Interval: awscdk.Duration_Seconds(jsii.Number(2)), BackoffRate: jsii.Number(2),
		})
		tasks = append(tasks, t)
	}
	failed := awsstepfunctions.NewFail(ir, jsii.String("ManifestFailed"), &awsstepfunctions.FailProps{
		Comment: jsii.String("The case has no chain-of-custody manifest"), Error: jsii.String("ManifestFailed"),
		Cause: jsii.String("The manifest step failed after its retries; the case record holds every other step"),
	})
	done := awsstepfunctions.NewSucceed(ir, jsii.String("CaseDone"), nil)
	for i, t := range tasks {
		next := awsstepfunctions.IChainable(done)
		if i+1 < len(tasks) {
			next = tasks[i+1]
		}
		var onError awsstepfunctions.IChainable = failed
		if i+1 < len(tasks) {
			onError = tasks[i+1]
		}
		t.AddCatch(onError, &awsstepfunctions.CatchProps{Errors: jsii.Strings("States.ALL"), ResultPath: jsii.String("$." + incident.CaughtPrefix + incident.Steps[i].Name)})
		t.Next(next)
	}
	logs := defaults.LogGroup(ir, "StateMachineLogs", &awslogs.LogGroupProps{EncryptionKey: ir.Key})
	ir.StateMachine = sfn(ir, jsii.String("StateMachine"), &awsstepfunctions.StateMachineProps{
		Comment:        jsii.String("EC2 incident response: collect, contain, forensics, manifest"),
		DefinitionBody: awsstepfunctions.DefinitionBody_FromChainable(tasks[0]),
		Timeout:        awscdk.Duration_Minutes(jsii.Number(60)),
		TracingEnabled: jsii.Bool(true),
		Logs:           &awsstepfunctions.LogOptions{Destination: logs, Level: awsstepfunctions.LogLevel_ALL, IncludeExecutionData: jsii.Bool(false)},
	})
	ir.StateMachine.Node().AddValidation(&definitionCheck{sm: ir.StateMachine})
	suppressStateMachine(ir.StateMachine)
}

func stateName(step string) string {
	return strings.ToUpper(step[:1]) + step[1:]
}

type definitionCheck struct{ sm awsstepfunctions.StateMachine }

func (d *definitionCheck) Validate() *[]*string {
	cfn := d.sm.Node().DefaultChild().(awsstepfunctions.CfnStateMachine)
	def, err := RenderDefinition(awscdk.Stack_Of(d.sm).Resolve(cfn.DefinitionString()))
	if err != nil {
		return &[]*string{jsii.String(err.Error())}
	}
	var errs []*string
	for _, e := range CheckDefinition(def) {
		errs = append(errs, jsii.String(e))
	}
	return &errs
}

// RenderDefinition parses a resolved DefinitionString (a string, or an
// Fn::Join of strings and references), with each reference as the text
// TOKEN: the structure of the states does not depend on their values.
func RenderDefinition(resolved any) (map[string]any, error) {
	var b strings.Builder
	switch d := resolved.(type) {
	case string:
		b.WriteString(d)
	case map[string]any:
		join, _ := d["Fn::Join"].([]any)
		if len(join) != 2 {
			return nil, fmt.Errorf("state machine definition: unexpected %v", d)
		}
		parts, _ := join[1].([]any)
		for _, p := range parts {
			if s, ok := p.(string); ok {
				b.WriteString(s)
			} else {
				b.WriteString("TOKEN")
			}
		}
	default:
		return nil, fmt.Errorf("state machine definition: unexpected %T", resolved)
	}
	var def map[string]any
	if err := json.Unmarshal([]byte(b.String()), &def); err != nil {
		return nil, fmt.Errorf("state machine definition: %w", err)
	}
	return def, nil
}

// CheckDefinition checks an Amazon States Language definition: every Task
// state has a Retry and a Catch, and every state is reachable from StartAt
// through Next, Default, Choices and Catch
// (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-amazon-states-language.html).
// It returns one line per problem.
func CheckDefinition(def map[string]any) []string {
	states, _ := def["States"].(map[string]any)
	start, _ := def["StartAt"].(string)
	var problems []string
	if _, ok := states[start]; !ok {
		problems = append(problems, fmt.Sprintf("StartAt %q is not a state", start))
	}
	reached := map[string]bool{}
	queue := []string{start}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if reached[name] {
			continue
		}
		reached[name] = true
		st, _ := states[name].(map[string]any)
		queue = append(queue, successors(st)...)
	}
	names := make([]string, 0, len(states))
	for n := range states {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		st, _ := states[n].(map[string]any)
		if !reached[n] {
			problems = append(problems, fmt.Sprintf("state %s is unreachable from %s", n, start))
		}
		if st["Type"] == "Task" {
			if r, _ := st["Retry"].([]any); len(r) == 0 {
				problems = append(problems, fmt.Sprintf("task %s has no Retry", n))
			}
			if c, _ := st["Catch"].([]any); len(c) == 0 {
				problems = append(problems, fmt.Sprintf("task %s has no Catch", n))
			}
		}
		for _, next := range successors(st) {
			if _, ok := states[next]; !ok {
				problems = append(problems, fmt.Sprintf("state %s goes to %s, which does not exist", n, next))
			}
		}
	}
	return problems
}

func successors(st map[string]any) []string {
	var out []string
	if n, ok := st["Next"].(string); ok {
		out = append(out, n)
	}
	if n, ok := st["Default"].(string); ok {
		out = append(out, n)
	}
	for _, key := range []string{"Catch", "Choices"} {
		list, _ := st[key].([]any)
		for _, c := range list {
			if m, ok := c.(map[string]any); ok {
				if n, ok := m["Next"].(string); ok && !slices.Contains(out, n) {
					out = append(out, n)
				}
			}
		}
	}
	return out
}
