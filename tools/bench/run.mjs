// npm run bench: model-only vs streaming vs the traditional PNG-files pipeline, same input, model and frames, each
// in its own process so peak RSS (GNU time %M: the largest of the process and its waited-for children) is separate;
// then `bench --null`: the engine with the built-in nearest ×4 (--model null) beside ffmpeg alone and two ffmpegs on
// an rgb24 pipe, with CPU per frame (ffmpeg children included).
// Usage: npm run bench -- [input] [--frames n] [--model id] [--ep cuda|webgpu|cpu] [--precision fp16|fp32]
//        [--encoder h264_nvenc]   (on a GPU, NVENC keeps the 4K encode off the CPU) [--preset ultrafast]
//        [--null-input file] [--null-frames n]   (the --null rows' clip and frames; default the same as above)
//        npm run bench -- --int8 [...]   int8 vs fp32 on the CPU, 480x270 and 960x540 (tools/bench/int8/run.ts)
import { spawnSync } from 'node:child_process';

const argv = process.argv.slice(2);
if (argv.includes('--int8')) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'tools/bench/int8/run.ts', ...argv], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
const take = (name) => {
  const i = argv.indexOf(name);
  if (i < 0) return undefined;
  const [, value] = argv.splice(i, 2);
  return value;
};
const nullInput = take('--null-input');
const nullFrames = take('--null-frames');
const args = argv;

const engine = (extra, withTime) => {
  const cmd = [process.execPath, 'dist/engine.js', 'bench', ...extra, '--json'];
  const r = spawnSync(withTime ? '/usr/bin/time' : cmd[0], withTime ? ['-f', '%M', ...cmd] : cmd.slice(1), {
    encoding: 'utf8',
    env: { ...process.env, ORT_DISABLE_TELEMETRY: '1' },
  });
  if (r.status !== 0) throw new Error(`bench ${extra.join(' ')} failed: ${r.stderr}`);
  return { out: JSON.parse(r.stdout.trim().split('\n').at(-1)), stderr: r.stderr };
};
const run = (mode) => {
  const { out, stderr } = engine([...args, '--mode', mode], true);
  const rssKb = Number(stderr.trim().split('\n').at(-1));
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

// The --null rows: drop the model options (the null model has none), keep the encoder.
const positional = args.filter((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1].startsWith('--')));
const option = (name) => (args.includes(name) ? [name, args[args.indexOf(name) + 1]] : []);
const encoder = [...option('--encoder'), ...option('--preset')];
const frames = nullFrames ?? (args.includes('--frames') ? args[args.indexOf('--frames') + 1] : undefined);
const nullArgs = [...(nullInput ? [nullInput] : positional), ...(frames ? ['--frames', frames] : []), ...encoder];
const { out } = engine([...nullArgs, '--null'], false);
const ms = (v) => (v === undefined ? 'n/a' : v.toFixed(1));
console.log(`\n--null on ${out.input}, ${out.encoder}`);
console.log('| row         | frames |     fps | vs ffmpeg-pipe | user ms/frame | sys ms/frame | sys vs ffmpeg-pipe |');
console.log('|-------------|--------|---------|----------------|---------------|--------------|--------------------|');
const pair = out.null.find((r) => r.name === 'ffmpeg-pipe');
for (const r of out.null) {
  const sys = pair.sysMsPerFrame ? (r.sysMsPerFrame / pair.sysMsPerFrame).toFixed(2) : 'n/a';
  console.log(
    `| ${r.name.padEnd(11)} | ${pad(r.frames, 6)} | ${pad(r.fps.toFixed(2), 7)} | ${pad((r.fps / pair.fps).toFixed(2), 14)} | ${pad(ms(r.userMsPerFrame), 13)} | ${pad(ms(r.sysMsPerFrame), 12)} | ${pad(sys, 18)} |`,
  );
}
const eng = out.null.find((r) => r.name === 'engine-null');
console.log(
  `engine-null / ffmpeg-pipe = ${(eng.fps / pair.fps).toFixed(2)} fps (goal ≥ 0.8), ` +
    `${(eng.sysMsPerFrame / pair.sysMsPerFrame).toFixed(2)} system CPU per frame (goal ≤ 2)`,
);
