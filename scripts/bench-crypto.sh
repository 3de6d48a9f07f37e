#!/usr/bin/env bash
# Field-level encryption and offline verification throughput, next to OpenSSL
# on the same machine in the same run (issue 3's benchmark goals):
#
#   FLE encrypt (RSA-2048, RSAES-OAEP SHA-256)   fields/s   vs openssl rsa2048 public-key ops/s
#   verify (RSA-2048, RSASSA-PKCS1-v1_5 SHA-256) verifies/s vs openssl rsa2048 verify/s
#
# Goal: each ratio >= 0.5 of openssl's single-core rate, so both sides run on
# one core (go test -cpu 1; openssl speed is single-threaded by default).
#
# Environment:
#   BENCH_OPENSSL_SECONDS  seconds per openssl measurement (default 3, as the issue says)
#   BENCH_GO_TIME          go test -benchtime (default 3s)
#   BENCH_STRICT=1         exit 1 when a ratio is below its goal (default: report only)
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${BENCH_OPENSSL_SECONDS:-3}
gotime=${BENCH_GO_TIME:-3s}
goal=0.5
command -v openssl >/dev/null || { echo "bench-crypto: openssl is required (make installs it)" >&2; exit 1; }

# openssl speed prints a header (sign verify sign/s verify/s [encr./s ...]) and
# a line "rsa 2048 bits ..." with the same columns after its three words.
ossl=$(openssl speed -seconds "$secs" rsa2048 2>/dev/null)
column() {
  awk -v want="$1" '
    /verify\/s/ && !hdr { for (i = 1; i <= NF; i++) col[$i] = i; hdr = 1; next }
    hdr && /^rsa +2048 +bits/ { if (want in col) print $(col[want] + 3); exit }
  ' <<<"$ossl"
}
ossl_verify=$(column "verify/s")
ossl_encrypt=$(column "encr./s")
# OpenSSL 3.0 has no encrypt column; its verify is the same public-key operation.
ossl_encrypt=${ossl_encrypt:-$ossl_verify}
[ -n "$ossl_verify" ] || { echo "bench-crypto: could not read openssl speed output:" >&2; echo "$ossl" >&2; exit 1; }

metric() { # metric UNIT <go test output>: the value before UNIT
  awk -v unit="$1" '{ for (i = 2; i <= NF; i++) if ($i == unit) { print $(i - 1); exit } }'
}
go_fle=$(go test -run '^$' -bench '^BenchmarkFLEEncrypt$' -benchtime "$gotime" -cpu 1 ./internal/fle/ | metric fields/s)
go_verify=$(go test -run '^$' -bench '^BenchmarkVerifyRSA2048$' -benchtime "$gotime" -cpu 1 ./internal/kmssig/ | metric verifies/s)
[ -n "$go_fle" ] && [ -n "$go_verify" ] || { echo "bench-crypto: a Go benchmark reported nothing" >&2; exit 1; }

status=0
printf '\n%-34s %14s %14s %7s %6s  %s\n' "operation (one core)" "securestacks" "openssl" "ratio" "goal" "result"
row() { # row NAME GO OPENSSL UNIT
  local ratio verdict
  ratio=$(awk -v a="$2" -v b="$3" 'BEGIN { printf "%.2f", a / b }')
  if awk -v r="$ratio" -v g="$goal" 'BEGIN { exit !(r >= g) }'; then verdict=ok; else verdict="BELOW GOAL"; status=1; fi
  printf '%-34s %10.0f %-3s %10.0f %-3s %7s %6s  %s\n' "$1" "$2" "$4" "$3" "$4" "$ratio" ">=$goal" "$verdict"
}
row "FLE encrypt RSA-2048 OAEP SHA-256" "$go_fle" "$ossl_encrypt" "/s"
row "verify RSA-2048 PKCS#1 SHA-256" "$go_verify" "$ossl_verify" "/s"
echo "(securestacks: Go $(go env GOVERSION) crypto/rsa; openssl: $(openssl version | cut -d' ' -f1-2), speed -seconds $secs rsa2048)"

if [ "$status" -ne 0 ] && [ "${BENCH_STRICT:-0}" = 1 ]; then
  exit 1
fi
exit 0
