import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { children, type StartedTool, startTool } from '../children';
import { stderrTail } from '../errors';
import { decoderArgs } from '../ffmpeg/decoder';
import { type EncoderSettings, encoderArgs, outputFrameRate } from '../ffmpeg/encoder';
import type { FfmpegTools } from '../ffmpeg/ffmpeg-tools';
import type { MediaInfo } from '../ffmpeg/probe';
import { WorkerUpscaler } from '../inference/infer-worker';
import { NULL_MODEL_ID, NULL_MODEL_SCALE } from '../inference/null-model';
import { runEnhance } from '../pipeline/pipeline';
import { resolveTarget } from '../pipeline/target-size';

/**
 * `huaju4k bench --null`: what the engine costs around the model. Three rows on the same clip, frames and encoder
 * settings, one after the other in this process: ffmpeg alone (decode → nearest ×4 → encode in one process), two
 * ffmpegs joined by an rgb24 pipe (the ×4 in the decoder; the pipe carries 4K rgb24 like the engine's encoder pipe),
 * and the engine with `--model null` (a ×4 nearest in place of the session: tiles, rings, pipes, segments, join).
 * CPU is counted for this process and its reaped children (ffmpeg included), user and system apart.
 */
export interface NullBenchRow {
  name: 'ffmpeg' | 'ffmpeg-pipe' | 'engine-null';
  frames: number;
  seconds: number;
  fps: number;
  /** CPU per frame, this process and its children (ms); undefined where the platform does not say. */
  userMsPerFrame?: number;
  sysMsPerFrame?: number;
}

interface CpuTimes {
  userMs: number;
  sysMs: number;
}

/** This process (all threads) plus the children it has waited for; Linux only (/proc/self/stat). */
function cpuNow(): CpuTimes | undefined {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    // Fields after the command name (which may hold spaces) start at the state, field 3.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const tick = 10; // USER_HZ is 100 on Linux: 10 ms per tick
    const [utime, stime, cutime, cstime] = [11, 12, 13, 14].map((i) => Number(f[i]) * tick);
    return { userMs: utime + cutime, sysMs: stime + cstime };
  } catch {
    return undefined;
  }
}

async function measured(
  name: NullBenchRow['name'],
  frames: number,
  run: () => Promise<unknown>,
): Promise<NullBenchRow> {
  const c0 = cpuNow();
  const t0 = performance.now();
  await run();
  await children.reaped();
  const seconds = (performance.now() - t0) / 1000;
  const c1 = cpuNow();
  const per = (a: number, b: number) => (b - a) / frames;
  return {
    name,
    frames,
    seconds,
    fps: frames / seconds,
    ...(c0 && c1 ? { userMsPerFrame: per(c0.userMs, c1.userMs), sysMsPerFrame: per(c0.sysMs, c1.sysMs) } : {}),
  };
}

/** `args` with `extra` appended to its `-vf` chain. */
function withFilter(args: string[], extra: string): string[] {
  const i = args.indexOf('-vf');
  if (i < 0) throw new Error('bench: decoder arguments without -vf');
  return [...args.slice(0, i + 1), `${args[i + 1]},${extra}`, ...args.slice(i + 2)];
}

async function succeeded(tool: StartedTool, what: string): Promise<void> {
  const { code, signal, error } = await tool.exited;
  if (error) throw error;
  if (code !== 0) throw new Error(`bench: ${what} ffmpeg failed (${code ?? signal}): ${stderrTail(tool.stderr())}`);
}

interface NullBenchSetup {
  tools: FfmpegTools;
  info: MediaInfo;
  frames: number;
  encoder: EncoderSettings;
  dir: string;
}

/** The engine's decoder and encoder argv for this clip, the ×4 nearest in the decoder (rgb24 on the pipe). */
function pipeArgs(s: NullBenchSetup, output: string): { dec: string[]; enc: string[] } {
  const { info } = s;
  const frameSize = { width: info.width * NULL_MODEL_SCALE, height: info.height * NULL_MODEL_SCALE };
  const dec = withFilter(
    decoderArgs({ ffmpeg: s.tools.ffmpeg, info, maxFrames: s.frames }),
    `scale=iw*${NULL_MODEL_SCALE}:ih*${NULL_MODEL_SCALE}:flags=neighbor`,
  );
  const { args: enc } = encoderArgs({
    ffmpeg: s.tools.ffmpeg,
    output,
    frameSize,
    target: resolveTarget({ width: info.displayWidth, height: info.displayHeight }, {}),
    fpsRational: outputFrameRate(info).rational,
    settings: s.encoder,
  });
  return { dec, enc };
}

/** One ffmpeg: the decoder's input and filters, the ×4, then the encoder's filters, codec and output. */
function aloneArgs(s: NullBenchSetup): string[] {
  const { dec, enc } = pipeArgs(s, join(s.dir, 'ffmpeg.mp4'));
  const raw = dec.indexOf('-f');
  const vf = enc.indexOf('-vf');
  if (raw < 0 || vf < 0) throw new Error('bench: unexpected decoder/encoder arguments');
  return withFilter(dec.slice(0, raw), enc[vf + 1]).concat('-y', ...enc.slice(vf + 2));
}

function runAlone(s: NullBenchSetup): Promise<void> {
  return succeeded(startTool(s.tools.ffmpeg, aloneArgs(s), ['ignore', 'ignore', 'pipe']), 'single');
}

/** Decoder stdout is the encoder's stdin: a kernel pipe between the two, nothing in between. */
function runPipe(s: NullBenchSetup): Promise<void> {
  const { dec, enc } = pipeArgs(s, join(s.dir, 'pipe.mp4'));
  const decoder = startTool(s.tools.ffmpeg, dec, ['ignore', 'pipe', 'pipe']);
  const stdout = decoder.child.stdout;
  if (!stdout) throw new Error('bench: decoder has no stdout');
  const encoder = startTool(s.tools.ffmpeg, enc, [stdout, 'ignore', 'pipe']);
  // The encoder has its own copy of the pipe's read end; this process's copy would only hold the decoder's 'close'.
  stdout.destroy();
  return Promise.all([succeeded(decoder, 'decoder'), succeeded(encoder, 'encoder')]).then(() => {});
}

async function runEngine(s: NullBenchSetup, up: WorkerUpscaler): Promise<void> {
  const done = await runEnhance(
    { input: s.info.path, output: join(s.dir, 'engine.mp4'), encoder: s.encoder, maxFrames: s.frames },
    { tools: s.tools, info: s.info, model: up.model, upscaler: up, tile: up.tile, emit: () => {} },
  );
  if (done.frames !== s.frames) throw new Error(`bench: the engine wrote ${done.frames} frames, not ${s.frames}`);
}

export async function runNullBench(setup: NullBenchSetup): Promise<NullBenchRow[]> {
  const frames = Math.min(setup.frames, setup.info.frameCountEstimate);
  const s = { ...setup, frames };
  const rows = [await measured('ffmpeg', frames, () => runAlone(s))];
  rows.push(await measured('ffmpeg-pipe', frames, () => runPipe(s)));
  // Started before the clock like a model is loaded before it; the null model loads nothing.
  const up = await WorkerUpscaler.start({ modelRef: NULL_MODEL_ID, tile: 0, pad: 12 });
  try {
    rows.push(await measured('engine-null', frames, () => runEngine(s, up)));
  } finally {
    await up.close();
  }
  return rows;
}
