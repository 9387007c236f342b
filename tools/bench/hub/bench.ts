/**
 * `npm run bench:hub [-- --seconds N --subscribers N --fps N --kb N]`: one publisher sends N fps of ~kb KB JPEGs
 * through a hub (separate process, loopback) to N fast subscribers plus one deliberately slow one. Prints delivered/
 * dropped per subscriber (summarised), hub CPU and RSS, and p50/p99 publish→receive latency at the fast subscribers.
 * `--ai null|MODEL [--devices cpu,cpu] [--temporal off]`: the hub runs its AI core; the publisher sends 320×180
 * JPEGs (--kb is ignored) and the subscribers receive the processed frames. Adds the AI rows: in / out fps, drop
 * ratio, arrival→send p50/p99 (the hub's) and publish→receive latency; hub CPU counts the hub process (its model
 * worker threads included) but not the short ffmpeg JPEG calls.
 */
import { execFileSync, spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { HubPublisher } from '../../../src/hub/publisher';
import type { BroadcastHeader, HubStatus } from '../../../src/protocol/hub-status';
import { padJpeg } from './jpeg-padding';

interface Args {
  seconds: number;
  subscribers: number;
  fps: number;
  kb: number;
  slowReadsPerSecond: number;
  ai: string | null;
  devices: string;
  temporal: string;
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    seconds: 60,
    subscribers: 50,
    fps: 30,
    kb: 100,
    slowReadsPerSecond: 2,
    ai: null,
    devices: 'cpu',
    temporal: 'medium',
  };
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i].replace(/^--/, '');
    if (key === 'ai' || key === 'devices' || key === 'temporal') {
      const text = argv[++i];
      if (!text) throw new Error(`--${key} needs a value`);
      a[key] = text;
      continue;
    }
    const v = Number(argv[++i]);
    if (!(key in a) && key !== 'slow-reads') throw new Error(`unknown option ${argv[i - 1]}`);
    if (!Number.isFinite(v) || v <= 0) throw new Error(`${argv[i - 1]} needs a positive number`);
    if (key === 'slow-reads') a.slowReadsPerSecond = v;
    else (a as unknown as Record<string, number>)[key] = v;
  }
  return a;
}

const now = () => performance.timeOrigin + performance.now();

/** A real 320×180 JPEG (ffmpeg testsrc2). */
function sourceJpeg(): Buffer {
  return execFileSync('ffmpeg', [
    ...['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=s=320x180', '-frames:v', '1', '-f', 'mjpeg', 'pipe:1'],
  ]);
}

/** The same JPEG padded with COM segments to `bytes`. */
function paddedJpeg(bytes: number): Buffer {
  return padJpeg(sourceJpeg(), bytes);
}

function hubArgs(a: Args): string[] {
  const ai = a.ai === null ? [] : ['--ai', '--model', a.ai, '--devices', a.devices, '--temporal', a.temporal];
  return ['--port', '0', ...ai];
}

function startHub(args: string[]): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'tools/bench/hub/run-hub.ts', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((r) => child.on('close', () => r()));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        resolve({
          url: m[1],
          stop: async () => {
            child.kill('SIGTERM');
            await exited;
          },
        });
      }
    });
    child.on('error', reject);
    void exited.then(() => reject(new Error(`hub exited before listening: ${out}`)));
  });
}

interface SubStats {
  received: number;
  latencies: number[];
  lastSeq: number;
  outOfOrder: number;
}

function subscribe(url: string, slowReadsPerSecond: number | null): Promise<{ ws: WebSocket; stats: SubStats }> {
  const ws = new WebSocket(`${url}/video_out?headers=1`, { perMessageDeflate: false });
  const stats: SubStats = { received: 0, latencies: [], lastSeq: 0, outOfOrder: 0 };
  let header: BroadcastHeader | null = null;
  ws.on('message', (data, isBinary) => {
    if (!isBinary) {
      header = JSON.parse(data.toString()) as BroadcastHeader;
      return;
    }
    stats.received++;
    if (header) {
      if (header.hubSeq <= stats.lastSeq) stats.outOfOrder++;
      stats.lastSeq = header.hubSeq;
      if (header.ts !== undefined && slowReadsPerSecond === null) stats.latencies.push(now() - header.ts);
    }
    header = null;
    if (slowReadsPerSecond !== null) {
      // Deliberately slow: after each frame, stop reading the socket for a while.
      ws.pause();
      setTimeout(() => ws.resume(), 1000 / slowReadsPerSecond);
    }
  });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, stats }));
    ws.once('error', reject);
  });
}

async function hubStatus(url: string): Promise<HubStatus> {
  return (await (await fetch(`${url}/api/v1/stream/status`)).json()) as HubStatus;
}

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

interface Samples {
  list: { t: number; cpuMs: number; rss: number }[];
  stop: () => void;
}

function sampleHub(url: string): Samples {
  const list: Samples['list'] = [];
  const timer = setInterval(async () => {
    const s = await hubStatus(url);
    list.push({ t: now(), cpuMs: s.process.cpuUserMs + s.process.cpuSystemMs, rss: s.process.rssBytes });
  }, 1000);
  return { list, stop: () => clearInterval(timer) };
}

/** Publishes `frame` at `fps` for `seconds`, paced on the clock; resolves with the seconds it took. */
async function publishPaced(pub: HubPublisher, frame: Buffer, a: Args): Promise<number> {
  const start = now();
  let published = 0;
  const total = Math.round(a.seconds * a.fps);
  await new Promise<void>((resolve) => {
    const tick = () => {
      if (published >= total) return resolve();
      pub.publish(frame, { ts: now() });
      published++;
      const next = start + (published * 1000) / a.fps;
      setTimeout(tick, Math.max(0, next - now()));
    };
    tick();
  });
  return (now() - start) / 1000;
}

interface Run {
  args: Args;
  fast: { ws: WebSocket; stats: SubStats }[];
  slow: { ws: WebSocket; stats: SubStats };
  final: HubStatus;
  samples: Samples['list'];
  pub: HubPublisher;
  sendSeconds: number;
}

function aiRows(run: Run, received: number[]): [string, string][] {
  const ai = run.final.ai;
  if (!ai.enabled) return [];
  const dropRatio = ai.in.frames > 0 ? ai.dropped.frames / ai.in.frames : 0;
  const perSecond = (n: number) => (n / run.sendSeconds).toFixed(2);
  return [
    [`AI model / devices`, `${ai.model} ×${ai.scale} on ${ai.devices.map((d) => `${d.id}:${d.frames}`).join(', ')}`],
    [
      'AI in / out frames (fps over the send time)',
      `${ai.in.frames} / ${ai.out.frames} (${perSecond(ai.in.frames)} / ${perSecond(ai.out.frames)})`,
    ],
    [
      'AI dropped (newest wins + stale + failed) / ratio',
      `${ai.dropped.frames} (${ai.dropped.stale} stale, ${ai.dropped.failed} failed) / ${(dropRatio * 100).toFixed(1)} %`,
    ],
    ['AI arrival→send p50 / p99 (hub)', `${ai.latencyMs.p50} / ${ai.latencyMs.p99} ms`],
    ['fast subscribers got every processed frame', String(received[0] === ai.out.frames)],
  ];
}

function report(run: Run): void {
  const { args, fast, slow, final, samples, pub } = run;
  const slowSub = final.subscribers.reduce((a, b) => (b.dropped > a.dropped ? b : a));
  const fastSubs = final.subscribers.filter((s) => s.id !== slowSub.id);
  const received = fast.map((f) => f.stats.received).sort((a, b) => a - b);
  const lat = fast.flatMap((f) => f.stats.latencies).sort((a, b) => a - b);
  // Steady state: drop the first second (connections warming up, JIT) from a second latency figure.
  const warm = fast.flatMap((f) => f.stats.latencies.slice(args.fps)).sort((a, b) => a - b);
  const fastDropped = fastSubs.reduce((a, s) => a + s.dropped, 0);
  const outOfOrder = [...fast, slow].reduce((a, f) => a + f.stats.outOfOrder, 0);
  const cpu =
    samples.length >= 2
      ? ((samples.at(-1)!.cpuMs - samples[0].cpuMs) / (samples.at(-1)!.t - samples[0].t)) * 100
      : Number.NaN;
  const rssPeak = Math.max(...samples.map((s) => s.rss), final.process.rssBytes);
  const pubStats = pub.stats();
  const rows: [string, string][] = [
    [
      'published (publisher sent / dropped)',
      `${pubStats.sent} / ${pubStats.dropped} in ${run.sendSeconds.toFixed(1)} s`,
    ],
    ['hub ingest frames / rejected', `${final.ingest.frames} / ${final.ingest.rejected}`],
    ...aiRows(run, received),
    [
      `fast subscribers ×${fast.length}: received min / median / max`,
      `${received[0]} / ${pct(received, 50)} / ${received.at(-1)}`,
    ],
    ['fast subscribers: dropped (hub count, all together)', String(fastDropped)],
    [
      'slow subscriber: read / handed to its socket / dropped',
      `${slow.stats.received} / ${slowSub.delivered} / ${slowSub.dropped}`,
    ],
    ['frames out of order (any subscriber)', String(outOfOrder)],
    [
      'latency publish→fast subscriber p50 / p99 / max',
      `${pct(lat, 50).toFixed(2)} / ${pct(lat, 99).toFixed(2)} / ${lat.at(-1)?.toFixed(2)} ms`,
    ],
    ['latency after the first second p50 / p99', `${pct(warm, 50).toFixed(2)} / ${pct(warm, 99).toFixed(2)} ms`],
    ['hub CPU (one core = 100 %)', `${cpu.toFixed(1)} %`],
    ['hub RSS peak', `${(rssPeak / 1024 / 1024).toFixed(1)} MiB`],
  ];
  const w = Math.max(...rows.map((r) => r[0].length));
  for (const [k, v] of rows) process.stdout.write(`  ${k.padEnd(w)}  ${v}\n`);
  const expected = final.ai.enabled ? final.ai.out.frames : final.ingest.frames;
  const lossless = received[0] === expected && fastDropped === 0;
  process.stdout.write(
    `verdict: fast subscribers ${lossless ? 'lost nothing' : 'LOST FRAMES'}; slow one dropped ${slowSub.dropped}\n`,
  );
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const frame = args.ai === null ? paddedJpeg(args.kb * 1024) : sourceJpeg();
  const hub = await startHub(hubArgs(args));
  const fast = await Promise.all(Array.from({ length: args.subscribers }, () => subscribe(hub.url, null)));
  const slow = await subscribe(hub.url, args.slowReadsPerSecond);
  const url = `${hub.url.replace('http', 'ws')}/video_in`;
  const pub = new HubPublisher({ url, queueSize: 8, source: 'bench', kind: args.ai === null ? 'processed' : 'raw' });
  while (!pub.stats().connected) await new Promise((r) => setTimeout(r, 10));
  const what =
    args.ai === null ? '' : ` through the AI core (${args.ai} on ${args.devices}, temporal ${args.temporal})`;
  process.stdout.write(
    `hub bench: ${args.subscribers} fast + 1 slow subscriber (${args.slowReadsPerSecond} reads/s), ` +
      `${args.fps} fps × ${(frame.length / 1024).toFixed(0)} KiB for ${args.seconds} s on loopback${what} (hub ${hub.url})\n`,
  );
  const samples = sampleHub(hub.url);
  const sendSeconds = await publishPaced(pub, frame, args);
  // Let in-flight frames land (the AI core may still be working on the last ones).
  await new Promise((r) => setTimeout(r, args.ai === null ? 1500 : 5000));
  samples.stop();
  const final = await hubStatus(hub.url);
  report({ args, fast, slow, final, samples: samples.list, pub, sendSeconds });
  await pub.close();
  for (const f of [...fast, slow]) f.ws.terminate();
  await hub.stop();
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:hub failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
