package irworkflow_test

import (
	"context"
	"testing"
	"time"

	"github.com/securestacks/securestacks/internal/incident"
	"github.com/securestacks/securestacks/lambda-src/internal/irworkflow/irfake"
)

// BenchmarkCase runs a whole case on the fakes for an instance with 3 EBS
// volumes and 2 interfaces (in an Auto Scaling group and one target group,
// no Systems Manager agent), as the state machine runs it: one step at a
// time, each loading and saving the case record. It reports the mutating
// API calls (calls that change the instance, its network, group or load
// balancers), all API calls, and the wall time until the instance is
// contained (the isolate step done) apart from the whole case (ns/op).
// With per-call latency L of the real services, a case costs about
// calls/op x L more; contained-calls/op says how many of those fall before
// containment.
func BenchmarkCase(b *testing.B) {
	var mutating, calls, containedCalls int
	var contained time.Duration
	for b.Loop() {
		cloud := irfake.New(instanceID, 2, 3).InAutoScaling("web-asg").InTargetGroups("arn:tg/a")
		w, _ := newCase(b, cloud)
		start := time.Now()
		for _, s := range incident.Steps {
			if err := w.Run(context.Background(), s.Name, "case-1", nil); err != nil {
				b.Fatal(err)
			}
			if s.Name == incident.StepIsolate {
				contained += time.Since(start)
				containedCalls += len(cloud.Calls)
			}
		}
		mutating += cloud.MutatingCalls()
		calls += len(cloud.Calls)
	}
	n := float64(b.N)
	b.ReportMetric(float64(mutating)/n, "mutating-calls/op")
	b.ReportMetric(float64(calls)/n, "calls/op")
	b.ReportMetric(float64(containedCalls)/n, "contained-calls/op")
	b.ReportMetric(float64(contained.Nanoseconds())/n, "contained-ns/op")
}
