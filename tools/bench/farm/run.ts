/**
 * `npm run bench:farm [-- --frames 160 --device-ms 200 --workers 1,2,4,8]`: scheduling efficiency of a job split
 * over local engine workers (`enhance --workers N`), with the null model waiting a fixed time per frame
 * (HUAJU4K_NULL_DEVICE_MS: simulated device time, no core used, so N workers really run in parallel on a small
 * machine), against the same job on one worker; and the overhead of `--workers 1` against a plain local run.
 * Runs the bundle (dist/engine.js, built first). Speed-up(N) = time(1 worker) / time(N workers); goal ≥ 0.9·N.
 * `--base <checkout>`: another build's dist/engine.js (build it there first) run on the same jobs, each of its runs
 * right after the same run of this one, so the two are compared side by side at the same machine load.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

interface Args {
  frames: number;
  deviceMs: number;
  workers: number[];
  segment: number;
  /** Engine bundle of another checkout to compare with. */
  base?: string;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { frames: 160, deviceMs: 200, workers: [1, 2, 4, 8], segment: 8 };
  for (let i = 0; i < argv.length; i += 2) {
    const v = argv[i + 1] ?? '';
    if (argv[i] === '--frames') a.frames = Number(v);
    else if (argv[i] === '--device-ms') a.deviceMs = Number(v);
    else if (argv[i] === '--segment') a.segment = Number(v);
    else if (argv[i] === '--workers') a.workers = v.split(',').map(Number);
    else if (argv[i] === '--base') a.base = join(resolve(v), 'dist/engine.js');
    else throw new Error(`unknown option ${argv[i]}`);
  }
  return a;
}

const ROOT = resolve(__dirname, '../../..');
const ENGINE = join(ROOT, 'dist/engine.js');

function run(engine: string, argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const t0 = performance.now();
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [engine, ...argv], { env: { ...process.env, ...env }, stdio: 'ignore' });
    child.on('error', fail);
    child.on('close', (code) =>
      code === 0 ? done((performance.now() - t0) / 1000) : fail(new Error(`engine exited ${code}: ${argv.join(' ')}`)),
    );
  });
}

const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');

/** The table of one engine's times: speed-up and efficiency against its own 1-worker time. */
function table(name: string, plain: number, times: Map<number, number>): string[] {
  const one = times.get(1) ?? plain;
  return [
    `${name}:`,
    '| workers | seconds | speed-up | efficiency (speed-up / N) |',
    '| ---: | ---: | ---: | ---: |',
    ...[...times].map(([n, s]) => `| ${n} | ${s.toFixed(1)} | ${(one / s).toFixed(2)} | ${(one / s / n).toFixed(2)} |`),
    `plain local run: ${plain.toFixed(1)} s; --workers 1: ${one.toFixed(1)} s; overhead ${(((one - plain) / plain) * 100).toFixed(1)} %`,
    '',
  ];
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'ignore' });
  const dir = mkdtempSync(join(tmpdir(), 'huaju4k-bench-farm-'));
  const input = join(dir, 'in.mp4');
  execFileSync('ffmpeg', [
    ...['-v', 'error', '-f', 'lavfi', '-i', `testsrc2=size=64x36:rate=20`, '-frames:v', String(a.frames)],
    ...['-c:v', 'libx264', '-pix_fmt', 'yuv420p', input],
  ]);
  const env = { HUAJU4K_NULL_DEVICE_MS: String(a.deviceMs) };
  const common = ['--model', 'null', '--tile', '0', '--scale', '4', '--segment-frames', String(a.segment)];
  const job = (out: string, extra: string[]) => ['enhance', input, '-o', join(dir, out), ...common, ...extra];
  // Scheduling: the temporal parts off, so the CPU (2 cores shared here) does not limit N workers.
  const off = ['--temporal', 'off', '--reuse', 'off'];
  const engines = [ENGINE, ...(a.base ? [a.base] : [])];
  try {
    const startLoad = load();
    const plain = new Map<string, number>();
    for (const e of engines) plain.set(e, await run(e, job(`plain-${plain.size}.mp4`, off), env));
    const times = new Map(engines.map((e) => [e, new Map<number, number>()]));
    for (const n of a.workers)
      for (const [i, e] of engines.entries())
        times.get(e)?.set(n, await run(e, job(`w${n}-${i}.mp4`, [...off, '--workers', String(n)]), env));
    const lines = [
      `frames ${a.frames}, segment ${a.segment}, simulated device ${a.deviceMs} ms/frame, ${2} ranges per worker`,
      `load average (1, 5, 15 min) at the start ${startLoad}, at the end ${load()}`,
      '',
      ...engines.flatMap((e) => table(e, plain.get(e) ?? 0, times.get(e) ?? new Map())),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:farm: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
