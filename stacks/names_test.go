package stacks_test

import (
	"strings"
	"testing"

	"github.com/securestacks/securestacks/stacks"
)

// TestEnvironmentsOfOneAccountAndRegionNameThingsApart checks that two environments deployed to
// the same account and region cannot give one name to a resource whose name is unique there:
// the AppStream stack, fleet, notebook and scripts parameter (environmentName) and the
// CodeCommit repository.
func TestEnvironmentsOfOneAccountAndRegionNameThingsApart(t *testing.T) {
	env := func(region string, sections map[string]any) map[string]any {
		e := map[string]any{"account": "123456789012", "region": region}
		for k, v := range sections {
			e[k] = v
		}
		return e
	}
	tests := []struct {
		name string
		envs map[string]any
		want string // "" when valid
	}{
		{"defaults: every name derives from the environment's", map[string]any{
			"staging": env("eu-west-1", nil), "prod": env("eu-west-1", nil)}, ""},
		{"one AppStream environment name twice", map[string]any{
			"staging": env("eu-west-1", map[string]any{"appStreamSandbox": map[string]any{"environmentName": "Research"}}),
			"prod":    env("eu-west-1", map[string]any{"appStreamSandbox": map[string]any{"environmentName": "research"}})},
			`config: environments.staging.appStreamSandbox.environmentName: expected a name no other environment of account 123456789012 in eu-west-1 uses, got "research", which environments.prod uses too`},
		{"an explicit name equal to another environment's default", map[string]any{
			"staging": env("eu-west-1", map[string]any{"appStreamSandbox": map[string]any{"environmentName": "Prod-DataSandbox"}}),
			"prod":    env("eu-west-1", nil)},
			`config: environments.staging.appStreamSandbox.environmentName: expected a name no other environment`},
		{"one repository name twice", map[string]any{
			"staging": env("eu-west-1", map[string]any{"devSecOps": map[string]any{"repositoryName": "shop"}}),
			"prod":    env("eu-west-1", map[string]any{"devSecOps": map[string]any{"repositoryName": "shop"}})},
			`config: environments.staging.devSecOps.repositoryName: expected a name no other environment`},
		{"the same names in two regions", map[string]any{
			"staging": env("eu-west-1", map[string]any{"devSecOps": map[string]any{"repositoryName": "shop"}, "appStreamSandbox": map[string]any{"environmentName": "Research"}}),
			"prod":    env("eu-central-1", map[string]any{"devSecOps": map[string]any{"repositoryName": "shop"}, "appStreamSandbox": map[string]any{"environmentName": "Research"}})}, ""},
		{"an existing repository is shared on purpose", map[string]any{
			"staging": env("eu-west-1", map[string]any{"devSecOps": map[string]any{"existingRepository": "shop"}}),
			"prod":    env("eu-west-1", map[string]any{"devSecOps": map[string]any{"existingRepository": "shop"}})}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN two environments WHEN the configuration is loaded
			_, err := stacks.LoadConfig(tt.envs)
			// THEN a name two of them would both create fails on one line naming the key
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("valid configuration rejected: %v", err)
			case tt.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.want)):
				t.Errorf("err = %v\nwant  %s", err, tt.want)
			}
		})
	}
}

func TestOneAuditTrailPerAccount(t *testing.T) {
	env := func(account, region, trail string) map[string]any {
		e := map[string]any{"account": account, "region": region}
		if trail != "" {
			e["appStreamSandbox"] = map[string]any{"audit": map[string]any{"trail": trail}}
		}
		return e
	}
	tests := []struct {
		name string
		envs map[string]any
		want string
	}{
		{"defaults create no trail, so they share an account", map[string]any{
			"staging": env("123456789012", "eu-west-1", ""), "prod": env("123456789012", "eu-west-1", "")}, ""},
		{"one creator, the other uses its trail", map[string]any{
			"staging": env("123456789012", "eu-west-1", "create"),
			"prod": map[string]any{"account": "123456789012", "region": "eu-west-1", "appStreamSandbox": map[string]any{"audit": map[string]any{
				"trail": "existing", "existingTrailLogsUri": "s3://trail-logs/AWSLogs/123456789012/CloudTrail/"}}}}, ""},
		{"two creators in one account, even in two regions: every event twice", map[string]any{
			"staging": env("123456789012", "eu-west-1", "create"), "prod": env("123456789012", "eu-central-1", "create")},
			`config: environments.staging.appStreamSandbox.audit.trail: expected "existing" (with existingTrailLogsUri, the TrailLogsUri output of environments.prod) or "none"`},
		{"two creators in two accounts", map[string]any{
			"staging": env("210987654321", "eu-west-1", "create"), "prod": env("123456789012", "eu-west-1", "create")}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := stacks.LoadConfig(tt.envs)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("valid configuration rejected: %v", err)
			case tt.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.want)):
				t.Errorf("err = %v\nwant  %s", err, tt.want)
			}
		})
	}
}
