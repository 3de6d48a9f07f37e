package reports_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/securestacks/securestacks/internal/reports"
)

// The fixture's events follow the shape Falco documents for json_output: true
// (https://falco.org/docs/concepts/outputs/formatting/, output fields per
// https://falco.org/docs/reference/rules/supported-fields/) and fire default rules
// (Terminal shell in container, Read sensitive file untrusted, Drop and execute new binary in
// container, PTRACE attached to process).
func TestParseFalco(t *testing.T) {
	// GIVEN five events in JSON lines with a blank line among them
	rep, err := reports.Parse("falco", fixture(t, "falco.jsonl"))
	// WHEN parsed THEN each event is one Runtime finding in order
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "scanners", rep.Scanners, []string{"Falco"})
	eq(t, "keys", keys(rep.Findings), []key{
		{"Terminal shell in container", "Notice", "k8s/shop/app-77789455d6-m7flp/app"},
		{"Read sensitive file untrusted", "Warning", "k8s/shop/app-77789455d6-m7flp/app"},
		{"Drop and execute new binary in container", "Critical", "k8s/shop/app-77789455d6-m7flp/app"},
		{"PTRACE attached to process", "Warning", "host/ip-10-0-7-9.eu-west-1.compute.internal"},
		{"Terminal shell in container", "Notice", "k8s/shop/app-77789455d6-m7flp/app"},
	})
	f := rep.Findings[0]
	eq(t, "category", f.Category, reports.Runtime)
	eq(t, "observed", f.ObservedAt, time.Date(2026, 11, 20, 9, 14, 3, 512877114, time.UTC))
	eq(t, "workload", *f.Workload, reports.Workload{
		Hostname: "ip-10-0-12-34.eu-west-1.compute.internal", Namespace: "shop", Pod: "app-77789455d6-m7flp",
		ContainerID: "788861c3cf83", ContainerName: "app", Image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:4f2a9c1e7b3d",
	})
	eq(t, "cmdline", f.Fields["proc.cmdline"], "sh -c uptime")
	eq(t, "number field", f.Fields["proc.tty"], "34816")
	eq(t, "tags", f.Fields["tags"], "T1059,container,maturity_stable,mitre_execution,shell")
	eq(t, "source", f.Fields["source"], "syscall")
	prefix(t, "description", f.Description, "2026-11-20T09:14:03.512877114+0000: Notice A shell was spawned")
	if _, ok := rep.Findings[1].Fields["proc.aname[3]"]; ok {
		t.Error("a null output field became a value")
	}
	eq(t, "bool field", rep.Findings[2].Fields["proc.is_exe_upper_layer"], "true")
}

func TestParseFalcoMalformedLines(t *testing.T) {
	good := `{"time":"2026-11-20T09:14:03Z","rule":"Terminal shell in container","priority":"Notice","output":"shell","output_fields":{"k8s.ns.name":"shop"}}`
	tests := []struct {
		name, input, want string
	}{
		{"truncated", good + "\n" + good[:40] + "\n" + good, "falco: line 2: byte "},
		{"not an object", good + "\n\n[1,2]\n", "falco: line 3: byte 1: the line is a JSON array"},
		{"no rule", good + "\n" + strings.Replace(good, `"rule":"Terminal shell in container",`, "", 1), "falco: line 2: field rule: missing"},
		{"unknown priority", strings.Replace(good, "Notice", "Severe", 1), `falco: line 1: field priority: unknown priority "Severe"`},
		{"bad time", good + "\n" + good + "\n" + strings.Replace(good, "2026-11-20T09:14:03Z", "yesterday", 1), `falco: line 3: field time: expected an RFC 3339 time`},
		{"output_fields not an object", strings.Replace(good, `{"k8s.ns.name":"shop"}`, `"shop"`, 1), "falco: line 1: byte "},
		{"empty", "\n\n", "falco: byte 0: empty report"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := reports.ParseFalco([]byte(tt.input))
			var e *reports.Error
			if !errors.As(err, &e) {
				t.Fatalf("got %v, %v: want a *reports.Error", rep, err)
			}
			if rep != nil {
				t.Errorf("a malformed line returned a partial report of %d findings", len(rep.Findings))
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error %q, want prefix %q", err, tt.want)
			}
		})
	}
}

// TestParseFalcoOlderShape reads an event of the shape in Falco's Kubernetes documentation
// (Falco before hostname, source and tags were added to the JSON output; output_fields with a
// null and numbers), and one written with json_include_output_property: false.
func TestParseFalcoOlderShape(t *testing.T) {
	data := `{"output":"17:48:58.590038385: Notice A shell was spawned in a container with an attached terminal (user=root k8s.pod=falco-74htl container=a98c2aa8e670 shell=bash parent=<NA> cmdline=bash terminal=34816)","priority":"Notice","rule":"Terminal shell in container","time":"2017-12-20T17:48:58.590038385Z", "output_fields": {"container.id":"a98c2aa8e670","evt.time":1513792138590038385,"k8s.pod.name":"falco-74htl","proc.cmdline":"bash","proc.name":"bash","proc.pname":null,"proc.tty":34816,"user.name":"root"}}
{"priority":"Warning","rule":"Read sensitive file untrusted","time":"2017-12-20T17:49:02Z","output_fields":{"container.id":"host","fd.name":"/etc/shadow"}}`
	rep, err := reports.ParseFalco([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "keys", keys(rep.Findings), []key{
		{"Terminal shell in container", "Notice", "container/unknown-host/a98c2aa8e670"},
		{"Read sensitive file untrusted", "Warning", "host/unknown-host"},
	})
	eq(t, "large number kept exactly", rep.Findings[0].Fields["evt.time"], "1513792138590038385")
	eq(t, "no output: the rule is the description", rep.Findings[1].Description, "Read sensitive file untrusted")
}
