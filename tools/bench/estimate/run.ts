/**
 * How far "Enhance to 4K As…"'s estimate is from the run it estimates (issue 29 point 10): for each clip, the
 * extension's own trial (trial-run.ts, TRIAL_FRAMES frames) and estimate (estimateFromTrial), then the whole clip
 * with the same arguments, timed the same way (engine start event to done event) and its output's size.
 *
 *   npm run build && npx tsx tools/bench/estimate/run.ts [--target WxH] [--model id] clip.mp4 …
 *
 * Prints one line per clip and the actual/estimate ratios; the ratios' spread is what the As… step states beside
 * the estimate (enhance-choices.ts ESTIMATE_ERROR).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { EngineProcess } from '../../../src/extension/engine/engine-process';
import { estimateFromTrial } from '../../../src/extension/enhance/enhance-choices';
import { runTrial } from '../../../src/extension/enhance/trial-run';
import { buildEnhanceArgs, DEFAULT_SETTINGS } from '../../../src/extension/settings';
import type { EngineEvent } from '../../../src/protocol/engine-events';

const ENGINE = join(import.meta.dirname, '../../../dist/engine.js');

/** The whole clip with `args` (its `-o` replaced by a temporary file), timed like the trial: engine start event to done event. */
async function fullRun(args: string[]): Promise<{ frames: number; seconds: number; bytes: number }> {
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
    return { frames: done.frames, seconds: (done.ts - startTs) / 1000, bytes: statSync(output).size };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      target: { type: 'string', default: '1920x1080' },
      model: { type: 'string', default: 'realesr-animevideov3-x4' },
    },
  });
  const ratios: { time: number; size: number }[] = [];
  for (const clip of positionals) {
    const args = buildEnhanceArgs(
      { input: clip, output: 'estimate.mp4' },
      { ...DEFAULT_SETTINGS, model: values.model, target: values.target },
    );
    const trial = await runTrial(ENGINE, args, {});
    const est = estimateFromTrial(trial, trial.totalFrames);
    const full = await fullRun(args);
    const r = { time: full.seconds / est.seconds, size: full.bytes / est.bytes };
    ratios.push(r);
    console.log(
      `${basename(clip)}: trial ${trial.frames} frames ${trial.seconds.toFixed(2)} s ${trial.bytes} B → estimate ` +
        `${trial.totalFrames} frames ${est.seconds.toFixed(1)} s ${Math.round(est.bytes)} B; actual ${full.frames} ` +
        `frames ${full.seconds.toFixed(1)} s ${full.bytes} B; actual/estimate time ${r.time.toFixed(2)} size ${r.size.toFixed(2)}`,
    );
  }
  const span = (k: 'time' | 'size') => ratios.map((r) => r[k].toFixed(2)).join(', ');
  console.log(`actual/estimate — time: ${span('time')}; size: ${span('size')}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
