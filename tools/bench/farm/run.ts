/**
 * `npm run bench:farm [-- --frames 160 --device-ms 200 --workers 1,2,4,8]`: scheduling efficiency of a job split
 * over local engine workers (`enhance --workers N`), with the null model waiting a fixed time per frame
 * (HUAJU4K_NULL_DEVICE_MS: simulated device time, no core used, so N workers really run in parallel on a small
 * machine), against the same job on one worker; and the overhead of `--workers 1` against a plain local run.
 * Runs the bundle (dist/engine.js, built first). Speed-up(N) = time(1 worker) / time(N workers); goal ≥ 0.9·N.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

interface Args {
  frames: number;
  deviceMs: number;
  workers: number[];
  segment: number;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { frames: 160, deviceMs: 200, workers: [1, 2, 4, 8], segment: 8 };
  for (let i = 0; i < argv.length; i += 2) {
    const v = argv[i + 1] ?? '';
    if (argv[i] === '--frames') a.frames = Number(v);
    else if (argv[i] === '--device-ms') a.deviceMs = Number(v);
    else if (argv[i] === '--segment') a.segment = Number(v);
    else if (argv[i] === '--workers') a.workers = v.split(',').map(Number);
    else throw new Error(`unknown option ${argv[i]}`);
  }
  return a;
}

const ROOT = resolve(__dirname, '../../..');
const ENGINE = join(ROOT, 'dist/engine.js');

function run(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const t0 = performance.now();
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [ENGINE, ...argv], { env: { ...process.env, ...env }, stdio: 'ignore' });
    child.on('error', fail);
    child.on('close', (code) =>
      code === 0 ? done((performance.now() - t0) / 1000) : fail(new Error(`engine exited ${code}: ${argv.join(' ')}`)),
    );
  });
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
  try {
    const plain = await run(job('plain.mp4', off), env);
    const times = new Map<number, number>();
    for (const n of a.workers) times.set(n, await run(job(`w${n}.mp4`, [...off, '--workers', String(n)]), env));
    const one = times.get(1) ?? plain;
    const lines = [
      `frames ${a.frames}, segment ${a.segment}, simulated device ${a.deviceMs} ms/frame, ${2} ranges per worker`,
      '| workers | seconds | speed-up | efficiency (speed-up / N) |',
      '| ---: | ---: | ---: | ---: |',
      ...[...times].map(
        ([n, s]) => `| ${n} | ${s.toFixed(1)} | ${(one / s).toFixed(2)} | ${(one / s / n).toFixed(2)} |`,
      ),
      '',
      `plain local run: ${plain.toFixed(1)} s; --workers 1: ${one.toFixed(1)} s; overhead ${(((one - plain) / plain) * 100).toFixed(1)} %`,
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
