package devsecops_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/securestacks/securestacks/constructs/devsecops"
)

// deployWorld is the scratch directory an EKS deploy script runs in: the source with its
// manifests, the image stage's imagedefinitions.json, and fake aws, kubectl and curl that
// record their arguments in calls.log.
func runDeploy(t *testing.T, rolloutExit string, stubFetch bool) (int, string, []string, string) {
	t.Helper()
	if _, err := exec.LookPath("jq"); err != nil {
		t.Skip("jq not installed")
	}
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	tools := filepath.Join(dir, "tools")
	must(os.MkdirAll(filepath.Join(dir, "src", "k8s", "base"), 0o755))
	must(os.MkdirAll(filepath.Join(dir, "imagedefs"), 0o755))
	must(os.MkdirAll(filepath.Join(dir, "tmp"), 0o755))
	must(os.MkdirAll(tools, 0o755))
	must(os.WriteFile(filepath.Join(dir, "src", "k8s", "base", "deployment.yaml"), []byte("kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: ${IMAGE_URI}\n"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "imagedefs", "imagedefinitions.json"), []byte(`[{"name":"web","imageUri":"123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop:4f2a9c1e7b3d"}]`), 0o644))
	record := `echo "$(basename "$0") $*" | sed -e "s|$CALLS_ROOT|ROOT|g" >> "$CALLS_ROOT/calls.log"` + "\n"
	bin := fakeBin(t, map[string]string{
		"aws": record,
		"kubectl": record + `case "$1 $2" in
  "apply --namespace") cat "$6"/base/*.yaml > "$CALLS_ROOT/rendered.yaml"; printf 'deployment.apps/web\nservice/web\n' ;;
  "rollout status") exit ` + rolloutExit + ` ;;
esac
`,
		"curl": record + `while [ $# -gt 0 ]; do [ "$1" = --output ] && { echo "not kubectl" > "$2"; shift; }; shift; done`,
	})
	script := devsecops.Prelude() + devsecops.DeployScript()
	// The pinned kubectl lands in a scratch directory instead of /usr/local/bin.
	script = strings.ReplaceAll(script, "/usr/local/bin/", tools+"/")
	if stubFetch {
		script = strings.Replace(script, "\nfetch https://dl.k8s.io/", "\n: https://dl.k8s.io/", 1)
		script = strings.Replace(script, "chmod 0755 "+tools+"/kubectl", ":", 1)
	}
	cmd := exec.Command("bash", "-c", script)
	cmd.Dir = filepath.Join(dir, "src")
	cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "CALLS_ROOT="+dir, "TMPDIR="+filepath.Join(dir, "tmp"),
		"CODEBUILD_SRC_DIR_ImageDefinitions="+filepath.Join(dir, "imagedefs"), "CONTAINER_NAME=web", "AWS_REGION=eu-west-1",
		"EKS_CLUSTER=shop-staging", "K8S_NAMESPACE=shop", "K8S_MANIFESTS=k8s", "ROLLOUT_TIMEOUT=300")
	out, _ := cmd.CombinedOutput()
	code := cmd.ProcessState.ExitCode()
	b, _ := os.ReadFile(filepath.Join(dir, "calls.log"))
	var calls []string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if l != "" {
			calls = append(calls, l)
		}
	}
	rendered, _ := os.ReadFile(filepath.Join(dir, "rendered.yaml"))
	return code, string(out), calls, string(rendered)
}

func TestEksDeployScript(t *testing.T) {
	apply := "kubectl apply --namespace shop --recursive --filename ROOT/tmp/"
	t.Run("rollout completes", func(t *testing.T) {
		// GIVEN a rollout that completes
		code, out, calls, rendered := runDeploy(t, "0", true)
		// THEN the kubeconfig, apply and rollout wait run exactly so, with the image substituted
		if code != 0 {
			t.Fatalf("exit %d:\n%s", code, out)
		}
		want := []string{
			"aws eks update-kubeconfig --name shop-staging --region eu-west-1 --kubeconfig ROOT/src/.kubeconfig",
			apply,
			"kubectl rollout status deployment.apps/web --namespace shop --timeout 300s",
		}
		checkCalls(t, calls, want)
		if !strings.Contains(rendered, "image: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop:4f2a9c1e7b3d\n") {
			t.Errorf("the manifest applied was not given the image:\n%s", rendered)
		}
	})
	t.Run("rollout fails", func(t *testing.T) {
		// GIVEN a rollout that does not complete in time
		code, out, calls, _ := runDeploy(t, "1", true)
		// THEN it is rolled back and the action fails
		if code == 0 {
			t.Fatalf("a failed rollout passed:\n%s", out)
		}
		checkCalls(t, calls, []string{
			"aws eks update-kubeconfig --name shop-staging --region eu-west-1 --kubeconfig ROOT/src/.kubeconfig",
			apply,
			"kubectl rollout status deployment.apps/web --namespace shop --timeout 300s",
			"kubectl rollout undo deployment.apps/web --namespace shop",
		})
		if !strings.Contains(out, "rolled back") {
			t.Errorf("output does not say it rolled back:\n%s", out)
		}
	})
	t.Run("kubectl checksum mismatch", func(t *testing.T) {
		// GIVEN a download whose content is not the pinned kubectl (the real fetch runs)
		code, out, calls, _ := runDeploy(t, "0", false)
		// THEN the script stops at the check: no kubectl and no aws call
		if code == 0 || !strings.Contains(out, "FAILED") {
			t.Fatalf("exit %d, want the sha256sum check to fail:\n%s", code, out)
		}
		for _, c := range calls {
			if !strings.HasPrefix(c, "curl ") {
				t.Errorf("%q ran after a checksum mismatch", c)
			}
		}
		if len(calls) != 1 || !strings.Contains(calls[0], devsecops.Kubectl.URL) {
			t.Errorf("calls %q, want the one download of %s", calls, devsecops.Kubectl.URL)
		}
	})
}

// checkCalls compares recorded calls with want; a want ending in "/" is a prefix (a
// generated temporary directory follows).
func checkCalls(t *testing.T, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("calls:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for i := range want {
		if got[i] != want[i] && !(strings.HasSuffix(want[i], "/") && strings.HasPrefix(got[i], want[i]) && strings.HasSuffix(got[i], " --output name")) {
			t.Errorf("call %d = %q, want %q", i, got[i], want[i])
		}
	}
}

func TestSnykFailsClosed(t *testing.T) {
	ingestOK := "ingest() { echo \"ingested $1 $2\"; }\nfetch() { :; }\nchmod() { :; }\n"
	for _, tt := range []struct {
		name   string
		script string
		exit   string
		pass   bool
	}{
		{"snyk test: no issues", devsecops.ScaScript(devsecops.ScaSnyk), "0", true},
		{"snyk test: issues found (the threshold decides)", devsecops.ScaScript(devsecops.ScaSnyk), "1", true},
		{"snyk test: the command failed", devsecops.ScaScript(devsecops.ScaSnyk), "2", false},
		{"snyk test: no supported project", devsecops.ScaScript(devsecops.ScaSnyk), "3", false},
		{"snyk code test: issues found", devsecops.SastScript(devsecops.SastSnyk), "1", true},
		{"snyk code test: the command failed", devsecops.SastScript(devsecops.SastSnyk), "2", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN a Snyk CLI that writes its report and exits as Snyk documents
			bin := fakeBin(t, map[string]string{"snyk": `for a in "$@"; do case "$a" in --*-file-output=*) echo '{}' > "${a#*=}" ;; esac; done; exit ` + tt.exit})
			code, out := runBash(t, bin, ingestOK+tt.script)
			// THEN 0 and 1 ingest the report and let the threshold decide; anything else fails
			if (code == 0) != tt.pass {
				t.Errorf("exit %d, want pass=%v:\n%s", code, tt.pass, out)
			}
			if tt.pass != strings.Contains(out, "ingested") {
				t.Errorf("ingested=%v, want %v:\n%s", strings.Contains(out, "ingested"), tt.pass, out)
			}
		})
	}
}
