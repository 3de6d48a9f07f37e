package stacks_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/securestacks/securestacks/stacks"
)

func TestLoadConfigRejectsBadInputWithOneLine(t *testing.T) {
	valid := map[string]any{"account": "123456789012", "region": "eu-west-1"}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for kk, vv := range valid {
			m[kk] = vv
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	cases := []struct {
		name    string
		envs    any
		env     string
		wantKey string
		want    string
	}{
		{"unknown env", map[string]any{"prod": valid}, "staging", "env", `unknown environment "staging": expected one of prod, sandbox, or all`},
		{"account not 12 digits", map[string]any{"prod": with("account", "12345")}, "prod", "environments.prod.account", "expected a 12-digit AWS account id"},
		{"account with letters", map[string]any{"prod": with("account", "12345678901a")}, "prod", "environments.prod.account", "expected a 12-digit AWS account id"},
		{"unknown region format", map[string]any{"prod": with("region", "europe-1")}, "prod", "environments.prod.region", "expected an AWS region such as eu-west-1"},
		{"unknown key", map[string]any{"prod": with("acount", "123456789012")}, "prod", "environments.prod.acount", "unknown key: expected one of account, "},
		{"wrong type", map[string]any{"prod": with("account", 123456789012.0)}, "prod", "environments.prod.account", "expected a string, got the number"},
		{"wrong type of tags", map[string]any{"prod": with("tags", []any{"a"})}, "prod", "environments.prod.tags", "expected an object, got a list"},
		{"missing account", map[string]any{"prod": with("account", nil)}, "prod", "environments.prod.account", "missing required key"},
		{"missing region", map[string]any{"prod": with("region", nil)}, "prod", "environments.prod.region", "missing required key"},
		{"environments not an object", "prod", "", "environments", "expected an object"},
		{"bad env name", map[string]any{"Prod_1": valid}, "", "environments.Prod_1", "expected an environment name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// GIVEN an environments map with one defect
			// WHEN it is loaded and an environment selected
			cfg, err := stacks.LoadConfig(tc.envs)
			if err == nil {
				_, err = cfg.Select(tc.env)
			}
			// THEN one line names the key and what was expected
			if err == nil {
				t.Fatal("expected an error, got none")
			}
			var ce *stacks.ConfigError
			if !errors.As(err, &ce) || ce.Key != tc.wantKey {
				t.Fatalf("error %q: want key %q", err, tc.wantKey)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q: want it to contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error spans lines: %q", err)
			}
		})
	}
}

func TestLoadConfigSelectsEnvironments(t *testing.T) {
	// GIVEN cdk.json environments with prod and a sandbox override
	raw := map[string]any{
		"prod":    map[string]any{"account": "123456789012", "region": "us-gov-west-1", "tags": map[string]any{"team": "sec"}},
		"eu-prod": map[string]any{"account": "210987654321", "region": "eu-central-1"},
	}
	cfg, err := stacks.LoadConfig(raw)
	if err != nil {
		t.Fatal(err)
	}
	// WHEN nothing is selected THEN the embedded sandbox is used, environment-agnostic
	got, err := cfg.Select("")
	if err != nil || len(got) != 1 || got[0].Name != "sandbox" || got[0].Account != "" || got[0].Region != "" {
		t.Fatalf("default selection = %+v, %v", got, err)
	}
	if got[0].Tags["securestacks:environment"] != "sandbox" {
		t.Fatalf("embedded sandbox tags missing: %+v", got[0].Tags)
	}
	// WHEN all is selected THEN every environment comes back sorted by name
	all, err := cfg.Select("all")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range all {
		names = append(names, e.Name+"="+e.StackPrefix())
	}
	if strings.Join(names, ",") != "eu-prod=EuProd,prod=Prod,sandbox=Sandbox" {
		t.Fatalf("all = %v", names)
	}
	// WHEN one is selected THEN its typed fields are decoded
	prod, _ := cfg.Select("prod")
	if prod[0].Account != "123456789012" || prod[0].Region != "us-gov-west-1" || prod[0].Tags["team"] != "sec" {
		t.Fatalf("prod = %+v", prod[0])
	}
}
