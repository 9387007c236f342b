import { ExitCode } from '../../protocol/engine-events';
import { EngineError } from '../errors';
import type { FrameUpscaler } from '../pipeline/pipeline-types';
import { MIN_TILE } from './budget';
import type { EngineWarning } from './select-provider';

export type OomWarning = EngineWarning;

/**
 * Messages onnxruntime and its providers give when a run cannot get memory: the BFC arena (CPU and CUDA),
 * CUDA/cuDNN/cuBLAS, TensorRT, WebGPU (Dawn) and C++ `bad_alloc`. Anything else is not a memory problem and is not
 * retried (a smaller tile would fail the same way).
 */
const ALLOCATION_FAILURE = [
  /Failed to allocate memory/i,
  /\bout of memory\b/i,
  /OutOfMemory/,
  /cudaErrorMemoryAllocation/,
  /CUDA failure 2\b/,
  /(CUDNN|CUBLAS)_STATUS_ALLOC_FAILED/,
  /std::bad_alloc|\bbad_alloc\b/,
  /Failed to create buffer|buffer allocation failed/i,
];

export function isAllocationFailure(err: unknown): boolean {
  if (err instanceof EngineError) return false;
  const message = err instanceof Error ? err.message : typeof err === 'string' ? err : '';
  return ALLOCATION_FAILURE.some((re) => re.test(message));
}

/** An upscaler whose tile can change between frames (the inference worker, or an in-thread one). */
export interface RetileableUpscaler extends FrameUpscaler {
  /** Current tile side in low-res pixels; 0 = whole frame. */
  readonly tile: number;
  setTile(tile: number): void | Promise<void>;
}

export interface OomOptions {
  /** Give up below this tile side (default MIN_TILE). */
  minTile?: number;
  onWarning: (warning: EngineWarning) => void;
}

/** Half of `side`, rounded down to a multiple of 8 (tiles stay friendly to the NCHWc/cuDNN kernels). */
export function halveTile(side: number): number {
  const half = Math.floor(side / 2);
  return half >= 16 ? half - (half % 8) : half;
}

const tileLabel = (tile: number, w: number, h: number): string => (tile > 0 ? `${tile}` : `whole frame ${w}x${h}`);

/**
 * Wraps an upscaler so that running out of memory degrades instead of failing: an allocation failure halves the
 * tile and retries the same frame (a `oom-tile-halved` warning each time), and the smaller tile stays for the
 * following frames; below the minimum it gives up with an `out-of-memory` EngineError. It is a FrameUpscaler itself,
 * so a reuse-aware upscaler can wrap it in turn.
 */
export class OomDegradingUpscaler implements FrameUpscaler {
  private readonly minTile: number;

  constructor(
    private readonly inner: RetileableUpscaler,
    private readonly opts: OomOptions,
  ) {
    this.minTile = opts.minTile ?? MIN_TILE;
  }

  get scale(): number {
    return this.inner.scale;
  }

  get tile(): number {
    return this.inner.tile;
  }

  release(frame: Buffer): void {
    this.inner.release?.(frame);
  }

  async upscale(frame: Uint8Array, width: number, height: number): Promise<Buffer> {
    const tried: string[] = [];
    for (;;) {
      try {
        return await this.inner.upscale(frame, width, height);
      } catch (err) {
        if (!isAllocationFailure(err)) throw err;
        const tile = this.inner.tile;
        tried.push(tileLabel(tile, width, height));
        const side = tile > 0 ? Math.min(tile, Math.max(width, height)) : Math.max(width, height);
        const next = halveTile(side);
        const detail = (err as Error).message.split('\n')[0];
        if (next < this.minTile) {
          throw new EngineError(
            ExitCode.environment,
            'out-of-memory',
            `out of memory running the model even at tile ${side} (tried ${tried.join(', ')}; ` +
              `the next halving, ${next}, is below the minimum ${this.minTile}): ${detail}`,
            'free memory (close other GPU/memory-hungry programs), use a smaller model, or try --ep cpu',
          );
        }
        await this.inner.setTile(next);
        this.opts.onWarning({
          code: 'oom-tile-halved',
          message: `out of memory at tile ${tileLabel(tile, width, height)} (${detail}); retrying the frame with tile ${next}`,
        });
      }
    }
  }
}
