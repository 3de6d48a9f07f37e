package asymmetrickey_test

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// TestMain owns the one jsii runtime (node process) of this test binary.
func TestMain(m *testing.M) {
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}

// newStack returns a stack in a new app that skips bundling. An app cannot be
// synthesized again after its tree changed, so each test makes its own.
func newStack() awscdk.Stack {
	app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{"aws:cdk:bundling-stacks": []any{}}})
	return awscdk.NewStack(app, jsii.String("KeysTest"), nil)
}

// tmpl is a synthesized template as plain JSON.
type tmpl struct {
	Resources map[string]struct {
		Type           string         `json:"Type"`
		Properties     map[string]any `json:"Properties"`
		DeletionPolicy string         `json:"DeletionPolicy"`
	} `json:"Resources"`
	Outputs map[string]map[string]any `json:"Outputs"`
}

func synth(t *testing.T, stack awscdk.Stack) (tmpl, assertions.Template) {
	t.Helper()
	raw := assertions.Template_FromStack(stack, nil)
	b, err := json.Marshal(raw.ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	var out tmpl
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out, raw
}

// id is the logical id of the CloudFormation resource behind c.
func id(stack awscdk.Stack, c constructs.IConstruct) string {
	if el, ok := c.(awscdk.CfnElement); ok {
		return *stack.GetLogicalId(el)
	}
	return *stack.GetLogicalId(c.Node().DefaultChild().(awscdk.CfnElement))
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// statement is one IAM policy statement, normalized: Action and Resource
// always lists.
type statement struct {
	Sid       string
	Effect    string
	Principal any
	Action    []string
	Resource  []string
	Condition any
}

func statements(t *testing.T, doc any) []statement {
	t.Helper()
	var raw struct {
		Statement []map[string]any
	}
	if err := json.Unmarshal([]byte(js(doc)), &raw); err != nil {
		t.Fatal(err)
	}
	list := func(v any) []string {
		switch x := v.(type) {
		case nil:
			return nil
		case []any:
			out := make([]string, len(x))
			for i, e := range x {
				if s, ok := e.(string); ok {
					out[i] = s
				} else {
					out[i] = js(e)
				}
			}
			sort.Strings(out)
			return out
		case string:
			return []string{x}
		default:
			return []string{js(x)}
		}
	}
	out := make([]statement, len(raw.Statement))
	for i, s := range raw.Statement {
		sid, _ := s["Sid"].(string)
		eff, _ := s["Effect"].(string)
		out[i] = statement{Sid: sid, Effect: eff, Principal: s["Principal"], Action: list(s["Action"]), Resource: list(s["Resource"]), Condition: s["Condition"]}
	}
	return out
}

// policyOf returns the statements of the managed policy attached to role.
func (tp tmpl) policyOf(t *testing.T, roleID string) []statement {
	t.Helper()
	var found []statement
	n := 0
	for _, r := range tp.Resources {
		if r.Type != "AWS::IAM::ManagedPolicy" || !strings.Contains(js(r.Properties["Roles"]), `"Ref":"`+roleID+`"`) {
			continue
		}
		n++
		found = append(found, statements(t, r.Properties["PolicyDocument"])...)
	}
	if n != 1 {
		t.Fatalf("role %s has %d managed policies, want 1", roleID, n)
	}
	for _, r := range tp.Resources {
		if r.Type == "AWS::IAM::Policy" && strings.Contains(js(r.Properties["Roles"]), `"Ref":"`+roleID+`"`) {
			t.Fatalf("role %s has an inline policy besides its managed one: %s", roleID, js(r.Properties))
		}
	}
	return found
}

func (tp tmpl) props(t *testing.T, logicalID string) map[string]any {
	t.Helper()
	r, ok := tp.Resources[logicalID]
	if !ok {
		t.Fatalf("no resource %s", logicalID)
	}
	return r.Properties
}

func keyArn(keyID string) string { return fmt.Sprintf(`{"Fn::GetAtt":["%s","Arn"]}`, keyID) }

// mustPanic runs f and returns the panic message.
func mustPanic(t *testing.T, f func()) (msg string) {
	t.Helper()
	defer func() {
		r := recover()
		if r == nil {
			t.Fatal("no panic")
		}
		msg = fmt.Sprint(r)
	}()
	f()
	return ""
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

// denyGrants is the statement of every securestacks key (defaults.Key,
// Control Tower CT.KMS.PR.3): only AWS services may create grants.
var denyGrants = statement{Sid: "DenyGrantsExceptForAWSServices", Effect: "Deny", Principal: map[string]any{"AWS": "*"},
	Action: []string{"kms:CreateGrant"}, Resource: []string{"*"},
	Condition: map[string]any{"BoolIfExists": map[string]any{"aws:PrincipalIsAWSService": "false", "kms:GrantIsForAWSResource": "false"}}}
