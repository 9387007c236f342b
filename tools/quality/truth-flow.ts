import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, python, type QualityClip } from './clips';

/** Backward flow of ground-truth frame t onto t−1 and where it is trustworthy (see truth_flow.py). */
export interface TruthFlow {
  u: Float32Array;
  v: Float32Array;
  mask: Uint8Array;
}

const SCRIPT = join(__dirname, 'truth_flow.py');

/** The two independent graders (both OpenCV): Farnebäck's polynomial expansion and DIS (dense inverse search). */
export type FlowGrader = 'farneback' | 'dis';

/**
 * The ground truth's own optical flow, from OpenCV's Farnebäck — deliberately not the engine's flow, so the
 * warping error below does not grade the engine with its own motion estimate. Cached per clip.
 */
export function truthFlows(clip: QualityClip, key: string, grader: FlowGrader = 'farneback'): TruthFlow[] {
  const { width: w, height: h } = clip;
  const out = join(cacheDir(), `flow-${grader}-${key}-${w}x${h}-${clip.truth.length}.bin`);
  if (!existsSync(out)) {
    const frames = join(cacheDir(), `tmp-${process.pid}-frames.rgb`);
    const tmp = `${out}.tmp-${process.pid}`;
    writeFileSync(frames, Buffer.concat(clip.truth));
    try {
      execFileSync(python(), [SCRIPT, String(w), String(h), frames, tmp, grader], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw new Error(
        `quality: the ground-truth flow needs OpenCV for Python (apt-get install python3-opencv, or set ` +
          `HUAJU4K_PYTHON to an interpreter with cv2): ${why}`,
      );
    } finally {
      rmSync(frames, { force: true });
    }
    writeFileSync(out, readFileSync(tmp));
    rmSync(tmp);
  }
  const bytes = readFileSync(out);
  const n = w * h;
  const per = n * 9;
  if (bytes.length !== per * (clip.truth.length - 1))
    throw new Error(`quality: ${out} has ${bytes.length} bytes, expected ${per * (clip.truth.length - 1)}`);
  const flows: TruthFlow[] = [];
  for (let o = 0; o < bytes.length; o += per) {
    const f = new Float32Array(bytes.buffer.slice(bytes.byteOffset + o, bytes.byteOffset + o + n * 8));
    flows.push({ u: f.subarray(0, n), v: f.subarray(n), mask: Uint8Array.from(bytes.subarray(o + n * 8, o + per)) });
  }
  return flows;
}
