import { sharedBytes } from '../thread-worker';
import { lumaHere, sceneCutHere } from './reuse-simd';

/**
 * A decoded frame's luma plane and the scene-cut test between two frames, computed once per frame in this thread
 * although three parts ask for them: the flow prefetch when the frame is decoded, tile reuse before the model, the
 * temporal stage after it (issue 33). Found again by the frame's identity: the decoder hands every frame in a buffer
 * of its own and nothing writes into a decoded frame (the model writes its output elsewhere), so the same object
 * holds the same bytes. A frame seen for the first time, or by another thread, is computed as before; the planes
 * are what lumaOf() and isSceneCut() give (computed in WebAssembly where it is available: reuse-simd.ts), the planes
 * on a SharedArrayBuffer.
 */
const lumas = new WeakMap<Uint8Array, Uint8Array>();
const cuts = new WeakMap<Uint8Array, { prev: Uint8Array; cut: boolean }>();

/** lumaOf() of this frame (`pixels` pixels of RGB), the plane made at its first use. Never write into it. */
export function frameLuma(rgb: Uint8Array, pixels: number): Uint8Array {
  const known = lumas.get(rgb);
  if (known && known.length === pixels) return known;
  // Shared: the warp worker reads it without a copy.
  const luma = lumaHere(rgb, pixels, sharedBytes(pixels));
  lumas.set(rgb, luma);
  return luma;
}

/** isSceneCut(cur, prev) of two planes frameLuma() gave, tested once per pair. */
export function frameSceneCut(cur: Uint8Array, prev: Uint8Array): boolean {
  const known = cuts.get(cur);
  if (known?.prev === prev) return known.cut;
  const cut = sceneCutHere(cur, prev);
  cuts.set(cur, { prev, cut });
  return cut;
}
