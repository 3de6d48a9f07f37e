package irworkflow

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"strings"

	"github.com/securestacks/securestacks/internal/incident"
)

// TaskInput is what the state machine sends a task: the step and the whole
// state ({"caseId": ..., "caught_<step>": {...}}).
type TaskInput struct {
	Step  string                     `json:"step"`
	State map[string]json.RawMessage `json:"state"`
}

// TaskOutput is a task's answer; the state machine keeps only the case ID.
type TaskOutput struct {
	CaseID string `json:"caseId"`
}

// ErrBadTask is returned for a task input without a case ID.
var ErrBadTask = errors.New("task input has no caseId")

// HandleTask is the Lambda handler of the state machine's tasks.
func (w *Workflow) HandleTask(ctx context.Context, in TaskInput) (TaskOutput, error) {
	var caseID string
	if raw, ok := in.State["caseId"]; ok {
		_ = json.Unmarshal(raw, &caseID)
	}
	if caseID == "" {
		return TaskOutput{}, ErrBadTask
	}
	var caught *Caught
	keys := make([]string, 0, len(in.State))
	for k := range in.State {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		step, ok := strings.CutPrefix(k, incident.CaughtPrefix)
		if !ok {
			continue
		}
		var e Caught
		if json.Unmarshal(in.State[k], &e) == nil {
			e.Step = step
			caught = &e
		}
	}
	if err := w.Run(ctx, in.Step, caseID, caught); err != nil {
		return TaskOutput{}, err
	}
	return TaskOutput{CaseID: caseID}, nil
}
