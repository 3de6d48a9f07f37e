#!/usr/bin/env bash
# ASFF conversion and import benchmarks against issue 4's goals:
#
#   convert a 10,000-finding Trivy report   <= 1 s/op and <= 100 MB allocated/op
#   convert a 10,000-alert ZAP report       <= 1 s/op and <= 100 MB allocated/op
#   import 10,000 findings                   exactly 100 BatchImportFindings calls (the seed: 10,000)
#
# Environment:
#   BENCH_GO_TIME  go test -benchtime (default 5x)
#   BENCH_STRICT=1 exit 1 when a figure misses its goal (default: report only)
set -euo pipefail
cd "$(dirname "$0")/.."

out=$(go test -run '^$' -bench '^Benchmark(ConvertTrivy10000|ConvertZAP10000|Import10000)$' \
  -benchmem -benchtime "${BENCH_GO_TIME:-5x}" -count 1 ./internal/asff/)
echo "$out" | grep '^Benchmark' || { echo "bench-asff: no benchmark output:" >&2; echo "$out" >&2; exit 1; }

field() { # field BENCH UNIT: the value before UNIT on BENCH's line
  awk -v b="$1" -v unit="$2" '$1 ~ "^"b"(-[0-9]+)?$" { for (i = 2; i <= NF; i++) if ($i == unit) { print $(i - 1); exit } }' <<<"$out"
}
status=0
printf '\n%-30s %12s %12s %10s  %s\n' "benchmark" "figure" "goal" "unit" "result"
row() { # row NAME VALUE GOAL UNIT CMP
  local verdict=ok
  if ! awk -v v="$2" -v g="$3" -v c="$5" 'BEGIN { exit !((c == "le" && v <= g) || (c == "eq" && v == g)) }'; then
    verdict="MISSES GOAL"; status=1
  fi
  printf '%-30s %12s %12s %10s  %s\n' "$1" "$2" "$3" "$4" "$verdict"
}
for b in ConvertTrivy10000 ConvertZAP10000; do
  ns=$(field "Benchmark$b" ns/op); bytes=$(field "Benchmark$b" B/op)
  row "$b time" "$(awk -v n="$ns" 'BEGIN { printf "%.3f", n / 1e9 }')" 1 s/op le
  row "$b memory" "$(awk -v n="$bytes" 'BEGIN { printf "%.1f", n / 1e6 }')" 100 MB/op le
done
row "Import10000 calls" "$(field BenchmarkImport10000 calls/op)" 100 calls eq
if [ "$status" -ne 0 ] && [ "${BENCH_STRICT:-0}" = 1 ]; then exit 1; fi
