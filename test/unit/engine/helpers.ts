import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type EngineEvent, parseEngineEvent } from '../../../src/protocol/engine-events';

export const ROOT = resolve(__dirname, '../../..');
export const CLI = join(ROOT, 'src/engine/cli.ts');
export const FAST_MODEL = 'realesr-animevideov3-x4';
export const FAST_MODEL_PATH = join(ROOT, 'models/realesr-animevideov3-x4.onnx');

const CACHE = join(process.env.HUAJU4K_CACHE ?? join(homedir(), '.cache/huaju4k'), 'test-media');

/** A tiny clip made with ffmpeg lavfi sources, cached by name (args must change the name when they change). */
export function clip(name: string, args: string[]): string {
  mkdirSync(CACHE, { recursive: true });
  const out = join(CACHE, name);
  if (!existsSync(out)) {
    const tmp = join(CACHE, `tmp-${process.pid}-${name}`);
    execFileSync('ffmpeg', ['-v', 'error', '-y', ...args, tmp]);
    execFileSync('mv', [tmp, out]);
  }
  return out;
}

/** 64×36 testsrc2 at 20 fps with a sine audio track. */
export function basicClip(frames = 12): string {
  const s = frames / 20;
  return clip(`basic-${frames}.mp4`, [
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=64x36:rate=20:duration=${s}`,
    '-f',
    'lavfi',
    '-i',
    `sine=frequency=440:sample_rate=48000:duration=${s}`,
    '-c:v',
    'libx264',
    '-pix_fmt',
    'yuv420p',
    '-c:a',
    'aac',
    '-shortest',
  ]);
}

export function freshDir(prefix = 'huaju4k-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface CliResult {
  code: number | null;
  events: EngineEvent[];
  stdout: string;
  stderr: string;
}

/** `prefix`: a command the engine runs under (e.g. `taskset -c 0`: a machine with another core count). */
export function startCli(args: string[], env: NodeJS.ProcessEnv = {}, prefix: string[] = []): ChildProcess {
  const [command, ...argv] = [...prefix, process.execPath, '--import', 'tsx', CLI, ...args];
  return spawn(command, argv, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export function collect(child: ChildProcess, onEvent?: (e: EngineEvent) => void): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  let pending = '';
  const events: EngineEvent[] = [];
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    pending += d;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      const e = parseEngineEvent(line);
      if (e) {
        events.push(e);
        onEvent?.(e);
      }
    }
  });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, events, stdout, stderr })));
}

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return collect(startCli(args, env));
}

export function ffprobeJson(path: string, extra: string[] = []): Record<string, unknown> {
  const out = execFileSync('ffprobe', [
    '-v',
    'error',
    '-print_format',
    'json',
    '-show_streams',
    '-show_format',
    ...extra,
    path,
  ]);
  return JSON.parse(out.toString()) as Record<string, unknown>;
}

export interface StreamInfo {
  codec_type: string;
  width?: number;
  height?: number;
  duration?: string;
  nb_read_packets?: string;
  color_space?: string;
}

export function streams(path: string): StreamInfo[] {
  return (ffprobeJson(path, ['-count_packets']) as { streams: StreamInfo[] }).streams;
}

export function listDir(dir: string): string[] {
  return readdirSync(dir).sort();
}

/** Decode every frame of a file to rgb24 (bt709 limited range, as the engine writes). */
export function decodeRgb(path: string, extra: string[] = []): Buffer {
  return execFileSync(
    'ffmpeg',
    [
      '-v',
      'error',
      '-i',
      path,
      ...extra,
      '-vf',
      'scale=in_color_matrix=bt709:in_range=tv:flags=bicubic+accurate_rnd+full_chroma_int,format=rgb24',
      '-f',
      'rawvideo',
      'pipe:1',
    ],
    { maxBuffer: 1 << 30 },
  );
}

export function psnr(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let se = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    se += d * d;
  }
  const mse = se / a.length;
  return mse === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10((255 * 255) / mse);
}

/**
 * A phone-like VFR clip: 90 kHz time base, uneven steps (33.3 ms ± up to 26.7 ms) and a 167 ms pause after frame
 * 20, with 1.8 s of audio. Re-timed to its average rate, frame 20 onwards would be off by up to ~0.1 s.
 */
export function vfrClip(): string {
  return clip('vfr-90k-uneven.mp4', [
    ...['-f', 'lavfi', '-i', 'testsrc2=size=64x36:rate=30:duration=1.5'],
    ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=2.5', '-map', '0:v', '-map', '1:a'],
    ...['-vf', "settb=1/90000,setpts='N*3000+mod(N*N\\,7)*400+gte(N\\,20)*15000'", '-fps_mode', 'vfr'],
    ...['-enc_time_base', '1:90000', '-video_track_timescale', '90000', '-c:v', 'libx264', '-pix_fmt', 'yuv420p'],
    ...['-c:a', 'aac', '-t', '1.8'],
  ]);
}

/** Presentation times (seconds) of a file's video frames, in presentation order. */
export function frameTimes(path: string): number[] {
  const out = execFileSync('ffprobe', [
    ...['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=pts_time', '-of', 'csv=p=0', path],
  ]).toString();
  return out
    .split('\n')
    .map((l) => Number.parseFloat(l.split(',')[0]))
    .filter((t) => Number.isFinite(t))
    .sort((a, b) => a - b);
}

/** Every output frame at its source frame's time, within one tick of the source's time base. */
export function assertSameTimes(out: number[], src: number[], tick: number): void {
  assert.equal(out.length, src.length, 'frame count');
  const worst = Math.max(...out.map((t, i) => Math.abs(t - src[i])));
  assert.ok(worst <= tick, `a frame is ${(worst * 1000).toFixed(3)} ms off its source time (allowed ${tick * 1e3} ms)`);
}
