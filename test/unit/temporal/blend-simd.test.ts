import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { findFfmpegTools } from '../../../src/engine/ffmpeg/ffmpeg-tools';
import { probeMedia } from '../../../src/engine/ffmpeg/probe';
import { heldOutputBytes, simdHeldBytes } from '../../../src/engine/pipeline/frame-checks';
import { runEnhance } from '../../../src/engine/pipeline/pipeline';
import { blendPlannedOnCpu, completePlan, type PlannedBlend, stillPlan } from '../../../src/engine/temporal/blend-plan';
import { SimdBlend, simdBlendBytes } from '../../../src/engine/temporal/blend-simd';
import { createTemporal } from '../../../src/engine/temporal/create';
import { warpedPlan } from '../../../src/engine/temporal/motion-blend';
import { temporalParams } from '../../../src/engine/temporal/strength';
import { clipPath } from '../../../tools/models/calibrate';
import { compileTemporalWasm, TEMPORAL_WASM_MODULE, temporalWasmModule } from '../../../tools/wasm/build';
import { clip, freshDir } from '../engine/helpers';
import { videoStreamHash } from '../resume/helpers';
import { ReplicateUpscaler, rng } from './frames';
import { randomFrame, randomPlan, randomWarped, smoothFrame } from './plans';

describe('temporal: the blend in WebAssembly SIMD (issue 33)', () => {
  it('the module in the source is wasm/temporal.ts compiled now (npm run build:wasm)', async function () {
    this.timeout(60000);
    const binary = await compileTemporalWasm();
    assert.equal(readFileSync(TEMPORAL_WASM_MODULE, 'utf8'), temporalWasmModule(binary), 'run npm run build:wasm');
  });

  it('gives the typed arrays’ bytes for every scale, number of pasts, in place and shifted', () => {
    const r = rng(33);
    const simd = SimdBlend.create();
    assert.ok(simd, 'WebAssembly SIMD is available on this machine');
    let blended = 0;
    for (const scale of [1, 2, 3, 4])
      for (const m of [1, 2, 3, 4, 6])
        for (const shifted of [false, true]) {
          const size = { width: 7 + Math.floor(r() * 20), height: 5 + Math.floor(r() * 12), scale };
          const bytes = size.width * scale * size.height * scale * 3;
          const raw = randomFrame(r, bytes);
          const pasts = Array.from({ length: m }, () => randomFrame(r, bytes));
          const a = randomPlan(r, size, pasts, shifted);
          const b: PlannedBlend = { size, plan: { ...a.plan } };
          const want = blendPlannedOnCpu(raw, a);
          const got = simd.blend(raw, b);
          assert.ok(Buffer.from(got).equals(want), `×${scale}, ${m} pasts, ${shifted ? 'shifted' : 'in place'}`);
          assert.notEqual(got, raw, 'a new buffer');
          blended++;
        }
    assert.equal(simd.runs, blended, 'every blend ran in the module');
    assert.equal(simd.failure, undefined);
  });

  it('keeps the pasts from frame to frame, follows a change of size, and leaves a plan with no block alone', () => {
    const r = rng(34);
    const simd = SimdBlend.create();
    assert.ok(simd);
    for (const size of [
      { width: 32, height: 18, scale: 4 },
      { width: 20, height: 12, scale: 2 },
      { width: 32, height: 18, scale: 4 },
    ]) {
      const bytes = size.width * size.scale * size.height * size.scale * 3;
      const history: Buffer[] = [];
      for (let t = 0; t < 8; t++) {
        const raw = randomFrame(r, bytes);
        if (history.length > 0) {
          // The stage's pattern: this frame's pasts are the last outputs, newest first.
          const pasts = history.slice(0, 3);
          const a = randomPlan(r, size, pasts, t % 2 === 0);
          const want = blendPlannedOnCpu(raw, a);
          assert.ok(Buffer.from(simd.blend(raw, { size, plan: { ...a.plan } })).equals(want), `frame ${t}`);
        }
        history.unshift(raw);
      }
    }
    const size = { width: 8, height: 4, scale: 2 };
    const raw = randomFrame(r, 8 * 2 * 4 * 2 * 3);
    const none = randomPlan(() => 0.1, size, [randomFrame(r, raw.length)], false);
    assert.equal(none.plan.blocks, 0);
    assert.equal(simd.blend(raw, none), raw, 'nothing blended: the model’s own buffer');
    assert.equal(simd.failure, undefined);
  });

  it('more pasts than the kernel takes: the typed arrays carry the plan out, with the same bytes', () => {
    const r = rng(35);
    const simd = SimdBlend.create();
    assert.ok(simd);
    const size = { width: 6, height: 4, scale: 2 };
    const bytes = 6 * 2 * 4 * 2 * 3;
    const raw = randomFrame(r, bytes);
    const pasts = Array.from({ length: 17 }, () => randomFrame(r, bytes));
    const a = randomPlan(r, size, pasts, true);
    const want = blendPlannedOnCpu(raw, a);
    assert.ok(Buffer.from(simd.blend(raw, { size, plan: { ...a.plan } })).equals(want));
    assert.equal(simd.runs, 0);
  });
});

describe('temporal: the blend’s plans made in the WebAssembly module (issue 33)', () => {
  it('plans the motion blend’s rows in the module: the same plan and bytes as planWarpedRow() and the typed arrays', () => {
    const r = rng(36);
    const simd = SimdBlend.create();
    assert.ok(simd);
    let shiftedUses = 0;
    let dropped = 0;
    // ×6 and ×8: agreement rows of 18 and 24 bytes (the kernel's 16-byte steps), as well as 6, 9 and 12.
    for (const scale of [2, 3, 4, 6, 8])
      for (const m of [1, 2, 3, 5]) {
        const size = { width: 12 + Math.floor(r() * 16), height: 8 + Math.floor(r() * 10), scale };
        const ow = size.width * scale;
        const oh = size.height * scale;
        const raw = smoothFrame(r, ow, oh, 0);
        const outputs = Array.from({ length: m }, (_, k) => smoothFrame(r, ow, oh, k + 1));
        const warped = randomWarped(r, size, outputs);
        const same =
          m > 1 && r() < 0.7
            ? Uint8Array.from({ length: size.width * size.height }, () => Math.floor(r() * (m + 1)))
            : undefined;
        const a = { plan: warpedPlan(raw, warped, size, true, same), size };
        const b = { plan: warpedPlan(raw, warped, size, true, same), size };
        const want = blendPlannedOnCpu(raw, a);
        const got = simd.blend(raw, b);
        const what = `×${scale}, ${m} pasts${same ? ', some the output’s own bytes' : ''}`;
        assert.ok(Buffer.from(got).equals(want), what);
        assert.equal(b.plan.planRow, undefined, 'the plan is complete');
        assert.equal(b.plan.blocks, a.plan.blocks, what);
        assert.deepEqual(b.plan.w0, a.plan.w0, what);
        assert.deepEqual(b.plan.weights, a.plan.weights, what);
        assert.deepEqual(b.plan.shifts, a.plan.shifts, what);
        for (const [k, q] of warped.entries())
          for (let p = 0; p < q.weight.length; p++) {
            if (q.weight[p] === 0 || (q.ox[p] === 0 && q.oy[p] === 0)) continue;
            if (a.plan.shifts?.[k][p] !== 0) shiftedUses++;
            else if (a.plan.weights[k][p] === 0) dropped++;
          }
      }
    assert.equal(simd.plans, 20, 'every plan made in the module');
    // Both sides of the output-agreement test were taken.
    assert.ok(shiftedUses > 100, `${shiftedUses} shifted pasts used`);
    assert.ok(dropped > 100, `${dropped} shifted pasts left out`);
    assert.equal(simd.failure, undefined);
  });
});

describe('temporal: the static blend’s plan made in the WebAssembly module (issue 33)', () => {
  it('plans the static blend in the module: the same plan and bytes as stillPlan() and the typed arrays', () => {
    const r = rng(38);
    const simd = SimdBlend.create();
    assert.ok(simd);
    let made = 0;
    for (const scale of [1, 2, 4])
      for (const m of [1, 2, 3, 5]) {
        const size = { width: 10 + Math.floor(r() * 20), height: 6 + Math.floor(r() * 12), scale };
        const n = size.width * size.height;
        const bytes = n * scale * scale * 3;
        // Lumas that differ from the current one in patches, by amounts on both sides of the masks' thresholds.
        const cur = Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
        const lumas = Array.from({ length: m }, () =>
          cur.map((v) => (r() < 0.2 ? (v + Math.floor(r() * 40)) & 255 : v)),
        );
        const same = m > 1 && r() < 0.6 ? Uint8Array.from({ length: n }, () => Math.floor(r() * (m + 1))) : undefined;
        const still = { cur, lumas, t: temporalParams(m > 3 ? 'high' : 'medium'), same };
        const raw = randomFrame(r, bytes);
        const pasts = Array.from({ length: m }, () => randomFrame(r, bytes));
        const a = { plan: stillPlan(still, pasts, size), size };
        const b = { plan: stillPlan(still, pasts, size), size };
        const want = blendPlannedOnCpu(raw, a);
        const got = simd.blend(raw, b);
        const what = `×${scale}, ${m} pasts${same ? ', some the output’s own bytes' : ''}`;
        assert.ok(Buffer.from(got).equals(want), what);
        assert.equal(b.plan.blocks, a.plan.blocks, what);
        assert.deepEqual([b.plan.w0, b.plan.weights], [a.plan.w0, a.plan.weights], what);
        if (a.plan.blocks > 0) made++;
      }
    assert.equal(simd.plans, 12, 'every plan made in the module');
    assert.ok(made >= 10, `${made} plans blend something`);
  });

  it('completes a plan for the blend graph: the motion rows planned in the module, the same plan as in TypeScript', () => {
    const r = rng(37);
    const simd = SimdBlend.create();
    assert.ok(simd);
    const size = { width: 24, height: 14, scale: 4 };
    const raw = smoothFrame(r, 96, 56, 0);
    const warped = randomWarped(
      r,
      size,
      [1, 2, 3].map((k) => smoothFrame(r, 96, 56, k)),
    );
    const a = { plan: warpedPlan(raw, warped, size, true), size };
    const b = { plan: warpedPlan(raw, warped, size, true), size };
    completePlan(a);
    const plan = simd.complete(raw, b);
    assert.equal(simd.plans, 1);
    assert.equal(simd.runs, 0, 'planned only, not blended');
    assert.equal(plan.planRow, undefined);
    assert.ok(plan.blocks > 0);
    assert.equal(plan.blocks, a.plan.blocks);
    assert.deepEqual([plan.w0, plan.weights, plan.shifts], [a.plan.w0, a.plan.weights, a.plan.shifts]);
  });
});

describe('temporal: the frames a plan for the blend graph copies into the module (issue 33)', () => {
  it('completes a static plan for the blend graph without copying frames in; a later blend copies what it reads', () => {
    const r = rng(39);
    const simd = SimdBlend.create();
    assert.ok(simd);
    const size = { width: 24, height: 14, scale: 4 };
    const n = size.width * size.height;
    const bytes = n * 16 * 3;
    const cur = Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
    const lumas = [1, 2].map(() => cur.map((v) => (r() < 0.2 ? (v + Math.floor(r() * 40)) & 255 : v)));
    const raw = randomFrame(r, bytes);
    const pasts = [randomFrame(r, bytes), randomFrame(r, bytes)];
    const still = { cur, lumas, t: temporalParams('medium'), same: undefined };
    const a = { plan: stillPlan(still, pasts, size), size };
    const b = { plan: stillPlan(still, pasts, size), size };
    completePlan(a);
    const plan = simd.complete(raw, b);
    assert.equal(simd.plans, 1, 'planned in the module');
    assert.ok(plan.blocks > 0);
    assert.deepEqual([plan.blocks, plan.w0, plan.weights], [a.plan.blocks, a.plan.w0, a.plan.weights]);
    assert.equal(simd.framesHeld, 0, 'no frame copied in for a plan that reads lumas only');
    // The next frame blends with this output and a past as its pasts: they are copied in then.
    const next = randomFrame(r, bytes);
    const c = { plan: stillPlan({ ...still, lumas: lumas.slice(0, 2) }, [raw, pasts[0]], size), size };
    const d = { plan: stillPlan({ ...still, lumas: lumas.slice(0, 2) }, [raw, pasts[0]], size), size };
    const want = blendPlannedOnCpu(next, c);
    assert.ok(Buffer.from(simd.blend(next, d)).equals(want), 'the bytes of the typed arrays');
    assert.equal(simd.framesHeld, 3);
    assert.equal(simd.failure, undefined);
  });
});

describe('temporal: the SIMD blend in a job (issue 33)', () => {
  describe('counted in the frame budget, and left out where the budget has no room for it', function () {
    this.timeout(120000);
    const W = 96;
    const H = 54;
    let dir: string;
    let input: string;
    before(() => {
      dir = freshDir('huaju4k-simd-');
      input = join(dir, 'in.mp4');
      // Real hand-held footage: the motion blend plans and blends every frame.
      const vf = `select=gte(n\\,10),scale=${W}:${H}:flags=area,setpts=N/20/TB`;
      const made = clip(`cockatoo-handheld-${W}x${H}-10.mp4`, [
        ...['-i', clipPath('cockatoo.mp4'), '-vf', vf, '-r', '20', '-frames:v', '10', '-an'],
        ...['-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '18', '-pix_fmt', 'yuv420p'],
      ]);
      copyFileSync(made, input);
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    /** A job with the default temporal settings at ×2 and this frame budget (MiB); the stage's SIMD blend after it. */
    async function job(name: string, bufferMb: number) {
      const parts = createTemporal(new ReplicateUpscaler(2), { strength: 'medium', reuse: true, motion: 'flow' });
      const tools = findFfmpegTools();
      const output = join(dir, name);
      await runEnhance(
        { input, output, scale: 2, encoder: { codec: 'libx264' }, bufferMb },
        {
          tools,
          info: await probeMedia(tools.ffprobe, input),
          model: { id: 'replicate', path: '', scale: 2, sha256: '', executionProvider: 'cpu', precision: 'fp32' },
          upscaler: parts.upscaler,
          stages: parts.stages,
          temporal: parts,
          tile: 0,
          emit: () => {},
        },
      );
      return {
        hash: videoStreamHash(output),
        simd: parts.stage?.simd,
        blended: parts.stage?.blendedFrames ?? 0,
        parts,
      };
    }

    it('runs the job’s blends when they fit; the typed arrays, with the same bytes, when they do not', async () => {
      const roomy = await job('roomy.mp4', 64);
      assert.ok(roomy.simd, 'the SIMD blend kept');
      assert.ok(roomy.blended >= 8, `${roomy.blended} frames blended`);
      assert.equal(roomy.simd.runs, roomy.blended, 'every blend ran in the module');
      // Exactly what the frames need beside the SIMD blend's copies, less one byte.
      const outBytes = W * 2 * H * 2 * 3;
      const simd = simdHeldBytes(outBytes, 2, roomy.parts);
      assert.equal(simd, simdBlendBytes(outBytes, 2, roomy.parts.stage?.primeFrames ?? 0));
      const need = W * H * 3 + outBytes + heldOutputBytes(outBytes, roomy.parts) + simd;
      const tight = await job('tight.mp4', (need - 1) / 2 ** 20);
      assert.equal(tight.simd, undefined, 'no room: the typed arrays');
      assert.equal(tight.blended, roomy.blended);
      assert.equal(tight.hash, roomy.hash, 'the same video stream');
    });
  });
});
