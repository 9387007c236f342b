import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { EngineEvent } from '../../protocol/engine-events';
import { EngineProcess } from '../engine/engine-process';
import type { TrialResult } from './enhance-choices';
import { modelPixels, type RunKind } from './frame-rates';

/** Frames of the trial run that the estimate is made from. */
export const TRIAL_FRAMES = 3;

/**
 * A trial's measures, and what it ran (model, provider, arithmetic, model-input pixels: what a measured rate is
 * looked up by).
 */
export interface Trial extends TrialResult, RunKind {
  /** Frames of the whole video (the engine's probe: duration × frame rate). */
  totalFrames: number;
  /** The trial's own seconds a frame after its first (done report `steadyFrameMs`): still warming up, not timed by. */
  ownSteadyS?: number;
}

/**
 * Runs the engine with the chosen arguments on the first TRIAL_FRAMES frames into a temporary folder (removed
 * afterwards) and measures it: engine time from its start to its done event, and the output's size.
 * `args` are `enhance <input> …` without `-o`; cancelled by `signal` (the engine's group is stopped).
 */
export async function runTrial(
  enginePath: string,
  args: string[],
  env: Record<string, string>,
  signal?: AbortSignal,
): Promise<Trial> {
  const dir = mkdtempSync(path.join(tmpdir(), 'huaju4k-trial-'));
  const output = path.join(dir, `trial${path.extname(outputOf(args))}`);
  const trialArgs = [...withoutOutput(args), '-o', output, '--max-frames', String(TRIAL_FRAMES), '--overwrite'];
  let start: Extract<EngineEvent, { type: 'start' }> | undefined;
  let done: Extract<EngineEvent, { type: 'done' }> | undefined;
  let error = '';
  try {
    const engine = new EngineProcess(
      { enginePath, args: trialArgs, env },
      {
        onEvent: (ev) => {
          if (ev.type === 'start') start = ev;
          if (ev.type === 'done') done = ev;
          if (ev.type === 'error') error = ev.message;
        },
        onLog: () => undefined,
        onExit: () => undefined,
      },
    );
    const abort = () => engine.cancel(1000);
    signal?.addEventListener('abort', abort);
    const { code } = await engine.exit;
    signal?.removeEventListener('abort', abort);
    if (signal?.aborted) throw new Error('the trial was cancelled');
    if (code !== 0 || !start || !done) throw new Error(`the trial run failed: ${error || `engine exit ${code}`}`);
    const totalFrames = Math.max(done.frames, Math.round(start.probe.durationS * start.probe.fps));
    return {
      frames: done.frames,
      seconds: Math.max(0, (done.ts - start.ts) / 1000),
      bytes: statSync(output).size,
      ...(done.report.steadyFrameMs !== undefined && { ownSteadyS: done.report.steadyFrameMs / 1000 }),
      totalFrames,
      model: start.model.id,
      executionProvider: start.executionProvider,
      precision: start.precision,
      modelPixels: modelPixels(start),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function outputOf(args: string[]): string {
  const i = args.indexOf('-o');
  return i >= 0 ? args[i + 1] : '.mp4';
}

function withoutOutput(args: string[]): string[] {
  const i = args.indexOf('-o');
  return i >= 0 ? [...args.slice(0, i), ...args.slice(i + 2)] : args;
}
