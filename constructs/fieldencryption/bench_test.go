package fieldencryption_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/securestacks/securestacks/constructs/fieldencryption"
	"github.com/securestacks/securestacks/internal/testenv"
)

// benchBody is a one-person list (the seed's shape) with n chosen fields:
// the seed's six, or f0..f39, each a 20-byte value, and one field kept.
func benchBody(n int) ([]byte, []string) {
	names := seedFields
	values := []string{"Alejandro", "Rosalez", "alejandro@example.com", "123-45-6789", "1980-01-01", "+1-555-0100"}
	if n != len(seedFields) {
		names, values = nil, nil
		for i := range n {
			names = append(names, fmt.Sprintf("f%d", i))
			values = append(values, fmt.Sprintf("value-%014d", i))
		}
	}
	var b strings.Builder
	b.WriteString(`[{`)
	for i, name := range names {
		fmt.Fprintf(&b, "%q: %q, ", name, values[i])
	}
	b.WriteString(`"city": "Seattle"}]`)
	return []byte(b.String()), names
}

func percentile(ns []float64, p float64) time.Duration {
	s := slices.Clone(ns)
	slices.Sort(s)
	return time.Duration(s[int(p*float64(len(s)-1))])
}

// BenchmarkEdgeEncrypterVsSeedPython times one origin-request invocation of
// our Node encrypter and of the seed's Python function (pycryptodome), on the
// same bodies, key and machine, in one run: p50 and p99 for 6 and 40 fields,
// and the ratio of the p50s (goal: at most 0.5).
func BenchmarkEdgeEncrypterVsSeedPython(b *testing.B) {
	const runs = 300
	dir := b.TempDir()
	pub := filepath.Join(dir, "pub.pem")
	if err := os.WriteFile(pub, []byte(pubPEM(key01)), 0o600); err != nil {
		b.Fatal(err)
	}
	seed := filepath.Join(testenv.ModuleRoot(b), "internal", "fle", "testdata", "seed_protect.py")
	for _, n := range []int{6, 40} {
		b.Run(fmt.Sprintf("fields=%d", n), func(b *testing.B) {
			body, names := benchBody(n)
			cfg := fieldencryption.EdgeConfig{Keys: map[string]string{"01": pubPEM(key01)}}
			for _, name := range names {
				cfg.Fields = append(cfg.Fields, fieldencryption.EdgeField{Name: name})
			}
			for b.Loop() {
				node := testenv.RunEdge(b, cfg, []any{testenv.OriginRequest("POST", "application/json", body, false)}, runs).NS[0]
				cmd := testenv.SeedPython(b, seed, "bench", pub, strconv.Itoa(runs), strings.Join(names, ","))
				cmd.Stdin = bytes.NewReader(body)
				out, err := cmd.Output()
				if err != nil {
					b.Fatalf("seed bench: %v", err)
				}
				var py []float64
				if err := json.Unmarshal(out, &py); err != nil {
					b.Fatal(err)
				}
				// The first runs warm up both interpreters; measure the rest.
				node, py = node[runs/10:], py[runs/10:]
				nodeP50, pyP50 := percentile(node, 0.5), percentile(py, 0.5)
				b.ReportMetric(float64(nodeP50.Microseconds()), "node-p50-µs")
				b.ReportMetric(float64(percentile(node, 0.99).Microseconds()), "node-p99-µs")
				b.ReportMetric(float64(pyP50.Microseconds()), "seed-p50-µs")
				b.ReportMetric(float64(percentile(py, 0.99).Microseconds()), "seed-p99-µs")
				b.ReportMetric(float64(nodeP50)/float64(pyP50), "p50-ratio")
			}
		})
	}
}
