package main

import (
	"encoding/json"
	"io"
	"slices"
	"sync"
	"time"
)

// The security metrics the validator emits, one count per denied session.json. The construct
// alarms on both.
const (
	// MetricSpoofAttempts counts identity claims that contradict AppStream: a user hash that is
	// not the folder's, a session id AppStream does not know for that user, a foreign stack or
	// fleet, a mismatched authentication type.
	MetricSpoofAttempts = "SpoofAttempts"
	// MetricInvalidSessions counts everything else that is denied: malformed, missing or
	// oversized files, inactive sessions and AWS errors while checking.
	MetricInvalidSessions = "InvalidSessions"
)

// MetricEmitter counts one occurrence of a metric.
type MetricEmitter interface {
	Count(name string)
}

// EMF writes metrics in the CloudWatch embedded metric format: one JSON object per line on W
// (the function's stdout), which CloudWatch Logs turns into metrics. That needs no
// cloudwatch:PutMetricData permission (which only takes Resource "*") and no network path to
// the monitoring endpoint from the isolated VPC.
type EMF struct {
	// W receives the lines. Lambda captures stdout.
	W io.Writer
	// Namespace is the CloudWatch namespace of every metric.
	Namespace string
	// Dimensions are added to every metric, as one dimension set.
	Dimensions map[string]string
	// Now stamps each line. Default time.Now.
	Now func() time.Time

	mu sync.Mutex
}

var _ MetricEmitter = (*EMF)(nil)

// Count writes one EMF line with value 1 for name. A write error is dropped: a metric must never
// turn a denial into a failed invocation.
func (e *EMF) Count(name string) {
	now := time.Now
	if e.Now != nil {
		now = e.Now
	}
	dimKeys := make([]string, 0, len(e.Dimensions))
	doc := map[string]any{}
	for k, v := range e.Dimensions {
		dimKeys = append(dimKeys, k)
		doc[k] = v
	}
	slices.Sort(dimKeys)
	doc[name] = 1
	doc["_aws"] = map[string]any{
		"Timestamp": now().UnixMilli(),
		"CloudWatchMetrics": []any{map[string]any{
			"Namespace":  e.Namespace,
			"Dimensions": [][]string{dimKeys},
			"Metrics":    []any{map[string]any{"Name": name, "Unit": "Count"}},
		}},
	}
	line, err := json.Marshal(doc)
	if err != nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	_, _ = e.W.Write(append(line, '\n'))
}
