package irworkflow_test

import (
	"strings"
	"testing"
	"time"

	"github.com/securestacks/securestacks/internal/incident"
	"github.com/securestacks/securestacks/lambda-src/internal/irworkflow"
)

func TestConfigFromEnv(t *testing.T) {
	env := map[string]string{incident.EnvBucket: "b", incident.EnvTable: "t", incident.EnvDeployment: "D", incident.EnvForensicTimeout: "240"}
	cfg, table, err := irworkflow.ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil || table != "t" || cfg.Bucket != "b" || cfg.ForensicTimeout != 240*time.Second {
		t.Fatalf("%+v %q %v", cfg, table, err)
	}
	env[incident.EnvForensicTimeout] = "5"
	if _, _, err := irworkflow.ConfigFromEnv(func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "IR_FORENSIC_TIMEOUT_SECONDS=\"5\": expected whole seconds from 30 to 840") {
		t.Errorf("timeout: %v", err)
	}
	if _, _, err := irworkflow.ConfigFromEnv(func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "IR_BUCKET") || strings.Contains(err.Error(), "\n") {
		t.Errorf("missing: %v", err)
	}
}
