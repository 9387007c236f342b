// npm run bench: model-only vs streaming vs the traditional PNG-files pipeline, same input, model and frames, each
// in its own process so peak RSS (GNU time %M: the largest of the process and its waited-for children) is separate.
// Usage: npm run bench -- [input] [--frames n] [--model id] [--ep cuda|webgpu|cpu] [--precision fp16|fp32]
//        [--encoder h264_nvenc]   (on a GPU, NVENC keeps the 4K encode off the CPU)
//        npm run bench -- --int8 [...]   int8 vs fp32 on the CPU, both models, 480x270 and 960x540 (tools/bench/int8)
import { spawnSync } from 'node:child_process';

const args = process.argv.slice(2);
if (args.includes('--int8')) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'tools/bench/int8/run.ts', ...args], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
const run = (mode) => {
  const r = spawnSync(
    '/usr/bin/time',
    ['-f', '%M', process.execPath, 'dist/engine.js', 'bench', ...args, '--mode', mode, '--json'],
    { encoding: 'utf8', env: { ...process.env, ORT_DISABLE_TELEMETRY: '1' } },
  );
  if (r.status !== 0) throw new Error(`bench --mode ${mode} failed: ${r.stderr}`);
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1));
  const rssKb = Number(r.stderr.trim().split('\n').at(-1));
  return { ...out.results[0], peakRssMiB: rssKb / 1024, on: `${out.model} on ${out.provider}, ${out.encoder}` };
};
const rows = ['model', 'stream', 'traditional'].map(run);
const [model, stream, trad] = rows;
const mib = (b) => (b / 2 ** 20).toFixed(1);
console.log(model.on);
const pad = (s, n) => String(s).padStart(n);
console.log('| mode        | frames |     fps | vs model-only | peak RSS MiB | intermediate MiB on disk |');
console.log('|-------------|--------|---------|---------------|--------------|--------------------------|');
for (const r of rows) {
  console.log(
    `| ${r.mode.padEnd(11)} | ${pad(r.frames, 6)} | ${pad(r.fps.toFixed(3), 7)} | ${pad((r.fps / model.fps).toFixed(3), 13)} | ${pad(r.peakRssMiB.toFixed(0), 12)} | ${pad(mib(r.peakIntermediateBytes), 24)} |`,
  );
}
console.log(
  `streaming / model-only = ${(stream.fps / model.fps).toFixed(3)} (goal ≥ 0.97); ` +
    `streaming / traditional = ${(stream.fps / trad.fps).toFixed(3)} (goal > 1); streaming intermediate bytes: ${stream.peakIntermediateBytes}`,
);
