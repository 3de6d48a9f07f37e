#!/usr/bin/env bash
# Synth and bundling timing table for `make bench`.
#
#   warm synth     the app with cdk.out already holding every asset (no source change)
#   no bundling    the same app with bundling skipped (context aws:cdk:bundling-stacks = [])
#   cold build     GoFunction bundling of every handler into an empty cdk.out vs one
#                  `go build -o DIR pkg...` of the same packages (both with an empty GOCACHE)
#
# The app runs as a prebuilt binary with the cdk.json context, exactly as the CDK CLI runs it,
# so the figures measure synthesis, not `go run` compilation.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=go1.27.3
export PATH="$PWD/node_modules/.bin:$PATH"
RUNS=${RUNS:-3}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/app" .

context() { # $1: extra JSON object merged into the cdk.json context
  node -e 'const c=require("./cdk.json").context; Object.assign(c, JSON.parse(process.argv[1])); process.stdout.write(JSON.stringify(c))' "$1"
}
# synth OUTDIR EXTRA_CONTEXT: runs the app once, prints elapsed ms; go build lines go to $work/trace
synth() {
  local start end
  start=$(date +%s%N)
  CDK_OUTDIR="$1" CDK_CONTEXT_JSON="$(context "$2")" SECURESTACKS_GOFUNCTION_TRACE=1 "$work/app" 2>>"$work/trace" >/dev/null
  end=$(date +%s%N)
  echo $(( (end - start) / 1000000 ))
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# Cold: an empty outdir and an empty build cache.
: > "$work/trace"
cold_ms=$(GOCACHE="$work/gocache-synth" synth "$work/out" '{}')
cold_builds=$(grep -c '^gofunction: go build' "$work/trace" || true)

# Warm: same outdir, nothing changed.
: > "$work/trace"
warm=$(for _ in $(seq "$RUNS"); do synth "$work/out" '{}'; done | median)
warm_builds=$(grep -c '^gofunction: go build' "$work/trace" || true)
nobundle=$(for _ in $(seq "$RUNS"); do synth "$work/out-nb" '{"aws:cdk:bundling-stacks":[]}'; done | median)

printf '\n%-44s %12s\n' "measure" "value"
printf '%-44s %12s\n' "--------------------------------------------" "------------"
printf '%-44s %10s ms\n' "cold synth (empty cdk.out, empty GOCACHE)" "$cold_ms"
printf '%-44s %12s\n' "go build invocations, cold synth" "$cold_builds"
printf '%-44s %10s ms\n' "warm synth, no change (median of $RUNS)" "$warm"
printf '%-44s %12s\n' "go build invocations, warm synth" "$warm_builds"
printf '%-44s %10s ms\n' "synth with bundling skipped (median of $RUNS)" "$nobundle"
printf '%-44s %11sx  (goal <= 1.10x)\n' "warm / bundling skipped" "$(awk -v a="$warm" -v b="$nobundle" 'BEGIN{printf "%.2f", a/b}')"
echo
echo "bootstrap sizes (cdk.out of the cold synth):"
# Name each asset by its construct path, from the stacks' asset manifests.
node -e '
  const fs = require("fs"), path = require("path"), dir = process.argv[1];
  const names = {};
  for (const f of fs.readdirSync(dir).filter((f) => f.endsWith(".assets.json"))) {
    const files = JSON.parse(fs.readFileSync(path.join(dir, f))).files || {};
    for (const a of Object.values(files)) names[a.source.path] = `${f.replace(".assets.json", "")}: ${a.displayName}`;
  }
  const rows = Object.keys(names).filter((p) => fs.existsSync(path.join(dir, p, "bootstrap")))
    .map((p) => [names[p], fs.statSync(path.join(dir, p, "bootstrap")).size]).sort();
  for (const [name, size] of rows) console.log(`  ${name.padEnd(72)} ${(size / 1048576).toFixed(2).padStart(6)} MiB`);
' "$work/out"
if [ -x scripts/bench-gofunction.sh ]; then
  echo
  scripts/bench-gofunction.sh
fi
