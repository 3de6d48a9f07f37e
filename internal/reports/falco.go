package reports

import (
	"bytes"
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"time"
)

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// falcoEvent is one alert as Falco writes it with json_output: true
// (https://falco.org/docs/concepts/outputs/formatting/ and the rule fields of
// https://falco.org/docs/reference/rules/supported-fields/): output_fields holds every field
// the rule's output names, with null for a field that does not apply.
type falcoEvent struct {
	Time         *string                    `json:"time"`
	Rule         *string                    `json:"rule"`
	Priority     *string                    `json:"priority"`
	Output       *string                    `json:"output"`
	Source       string                     `json:"source"`
	Hostname     string                     `json:"hostname"`
	Tags         []string                   `json:"tags"`
	OutputFields map[string]json.RawMessage `json:"output_fields"`
}

// FalcoPriorities are the priorities a Falco rule can have (case-insensitive), from the most
// to the least severe (https://falco.org/docs/reference/rules/rule-fields); "info" is the
// short form Falco accepts for informational.
var FalcoPriorities = []string{"emergency", "alert", "critical", "error", "warning", "notice", "informational", "info", "debug"}

// ParseFalco reads Falco JSON lines: one event per line, as Falco writes them with
// json_output: true (stdout, file output, or a CloudWatch Logs group through FireLens or
// falcosidekick). Blank lines are skipped. Every event needs rule, priority (a Falco
// priority) and time (RFC 3339); output is optional, since json_include_output_property:
// false leaves it out. A line that is not such an event is an error naming
// its line number, and no findings are returned, so that a bad line never yields a partial
// batch.
//
// Each event is one Runtime finding: RuleID is the rule, Location the workload
// (k8s/<namespace>/<pod>/<container>, container/<host>/<container> or host/<host>), so that
// the same rule firing again in the same workload updates its finding. Severity is the
// priority, ObservedAt the time, Description the output line, Fields the output_fields plus
// source and tags.
func ParseFalco(data []byte) (*Report, error) {
	rep := &Report{Tool: Falco, Scanners: scanners("Falco")}
	lines := bytes.Split(data, []byte("\n"))
	events := 0
	for i, line := range lines {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		events++
		f, err := falcoFinding(line)
		if err != nil {
			err.Line = i + 1
			return nil, err
		}
		rep.Findings = append(rep.Findings, f)
	}
	if events == 0 {
		return nil, &Error{Tool: Falco, Offset: 0, Problem: "empty report (" + strconv.Itoa(len(data)) + " bytes): expected " + describe[Falco]}
	}
	return finish(rep)
}

func falcoFinding(line []byte) (Finding, *Error) {
	var ev falcoEvent
	if err := decode(Falco, line, &ev); err != nil {
		e := err.(*Error)
		if strings.HasPrefix(e.Problem, "the report is a JSON") {
			e.Problem = "the line is a JSON " + strings.TrimPrefix(e.Problem, "the report is a JSON ")
		}
		return Finding{}, e
	}
	for _, req := range []struct {
		name string
		v    *string
	}{{"rule", ev.Rule}, {"priority", ev.Priority}, {"time", ev.Time}} {
		if req.v == nil || strings.TrimSpace(*req.v) == "" {
			return Finding{}, &Error{Tool: Falco, Offset: -1, Field: req.name, Problem: "missing: expected " + describe[Falco]}
		}
	}
	priority := strings.TrimSpace(*ev.Priority)
	if !knownPriority(priority) {
		return Finding{}, &Error{Tool: Falco, Offset: -1, Field: "priority", Problem: "unknown priority " + strconv.Quote(priority) + ": expected one of " + strings.Join(FalcoPriorities, ", ")}
	}
	at, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(*ev.Time))
	if err != nil {
		return Finding{}, &Error{Tool: Falco, Offset: -1, Field: "time", Problem: "expected an RFC 3339 time such as 2026-07-10T19:10:27.171732939Z, got " + strconv.Quote(*ev.Time)}
	}
	fields := make(map[string]string, len(ev.OutputFields))
	for k, raw := range ev.OutputFields {
		if v, ok := fieldText(raw); ok {
			fields[k] = v
		}
	}
	w := &Workload{
		Hostname:      strings.TrimSpace(ev.Hostname),
		Namespace:     fields["k8s.ns.name"],
		Pod:           fields["k8s.pod.name"],
		ContainerID:   fields["container.id"],
		ContainerName: fields["container.name"],
		Image:         imageOf(fields),
	}
	if w.Hostname == "" {
		w.Hostname = fields["evt.hostname"]
	}
	f := Finding{
		Scanner:     "Falco",
		Category:    Runtime,
		RuleID:      strings.TrimSpace(*ev.Rule),
		Location:    workloadLocation(w),
		Title:       strings.TrimSpace(*ev.Rule),
		Description: strings.TrimSpace(deref(ev.Output)),
		Severity:    priority,
		Target:      w.Hostname,
		ObservedAt:  at.UTC(),
		Workload:    w,
		Fields:      boundFields(fields, ev.Source, ev.Tags),
	}
	return f, nil
}

func knownPriority(p string) bool {
	for _, k := range FalcoPriorities {
		if strings.EqualFold(p, k) {
			return true
		}
	}
	return false
}

// fieldText is the text of one output_fields value: strings as written, numbers and booleans
// as JSON, arrays and objects as compact JSON. null and "<NA>" (Falco's "not applicable") are
// no value.
func fieldText(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return "", false
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return "", false
		}
		s = strings.TrimSpace(s)
		return s, s != "" && s != "<NA>"
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return "", false
	}
	return b.String(), true
}

// imageOf is repository:tag from Falco's container.image.repository and container.image.tag,
// or container.image when only that is given.
func imageOf(fields map[string]string) string {
	repo, tag := fields["container.image.repository"], fields["container.image.tag"]
	switch {
	case repo != "" && tag != "":
		return repo + ":" + tag
	case repo != "":
		return repo
	}
	return fields["container.image"]
}

// workloadLocation names the workload in a form that survives restarts of the same pod or
// container, so that a repeated event lands on the same finding.
func workloadLocation(w *Workload) string {
	container := firstNonEmpty(w.ContainerName, w.ContainerID)
	host := firstNonEmpty(w.Hostname, "unknown-host")
	switch {
	case w.Namespace != "" && w.Pod != "":
		return "k8s/" + w.Namespace + "/" + w.Pod + "/" + firstNonEmpty(container, "unknown-container")
	case container != "" && w.ContainerID != "host":
		return "container/" + host + "/" + container
	}
	return "host/" + host
}

// boundFields keeps source, tags and the output fields in key order, at most MaxFields.
func boundFields(fields map[string]string, source string, tags []string) map[string]string {
	out := map[string]string{}
	if s := strings.TrimSpace(source); s != "" {
		out["source"] = s
	}
	if len(tags) > 0 {
		out["tags"] = strings.Join(tags, ",")
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if len(out) == MaxFields {
			break
		}
		out[k] = fields[k]
	}
	return out
}
