import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnhanceArgs } from '../../../src/engine/args';
import { EngineError } from '../../../src/engine/errors';
import { formatHuman } from '../../../src/engine/events';
import { encoderArgs } from '../../../src/engine/ffmpeg/encoder';
import { TileUpscaler } from '../../../src/engine/inference/upscaler';
import { loadModel } from '../../../src/engine/model/loader';
import { heldOutputBytes, planFrameMemory, RING_MAX_FRAMES } from '../../../src/engine/pipeline/frame-checks';
import { checkUpscaleNeeded, formatPlan, planSizes, reachesTarget } from '../../../src/engine/pipeline/size-plan';
import { displaySize, resolveOutput, type Size } from '../../../src/engine/pipeline/target-size';
import { createTemporal } from '../../../src/engine/temporal/create';
import type { EngineEvent, StartEvent } from '../../../src/protocol/engine-events';
import {
  type CliResult,
  clip,
  collect,
  decodeRgb,
  FAST_MODEL,
  freshDir,
  listDir,
  ROOT,
  runCli,
  startCli,
  streams,
} from './helpers';

const UHD = { width: 3840, height: 2160 };
const box = (display: Size, target?: string, fit?: 'contain' | 'pad') => resolveOutput(display, { target, fit });

/** testsrc2 clips of a few frames, square pixels unless `vf` sets a SAR. */
function synthetic(w: number, h: number, frames = 2, vf?: string): string {
  const name = `box-${w}x${h}-${frames}${vf ? `-${vf.replace(/\W/g, '')}` : ''}.mkv`;
  // testsrc2 draws nothing below 32 px: smaller sizes are a larger pattern scaled down.
  const small = w < 32 || h < 32;
  const args = [
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=${small ? '64x64' : `${w}x${h}`}:rate=25`,
    '-frames:v',
    String(frames),
  ];
  const filters = [...(small ? [`scale=${w}:${h}`] : []), ...(vf ? [vf] : [])];
  return clip(name, [...args, ...(filters.length ? ['-vf', filters.join(',')] : []), '-c:v', 'ffv1']);
}

const enhance = (input: string, out: string, extra: string[]): Promise<CliResult> =>
  runCli(['enhance', input, '-o', out, '--model', FAST_MODEL, '--ep', 'cpu', '--json', ...extra]);

/** Runs until the `start` event (the plan), then cancels: the plan of a run too slow for a CPU test, for real. */
async function planOnly(input: string, extra: string[]): Promise<{ start: StartEvent; r: CliResult }> {
  const json = startCli([
    'enhance',
    input,
    '-o',
    join(freshDir(), 'o.mp4'),
    '--model',
    FAST_MODEL,
    '--ep',
    'cpu',
    '--json',
    '--max-frames',
    '1',
    '--tile',
    '128',
    ...extra,
  ]);
  const r = await collect(json, (e: EngineEvent) => {
    if (e.type === 'start') json.kill('SIGTERM');
  });
  const start = r.events.find((e): e is StartEvent => e.type === 'start');
  assert.ok(start, `no start event: ${r.stderr}`);
  assert.equal(r.code, 5, 'cancelled after the plan');
  return { start, r };
}

describe('engine: --target is a box (fit inside, display aspect kept)', () => {
  it('fits 4:3, portrait and anamorphic sources inside the box; pad keeps the box as the frame', () => {
    assert.deepEqual(box({ width: 320, height: 240 }, '3840x2160').picture, { width: 2880, height: 2160 });
    assert.deepEqual(box({ width: 240, height: 432 }, '3840x2160').frame, { width: 1200, height: 2160 });
    assert.deepEqual(box({ width: 1920, height: 1080 }, '1280x1280').frame, { width: 1280, height: 720 });
    assert.deepEqual(box({ width: 320, height: 240 }, '3840x2160', 'pad'), {
      frame: UHD,
      picture: { width: 2880, height: 2160 },
    });
    assert.deepEqual(box({ width: 320, height: 240 }, undefined, 'pad').frame, UHD, 'pad in the default box');
    assert.throws(() => resolveOutput({ width: 4, height: 4 }, { scale: 2, fit: 'pad' }), /--fit pad needs a box/);
  });

  it("the extension's huaju4k.target description says what the engine does (examples computed here)", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      contributes: { configuration: { properties: Record<string, { markdownDescription: string }> }[] };
    };
    const group = pkg.contributes.configuration.find((g) => 'huaju4k.target' in g.properties);
    const text = group?.properties['huaju4k.target'].markdownDescription ?? '';
    const m = /a 4:3 video in `(\d+x\d+)` becomes (\d+)x(\d+), a 9:16 portrait one (\d+)x(\d+)/.exec(text);
    assert.ok(m, text);
    assert.deepEqual(box({ width: 4, height: 3 }, m[1]).frame, { width: Number(m[2]), height: Number(m[3]) });
    assert.deepEqual(box({ width: 9, height: 16 }, m[1]).frame, { width: Number(m[4]), height: Number(m[5]) });
    assert.match(text, /never stretched.*`--fit pad`.*`--same-size`/);
  });

  it('applies the SAR exactly: 1×1 at 16:9 fits as 16:9 (3840×2160), not 2:1', () => {
    const d = displaySize({ width: 1, height: 1, sar: [16, 9] });
    assert.deepEqual(box(d).frame, UHD);
    assert.deepEqual(box(displaySize({ width: 48, height: 36, sar: [16, 15] })).frame, { width: 3072, height: 2160 });
    assert.deepEqual(box(displaySize({ width: 64, height: 72, sar: [9, 16] })).frame, { width: 1080, height: 2160 });
  });

  it('parses --fit and --same-size; refuses a bad --fit and pad with --scale (usage, exit 2)', () => {
    const a = parseEnhanceArgs(['in.mp4', '--target', '3840x2160', '--fit', 'pad', '--same-size']);
    assert.deepEqual([a.fit, a.sameSize], ['pad', true]);
    assert.deepEqual([parseEnhanceArgs(['in.mp4']).fit, parseEnhanceArgs(['in.mp4']).sameSize], ['contain', false]);
    for (const argv of [
      ['in.mp4', '--fit', 'stretch'],
      ['in.mp4', '--scale', '2', '--fit', 'pad'],
    ]) {
      assert.throws(
        () => parseEnhanceArgs(argv),
        (e: unknown) => e instanceof EngineError && e.code === 2,
        argv.join(' '),
      );
    }
  });

  it('encoder pads to the box with even offsets after the lanczos resize', () => {
    const cmd = encoderArgs({
      ffmpeg: 'ffmpeg',
      output: 'o.mp4',
      frameSize: { width: 1280, height: 960 },
      target: UHD,
      picture: { width: 2878, height: 2160 },
      fpsRational: '25/1',
      settings: { codec: 'libx264' },
    }).args.join(' ');
    assert.match(cmd, /-vf scale=2878:2160:flags=lanczos[^ ]*,pad=3840:2160:480:0:black,format=yuv420p /);
  });
});

describe('engine: a source at or above the target (plan, refusal, same-size pass)', () => {
  it('plans the model sizes and the final resize; refuses a source that reaches the target', () => {
    const uhd = box({ width: 3840, height: 2160 });
    assert.ok(reachesTarget({ width: 3840, height: 2160 }, uhd));
    assert.ok(reachesTarget({ width: 2880, height: 2160 }, uhd), 'either dimension');
    assert.ok(!reachesTarget({ width: 2560, height: 1440 }, uhd));
    assert.ok(reachesTarget({ width: 64, height: 36 }, resolveOutput({ width: 64, height: 36 }, { scale: 1 })));
    assert.throws(
      () => checkUpscaleNeeded('in.mp4', { width: 3840, height: 2160 }, uhd, false),
      (e: unknown) =>
        e instanceof EngineError &&
        e.code === 2 &&
        e.reason === 'already-at-target' &&
        /in\.mp4 is already 3840×2160.*nothing to upscale/.test(e.message) &&
        /--target 7680x4320.*--scale 2.*--same-size/.test(e.hint ?? ''),
    );
    assert.doesNotThrow(() => checkUpscaleNeeded('in.mp4', { width: 3840, height: 2160 }, uhd, true));
    const q = { width: 2560, height: 1440 };
    const p1440 = planSizes(q, q, box(q), 4, false);
    assert.deepEqual([p1440.modelInput, p1440.modelOutput], [q, { width: 10240, height: 5760 }]);
    assert.equal(
      formatPlan(p1440, q, p1440.frame),
      'plan: model 2560×1440 → 10240×5760 (×4, 168.8 MiB a frame), then lanczos to 3840×2160',
    );
    const same = planSizes(UHD, UHD, box(UHD), 4, true);
    assert.deepEqual([same.modelInput, same.modelOutput, same.sameSize], [{ width: 960, height: 540 }, UHD, true]);
    assert.match(
      formatPlan(same, UHD, UHD),
      /same-size pass: 3840×2160 shrunk to 960×540, model → 3840×2160 .*no resize$/,
    );
    const below = planSizes(q, q, box(q), 4, true);
    assert.deepEqual([below.modelInput, below.sameSize], [q, false], '--same-size on a smaller source: normal run');
    const padded = planSizes(
      { width: 320, height: 240 },
      { width: 320, height: 240 },
      box({ width: 320, height: 240 }, '3840x2160', 'pad'),
      4,
      false,
    );
    assert.match(formatPlan(padded, q, UHD), /then lanczos to 2880×2160, padded to 3840×2160$/);
  });

  it('the human start lines include the plan', () => {
    const start = {
      type: 'start',
      ts: 0,
      v: 1,
      input: 'in.mp4',
      output: 'in.4k.mp4',
      probe: { width: 2560, height: 1440, fps: 25 },
      model: { id: 'm', file: 'm.onnx', scale: 4, sha256: '' },
      executionProvider: 'cpu',
      precision: 'fp32',
      tile: 256,
      target: UHD,
      plan: {
        modelInput: { width: 2560, height: 1440 },
        modelOutput: { width: 10240, height: 5760 },
        picture: UHD,
        sameSize: false,
      },
      totalFrames: 1,
      encoder: 'libx264',
    } as unknown as EngineEvent;
    assert.match(
      formatHuman(start) ?? '',
      /\n {2}plan: model 2560×1440 → 10240×5760 \(×4, .*\), then lanczos to 3840×2160$/,
    );
  });
});

describe('engine: frame memory counts the model outputs held outside the rings', () => {
  it('held outputs: the one being made, the one being encoded, reuse and temporal history; refused over budget', async () => {
    const model = await loadModel(FAST_MODEL);
    const tiles = new TileUpscaler(model, { tile: 0, pad: 12 });
    const out = 3840 * 2160 * 3;
    const plain = createTemporal(tiles, { strength: 'off', reuse: false });
    const full = createTemporal(tiles, { strength: 'medium', reuse: true });
    assert.equal(heldOutputBytes(out), 2 * out);
    assert.equal(heldOutputBytes(out, plain), 2 * out);
    assert.equal(heldOutputBytes(out, full), 3 * out + Math.min((full.stage?.primeFrames ?? 0) * out, 256 * 2 ** 20));
    const req = { inBytes: 100, outBytes: 1600, heldBytes: 3200, size: { width: 1, height: 1 }, path: 'in.mp4' };
    assert.deepEqual(planFrameMemory({ ...req, budgetBytes: 4900 }), [100, 1600], 'one frame each beside the held');
    assert.deepEqual(planFrameMemory({ ...req, budgetBytes: 6600 }), [200, 3200]);
    // A budget far above what the job needs: the rings keep RING_MAX_FRAMES frames each, not the whole budget.
    assert.deepEqual(planFrameMemory({ ...req, budgetBytes: 2 ** 30 }), [
      RING_MAX_FRAMES * 100,
      RING_MAX_FRAMES * 1600,
    ]);
    assert.throws(
      () => planFrameMemory({ ...req, budgetBytes: 4899 }),
      (e: unknown) =>
        e instanceof EngineError && e.reason === 'frame-too-large' && /in\.mp4: .*4\.8 KiB/.test(e.message),
    );
  });
});

describe('engine: target box and size plan (CLI, real ffmpeg + ORT)', function () {
  this.timeout(180000);

  it('--target 3840x2160 keeps the aspect: 320×240 → 2880×2160, 240×432 → 1200×2160, --fit pad → bars', async () => {
    const cases: Array<[string, string[], [number, number]]> = [
      [synthetic(320, 240), [], [2880, 2160]],
      [synthetic(240, 432), ['--same-size'], [1200, 2160]],
      [synthetic(1, 1, 1, 'setsar=16/9'), [], [3840, 2160]],
    ];
    for (const [input, extra, [w, h]] of cases) {
      const out = join(freshDir(), 'o.mp4');
      const r = await enhance(input, out, ['--target', '3840x2160', '--max-frames', '1', '--tile', '128', ...extra]);
      assert.equal(r.code, 0, `${input} ${extra.join(' ')}: ${r.stderr}`);
      const v = streams(out).find((x) => x.codec_type === 'video');
      assert.deepEqual([v?.width, v?.height], [w, h], `${input} ${extra.join(' ')}`);
      const unneeded = r.events.some((e) => e.type === 'warning' && e.code === 'same-size-unneeded');
      assert.equal(unneeded, extra.includes('--same-size'), 'a smaller source ignores --same-size, and says so');
    }
    // The padded frame: black bars of 480 px left and right, the picture between them.
    const out = join(freshDir(), 'pad.mp4');
    const r = await enhance(synthetic(320, 240), out, ['--target', '3840x2160', '--fit', 'pad', '--max-frames', '1']);
    assert.equal(r.code, 0, r.stderr);
    const v = streams(out).find((x) => x.codec_type === 'video');
    assert.deepEqual([v?.width, v?.height], [3840, 2160], '--fit pad: exactly the box');
    const rgb = decodeRgb(out, ['-frames:v', '1']);
    const at = (x: number, y: number) => Math.max(...rgb.subarray((y * 3840 + x) * 3, (y * 3840 + x) * 3 + 3));
    for (const x of [0, 470, 3369, 3839]) assert.ok(at(x, 1080) <= 20, `bar at x=${x}: ${at(x, 1080)}`);
    assert.ok(Math.max(at(500, 100), at(1920, 1080), at(3300, 2000)) > 60, 'the picture is inside');
  });

  it('a 4K source: refused before any work (exit 2); --same-size runs the model at 960×540 → 3840×2160', async () => {
    const input = synthetic(3840, 2160, 3);
    const dir = freshDir();
    const t0 = Date.now();
    const refused = await runCli(['enhance', input, '-o', join(dir, 'o.mp4'), '--model', FAST_MODEL, '--ep', 'cpu']);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /is already 3840×2160, at or above the 3840×2160 target: nothing to upscale/);
    assert.match(refused.stderr, /hint: choose a larger target .*--scale 2; or add --same-size/);
    assert.doesNotMatch(refused.stderr, /huaju4k: .*fps/, 'no start: nothing was loaded or decoded');
    assert.deepEqual(listDir(dir), [], 'no output, no work folder');
    assert.ok(Date.now() - t0 < 30000);
    const out = join(dir, 'same.mp4');
    const r = await enhance(input, out, ['--same-size', '--max-frames', '1', '--tile', '256']);
    assert.equal(r.code, 0, r.stderr);
    const start = r.events.find((e): e is StartEvent => e.type === 'start');
    assert.deepEqual(start?.plan, {
      modelInput: { width: 960, height: 540 },
      modelOutput: UHD,
      picture: UHD,
      sameSize: true,
    });
    const v = streams(out).find((x) => x.codec_type === 'video');
    assert.deepEqual([v?.width, v?.height, v?.nb_read_packets], [3840, 2160, '1']);
    assert.ok(!existsSync(`${out}.huaju4k`));
  });

  it('a 4K source with --target 7680x4320: the frame memory of its ×4 output is counted; the plan shows it', async () => {
    const input = synthetic(3840, 2160, 3);
    const refused = await enhance(input, join(freshDir(), 'o.mp4'), ['--target', '7680x4320', '--max-frames', '1']);
    assert.equal(refused.code, 2, refused.stderr);
    const err = refused.events.find((e) => e.type === 'error');
    assert.ok(err?.type === 'error');
    assert.equal(err.reason, 'frame-too-large');
    assert.match(
      `${err.message}\n${err.hint}`,
      /a 3840×2160 frame needs 1\.76 GiB in memory \(the input and its 379\.7 MiB model output .* over the frame buffer budget of 1\.00 GiB\nraise --buffer-mb to 1799/,
    );
    const { start } = await planOnly(input, ['--target', '7680x4320', '--buffer-mb', '1800']);
    assert.deepEqual(start.target, { width: 7680, height: 4320 });
    assert.deepEqual(start.plan, {
      modelInput: UHD,
      modelOutput: { width: 15360, height: 8640 },
      picture: { width: 7680, height: 4320 },
      sameSize: false,
    });
  });

  it('a 1440p source: upscaled from its own size (default) and to an explicit 7680x4320 box', async () => {
    const input = synthetic(2560, 1440, 3);
    const q = { width: 2560, height: 1440 };
    for (const [extra, target] of [
      [[], UHD],
      [['--target', '7680x4320'], { width: 7680, height: 4320 }],
    ] as Array<[string[], Size]>) {
      const { start } = await planOnly(input, extra);
      assert.deepEqual(start.target, target);
      assert.deepEqual(start.plan, {
        modelInput: q,
        modelOutput: { width: 10240, height: 5760 },
        picture: target,
        sameSize: false,
      });
    }
  });
});
