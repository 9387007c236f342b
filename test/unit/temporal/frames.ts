import { execFileSync } from 'node:child_process';
import type { FrameUpscaler } from '../../../src/engine/pipeline/pipeline-types';

/** Deterministic PRNG (mulberry32) so property tests replay. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A textured RGB24 frame (smooth gradients plus fine detail), like a real picture's low-res input. */
export function texture(width: number, height: number, seed = 1): Buffer {
  const r = rng(seed);
  const f = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      f[i] = (x * 255) / width;
      f[i + 1] = (y * 255) / height;
      f[i + 2] = 64 + Math.floor(r() * 128);
    }
  }
  return f;
}

/** `frame` plus uniform noise in [−amp, amp] on every byte (compression-like), clamped. */
export function withNoise(frame: Uint8Array, amp: number, seed: number): Buffer {
  const r = rng(seed);
  const out = Buffer.from(frame);
  for (let i = 0; i < out.length; i++) out[i] = Math.max(0, Math.min(255, frame[i] + Math.round((r() * 2 - 1) * amp)));
  return out;
}

/** Paints a solid square (RGB) into a copy of `frame`. */
export function withSquare(
  frame: Uint8Array,
  width: number,
  sq: { x: number; y: number; size: number; rgb: [number, number, number] },
): Buffer {
  const out = Buffer.from(frame);
  const height = frame.length / 3 / width;
  for (let y = sq.y; y < Math.min(height, sq.y + sq.size); y++) {
    for (let x = sq.x; x < Math.min(width, sq.x + sq.size); x++) out.set(sq.rgb, (y * width + x) * 3);
  }
  return out;
}

/**
 * Pixel replication ×scale: a real FrameUpscaler whose output shows exactly which input it was made from (every
 * scale-th output pixel is an input pixel), which lets tests check what a reused tile was computed from.
 */
export class ReplicateUpscaler implements FrameUpscaler {
  calls = 0;
  pixels = 0;
  constructor(readonly scale = 2) {}
  async upscale(frame: Uint8Array, width: number, height: number): Promise<Buffer> {
    this.calls++;
    this.pixels += width * height;
    const s = this.scale;
    const out = Buffer.allocUnsafeSlow(width * s * height * s * 3);
    for (let y = 0; y < height * s; y++) {
      for (let x = 0; x < width * s; x++) {
        const i = (Math.floor(y / s) * width + Math.floor(x / s)) * 3;
        out.set(frame.subarray(i, i + 3), (y * width * s + x) * 3);
      }
    }
    return out;
  }
}

export function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}

/**
 * A real pan: a width×height window sliding `step` low-res pixels per frame (right and down) over a real picture
 * (`png`), with uniform noise of ±`noise` levels like a camera's, new every frame. Made at ×4 and area-downscaled,
 * so the low-res shift is exact.
 */
export function realPanFrames(
  png: string,
  o: { width: number; height: number; frames: number; step: [number, number]; noise: number },
): Buffer[] {
  const S = 4;
  const out: Buffer[] = [];
  for (let i = 0; i < o.frames; i++) {
    const x = (10 + i * o.step[0]) * S;
    const y = (6 + i * o.step[1]) * S;
    const vf = `crop=${o.width * S}:${o.height * S}:${x}:${y},scale=${o.width}:${o.height}:flags=area,format=rgb24`;
    const raw = execFileSync('ffmpeg', ['-v', 'error', '-i', png, '-vf', vf, '-f', 'rawvideo', 'pipe:1'], {
      maxBuffer: 1 << 24,
    });
    out.push(withNoise(raw, o.noise, i));
  }
  return out;
}
