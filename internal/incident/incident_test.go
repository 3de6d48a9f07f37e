package incident_test

import (
	"strings"
	"testing"

	"github.com/securestacks/securestacks/internal/incident"
)

func TestCheckInstanceID(t *testing.T) {
	for id, ok := range map[string]bool{
		"i-0123456789abcdef0": true, "i-01234567": true, "i-0123456789ABCDEF0": false, "i-0123456789abcdef": false,
		"0123456789abcdef0": false, "i-0123456789abcdef0 ": false, "": false, "i-0123456789abcdef0;rm": false,
	} {
		err := incident.CheckInstanceID(id)
		if (err == nil) != ok {
			t.Errorf("%q: %v", id, err)
		}
		if err != nil && (strings.Contains(err.Error(), "\n") || !strings.HasPrefix(err.Error(), "instanceId ")) {
			t.Errorf("%q: error %q is not one line naming the field", id, err)
		}
	}
}

func TestStepsCollectBeforeTheyContain(t *testing.T) {
	seenContain := false
	names := map[string]bool{}
	for _, s := range incident.Steps {
		if names[s.Name] {
			t.Errorf("step %s twice", s.Name)
		}
		names[s.Name] = true
		switch s.Phase {
		case incident.PhaseContain:
			seenContain = true
		case incident.PhaseCollect:
			if seenContain {
				t.Errorf("collect step %s after a contain step", s.Name)
			}
		}
	}
	if last := incident.Steps[len(incident.Steps)-1]; last.Name != incident.StepManifest {
		t.Errorf("last step %s, want the manifest", last.Name)
	}
}
