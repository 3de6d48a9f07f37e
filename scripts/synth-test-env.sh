#!/usr/bin/env bash
# Synthesizes a test-only environment into its own output directory:
#   synth-test-env.sh CONTEXT.json OUTDIR
# CONTEXT.json holds "env" and "environments" (see testdata/pinned.context.json).
# It runs the app the way the CDK CLI does (CDK_CONTEXT_JSON, CDK_OUTDIR) with
# cdk.json's context plus CONTEXT.json: the CLI cannot take an environment from
# a file, and a test account must never reach cdk.json, where -c env=all would
# deploy it. Bundling is skipped: asset hashes are computed before bundling, so
# the templates are the same. Like the CLI, it fails on error annotations
# (cdk-nag's among them).
set -euo pipefail
context=$1 out=$2
rm -rf "$out"
ctx=$(node -e '
  const fs = require("fs");
  const ctx = JSON.parse(fs.readFileSync("cdk.json")).context;
  Object.assign(ctx, JSON.parse(fs.readFileSync(process.argv[1])), {"aws:cdk:bundling-stacks": []});
  process.stdout.write(JSON.stringify(ctx));' "$context")
CDK_OUTDIR=$out CDK_CONTEXT_JSON=$ctx go run -trimpath .
node -e '
  const fs = require("fs");
  let errors = 0;
  for (const f of process.argv.slice(1))
    for (const [path, entries] of Object.entries(JSON.parse(fs.readFileSync(f))))
      for (const e of entries)
        if (e.type === "aws:cdk:error") { console.error(`${path}: ${e.data}`); errors++; }
  process.exit(errors ? 1 : 0);' "$out"/*.metadata.json
echo "templates: $(ls "$out"/*.template.json | wc -l) in $PWD/$out/"
