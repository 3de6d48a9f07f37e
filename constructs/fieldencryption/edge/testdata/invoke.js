'use strict';
// Test driver: reads {"config": ..., "events": [...]} on stdin, runs the edge
// handler (../index.js) on each event in order and writes
// {"results": [...], "logs": [...]} on stdout. With "bench": N it instead runs
// each event N times and writes {"ns": [[...], ...]}: per-request times.
const { newHandler } = require('../index.js');

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', async () => {
  const { config, events, bench } = JSON.parse(input);
  const logs = [];
  const print = console.log;
  console.log = (line) => logs.push(JSON.parse(line));
  let handler;
  try {
    handler = newHandler(config);
  } catch (err) {
    console.log = print;
    process.stdout.write(JSON.stringify({ configError: err.message }));
    return;
  }
  if (bench) {
    const ns = [];
    for (const ev of events) {
      const times = [];
      for (let i = 0; i < bench; i++) {
        const copy = structuredClone(ev);
        const t0 = process.hrtime.bigint();
        await handler(copy);
        times.push(Number(process.hrtime.bigint() - t0));
      }
      ns.push(times);
    }
    console.log = print;
    process.stdout.write(JSON.stringify({ ns }));
    return;
  }
  const results = [];
  for (const ev of events) results.push(await handler(ev));
  console.log = print;
  process.stdout.write(JSON.stringify({ results, logs }));
});
