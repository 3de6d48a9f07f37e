#!/usr/bin/env bash
# Synth, validation, edit-loop and bundling timing table for `make bench`.
#
#   cold synth        the app into an empty cdk.out with an empty GOCACHE
#   warm synth        cdk.out already holds every asset and validation report (no change)
#   validation        warm synth with CloudFormation validation on (internal/cfnvalidate,
#                     cached) over the same synth with CDK_VALIDATION=false; goal <= 1.15x
#   one template      warm synth after one template's cached report is gone (the template
#                     changed, as far as validation can tell) over validation off; information
#   no bundling       warm synth with bundling skipped (context aws:cdk:bundling-stacks = [])
#   edit loop         one handler's source edited, then synth: the synth must run one go build
#                     (that handler's) and cost at most the no-change synth + 1.3x one
#                     `go build` of that handler with the production flags
#   bootstrap sizes   each handler binary against the 10 MiB line (internal/lambdasize fails
#                     above it)
#
# The app runs as a prebuilt binary with the cdk.json context, exactly as the CDK CLI runs it,
# so the figures measure synthesis, not `go run` compilation. Runs with and without validation
# alternate, and each ratio is the median of per-pair ratios with its range: the machine may be
# shared, and a pair sees the same load. RUNS (default 5) sets the pairs; EDIT_HANDLER (default
# fle-decrypt) the handler the edit loop touches. The edit loop appends a comment to that
# handler's handler.go and restores the file on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=go1.27.3
export PATH="$PWD/node_modules/.bin:$PATH"
unset SECURESTACKS_VALIDATION_CACHE CDK_VALIDATION
RUNS=${RUNS:-5}
EDIT_HANDLER=${EDIT_HANDLER:-fle-decrypt}
edit_file="lambda-src/$EDIT_HANDLER/handler.go"

work=$(mktemp -d)
cp "$edit_file" "$work/handler.go.orig"
trap 'cp "$work/handler.go.orig" "$edit_file"; rm -rf "$work"' EXIT
go build -o "$work/app" .
printf 'load average at start: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"

context() { # $1: extra JSON object merged into the cdk.json context
  node -e 'const c=require("./cdk.json").context; Object.assign(c, JSON.parse(process.argv[1])); process.stdout.write(JSON.stringify(c))' "$1"
}
ctx_default=$(context '{}')
ctx_nobundle=$(context '{"aws:cdk:bundling-stacks":[]}')
# synth OUTDIR CONTEXT [VAR=VALUE...]: runs the app once, prints elapsed ms; the GoFunction and
# validation trace lines go to $work/trace
synth() {
  local out=$1 ctx=$2 start end
  shift 2
  start=$(date +%s%N)
  if ! env "$@" CDK_OUTDIR="$out" CDK_CONTEXT_JSON="$ctx" SECURESTACKS_GOFUNCTION_TRACE=1 \
    SECURESTACKS_VALIDATION_TRACE=1 "$work/app" 2>>"$work/trace" >/dev/null; then
    echo "bench-synth: the app failed (synth into $out); its last output:" >&2
    tail -20 "$work/trace" >&2
    exit 1
  fi
  end=$(date +%s%N)
  echo $(( (end - start) / 1000000 ))
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
range() { sort -n | awk 'NR==1{lo=$1} {hi=$1} END {printf "%s-%s", lo, hi}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}'; }
# one production build of the edit handler, in ms
gobuild_ms() {
  local start end
  start=$(date +%s%N)
  CGO_ENABLED=0 GOOS=linux GOARCH=arm64 GOFLAGS= go build -trimpath -buildvcs=false -tags lambda.norpc \
    -ldflags "-s -w -buildid=" -o "$work/one" "./lambda-src/$EDIT_HANDLER"
  end=$(date +%s%N)
  echo $(( (end - start) / 1000000 ))
}
edit() { printf '\n// bench-synth edit %s\n' "$1" >>"$edit_file"; }

# Cold: an empty outdir and an empty build cache (validation on, nothing cached).
: > "$work/trace"
cold_ms=$(GOCACHE="$work/gocache-synth" synth "$work/out" "$ctx_default")
cold_builds=$(grep -c '^gofunction: go build' "$work/trace" || true)
templates=$(grep -c '^cfnvalidate: validate' "$work/trace" || true)

# Warm, no change: validation on (cached) and off, alternating.
: > "$work/trace"
: > "$work/pairs"
for _ in $(seq "$RUNS"); do
  on=$(synth "$work/out" "$ctx_default")
  off=$(synth "$work/out" "$ctx_default" CDK_VALIDATION=false)
  echo "$on $off $(ratio "$on" "$off")" >>"$work/pairs"
done
warm_builds=$(grep -c '^gofunction: go build' "$work/trace" || true)
warm_validated=$(grep -c '^cfnvalidate: validate' "$work/trace" || true)
warm_on=$(cut -d' ' -f1 "$work/pairs" | median)
warm_off=$(cut -d' ' -f2 "$work/pairs" | median)

# One template changed: drop one template's cached report before each validated synth.
: > "$work/one-pairs"
for _ in $(seq "$RUNS"); do
  key=$(grep '^cfnvalidate: hit .*Sandbox-AlexaSkill.template.json' "$work/trace" | tail -1 | awk '{print $4}')
  rm -f "$work/out/.cfn-validate-cache/$key.json"
  on=$(synth "$work/out" "$ctx_default")
  off=$(synth "$work/out" "$ctx_default" CDK_VALIDATION=false)
  echo "$on $off $(ratio "$on" "$off")" >>"$work/one-pairs"
done

nobundle=$(for _ in $(seq "$RUNS"); do synth "$work/out-nb" "$ctx_nobundle" CDK_VALIDATION=false; done | median)

# Edit loop: edit, synth (validation on); edit again, one plain go build of the same handler.
synth "$work/out" "$ctx_default" >/dev/null # settle after the runs above
: > "$work/edit"
for i in $(seq "$RUNS"); do
  : > "$work/trace"
  base=$(synth "$work/out" "$ctx_default")
  edit "synth $i $RANDOM"
  : > "$work/trace"
  t_edit=$(synth "$work/out" "$ctx_default")
  builds=$(grep -c '^gofunction: go build' "$work/trace" || true)
  built=$(grep '^gofunction: go build' "$work/trace" | sed 's/.*(\(.*\))/\1/' | tr '\n' ' ')
  edit "build $i $RANDOM"
  t_build=$(gobuild_ms)
  echo "$base $t_edit $t_build $(awk -v e="$t_edit" -v b="$base" -v g="$t_build" 'BEGIN{printf "%.2f", (e-b)/g}') $builds $built" >>"$work/edit"
done
cp "$work/handler.go.orig" "$edit_file"

row() { printf '%-52s %14s\n' "$1" "$2"; }
echo
row "measure" "value"
row "----------------------------------------------------" "--------------"
row "cold synth (empty cdk.out, empty GOCACHE)" "$cold_ms ms"
row "go build invocations, cold synth" "$cold_builds"
row "templates validated, cold synth" "$templates"
row "warm synth, no change, validation on (median of $RUNS)" "$warm_on ms"
row "warm synth, no change, validation off (median)" "$warm_off ms"
row "go build invocations, warm synths" "$warm_builds"
row "templates validated, warm synths" "$warm_validated"
printf '%-52s %13sx  range %s  (goal <= 1.15x)\n' "validation on / off, no change" \
  "$(cut -d' ' -f3 "$work/pairs" | median)" "$(cut -d' ' -f3 "$work/pairs" | range)"
printf '%-52s %13sx  range %s  (information)\n' "one template changed / validation off" \
  "$(cut -d' ' -f3 "$work/one-pairs" | median)" "$(cut -d' ' -f3 "$work/one-pairs" | range)"
row "synth with bundling skipped (median of $RUNS)" "$nobundle ms"
printf '%-52s %13sx  (goal <= 1.10x)\n' "warm (validation off) / bundling skipped" "$(ratio "$warm_off" "$nobundle")"
echo
echo "edit loop ($EDIT_HANDLER): no-change synth, synth after the edit, one go build (ms);"
echo "ratio = (edit synth - no-change synth) / go build, goal <= 1.30; go builds run by the synth"
awk '{printf "  %6s %6s %6s   ratio %s   %s go build: %s\n", $1, $2, $3, $4, $5, substr($0, index($0,$6))}' "$work/edit"
edit_base=$(cut -d' ' -f1 "$work/edit" | median)
edit_synth=$(cut -d' ' -f2 "$work/edit" | median)
edit_build=$(cut -d' ' -f3 "$work/edit" | median)
printf '%-52s %13sx  per-run range %s  (goal <= 1.30x)\n' "edit loop ratio, medians: (edit - no change) / build" \
  "$(awk -v e="$edit_synth" -v b="$edit_base" -v g="$edit_build" 'BEGIN{printf "%.2f", (e-b)/g}')" \
  "$(cut -d' ' -f4 "$work/edit" | range)"
echo
echo "bootstrap sizes (cdk.out of the cold synth), limit 10.00 MiB:"
# Name each asset by its construct path, from the stacks' asset manifests.
node -e '
  const fs = require("fs"), path = require("path"), dir = process.argv[1], limit = 10 * 1048576;
  const names = {};
  for (const f of fs.readdirSync(dir).filter((f) => f.endsWith(".assets.json"))) {
    const files = JSON.parse(fs.readFileSync(path.join(dir, f))).files || {};
    for (const a of Object.values(files)) names[a.source.path] = `${f.replace(".assets.json", "")}: ${a.displayName}`;
  }
  const rows = Object.keys(names).filter((p) => fs.existsSync(path.join(dir, p, "bootstrap")))
    .map((p) => [names[p], fs.statSync(path.join(dir, p, "bootstrap")).size]).sort();
  for (const [name, size] of rows)
    console.log(`  ${name.padEnd(72)} ${(size / 1048576).toFixed(2).padStart(6)} MiB ${size > limit ? "OVER" : "ok"}`);
' "$work/out"
printf 'load average at end: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
if [ -x scripts/bench-gofunction.sh ]; then
  echo
  scripts/bench-gofunction.sh
fi
