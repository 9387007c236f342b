/**
 * npm run bench:long — a long input (default 30 minutes) at tiny resolution through the real engine (CLI, model,
 * temporal stage, segment encoders, join). Prints RSS and work-folder disk samples over time and checks the
 * seed's "disk use stays constant" property: the work folder only ever holds the finished segments, one segment
 * in progress, the manifest and the lock.
 *
 *   npm run bench:long -- [--minutes 30] [--fps 10] [--size 32x18] [--segment-frames N] [--keep]
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type EngineEvent, parseEngineEvent } from '../../../src/protocol/engine-events';

const ROOT = resolve(__dirname, '../../..');
const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' },
    fps: { type: 'string', default: '10' },
    size: { type: 'string', default: '32x18' },
    'segment-frames': { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});
const minutes = Number(values.minutes);
const fps = Number(values.fps);
const size = String(values.size);
const frames = Math.round(minutes * 60 * fps);

function input(): string {
  const dir = join(process.env.HUAJU4K_CACHE ?? join(homedir(), '.cache/huaju4k'), 'bench');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `long-${minutes}min-${size}-${fps}fps.mp4`);
  if (!existsSync(file)) {
    const tmp = `${file}.tmp.mp4`;
    const s = minutes * 60;
    execFileSync('ffmpeg', [
      ...['-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=${fps}:duration=${s}`],
      ...['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${s}`],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '32k', tmp],
    ]);
    execFileSync('mv', [tmp, file]);
  }
  return file;
}

interface Sample {
  t: number;
  frame: number;
  rssMiB: number;
  jobKiB: number;
  workFiles: number;
  segmentsDone: number;
}

function workFolderState(dir: string): { bytes: number; files: string[] } {
  try {
    const files = readdirSync(dir);
    let bytes = 0;
    for (const f of files) {
      try {
        bytes += statSync(join(dir, f)).size;
      } catch {
        // gone between readdir and stat
      }
    }
    return { bytes, files };
  } catch {
    return { bytes: 0, files: [] };
  }
}

async function main(): Promise<void> {
  const src = input();
  const out = join(mkdtempSync(join(tmpdir(), 'huaju4k-bench-long-')), 'out.mp4');
  const work = `${out}.huaju4k`;
  // The source, not dist/ (which may be stale): the bench measures the code in the tree.
  const cmd = ['--import', 'tsx', join(ROOT, 'src/engine/cli.ts')];
  const args = ['enhance', src, '-o', out, '--scale', '4', '--tile', '0', '--json', '--disk-reserve', '0'];
  if (values['segment-frames']) args.push('--segment-frames', String(values['segment-frames']));
  process.stdout.write(`bench:long: ${minutes} min of ${size} at ${fps} fps = ${frames} frames → ${out}\n`);
  process.stdout.write(`engine: node ${cmd.join(' ')} ${args.join(' ')}\n\n`);
  const t0 = Date.now();
  const child = spawn(process.execPath, [...cmd, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const samples: Sample[] = [];
  let frame = 0;
  let segments = 0;
  let rss = 0;
  let maxExtra = 0;
  let violations = 0;
  let pending = '';
  let error: EngineEvent | undefined;
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    pending += d;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const l of lines) {
      const e = parseEngineEvent(l);
      if (!e) continue;
      if (e.type === 'progress') frame = e.frame;
      if (e.type === 'segment') segments = e.index + 1;
      if (e.type === 'sample') rss = e.rssBytes;
      if (e.type === 'error') error = e;
    }
  });
  child.stderr.resume();
  // Poll the work folder ourselves (the engine's jobDiskBytes is its own view): files beyond the recorded
  // segments + one partial + manifest + lock would mean leftovers piling up.
  const poll = setInterval(() => {
    const st = workFolderState(work);
    const segs = st.files.filter((f) => /^seg-\d+\.mp4$/.test(f)).length;
    const extra = st.files.filter((f) => !/^seg-\d+\.mp4$/.test(f) && f !== 'manifest.json' && f !== 'lock');
    maxExtra = Math.max(maxExtra, extra.length);
    if (extra.length > 1 || segs > segments + 1) violations++;
    const t = (Date.now() - t0) / 1000;
    const last = samples.at(-1);
    if (!last || t - last.t >= 10) {
      samples.push({
        t,
        frame,
        rssMiB: rss / 2 ** 20,
        jobKiB: st.bytes / 1024,
        workFiles: st.files.length,
        segmentsDone: segs,
      });
    }
  }, 500);
  const code = await new Promise<number | null>((r) => child.on('close', r));
  clearInterval(poll);
  const secs = (Date.now() - t0) / 1000;
  process.stdout.write('   t (s)    frame   RSS (MiB)   work folder (KiB)   files   segments\n');
  const step = Math.max(1, Math.ceil(samples.length / 30));
  for (const [i, s] of samples.entries()) {
    if (i % step && i !== samples.length - 1) continue;
    process.stdout.write(
      `${s.t.toFixed(0).padStart(8)} ${String(s.frame).padStart(8)} ${s.rssMiB.toFixed(1).padStart(11)} ${s.jobKiB.toFixed(1).padStart(19)} ${String(s.workFiles).padStart(7)} ${String(s.segmentsDone).padStart(10)}\n`,
    );
  }
  const rssAll = samples.filter((s) => s.rssMiB > 0).map((s) => s.rssMiB);
  const half = rssAll.slice(Math.floor(rssAll.length / 2));
  process.stdout.write(
    `\nexit ${code} in ${secs.toFixed(0)} s (${(frames / secs).toFixed(1)} fps); RSS min/max ${Math.min(...rssAll).toFixed(0)}/${Math.max(...rssAll).toFixed(0)} MiB, second-half max ${Math.max(...half).toFixed(0)} MiB\n`,
  );
  process.stdout.write(
    `work folder: at most ${maxExtra} non-segment file(s) besides manifest+lock; layout violations: ${violations}\n`,
  );
  if (code !== 0) {
    process.stdout.write(`engine failed: ${JSON.stringify(error)}\n`);
    process.exitCode = 1;
    return;
  }
  const packets = Number(
    execFileSync('ffprobe', [
      ...['-v', 'error', '-select_streams', 'v:0', '-count_packets'],
      ...['-show_entries', 'stream=nb_read_packets', '-of', 'csv=p=0', out],
    ]).toString(),
  );
  const audio = execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_type', '-of', 'csv=p=0', out])
    .toString()
    .includes('audio');
  const ok = packets === frames && audio && !existsSync(work) && violations === 0;
  process.stdout.write(
    `output: ${packets}/${frames} frames, audio ${audio ? 'present' : 'MISSING'}, work folder ${existsSync(work) ? 'LEFT' : 'removed'}, ${(statSync(out).size / 2 ** 20).toFixed(1)} MiB → ${ok ? 'OK' : 'FAIL'}\n`,
  );
  if (!values.keep) rmSync(resolve(out, '..'), { recursive: true, force: true });
  if (!ok) process.exitCode = 1;
}

void main();
