import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ExitCode } from '../../protocol/engine-events';
import type { BenchArgs } from '../args';
import { defaultEncoderThreads } from '../checkpoint/pixel-params';
import { FrameDecoder } from '../ffmpeg/decoder';
import { type FfmpegTools, findFfmpegTools } from '../ffmpeg/ffmpeg-tools';
import { type MediaInfo, probeMedia } from '../ffmpeg/probe';
import { WorkerUpscaler } from '../inference/infer-worker';
import { DEFAULT_MODEL_ID } from '../model/loader';
import { runEnhance } from '../pipeline/pipeline';
import { type NullBenchRow, runNullBench } from './bench-null';
import { runTraditional } from './bench-traditional';

export const DEFAULT_BENCH_INPUT = 'media/sample.mp4';

export interface BenchResult {
  mode: 'model' | 'stream' | 'traditional';
  frames: number;
  seconds: number;
  fps: number;
  /** Bytes of frame files on disk at the peak (0 for the in-memory modes). */
  peakIntermediateBytes: number;
}

const runs = (mode: BenchArgs['mode'], which: BenchResult['mode']) => mode === 'all' || mode === which;

/**
 * Model-only: frames decoded into memory first, then timed through the model alone (the ceiling).
 * Streaming: the real pipeline (decode → model → encode to a throwaway file) on the same frames.
 */
export async function runBench(args: BenchArgs): Promise<number> {
  const tools = findFfmpegTools();
  const input = resolve(args.input ?? DEFAULT_BENCH_INPUT);
  const info = await probeMedia(tools.ffprobe, input);
  if (args.null) return benchNull(args, tools, info);
  const modelRef = args.model ?? DEFAULT_MODEL_ID;
  const results: BenchResult[] = [];
  const up = await WorkerUpscaler.start({ modelRef, tile: 0, pad: 12, ep: args.ep, precision: args.precision });
  for (const w of up.warnings) process.stderr.write(`warning: ${w.message}\n`);
  const on = `${up.model.executionProvider} ${up.model.precision}`;
  try {
    // Warm-up: the first run pays ORT's graph optimisation and allocations.
    const decoder = new FrameDecoder({ ffmpeg: tools.ffmpeg, info, maxFrames: args.frames });
    const frames: Buffer[] = [];
    for await (const f of decoder.frames()) frames.push(f.data);
    await up.upscale(frames[0], info.width, info.height);
    if (runs(args.mode, 'model')) {
      const t = performance.now();
      for (const f of frames) await up.upscale(f, info.width, info.height);
      const seconds = (performance.now() - t) / 1000;
      results.push({
        mode: 'model',
        frames: frames.length,
        seconds,
        fps: frames.length / seconds,
        peakIntermediateBytes: 0,
      });
    }
    frames.length = 0;
    if (runs(args.mode, 'stream')) {
      const dir = mkdtempSync(join(tmpdir(), 'huaju4k-bench-'));
      try {
        const done = await runEnhance(
          {
            input,
            output: join(dir, 'bench.mp4'),
            encoder: { codec: args.encoder, preset: args.preset },
            maxFrames: args.frames,
          },
          { tools, info, model: up.model, upscaler: up, tile: 0, emit: () => {} },
        );
        results.push({
          mode: 'stream',
          frames: done.frames,
          seconds: done.seconds,
          fps: done.frames / done.seconds,
          peakIntermediateBytes: 0,
        });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    if (runs(args.mode, 'traditional')) {
      const dir = mkdtempSync(join(tmpdir(), 'huaju4k-bench-'));
      try {
        const r = await runTraditional(tools.ffmpeg, info, args.frames, up, dir, join(dir, 'bench.mp4'), {
          codec: args.encoder,
          preset: args.preset,
        });
        results.push({ mode: 'traditional', ...r });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  } finally {
    await up.close();
  }
  printResults(args, { input, info, modelRef, on }, results);
  return ExitCode.ok;
}

interface BenchRun {
  input: string;
  info: MediaInfo;
  modelRef: string;
  on: string;
}

function printResults(args: BenchArgs, run: BenchRun, results: BenchResult[]): void {
  const { input, info, modelRef, on } = run;
  if (args.json) {
    const line = { input, model: modelRef, provider: on, encoder: args.encoder, results };
    process.stdout.write(`${JSON.stringify(line)}\n`);
    return;
  }
  process.stdout.write(`bench: ${input} (${info.width}x${info.height}), model ${modelRef} on ${on}, ${args.encoder}\n`);
  for (const r of results) {
    process.stdout.write(
      `  ${r.mode.padEnd(8)} ${r.frames} frames  ${r.seconds.toFixed(2)} s  ${r.fps.toFixed(2)} fps\n`,
    );
  }
}

const ms = (v: number | undefined) => (v === undefined ? 'n/a' : v.toFixed(1));

/** `bench --null`: the three rows of bench-null.ts, and the engine's ratios to the piped pair. */
async function benchNull(args: BenchArgs, tools: FfmpegTools, info: MediaInfo): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'huaju4k-bench-'));
  let rows: NullBenchRow[];
  try {
    const encoder = { codec: args.encoder, preset: args.preset, threads: defaultEncoderThreads() };
    rows = await runNullBench({ tools, info, frames: args.frames, encoder, dir });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (args.json) {
    process.stdout.write(`${JSON.stringify({ input: info.path, encoder: args.encoder, null: rows })}\n`);
    return ExitCode.ok;
  }
  const out = `${info.width * 4}x${info.height * 4}`;
  process.stdout.write(`bench --null: ${info.path} (${info.width}x${info.height} → ${out}), ${args.encoder}\n`);
  process.stdout.write('  row          frames   seconds     fps  user ms/frame  sys ms/frame\n');
  for (const r of rows) {
    process.stdout.write(
      `  ${r.name.padEnd(12)} ${String(r.frames).padStart(6)} ${r.seconds.toFixed(2).padStart(9)} ${r.fps.toFixed(2).padStart(7)} ${ms(r.userMsPerFrame).padStart(14)} ${ms(r.sysMsPerFrame).padStart(13)}\n`,
    );
  }
  const [, pair, engine] = rows;
  const sys =
    engine.sysMsPerFrame !== undefined && pair.sysMsPerFrame ? engine.sysMsPerFrame / pair.sysMsPerFrame : NaN;
  process.stdout.write(
    `  engine-null / ffmpeg-pipe: ${(engine.fps / pair.fps).toFixed(2)}× fps (goal ≥ 0.8), ${sys.toFixed(2)}× system CPU per frame (goal ≤ 2)\n`,
  );
  return ExitCode.ok;
}
