/**
 * `npm run bench:farm [-- --frames 160 --device-ms 200 --workers 1,2,4,8]`: scheduling efficiency of a job split
 * over local engine workers (`enhance --workers N`), with the null model waiting a fixed time per frame
 * (HUAJU4K_NULL_DEVICE_MS: simulated device time, no core used, so N workers really run in parallel on a small
 * machine), against the same job on one worker; and the overhead of `--workers 1` against a plain local run.
 * Runs the bundle (dist/engine.js, built first). Speed-up(N) = time(1 worker) / time(N workers); goal ≥ 0.9·N.
 * `--base <checkout>`: another build's dist/engine.js (build it there first) run on the same jobs, each of its runs
 * right after the same run of this one, so the two are compared side by side at the same machine load.
 * The farm's overhead with a real model (goal ≤ 5 %): `--model realesr-animevideov3-x4 --size 160x90 --workers 1`
 * (no simulated device time: the model works on the CPU); `--temporal on` keeps the engine's default temporal and
 * reuse stages (a range after the first is primed from the frames before it; `--workers 1` is one range since
 * session 5); `--repeat n` runs the whole series n times (plain and split runs alternate, so both see the same load).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type EngineEvent, parseEngineEvent, type RangeEvent } from '../../../src/protocol/engine-events';

interface Args {
  frames: number;
  deviceMs: number;
  workers: number[];
  segment: number;
  /** Engine bundle of another checkout to compare with. */
  base?: string;
  /** `null` (simulated device time) or a real model id. */
  model: string;
  /** The test clip's size, WxH. */
  size: string;
  /** The engine's temporal and reuse stages as by default, instead of off. */
  temporal: boolean;
  repeat: number;
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    ...{ frames: 160, deviceMs: 200, workers: [1, 2, 4, 8], segment: 8 },
    ...{ model: 'null', size: '64x36', temporal: false, repeat: 1 },
  };
  for (let i = 0; i < argv.length; i += 2) {
    const v = argv[i + 1] ?? '';
    if (argv[i] === '--frames') a.frames = Number(v);
    else if (argv[i] === '--device-ms') a.deviceMs = Number(v);
    else if (argv[i] === '--segment') a.segment = Number(v);
    else if (argv[i] === '--workers') a.workers = v.split(',').map(Number);
    else if (argv[i] === '--base') a.base = join(resolve(v), 'dist/engine.js');
    else if (argv[i] === '--model') a.model = v;
    else if (argv[i] === '--size') a.size = v;
    else if (argv[i] === '--temporal') a.temporal = v === 'on';
    else if (argv[i] === '--repeat') a.repeat = Number(v);
    else throw new Error(`unknown option ${argv[i]}`);
  }
  return a;
}

const ROOT = resolve(__dirname, '../../..');
const ENGINE = join(ROOT, 'dist/engine.js');

interface Run {
  seconds: number;
  /** CPU seconds (user + system) of the engine and every process it ran, where /usr/bin/time exists. */
  cpu?: number;
  /** Date.now() when the engine was started, and its JSON events (`--json`). */
  spawnedAt: number;
  events: EngineEvent[];
}

/** GNU time: the CPU of the engine and of everything it waited for (model threads, ffmpeg, range engines). */
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

function run(engine: string, argv: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  const t0 = performance.now();
  const spawnedAt = Date.now();
  const cpuFile = join(tmpdir(), `huaju4k-bench-farm-cpu-${process.pid}`);
  const command = [process.execPath, engine, ...argv, '--json'];
  const [bin, ...rest] = TIME ? [TIME, '-f', '%U %S', '-o', cpuFile, ...command] : command;
  return new Promise((done, fail) => {
    const child = spawn(bin, rest, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    child.on('error', fail);
    child.on('close', (code) => {
      if (code !== 0) return fail(new Error(`engine exited ${code}: ${argv.join(' ')}`));
      const events = out.split('\n').flatMap((l) => parseEngineEvent(l) ?? []);
      const cpu = TIME ? readFileSync(cpuFile, 'utf8').trim().split(/\s+/).slice(-2).map(Number) : undefined;
      done({ seconds: (performance.now() - t0) / 1000, spawnedAt, events, cpu: cpu && cpu[0] + cpu[1] });
    });
  });
}

/**
 * Where a split run's time goes, from its events: the coordinator's start (engine started → `start`), each
 * worker's start-up (its first range started → its first segment, less the segment's device time: engine start,
 * probe, decoder and encoder on a shared CPU), the tail (the first and the last worker to finish their last range;
 * idle = the worker-seconds spent waiting for the last one) and the join (last range done → `done`).
 */
function whereTimeGoes(r: Run, segmentDeviceS: number): string {
  const t = (e: { ts: number }) => (e.ts - r.spawnedAt) / 1000;
  const start = r.events.find((e) => e.type === 'start');
  const end = r.events.find((e) => e.type === 'done');
  const ranges = r.events.filter((e): e is RangeEvent => e.type === 'range');
  if (!start || !end || ranges.length === 0) return 'no range events';
  const byWorker = new Map<string, RangeEvent[]>();
  for (const e of ranges) byWorker.set(e.worker, [...(byWorker.get(e.worker) ?? []), e]);
  const startUps: number[] = [];
  const finished: number[] = [];
  for (const evs of byWorker.values()) {
    const first = evs.find((e) => e.state === 'started');
    const firstSegment = evs.find((e) => e.state === 'segment' && e.range === first?.range);
    if (first && firstSegment) startUps.push(t(firstSegment) - t(first) - segmentDeviceS);
    const last = evs.filter((e) => e.state === 'done').at(-1);
    if (last) finished.push(t(last));
  }
  const lastDone = Math.max(...finished);
  const idle = finished.reduce((sum, f) => sum + (lastDone - f), 0);
  const span = (xs: number[]) => `${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)} s`;
  return [
    `coordinator start ${t(start).toFixed(1)} s`,
    `start-up per worker ${span(startUps)}`,
    `last range done ${span(finished)} (tail idle ${idle.toFixed(1)} worker·s)`,
    `join ${(t(end) - lastDone).toFixed(1)} s`,
  ].join(', ');
}

const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');

/** The table of one engine's times: speed-up and efficiency against its own 1-worker time. */
function table(name: string, plain: Run, runs: Map<number, Run>, segmentDeviceS: number): string[] {
  const one = runs.get(1) ?? plain;
  const rows = [...runs].map(
    ([n, { seconds: s }]) =>
      `| ${n} | ${s.toFixed(1)} | ${(one.seconds / s).toFixed(2)} | ${(one.seconds / s / n).toFixed(2)} |`,
  );
  const pct = (a: number, b: number) => `${(((a - b) / b) * 100).toFixed(1)} %`;
  const cpu = (r: Run) => (r.cpu === undefined ? '' : ` (CPU ${r.cpu.toFixed(1)} s)`);
  const cpuOverhead = one.cpu !== undefined && plain.cpu ? `, CPU ${pct(one.cpu, plain.cpu)}` : '';
  return [
    `${name}:`,
    '| workers | seconds | speed-up | efficiency (speed-up / N) |',
    '| ---: | ---: | ---: | ---: |',
    ...rows,
    `plain local run: ${plain.seconds.toFixed(1)} s${cpu(plain)}; --workers 1: ${one.seconds.toFixed(1)} s${cpu(one)}; overhead ${pct(one.seconds, plain.seconds)}${cpuOverhead}`,
    ...[...runs].map(([n, r]) => `N = ${n}: ${whereTimeGoes(r, segmentDeviceS)}`),
    '',
  ];
}

/** One series: a plain run and the split runs of each engine, interleaved so both builds see the same load. */
async function series(a: Args, engines: string[], job: (out: string, extra: string[]) => string[], rep: number) {
  const env = { HUAJU4K_NULL_DEVICE_MS: String(a.deviceMs) };
  // Scheduling: the temporal parts off, so the CPU (2 cores shared here) does not limit N workers.
  const off = a.temporal ? [] : ['--temporal', 'off', '--reuse', 'off'];
  const plain = new Map<string, Run>();
  for (const [i, e] of engines.entries()) plain.set(e, await run(e, job(`plain-${i}-${rep}.mp4`, off), env));
  const runs = new Map(engines.map((e) => [e, new Map<number, Run>()]));
  for (const n of a.workers)
    for (const [i, e] of engines.entries())
      runs.get(e)?.set(n, await run(e, job(`w${n}-${i}-${rep}.mp4`, [...off, '--workers', String(n)]), env));
  // A segment's device time: simulated with the null model; with a real model it is not known (0: start-up includes it).
  const segmentS = a.model === 'null' ? (a.segment * a.deviceMs) / 1000 : 0;
  return engines.flatMap((e) => {
    const p = plain.get(e);
    return p ? table(e, p, runs.get(e) ?? new Map(), segmentS) : [];
  });
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'ignore' });
  const dir = mkdtempSync(join(tmpdir(), 'huaju4k-bench-farm-'));
  const input = join(dir, 'in.mp4');
  execFileSync('ffmpeg', [
    ...['-v', 'error', '-f', 'lavfi', '-i', `testsrc2=size=${a.size}:rate=20`, '-frames:v', String(a.frames)],
    ...['-c:v', 'libx264', '-pix_fmt', 'yuv420p', input],
  ]);
  const common = ['--model', a.model, '--tile', '0', '--scale', '4', '--segment-frames', String(a.segment)];
  const job = (out: string, extra: string[]) => ['enhance', input, '-o', join(dir, out), ...common, ...extra];
  const engines = [ENGINE, ...(a.base ? [a.base] : [])];
  const device = a.model === 'null' ? `null model, simulated device ${a.deviceMs} ms/frame` : `model ${a.model}`;
  try {
    const startLoad = load();
    const tables: string[] = [];
    for (let rep = 0; rep < a.repeat; rep++) {
      if (a.repeat > 1) tables.push(`run ${rep + 1} of ${a.repeat} (load ${load()} at its start):`);
      tables.push(...(await series(a, engines, job, rep)));
    }
    const lines = [
      `${a.size}, frames ${a.frames}, segment ${a.segment}, ${device}, temporal ${a.temporal ? 'default' : 'off'}, 1 range for one worker, 2 per worker for more`,
      `load average (1, 5, 15 min) at the start ${startLoad}, at the end ${load()}`,
      '',
      ...tables,
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
