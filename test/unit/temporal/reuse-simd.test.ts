import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isSceneCut, lumaOf, SCENE_CUT_MEAN_DIFF } from '../../../src/engine/temporal/change-mask';
import { type GrainMeasures, grainMeasures, median } from '../../../src/engine/temporal/grain-gate';
import { type FlowField, opticalFlow } from '../../../src/engine/temporal/optical-flow';
import { lumaHere, SimdReuse, sceneCutHere, TileMeasures } from '../../../src/engine/temporal/reuse-simd';
import { TileShifts, tileChange } from '../../../src/engine/temporal/tile-change';
import { clipPath, decodeRgbFrames } from '../../../tools/models/calibrate';
import { compileReuseWasm, REUSE_WASM_MODULE, reuseWasmModule } from '../../../tools/wasm/build';
import { rng, withNoise } from './frames';

/** RGB frames of real footage: cockatoo.mp4 from frame 10 (hand-held: the camera shakes and tilts). */
function handheld(w: number, h: number, frames: number): Uint8Array[] {
  const vf = `select=gte(n\\,10),scale=${w}:${h}:flags=area`;
  return decodeRgbFrames(clipPath('cockatoo.mp4'), vf, w, h, frames);
}

const bytes = (a: Float32Array | Float64Array | Int32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** Every tile's tileChange() in place, in TypeScript. */
function levelsOf(frame: Uint8Array, ref: Uint8Array, width: number, height: number, t: number): Float32Array {
  const levels: number[] = [];
  for (let y = 0; y < height; y += t)
    for (let x = 0; x < width; x += t)
      levels.push(tileChange(frame, ref, width, { x, y, w: Math.min(t, width - x), h: Math.min(t, height - y) }));
  return Float32Array.from(levels);
}

/** Every tile's shift, from TileShifts.at(). */
function shiftsOf(s: TileShifts, tiles: number): Int32Array {
  const out = new Int32Array(tiles * 2);
  for (let i = 0; i < tiles; i++) [out[2 * i], out[2 * i + 1]] = [s.at(i).dx, s.at(i).dy];
  return out;
}

function assertSameMeasures(got: GrainMeasures, want: GrainMeasures, what: string): void {
  for (const k of ['windows', 'levels', 'residual', 'residualWindows', 'moved'] as const)
    assert.ok(bytes(got[k]).equals(bytes(want[k])), `${what}: ${k}`);
}

/**
 * TileMeasures' levels and grain measures (with the shifts they find) against the TypeScript's for `frame` against
 * `ref` with this flow; the number of tiles measured at a shift (so that the comparison is not of in-place ones only).
 */
function compare(frame: Uint8Array, ref: Uint8Array, flow: FlowField, t: number, what: string): number {
  const { width, height } = flow;
  const size = { width, height, tile: t };
  const m = new TileMeasures(frame, ref, size);
  const want = levelsOf(frame, ref, width, height, t);
  const levels = m.levels();
  assert.ok(bytes(levels).equals(bytes(want)), `${what}: levels`);
  const simdShifts = new TileShifts(() => flow, size);
  const tsShifts = new TileShifts(() => flow, size);
  const got = m.grain(levels, simdShifts);
  assertSameMeasures(got, grainMeasures(frame, ref, { width, height }, want, tsShifts), what);
  assert.ok(bytes(shiftsOf(simdShifts, want.length)).equals(bytes(shiftsOf(tsShifts, want.length))), `${what}: shifts`);
  // One tile at a time (the shift search's), at the flow's shifts and one pixel to the left.
  for (let i = 0; i < want.length; i++) {
    const box = tsShifts.box(i);
    const { dx, dy } = tsShifts.at(i);
    for (const [sx, sy] of [
      [dx, dy],
      [-1, 0],
    ])
      if (box.x + sx >= 0 && box.y + sy >= 0 && box.x + box.w + sx <= width && box.y + box.h + sy <= height)
        assert.equal(
          m.change(box, sx, sy),
          tileChange(frame, ref, width, box, sx, sy),
          `${what}: tile ${i} at a shift`,
        );
  }
  return got.moved.filter((x) => !Number.isNaN(x)).length;
}

describe('temporal: the reuse measures in WebAssembly (reuse-simd.ts, issue 33)', function () {
  this.timeout(300000);

  it('the generated module is wasm/reuse.ts compiled (npm run build:wasm)', async () => {
    const text = reuseWasmModule(await compileReuseWasm());
    assert.equal(
      readFileSync(REUSE_WASM_MODULE, 'utf8'),
      text,
      'run `npm run build:wasm` after changing wasm/reuse.ts',
    );
  });

  for (const [w, h] of [
    [161, 91],
    [320, 180],
  ] as const)
    it(`gives the TypeScript's numbers on real footage at ${w}×${h}, clean and grainy, tiles of 4 to 16 pixels`, () => {
      assert.ok(SimdReuse.create(), 'WebAssembly is available');
      const frames = handheld(w, h, 4);
      let shifted = 0;
      for (let t = 1; t < frames.length; t++) {
        const flow = opticalFlow(lumaOf(frames[t], w * h), lumaOf(frames[t - 1], w * h), w, h);
        for (const grain of [0, 6]) {
          const cur = grain ? withNoise(frames[t], grain, t) : frames[t];
          const ref = grain ? withNoise(frames[t - 1], grain, t + 100) : frames[t - 1];
          for (const tile of [4, 5, 7, 8, 16])
            shifted += compare(cur, ref, flow, tile, `${w}×${h} frame ${t} grain ${grain} tile ${tile}`);
        }
      }
      assert.ok(shifted > 100, `tiles measured at a shift: ${shifted}`);
    });

  it('finds the medians of flows the module leaves to the TypeScript: wide spans, huge values, NaN, halves', () => {
    const [w, h] = [45, 27];
    const random = rng(7);
    const frame = Uint8Array.from({ length: w * h * 3 }, () => Math.floor(random() * 256));
    const ref = Uint8Array.from({ length: w * h * 3 }, () => Math.floor(random() * 256));
    const plane = (f: (i: number) => number) => Float32Array.from({ length: w * h }, (_, i) => f(i));
    const halves = () => Math.floor(random() * 16) / 2 - 4;
    const below = (x: number) => x - 2 ** (Math.floor(Math.log2(Math.abs(x) || 1)) - 23);
    const edges = [0.5, 1.5, 2.5, 3.5, 5.5].flatMap((x) => [x, -x, below(x), -below(x), x + 2 ** -23, -0]);
    const cases: [string, Float32Array][] = [
      ['halves', plane(halves)],
      ['wide', plane(() => (random() - 0.5) * 200)],
      ['huge', plane((i) => (i % 97 === 0 ? 3e9 : halves()))],
      ['NaN in a corner', plane((i) => (i === 0 ? Number.NaN : halves()))],
      ['tiny', plane(() => (random() - 0.5) * 1e-30)],
      // Next to the halves on both sides, where rounding in the wrong precision would tip over.
      ['edges', plane(() => edges[Math.floor(random() * edges.length)])],
      ['edges at 2²⁰', plane(() => 1048570 + edges[Math.floor(random() * edges.length)])],
      ['edges at −2²⁰', plane(() => -1048570 + edges[Math.floor(random() * edges.length)])],
    ];
    // The module marks the tiles with a wide span, a huge value or a NaN, and TileShifts.at() finds their medians.
    for (const [name, u] of cases)
      for (const [vname, v] of cases) compare(frame, ref, { width: w, height: h, u, v }, 8, `${name}/${vname}`);
  });

  it('HUAJU4K_BLEND_SIMD=0 measures in TypeScript, with the same numbers', () => {
    const script = [
      "const { SimdReuse, TileMeasures } = require('./src/engine/temporal/reuse-simd');",
      'const f = new Uint8Array(60 * 30 * 3).map((_, i) => (i * 7919) % 251);',
      'const r = new Uint8Array(60 * 30 * 3).map((_, i) => (i * 104729) % 241);',
      'const l = new TileMeasures(f, r, { width: 60, height: 30, tile: 8 }).levels();',
      'console.log(JSON.stringify({ module: !!SimdReuse.create(), levels: Buffer.from(l.buffer).toString("base64") }));',
    ].join('\n');
    const root = join(__dirname, '..', '..', '..');
    const run = (env: NodeJS.ProcessEnv) =>
      JSON.parse(
        execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: root, env, encoding: 'utf8' }),
      ) as { module: boolean; levels: string };
    const off = run({ ...process.env, HUAJU4K_BLEND_SIMD: '0' });
    const on = run({ ...process.env, HUAJU4K_BLEND_SIMD: '1' });
    assert.deepEqual([off.module, on.module], [false, true]);
    assert.equal(off.levels, on.levels);
  });
});

describe('temporal: the grain gate’s median by selection (grain-gate.ts, issue 33)', () => {
  it('grain-gate median() is the value a sort puts in the middle: duplicates, zeros, −0 and NaN', () => {
    const random = rng(11);
    for (let n = 1; n < 300; n += 7)
      for (const spread of [1, 4, 1000]) {
        const values = Float32Array.from({ length: n }, () => Math.floor(random() * spread) / 4);
        if (n % 3 === 0) values[n >> 1] = -0;
        if (n % 5 === 0) values[0] = Number.NaN;
        const want = Float32Array.from(values).sort()[n >> 1];
        assert.ok(Object.is(median(values), want), `n ${n} spread ${spread}: ${median(values)} ≠ ${want}`);
      }
  });
});

describe('temporal: luma planes and the scene-cut test in WebAssembly (reuse-simd.ts, issue 33)', () => {
  it('lumaHere() gives lumaOf()’s bytes: real footage at odd sizes, every byte value', () => {
    for (const [w, h] of [
      [161, 91],
      [97, 55],
      [320, 180],
    ] as const)
      for (const rgb of handheld(w, h, 2)) assert.ok(Buffer.from(lumaHere(rgb, w * h)).equals(lumaOf(rgb, w * h)));
    const random = rng(5);
    for (const n of [1, 15, 16, 17, 4099]) {
      const rgb = Uint8Array.from({ length: n * 3 }, (_, i) => (i % 7 === 0 ? 255 : Math.floor(random() * 256)));
      assert.ok(Buffer.from(lumaHere(rgb, n)).equals(lumaOf(rgb, n)), `${n} pixels`);
    }
  });

  it('sceneCutHere() answers as isSceneCut(): real pairs, a cut, and means on either side of the threshold', () => {
    const [w, h] = [161, 91];
    const lumas = handheld(w, h, 3).map((f) => lumaOf(f, w * h));
    const random = rng(9);
    const flat = Uint8Array.from({ length: w * h }, () => 40 + Math.floor(random() * 150));
    // Every pixel 24 levels brighter: the mean difference is the threshold exactly (not a cut by the mean alone);
    // one pixel one level more tips it over.
    const plus = flat.map((x) => x + SCENE_CUT_MEAN_DIFF);
    const over = plus.slice();
    over[100]++;
    const pairs: [string, Uint8Array, Uint8Array, boolean][] = [
      ['consecutive', lumas[1], lumas[0], false],
      ['two apart', lumas[2], lumas[0], false],
      ['inverted', lumas[0].map((x) => 255 - x), lumas[0], true],
      ['at the threshold', plus, flat, false],
      ['just over it', over, flat, true],
      ['empty', new Uint8Array(0), new Uint8Array(0), false],
    ];
    const simd = SimdReuse.create();
    assert.ok(simd, 'WebAssembly is available');
    for (const [name, cur, prev, cut] of pairs) {
      assert.equal(isSceneCut(cur, prev), cut, `${name}: the TypeScript`);
      assert.equal(sceneCutHere(cur, prev), cut, name);
      // Its sums, against their definitions.
      const hc = new Int32Array(16);
      const hp = new Int32Array(16);
      let sum = 0;
      cur.forEach((x, i) => {
        sum += Math.abs(x - prev[i]);
        hc[x >> 4]++;
        hp[prev[i] >> 4]++;
      });
      if (cur.length) assert.deepEqual(simd.sceneCutSums(cur, prev), { sum, hc, hp }, `${name}: sums`);
    }
  });
});
