package cfnvalidate

import (
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

func TestConcurrentStoresNeverShowAPartialEntry(t *testing.T) {
	// GIVEN two synths sharing a cache directory, writing the same key
	p := &Plugin{cacheDir: t.TempDir()}
	big := make([]*awscdk.PolicyViolation, 2000)
	for i := range big {
		big[i] = &awscdk.PolicyViolation{RuleName: jsii.String("R"), Description: jsii.String("d"),
			ViolatingResources: &[]*awscdk.PolicyViolatingResource{{ResourceLogicalId: jsii.String("X"), Locations: &[]*string{}}}}
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(2)
		go func() { defer wg.Done(); p.store("k", big) }()
		// WHEN readers race the writers
		go func() {
			defer wg.Done()
			for range 50 {
				// THEN a reader sees no entry or the whole one
				if v, ok := p.load("k"); ok && len(v) != len(big) {
					t.Errorf("read %d violations of %d", len(v), len(big))
				}
			}
		}()
	}
	wg.Wait()
	if v, ok := p.load("k"); !ok || len(v) != len(big) {
		t.Fatalf("final entry: %d violations, ok %v", len(v), ok)
	}
}
