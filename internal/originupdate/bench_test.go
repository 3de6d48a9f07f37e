package originupdate_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/securestacks/securestacks/internal/originupdate"
)

// fullDoc is a CloudFront-sized document: 55 IPv4 and 55 IPv6 origin-facing ranges, the
// weight AWS publishes for com.amazonaws.global.cloudfront.origin-facing and its IPv6 twin
// (https://docs.aws.amazon.com/vpc/latest/userguide/working-with-aws-managed-prefix-lists.html).
func fullDoc() []byte {
	var v4, v6 []string
	for i := range 55 {
		v4 = append(v4, fmt.Sprintf("130.176.%d.0/24", i))
		v6 = append(v6, fmt.Sprintf("2600:9000:%x::/48", 0x1000+i))
	}
	return docOf(1700000000, v4, v6)
}

// BenchmarkApply reports the mutating EC2 calls and the time to apply, per target, for a
// one-range change (added.json over base.json: the goal is at most 2 calls) and for a full
// CloudFront document onto an empty target.
func BenchmarkApply(b *testing.B) {
	ctx := context.Background()
	full := fullDoc()
	for _, target := range []originupdate.Target{originupdate.TargetPrefixList, originupdate.TargetSecurityGroups} {
		var ports []int32
		if target == originupdate.TargetSecurityGroups {
			ports = []int32{443}
		}
		b.Run(string(target)+"/one-range", func(b *testing.B) {
			base, added := readFixture(b, "base.json"), readFixture(b, "added.json")
			var calls int
			for b.Loop() {
				b.StopTimer()
				r := newRig(target, ports...)
				if _, err := r.u.Update(ctx, base, md5Of(base), false); err != nil {
					b.Fatal(err)
				}
				r.fake.ResetCalls()
				b.StartTimer()
				if _, err := r.u.Update(ctx, added, md5Of(added), false); err != nil {
					b.Fatal(err)
				}
				calls = r.fake.Mutations()
			}
			b.ReportMetric(float64(calls), "mutating-calls")
		})
		b.Run(string(target)+"/full-from-scratch", func(b *testing.B) {
			var calls int
			for b.Loop() {
				b.StopTimer()
				r := newRig(target, ports...)
				b.StartTimer()
				if _, err := r.u.Update(ctx, full, md5Of(full), false); err != nil {
					b.Fatal(err)
				}
				calls = r.fake.Mutations()
			}
			b.ReportMetric(float64(calls), "mutating-calls")
		})
	}
}
