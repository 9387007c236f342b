/**
 * `npm run bench:temporal -- [clip] [--frames 24] [--size 960x540] [--rounds 1] [--preset ultrafast] [--model null]
 *   [--rows plain,defaults,motion-off,reuse-off,temporal-off,high] [--base other-build/dist/engine.js]`
 *
 * The temporal stage and tile reuse against the plain pipeline (issue 33): the real engine (`dist/engine.js
 * enhance`, run `npm run build` first) on the same frames with each setting, side by side in one run, rounds
 * interleaved row by row so a busy machine slows every row alike. Default clip: cockatoo.mp4 (a real hand-held
 * camera, python3-imageio) scaled to --size once into $HUAJU4K_CACHE/bench-temporal/. Prints per row: wall fps (the
 * best round), the ratio to the plain row, CPU ms per frame (the engine and its ffmpeg children, GNU time; steadier
 * than wall time on a shared machine), the engine's stage ms per frame (`done.report.stageMs`), the reuse ratio, and
 * the sha256 of the output file (x264 is deterministic for the same frames: equal hashes = the same pixels).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { homedir, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { clipPath } from '../../models/calibrate';

/** Each row's enhance options; `plain` is the reference the ratios are to. */
const ROWS: Record<string, string[]> = {
  plain: ['--temporal', 'off', '--reuse', 'off'],
  defaults: [],
  'motion-off': ['--motion', 'off'],
  'reuse-off': ['--reuse', 'off'],
  'temporal-off': ['--temporal', 'off'],
  high: ['--temporal', 'high'],
};

interface Done {
  seconds: number;
  frames: number;
  report: { stageMs: Record<string, number>; reuseRatio?: number };
}

function cachedClip(size: string, frames: number): string {
  const dir = join(process.env.HUAJU4K_CACHE ?? join(homedir(), '.cache', 'huaju4k'), 'bench-temporal');
  mkdirSync(dir, { recursive: true });
  const out = join(dir, `cockatoo-${size}-${frames}.mp4`);
  if (existsSync(out)) return out;
  const [w, h] = size.split('x');
  execFileSync('ffmpeg', [
    ...['-v', 'error', '-nostdin', '-y', '-i', clipPath('cockatoo.mp4'), '-vf', `scale=${w}:${h}`],
    ...['-frames:v', String(frames), '-an', '-c:v', 'libx264', '-crf', '16', '-preset', 'veryfast', out],
  ]);
  return out;
}

function enhance(
  clip: string,
  out: string,
  extra: string[],
  o: { frames: number; preset: string; model: string; engine: string },
) {
  const args = [o.engine, 'enhance', clip, '-o', out, '--overwrite', '--json'];
  args.push('--model', o.model, '--max-frames', String(o.frames), '--preset', o.preset, ...extra);
  // GNU time: CPU seconds of the engine and its ffmpeg children (steadier than wall time on a shared machine).
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S', process.execPath, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ORT_DISABLE_TELEMETRY: '1' },
  });
  const [user, sys] = r.stderr.trim().split('\n').at(-1)?.split(' ').map(Number) ?? [];
  const done = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { type: string } & Done)
    .find((e) => e.type === 'done');
  if (r.status !== 0 || !done) throw new Error(`enhance ${extra.join(' ')} failed (${r.status}): ${r.stderr}`);
  const sha = createHash('sha256').update(readFileSync(out)).digest('hex').slice(0, 16);
  rmSync(out, { force: true });
  return { cpuS: user + sys, done, sha };
}

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      frames: { type: 'string', default: '24' },
      size: { type: 'string', default: '960x540' },
      rounds: { type: 'string', default: '1' },
      preset: { type: 'string', default: 'ultrafast' },
      model: { type: 'string', default: 'null' },
      rows: { type: 'string', default: 'plain,defaults,motion-off,reuse-off,temporal-off' },
      base: { type: 'string' },
    },
  });
  const frames = Number(values.frames);
  const clip = positionals[0] ?? cachedClip(values.size ?? '960x540', frames);
  const rows = (values.rows ?? '').split(',');
  for (const r of rows) if (!ROWS[r]) throw new Error(`unknown row ${r}: one of ${Object.keys(ROWS).join(', ')}`);
  // The first row is the reference of the ratios (plain by default).
  const opts = { frames, preset: values.preset ?? 'ultrafast', model: values.model ?? 'null', engine: '' };
  // With --base (another build's dist/engine.js, e.g. main's), each row runs on both, one after the other.
  const engines = values.base ? [values.base, 'dist/engine.js'] : ['dist/engine.js'];
  const named = engines.flatMap((engine) =>
    rows.map((r) => ({ r, engine, name: engine === values.base ? `${r} (base)` : r })),
  );
  if (values.base) named.sort((a, b) => rows.indexOf(a.r) - rows.indexOf(b.r));
  const best = new Map<string, ReturnType<typeof enhance>>();
  const load0 = loadavg()[0];
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const { r, engine, name } of named) {
      const out = join(process.env.HUAJU4K_CACHE ?? '/tmp', `bench-temporal-${r}.mp4`);
      const res = enhance(clip, out, ROWS[r], { ...opts, engine });
      const prev = best.get(name);
      if (prev && prev.sha !== res.sha) throw new Error(`row ${name}: output differs between rounds`);
      if (!prev || res.done.seconds < prev.done.seconds) best.set(name, res);
    }
  }
  const fps = (r: string) => {
    const d = best.get(r)?.done;
    return d ? d.frames / d.seconds : 0;
  };
  // Each build's rows against its own plain row.
  const ref = (name: string) => fps(name.endsWith(' (base)') ? `${rows[0]} (base)` : rows[0]);
  console.log(
    `${clip}, ${frames} frames, --model ${opts.model}, --preset ${opts.preset}, best of ${values.rounds} round(s), ` +
      `load ${load0.toFixed(1)} → ${loadavg()[0].toFixed(1)}`,
  );
  console.log(
    '| row | options | fps | vs first row | CPU ms/frame | decode | infer | temporal | encode | reuse | output sha256 |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const { r, name } of named) {
    const b = best.get(name);
    if (!b) continue;
    const ms = (k: string) => (b.done.report.stageMs[k] ?? 0).toFixed(0);
    const reuse = b.done.report.reuseRatio;
    console.log(
      `| ${name} | \`${ROWS[r].join(' ') || '(defaults)'}\` | ${fps(name).toFixed(2)} | ${(fps(name) / ref(name)).toFixed(2)} | ` +
        `${((b.cpuS * 1000) / b.done.frames).toFixed(0)} | ` +
        `${ms('decode')} | ${ms('infer')} | ${ms('temporal')} | ${ms('encode')} | ` +
        `${reuse === undefined ? '–' : reuse.toFixed(2)} | ${b.sha} |`,
    );
  }
}

main();
