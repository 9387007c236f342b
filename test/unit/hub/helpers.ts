/** Shared test plumbing for the hub: real servers on OS-chosen loopback ports, real ws clients, real JPEGs. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { applyStreamKeys, DEFAULT_HUB, type HubConfig } from '../../../src/hub/config';
import { JpegStreamSplitter } from '../../../src/hub/jpeg';
import { HubServer, type HubServerOptions } from '../../../src/hub/server';
import { padJpeg } from '../../../tools/bench/hub/jpeg-padding';

export function hubConfig(keys: Record<string, unknown> = {}): HubConfig {
  return applyStreamKeys(DEFAULT_HUB, { host: '127.0.0.1', port: 0, ...keys });
}

export interface RunningHub {
  hub: HubServer;
  port: number;
  http: string;
  ws: (pathAndQuery: string) => string;
}

const open: HubServer[] = [];

export async function startHub(keys: Record<string, unknown> = {}, opts: HubServerOptions = {}): Promise<RunningHub> {
  const hub = new HubServer(hubConfig(keys), opts);
  open.push(hub);
  const addr = await hub.listen();
  return { hub, port: addr.port, http: addr.url, ws: (p) => `ws://127.0.0.1:${addr.port}${p}` };
}

/** Closes every hub a test started; call from afterEach. */
export async function closeHubs(): Promise<void> {
  await Promise.all(open.splice(0).map((h) => h.close()));
}

export interface Inbox {
  ws: WebSocket;
  binaries: Buffer[];
  texts: string[];
  /** Resolves when `pred` holds, re-checked after every message; rejects after `ms`. */
  until: (pred: () => boolean, what: string, ms?: number) => Promise<void>;
}

/** `localAddress`: the client's own address (127.0.0.2 is a second loopback client). */
export async function connect(
  url: string,
  headers: Record<string, string> = {},
  localAddress?: string,
): Promise<Inbox> {
  const ws = new WebSocket(url, { headers, perMessageDeflate: false, localAddress });
  const binaries: Buffer[] = [];
  const texts: string[] = [];
  const waiters = new Set<() => void>();
  ws.on('message', (data, isBinary) => {
    if (isBinary) binaries.push(data as Buffer);
    else texts.push(data.toString());
    for (const w of [...waiters]) w();
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const until = (pred: () => boolean, what: string, ms = 5000) =>
    new Promise<void>((resolve, reject) => {
      if (pred()) return resolve();
      const check = () => {
        if (!pred()) return;
        waiters.delete(check);
        clearTimeout(t);
        resolve();
      };
      const t = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
      }, ms);
      waiters.add(check);
    });
  return { ws, binaries, texts, until };
}

export function closeWs(ws: WebSocket): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    ws.once('close', () => resolve());
    ws.close();
  });
}

/** Polls `pred` (for state that changes without a message, e.g. hub counters) until true or `ms` passes. */
export async function eventually(pred: () => boolean | Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await pred()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

function cacheDir(): string {
  const dir = join(process.env.HUAJU4K_CACHE ?? join(process.env.HOME ?? tmpdir(), '.cache', 'huaju4k'), 'hub-test');
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** A real tiny JPEG made by ffmpeg (cached); `n` varies the picture so frames are distinguishable. */
export function tinyJpeg(n = 0): Buffer {
  const file = join(cacheDir(), `testsrc2-64x36-${n}.jpg`);
  try {
    return readFileSync(file);
  } catch {
    execFileSync('ffmpeg', [
      ...['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=s=64x36:r=10', '-vf', `select=eq(n\\,${n})`],
      ...['-frames:v', '1', '-q:v', '5', file],
    ]);
    return readFileSync(file);
  }
}

/** A distinct valid JPEG per index without running ffmpeg each time: a COM segment carrying the index. */
export function taggedJpeg(index: number, base = tinyJpeg(0)): Buffer {
  const tag = Buffer.from(`frame-${index}`);
  const com = Buffer.alloc(4 + tag.length);
  com[0] = 0xff;
  com[1] = 0xfe;
  com.writeUInt16BE(tag.length + 2, 2);
  tag.copy(com, 4);
  return Buffer.concat([base.subarray(0, 2), com, base.subarray(2)]);
}

/** A valid JPEG padded with COM segments to about `bytes`, tagged with `index` (the tag stays the first segment). */
export function bigJpeg(index: number, bytes: number): Buffer {
  const base = taggedJpeg(index);
  return padJpeg(base, bytes, 2 + base.readUInt16BE(4) + 2);
}

/** Reads back the index written by taggedJpeg, or -1. */
export function jpegTag(jpeg: Buffer): number {
  if (jpeg[2] !== 0xff || jpeg[3] !== 0xfe) return -1;
  const len = jpeg.readUInt16BE(4);
  const m = /^frame-(\d+)$/.exec(jpeg.subarray(6, 4 + len).toString());
  return m ? Number(m[1]) : -1;
}

/** An h264 elementary stream of `frames` testsrc2 frames at 64x36 (cached). */
export function tinyH264(frames = 10): Buffer {
  const file = join(cacheDir(), `testsrc2-64x36-${frames}f.h264`);
  try {
    return readFileSync(file);
  } catch {
    execFileSync('ffmpeg', [
      ...['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=s=64x36:r=10', '-frames:v', String(frames)],
      ...['-c:v', 'libx264', '-tune', 'zerolatency', '-bsf:v', 'h264_mp4toannexb', '-f', 'h264', file],
    ]);
    return readFileSync(file);
  }
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'huaju4k-hub-'));
}

/** An elementary stream (`h264` or `hevc`, Annex B) of `frames` testsrc2 frames at `size` (cached). */
export function encodedStream(codec: 'h264' | 'hevc', frames: number, size = '64x36'): Buffer {
  const file = join(cacheDir(), `testsrc2-${size}-${frames}f.${codec}`);
  try {
    return readFileSync(file);
  } catch {
    const enc =
      codec === 'h264'
        ? ['-c:v', 'libx264', '-tune', 'zerolatency', '-bsf:v', 'h264_mp4toannexb']
        : ['-c:v', 'libx265', '-x265-params', 'log-level=error'];
    execFileSync('ffmpeg', [
      ...['-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=s=${size}:r=10`, '-frames:v', String(frames)],
      ...enc,
      ...['-f', codec, file],
    ]);
    return readFileSync(file);
  }
}

/** Resolves when process `pid` no longer exists (polled: a process we did not spawn emits no event to us). */
export function processGone(pid: number): () => boolean {
  return () => {
    try {
      process.kill(pid, 0);
      return false;
    } catch {
      return true;
    }
  };
}

/** Resolves with the close code and reason once the socket is closed. */
export function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve({ code: 1006, reason: '' });
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
}

/** Opens a WebSocket that the hub is expected to refuse; resolves with the HTTP status and body of the refusal. */
export function refusedUpgrade(
  url: string,
  headers: Record<string, string> = {},
  localAddress?: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, perMessageDeflate: false, localAddress });
    ws.once('open', () => {
      ws.terminate();
      reject(new Error(`${url} was accepted`));
    });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    ws.once('error', () => undefined); // follows 'unexpected-response' when the request is aborted
  });
}

export { jpegDimensions } from '../../../src/hub/jpeg';

/** The repository's sample clip (160×90, 80 frames). */
export const SAMPLE = join(__dirname, '../../../media/sample.mp4');

/** The first `n` frames of a clip as JPEGs (ffmpeg MJPEG, split with the hub's own splitter). */
export function clipJpegs(path: string, n = 12): Buffer[] {
  const args = ['-v', 'error', '-i', path, '-frames:v', String(n), '-f', 'mjpeg', '-q:v', '3', 'pipe:1'];
  return new JpegStreamSplitter(1 << 24).push(execFileSync('ffmpeg', args));
}
