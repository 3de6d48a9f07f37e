// Package iamsim evaluates IAM requests with the pinned npm simulator
// @cloud-copilot/iam-simulate (package.json), which implements AWS's policy
// evaluation logic:
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
//
// An explicit deny in any policy wins; within one account an allow in
// either the identity policies or the resource policy suffices, except
// that a KMS key policy must itself allow the request (directly or by
// delegating to the account's IAM policies); a VPC endpoint policy, when
// the request goes through one, must allow it too.
//
// Run evaluates a whole batch in one Node process (the pinned Node 24 in
// node_modules/.bin), so a test pays for one process start.
package iamsim

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

//go:embed simulate.mjs
var script string

// Policy is a named policy document (the decoded JSON of a policy).
type Policy struct {
	Name     string `json:"name"`
	Document any    `json:"document"`
}

// Request is one authorization request: Principal calls Action on
// Resource, owned by ResourceAccount, with the request context Context
// (values are strings or []string). Policies with unresolved references
// must not be passed: the simulator validates every document.
type Request struct {
	Principal           string         `json:"principal"`
	Action              string         `json:"action"`
	Resource            string         `json:"resource"`
	ResourceAccount     string         `json:"resourceAccount"`
	Context             map[string]any `json:"context,omitempty"`
	IdentityPolicies    []Policy       `json:"identityPolicies,omitempty"`
	ResourcePolicy      any            `json:"resourcePolicy,omitempty"`
	VPCEndpointPolicies []Policy       `json:"vpcEndpointPolicies,omitempty"`
}

// Decision values of Result.
const (
	Allowed          = "Allowed"
	ExplicitlyDenied = "ExplicitlyDenied"
	ImplicitlyDenied = "ImplicitlyDenied"
)

// Result is the simulator's answer to one Request.
type Result struct {
	// Decision is Allowed, ExplicitlyDenied or ImplicitlyDenied; empty when
	// Error is set.
	Decision string `json:"decision"`
	// Error says why the request could not be evaluated: an action the
	// Service Authorization Reference does not define, a resource ARN that
	// matches none of the action's resource types, an invalid policy.
	Error string `json:"error,omitempty"`
	// WildcardOnly is set when the action supports no resource-level
	// permissions: the simulator then evaluated it on Resource "*".
	WildcardOnly bool `json:"wildcardOnly,omitempty"`
	// IdentityAllowedBy names the identity-policy statements that allowed
	// the request, as "<policy name>#<Sid or statement index>".
	IdentityAllowedBy []string `json:"identityAllowedBy,omitempty"`
}

// Run evaluates reqs in order. moduleDir is the directory holding
// node_modules (after `make deps`).
func Run(ctx context.Context, moduleDir string, reqs []Request) ([]Result, error) {
	if len(reqs) == 0 {
		return nil, nil
	}
	node := filepath.Join(moduleDir, "node_modules", ".bin", "node")
	if _, err := os.Stat(filepath.Join(moduleDir, "node_modules", "@cloud-copilot", "iam-simulate")); err != nil {
		return nil, fmt.Errorf("iamsim: @cloud-copilot/iam-simulate is not installed in %s: run make deps", moduleDir)
	}
	for i := range reqs {
		for j, p := range reqs[i].VPCEndpointPolicies {
			reqs[i].VPCEndpointPolicies[j].Document = anyPrincipal(p.Document)
		}
	}
	in, err := json.Marshal(reqs)
	if err != nil {
		return nil, fmt.Errorf("iamsim: encoding requests: %w", err)
	}
	cmd := exec.CommandContext(ctx, node, "--input-type=module", "--eval", script)
	cmd.Dir = moduleDir // --eval resolves packages from the working directory
	cmd.Stdin = bytes.NewReader(in)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("iamsim: %s: %w: %s", node, err, strings.Join(strings.Fields(stderr.String()), " "))
	}
	var out []Result
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		return nil, fmt.Errorf("iamsim: decoding results: %w", err)
	}
	if len(out) != len(reqs) {
		return nil, errors.New("iamsim: the simulator answered a different number of requests than it was asked")
	}
	return out, nil
}

// anyPrincipal returns doc with each statement's Principal {"AWS": "*"}
// written as "*". The two are equivalent
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-anonymous),
// but the simulator accepts only "*" in a VPC endpoint policy.
func anyPrincipal(doc any) any {
	m, ok := doc.(map[string]any)
	if !ok {
		return doc
	}
	stmts, ok := m["Statement"].([]any)
	if !ok {
		return doc
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	copied := make([]any, len(stmts))
	for i, s := range stmts {
		st, ok := s.(map[string]any)
		if p, isMap := st["Principal"].(map[string]any); ok && isMap && len(p) == 1 && p["AWS"] == "*" {
			c := make(map[string]any, len(st))
			for k, v := range st {
				c[k] = v
			}
			c["Principal"] = "*"
			s = c
		}
		copied[i] = s
	}
	out["Statement"] = copied
	return out
}
