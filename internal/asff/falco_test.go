package asff_test

import (
	"bytes"
	"testing"

	"github.com/securestacks/securestacks/internal/asff"
)

func falcoScan() asff.Scan {
	s := govScan()
	s.Repository, s.Branch, s.Commit, s.BuildID = "sample-app", "main", "9f1c2ab", "sample-app-sca:7c1d"
	return s
}

func TestConvertFalco(t *testing.T) {
	// GIVEN Falco events: a shell spawned twice in the same pod, a sensitive read and a dropped
	// binary there, and a ptrace on a node
	scan := falcoScan()
	_, fs, err := asff.Convert("falco", fixture(t, "falco.jsonl"), scan)
	if err != nil {
		t.Fatal(err)
	}
	// THEN the repeated event is one finding seen twice, and priorities map onto the scale
	if len(fs) != 4 {
		t.Fatalf("%d findings, want 4 (the repeated shell merged)", len(fs))
	}
	want := []struct {
		label    asff.Label
		typ      string
		resource int
	}{
		{asff.Low, "Unusual Behaviors/Container", 2},
		{asff.Medium, "Unusual Behaviors/Container", 2},
		{asff.Critical, "Unusual Behaviors/Container", 2},
		{asff.Medium, "Unusual Behaviors/Process", 1},
	}
	for i, f := range fs {
		checkValid(t, f, scan)
		if f.Severity.Label != want[i].label || f.Types[0] != want[i].typ || len(f.Resources) != want[i].resource {
			t.Errorf("finding %d: %s %v %d resources, want %+v", i, f.Severity.Label, f.Types, len(f.Resources), want[i])
		}
		if len(f.ProductFields) > 50 {
			t.Errorf("finding %d has %d ProductFields; Security Hub accepts 50", i, len(f.ProductFields))
		}
	}
	shell := fs[0]
	eq := func(what, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %q, want %q", what, got, want)
		}
	}
	eq("title", shell.Title, "Terminal shell in container")
	eq("first observed", shell.FirstObservedAt, "2026-11-20T09:14:03.512Z")
	eq("last observed", shell.LastObservedAt, "2026-11-20T09:17:03.000Z")
	eq("occurrences", shell.ProductFields["securestacks/Occurrences"], "2")
	eq("rule", shell.ProductFields["securestacks/RuleId"], "Terminal shell in container")
	eq("output field", shell.ProductFields["falco/proc.cmdline"], "sh -c uptime")
	eq("tags", shell.ProductFields["falco/tags"], "T1059,container,maturity_stable,mitre_execution,shell")
	o := shell.Resources[0].Details.Other
	eq("namespace", o["namespace"], "shop")
	eq("pod", o["pod"], "app-77789455d6-m7flp")
	eq("container", o["container"], "app")
	c := shell.Resources[1]
	eq("container resource", c.Type+" "+c.ID+" "+c.Details.Container.Name, "Container 788861c3cf83 app")
	eq("image", c.Details.Container.ImageName, "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:4f2a9c1e7b3d")

	// AND converting the same event again (a later delivery) gives the same id: it updates
	// the finding instead of adding one
	one := fixture(t, "falco.jsonl")
	firstLine := one[:bytes.IndexByte(one, '\n')]
	_, again, err := asff.Convert("falco", firstLine, scan)
	if err != nil {
		t.Fatal(err)
	}
	eq("id of the repeated event", again[0].ID, shell.ID)
}
