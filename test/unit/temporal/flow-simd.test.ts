import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { lumaOf } from '../../../src/engine/temporal/change-mask';
import { FLOW_FINEST_PIXELS } from '../../../src/engine/temporal/create';
import { opticalFlowHere, SimdFlow } from '../../../src/engine/temporal/flow-simd';
import {
  flowRegion,
  type Rect,
  regionFlow,
  typedChangedBlocks,
  typedConsistentMask,
} from '../../../src/engine/temporal/motion';
import {
  FLOW_DEFAULTS,
  type FlowField,
  type FlowOptions,
  opticalFlow,
} from '../../../src/engine/temporal/optical-flow';
import { clipPath, decodeRgbFrames } from '../../../tools/models/calibrate';
import { compileFlowWasm, FLOW_WASM_MODULE, flowWasmModule } from '../../../tools/wasm/build';

/** Luma planes of real footage: cockatoo.mp4 from frame 10 (hand-held: the camera shakes and tilts). */
function handheld(w: number, h: number, frames: number): Uint8Array[] {
  const vf = `select=gte(n\\,10),scale=${w}:${h}:flags=area`;
  return decodeRgbFrames(clipPath('cockatoo.mp4'), vf, w, h, frames).map((rgb) => lumaOf(rgb, w * h));
}

const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** The two flows have the same float32 bytes. */
function assertSameFlow(got: FlowField, want: FlowField, what: string): void {
  assert.deepEqual([got.width, got.height], [want.width, want.height], what);
  assert.ok(bytes(got.u).equals(bytes(want.u)), `${what}: u`);
  assert.ok(bytes(got.v).equals(bytes(want.v)), `${what}: v`);
}

/** Pixels where the flow moves more than a tenth of a pixel (the comparisons are not of zeros). */
const moving = (f: FlowField) => f.u.filter((u, i) => Math.hypot(u, f.v[i]) > 0.1).length;

/** A pair's backward and forward flows, then the next pair's, as the motion estimator asks for them. */
function pairs(simd: SimdFlow, lumas: Uint8Array[], w: number, h: number, o: FlowOptions, what: string): number {
  let moved = 0;
  for (let t = 1; t < lumas.length; t++)
    for (const [a, b] of [
      [t, t - 1],
      [t - 1, t],
    ]) {
      const want = opticalFlow(lumas[a], lumas[b], w, h, o);
      assertSameFlow(simd.flow(lumas[a], lumas[b], w, h, o), want, `${what}, ${a} → ${b}`);
      moved += moving(want);
    }
  return moved;
}

describe('temporal: the optical flow in WebAssembly (flow-simd.ts, issue 33)', function () {
  this.timeout(300000);

  it('the generated module is wasm/flow.ts compiled (npm run build:wasm)', async () => {
    const text = flowWasmModule(await compileFlowWasm());
    assert.equal(readFileSync(FLOW_WASM_MODULE, 'utf8'), text, 'run `npm run build:wasm` after changing wasm/flow.ts');
  });

  for (const [w, h] of [
    [97, 55],
    [161, 91],
    [320, 180],
  ] as const)
    it(`gives opticalFlow()’s float32 bytes on real footage at ${w}×${h}, with several options`, () => {
      const simd = SimdFlow.create();
      assert.ok(simd, 'WebAssembly is available');
      const lumas = handheld(w, h, 4);
      const options: FlowOptions[] = [
        {},
        { finestPixels: FLOW_FINEST_PIXELS },
        { finestPixels: Math.floor((w * h) / 5) },
        { radius: 1, iterations: 2 },
        { radius: 5, iterations: 6, lambda: 0.05, minSide: 8 },
        { radius: 2, iterations: 1, minSide: 40 },
        // Windows wider than the coarsest levels (5×3 and smaller).
        { radius: 9, iterations: 2, minSide: 3 },
      ];
      let moved = 0;
      for (const o of options) moved += pairs(simd, lumas, w, h, o, `${w}×${h} ${JSON.stringify(o)}`);
      assert.equal(simd.failure, undefined);
      assert.equal(simd.counts.flows, options.length * 6);
      assert.ok(moved > options.length * w * h, `${moved} pixels moved: the footage moves`);
    });

  it('gives opticalFlow()’s bytes on a 960×540 plane, the engine’s options and every level', () => {
    const simd = SimdFlow.create();
    assert.ok(simd);
    const lumas = handheld(960, 540, 3);
    for (const o of [{ finestPixels: FLOW_FINEST_PIXELS }, FLOW_DEFAULTS])
      assert.ok(pairs(simd, lumas, 960, 540, o, `960×540 ${JSON.stringify(o)}`) > 960 * 540);
    assert.equal(simd.failure, undefined);
  });
});

describe('temporal: the WebAssembly optical flow’s memory (flow-simd.ts)', function () {
  this.timeout(120000);

  it('builds each plane’s pyramid and template once: the second flow of a pair and the next pair reuse them', () => {
    const simd = SimdFlow.create();
    assert.ok(simd);
    const [a, b, c] = handheld(120, 68, 3);
    const o = { finestPixels: 0 };
    const levels = 3; // 120×68 → 60×34 → 30×17
    simd.flow(b, a, 120, 68, o);
    assert.deepEqual(simd.counts, { flows: 1, pyramids: 2, templates: levels });
    simd.flow(a, b, 120, 68, o);
    assert.deepEqual(simd.counts, { flows: 2, pyramids: 2, templates: 2 * levels });
    simd.flow(c, b, 120, 68, o);
    simd.flow(b, c, 120, 68, o);
    assert.deepEqual(simd.counts, { flows: 4, pyramids: 3, templates: 3 * levels }, 'b was kept, its template too');
    // Another radius: the template again, not the pyramid; then the result is still opticalFlow()'s.
    assertSameFlow(simd.flow(b, c, 120, 68, { radius: 2 }), opticalFlow(b, c, 120, 68, { radius: 2 }), 'radius 2');
    assert.deepEqual(simd.counts, { flows: 5, pyramids: 3, templates: 4 * levels });
  });

  it('planes of changing sizes one after another (the motion regions), in one memory', () => {
    const simd = SimdFlow.create();
    assert.ok(simd);
    let moved = 0;
    for (const [w, h] of [
      [200, 120],
      [64, 40],
      [201, 121],
      [33, 17],
      [250, 150],
    ]) {
      const [p, q] = handheld(w, h, 2);
      const want = opticalFlow(p, q, w, h);
      assertSameFlow(simd.flow(p, q, w, h), want, `${w}×${h}`);
      moved += moving(want);
    }
    assert.equal(simd.failure, undefined);
    assert.ok(moved > 1000);
  });
});

/** The module's mask is the TypeScript's, byte for byte; returns how many pixels of it are consistent. */
function assertSameMask(simd: SimdFlow, back: FlowField, fwd: FlowField, region: Rect | undefined, what: string) {
  const want = typedConsistentMask(back, fwd, region);
  const got = simd.consistentMask(back, fwd, region);
  assert.ok(got, `${what}: the module computed it`);
  assert.ok(Buffer.from(got).equals(Buffer.from(want)), `${what}: the same bytes`);
  return want.reduce((a, b) => a + b, 0);
}

/** A pair's backward and forward flows as the flow worker computes them (regionFlow()), and the pair's region. */
function linkFlows(lumas: Uint8Array[], t: number, w: number, h: number) {
  const o = { finestPixels: FLOW_FINEST_PIXELS };
  const back = regionFlow(lumas[t], lumas[t - 1], w, h, o);
  const fwd = regionFlow(lumas[t - 1], lumas[t], w, h, o);
  return { back, fwd, region: flowRegion(lumas[t], lumas[t - 1], w, h) };
}

/**
 * Vectors that are not numbers, infinite, huge, ±0, tiny, leading exactly onto the frame's right and bottom edges
 * and just above it, in the backward flow (every 7th pixel, so that each pair of pixels has one); NaNs and huge
 * values in the forward flow where it is sampled.
 */
function spoil(back: FlowField, fwd: FlowField): void {
  const { width: w, height: h } = back;
  const odd = [NaN, Infinity, -Infinity, 1e30, -1e30, -0, 0.5, -0.5, 1e-12, -1e-12];
  for (let i = 0; i < w * h; i += 7) {
    const [x, y] = [i % w, Math.floor(i / w)];
    const k = (i / 7) % 14;
    if (k < 10) back.u[i] = odd[k];
    else if (k === 10) back.u[i] = w - 1 - x;
    else if (k === 11) back.v[i] = h - 1 - y;
    else if (k === 12) back.v[i] = -y - 1e-3;
    else fwd.v[i] = NaN;
  }
  for (let i = 3; i < w * h; i += 11) fwd.u[i] = i % 2 ? NaN : 1e20;
}

describe('temporal: the consistency mask and the flow region in WebAssembly (flow-simd.ts, motion.ts)', function () {
  this.timeout(300000);

  for (const [w, h] of [
    [97, 55],
    [161, 91],
    [320, 180],
    [960, 540],
  ] as const)
    it(`consistentMask() gives the TypeScript’s bytes on real footage at ${w}×${h}, in and without a region`, () => {
      const simd = SimdFlow.create();
      assert.ok(simd);
      const lumas = handheld(w, h, 3);
      for (let t = 1; t < lumas.length; t++) {
        const { back, fwd, region } = linkFlows(lumas, t, w, h);
        const whole = assertSameMask(simd, back, fwd, undefined, `${w}×${h} frame ${t}, the whole frame`);
        assert.ok(whole > 0 && whole < w * h, `${whole} of ${w * h} consistent: both answers occur`);
        assertSameMask(simd, back, fwd, region, `${w}×${h} frame ${t}, its region`);
        assertSameMask(simd, back, fwd, { x: 0, y: 0, w: 0, h: 0 }, `${w}×${h} frame ${t}, an empty region`);
        const inner = { x: 3, y: 5, w: Math.floor(w / 2) + 1, h: Math.floor(h / 3) + 1 };
        assertSameMask(simd, back, fwd, inner, `${w}×${h} frame ${t}, ${JSON.stringify(inner)}`);
      }
      assert.equal(simd.failure, undefined);
    });

  it('consistentMask() with vectors that are not numbers, out of the frame, or on its edges', () => {
    const simd = SimdFlow.create();
    assert.ok(simd);
    const [w, h] = [161, 91];
    const { back, fwd } = linkFlows(handheld(w, h, 2), 1, w, h);
    spoil(back, fwd);
    const count = assertSameMask(simd, back, fwd, undefined, 'odd vectors, the whole frame');
    assert.ok(count > 0 && count < w * h);
    assertSameMask(simd, back, fwd, { x: 1, y: 2, w: w - 3, h: h - 5 }, 'odd vectors, a region');
  });

  it('flowRegion()’s blocks are the TypeScript’s: real footage at odd sizes, one changed part, no change', () => {
    const simd = SimdFlow.create();
    assert.ok(simd);
    let found = 0;
    for (const [w, h] of [
      [97, 55],
      [161, 91],
      [320, 180],
      [17, 9],
      [15, 7],
      [8, 8],
      [1, 1],
    ]) {
      const [p, q] = handheld(w, h, 2);
      // Only a part changes (the rest of `part` is p's), and one pixel at the far corner.
      const part = p.slice();
      for (let y = Math.floor(h / 3); y < Math.floor(h / 2); y++)
        part.set(q.subarray(y * w + Math.floor(w / 4), y * w + Math.floor(w / 2)), y * w + Math.floor(w / 4));
      const corner = p.slice();
      corner[w * h - 1] = p[w * h - 1] > 127 ? 0 : 255;
      for (const [a, b, what] of [
        [p, q, 'two frames'],
        [q, p, 'the other way'],
        [p, part, 'a part'],
        [p, corner, 'the last pixel'],
        [p, p, 'the same frame'],
      ] as const) {
        const want = typedChangedBlocks(a, b, w, h);
        assert.deepEqual(simd.changedBlocks(a, b, w, h, 2), want, `${w}×${h}, ${what}`);
        if (want) found++;
      }
    }
    assert.ok(found >= 20, `${found} pairs with changed blocks`);
    assert.equal(simd.failure, undefined);
  });
});

describe('temporal: the WebAssembly optical flow’s callers (flow-simd.ts)', function () {
  this.timeout(120000);

  it('regionFlow() (the estimator and the flow worker) gives the TypeScript’s flow on a cropped region', () => {
    const [p, q] = handheld(160, 90, 2);
    // Only a part changes: the rest of q is p's.
    const part = p.slice();
    for (let y = 30; y < 60; y++) part.set(q.subarray(y * 160 + 50, y * 160 + 110), y * 160 + 50);
    const o = { finestPixels: FLOW_FINEST_PIXELS };
    const got = regionFlow(p, part, 160, 90, o);
    const r = flowRegion(p, part, 160, 90);
    assert.ok(r && r.w * r.h < 160 * 90, 'a region smaller than the frame');
    const crop = (plane: Uint8Array) => {
      const out = new Uint8Array(r.w * r.h);
      for (let y = 0; y < r.h; y++)
        out.set(plane.subarray((r.y + y) * 160 + r.x, (r.y + y) * 160 + r.x + r.w), y * r.w);
      return out;
    };
    const want = opticalFlow(crop(p), crop(part), r.w, r.h, o);
    let inside = 0;
    for (let y = 0; y < 90; y++)
      for (let x = 0; x < 160; x++) {
        const i = y * 160 + x;
        const j = x >= r.x && x < r.x + r.w && y >= r.y && y < r.y + r.h ? (y - r.y) * r.w + (x - r.x) : -1;
        assert.ok(
          Object.is(got.u[i], j < 0 ? 0 : want.u[j]) && Object.is(got.v[i], j < 0 ? 0 : want.v[j]),
          `(${x}, ${y})`,
        );
        if (j >= 0 && Math.hypot(got.u[i], got.v[i]) > 0.1) inside++;
      }
    assert.ok(inside > 100, `${inside} pixels move`);
    assertSameFlow(opticalFlowHere(p, q, 160, 90), opticalFlow(p, q, 160, 90), 'opticalFlowHere');
  });

  it('with HUAJU4K_BLEND_SIMD=0 the TypeScript computes it, with the same bytes', () => {
    const script = [
      "const { opticalFlowHere, flowModule } = require('./src/engine/temporal/flow-simd');",
      "const { lumaOf } = require('./src/engine/temporal/change-mask');",
      "const { clipPath, decodeRgbFrames } = require('./tools/models/calibrate');",
      "const vf = 'select=gte(n\\\\,10),scale=97:55:flags=area';",
      "const [p, q] = decodeRgbFrames(clipPath('cockatoo.mp4'), vf, 97, 55, 2).map((c) => lumaOf(c, 97 * 55));",
      'const f = opticalFlowHere(p, q, 97, 55);',
      "const { consistentMask, flowRegion } = require('./src/engine/temporal/motion');",
      'const mask = consistentMask(f, opticalFlowHere(q, p, 97, 55));',
      "process.stdout.write(JSON.stringify({ module: flowModule() !== null, u: Buffer.from(f.u.buffer).toString('base64'), v: Buffer.from(f.v.buffer).toString('base64'), mask: Buffer.from(mask).toString('base64'), region: flowRegion(p, q, 97, 55) }));",
    ].join('\n');
    const root = join(__dirname, '..', '..', '..');
    const run = (env: NodeJS.ProcessEnv) =>
      JSON.parse(
        execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: root, env, encoding: 'utf8' }),
      ) as { module: boolean; u: string; v: string; mask: string; region: Rect };
    const off = run({ ...process.env, HUAJU4K_BLEND_SIMD: '0' });
    const on = run({ ...process.env, HUAJU4K_BLEND_SIMD: '1' });
    assert.deepEqual([off.module, on.module], [false, true]);
    const hash = (r: { u: string; v: string }) => createHash('sha256').update(r.u).update(r.v).digest('hex');
    assert.equal(hash(off), hash(on));
    const [p, q] = handheld(97, 55, 2);
    const want = opticalFlow(p, q, 97, 55);
    assert.equal(off.u, bytes(want.u).toString('base64'));
    // The consistency mask and the flow region too.
    assert.equal(off.mask, on.mask);
    assert.deepEqual(off.region, on.region);
    assert.ok(Buffer.from(on.mask, 'base64').includes(1) && Buffer.from(on.mask, 'base64').includes(0));
  });
});
