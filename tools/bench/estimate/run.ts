/**
 * How far "Enhance to 4K As…"'s estimate is from the run it estimates (issue 29 point 10): for each clip, the
 * extension's own trial (trial-run.ts, TRIAL_FRAMES frames) and estimate (estimateFromTrial), then the whole clip
 * with the same arguments, timed the same way (engine start event to done event) and its output's size.
 *
 *   npm run build && npx tsx tools/bench/estimate/run.ts [--target WxH] [--model id] clip.mp4 …
 *
 * Prints one line per clip and the actual/estimate ratios; the ratios' spread is what the As… step states beside
 * the estimate (enhance-choices.ts ESTIMATE_SPREAD). Time as the extension times it (enhance-options.ts): `runs`, by
 * this machine's rate learned from the finished full runs before it (frame-rates.ts, here in memory: the first clip
 * has none; list the clips twice or more), and `trial`, the trial scaled by the frame count (what a machine without
 * finished runs gets). Also, on the same trial and full run, `own steady`: the frames left timed by the trial's own
 * steady time per frame (done report steadyFrameMs), which the extension does not use.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { EngineProcess } from '../../../src/extension/engine/engine-process';
import { estimateFromTrial } from '../../../src/extension/enhance/enhance-choices';
import { FrameRates } from '../../../src/extension/enhance/frame-rates';
import { runTrial } from '../../../src/extension/enhance/trial-run';
import { buildEnhanceArgs, DEFAULT_SETTINGS } from '../../../src/extension/settings';
import type { EngineEvent } from '../../../src/protocol/engine-events';
import { memoryStore } from '../../../test/unit/extension/memory-store';

const ENGINE = join(import.meta.dirname, '../../../dist/engine.js');

/** The whole clip with `args` (its `-o` replaced by a temporary file), timed like the trial: engine start event to done event. */
async function fullRun(
  args: string[],
  observe: (ev: EngineEvent) => void,
): Promise<{ frames: number; seconds: number; bytes: number; steadyS?: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'huaju4k-estimate-'));
  const output = join(dir, 'full.mp4');
  let startTs = 0;
  let done: Extract<EngineEvent, { type: 'done' }> | undefined;
  let error = '';
  try {
    const engine = new EngineProcess(
      {
        enginePath: ENGINE,
        args: args.map((a, i) => (args[i - 1] === '-o' ? output : a)).concat('--overwrite'),
        env: {},
      },
      {
        onEvent: (ev) => {
          observe(ev);
          if (ev.type === 'start') startTs = ev.ts;
          if (ev.type === 'done') done = ev;
          if (ev.type === 'error') error = ev.message;
        },
        onLog: () => undefined,
        onExit: () => undefined,
      },
    );
    const { code } = await engine.exit;
    if (code !== 0 || !done) throw new Error(`the full run failed: ${error || `engine exit ${code}`}`);
    const steadyMs = done.report.steadyFrameMs;
    return {
      frames: done.frames,
      seconds: (done.ts - startTs) / 1000,
      bytes: statSync(output).size,
      ...(steadyMs !== undefined && { steadyS: steadyMs / 1000 }),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Ratios {
  runs?: number;
  trial: number;
  ownSteady: number;
  size: number;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      target: { type: 'string', default: '1920x1080' },
      model: { type: 'string', default: 'realesr-animevideov3-x4' },
    },
  });
  const rates = new FrameRates(memoryStore());
  const ratios: Ratios[] = [];
  for (const [i, clip] of positionals.entries()) {
    const args = buildEnhanceArgs(
      { input: clip, output: 'estimate.mp4' },
      { ...DEFAULT_SETTINGS, model: values.model, target: values.target },
    );
    const trial = await runTrial(ENGINE, args, {});
    const machine = rates.secondsPerFrame(trial);
    const est = estimateFromTrial({ ...trial, steadyFrameS: machine }, trial.totalFrames);
    const steady = estimateFromTrial({ ...trial, steadyFrameS: trial.ownSteadyS }, trial.totalFrames);
    const linear = estimateFromTrial(trial, trial.totalFrames);
    const full = await fullRun(args, (ev) => rates.observe(`full-${i}`, ev));
    const r: Ratios = {
      ...(machine !== undefined && { runs: full.seconds / est.seconds }),
      trial: full.seconds / linear.seconds,
      ownSteady: full.seconds / steady.seconds,
      size: full.bytes / est.bytes,
    };
    ratios.push(r);
    const f = (x: number | undefined) => x?.toFixed(2) ?? '–';
    console.log(
      `${basename(clip)}: trial ${trial.frames} frames ${trial.seconds.toFixed(2)} s ${trial.bytes} B ` +
        `(own ${f(trial.ownSteadyS)} s a frame once warm; earlier runs ${machine?.toFixed(3) ?? 'none'} s) → ` +
        `${trial.totalFrames} frames: runs ${machine !== undefined ? est.seconds.toFixed(1) : '–'} s, trial ` +
        `${linear.seconds.toFixed(1)} s, own steady ${steady.seconds.toFixed(1)} s, ${Math.round(est.bytes)} B; ` +
        `actual ${full.frames} frames ${full.seconds.toFixed(1)} s ${full.bytes} B (${f(full.steadyS)} s a frame once ` +
        `warm); actual/estimate time: runs ${f(r.runs)}, trial ${f(r.trial)}, own steady ${f(r.ownSteady)}; ` +
        `size ${f(r.size)}`,
    );
  }
  const span = (k: keyof Ratios) => {
    const xs = ratios.flatMap((r) => (r[k] !== undefined ? [r[k]] : []));
    return `${xs.map((x) => x.toFixed(2)).join(', ')} [${Math.min(...xs).toFixed(2)}, ${Math.max(...xs).toFixed(2)}]`;
  };
  console.log(
    `actual/estimate — time, runs: ${span('runs')}; trial: ${span('trial')}; own steady: ${span('ownSteady')}; ` +
      `size: ${span('size')}`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
