import type { InferenceSession } from 'onnxruntime-node';
import { FramePool } from './frame-pool';
import { ort } from './model/ort';
import { copyRgbRegion, planTiles, type TileRect } from './tiler';

/** What the upscaler needs of a loaded model (model/loader.ts's LoadedModel has all of it). */
export interface UpscaleModel {
  scale: number;
  inputName: string;
  outputName: string;
  /** A session with rgb24 input and output (model/rgb24-io.ts): uint8 [1,H,W,3] → uint8 [1,sH,sW,3]. */
  session: InferenceSession;
}

/** One tile through the model: packed rgb24 width×height in, packed rgb24 ×scale written into `out`. */
export interface TileModel {
  readonly scale: number;
  runTile(input: Uint8Array, width: number, height: number, out: Uint8Array): Promise<void>;
}

/**
 * The session runs the tile from uint8 to uint8; its output tensor is pre-allocated over `out`, so onnxruntime
 * writes the pixels where they are needed instead of allocating a fresh output for every tile.
 */
export function sessionTileModel(model: UpscaleModel): TileModel {
  const { scale, inputName, outputName, session } = model;
  return {
    scale,
    async runTile(input, width, height, out) {
      const { Tensor } = ort();
      const dims = [1, height * scale, width * scale, 3];
      const fetch = new Tensor('uint8', out, dims);
      const result = await session.run(
        { [inputName]: new Tensor('uint8', input, [1, height, width, 3]) },
        { [outputName]: fetch },
      );
      const t = result[outputName];
      const got = t.data as Uint8Array;
      if (t.dims.join() !== dims.join() || got.byteLength !== out.byteLength) {
        throw new Error(`model returned [${t.dims.join(',')}] for a ${width}x${height} tile, expected ×${scale} rgb24`);
      }
      // A provider that ignored the pre-allocated output: take its pixels.
      if (got.buffer !== out.buffer || got.byteOffset !== out.byteOffset) out.set(got);
    },
  };
}

export interface UpscalerOptions {
  /** Tile size in low-res pixels; 0 = whole frame. */
  tile: number;
  /** Context around each tile, low-res pixels (≥ 10). */
  pad: number;
}

/** The tile-reuse wrapper sends areas of many sizes: keep buffers and plans for only a few sizes at a time. */
const MAX_CACHED_SIZES = 8;

function cached<T>(map: Map<string, T>, key: string, make: () => T): T {
  let v = map.get(key);
  if (!v) {
    if (map.size >= MAX_CACHED_SIZES) map.clear();
    v = make();
    map.set(key, v);
  }
  return v;
}

/**
 * Runs the model over a frame tile by tile. `session.run` is asynchronous and executes on ORT's own threads, so
 * while a frame is in the model the JS thread keeps the decoder and encoder pipes moving. Tiles are cut out of the
 * frame and stitched into the output by row copies; a single tile covering the frame reads the frame itself and
 * writes straight into the output frame. Output frames come from a pool: `release` hands one back once the
 * encoder has written it.
 */
export class TileUpscaler {
  readonly scale: number;
  private readonly model: TileModel;
  private readonly pool = new FramePool();
  private readonly tileBuffers = new Map<string, Uint8Array>();
  private readonly plans = new Map<string, TileRect[]>();

  constructor(
    model: UpscaleModel | TileModel,
    readonly opts: UpscalerOptions,
  ) {
    this.model = 'session' in model ? sessionTileModel(model) : model;
    this.scale = model.scale;
  }

  private plan(width: number, height: number): TileRect[] {
    return cached(this.plans, `${width}x${height}`, () => planTiles(width, height, this.opts.tile, this.opts.pad));
  }

  private tileBuffer(which: 'in' | 'out', bytes: number): Uint8Array {
    return cached(this.tileBuffers, `${which}${bytes}`, () => new Uint8Array(bytes));
  }

  /** Upscales one packed RGB24 frame; returns packed RGB24 of (scale·width)×(scale·height). */
  async upscale(frame: Uint8Array, width: number, height: number): Promise<Buffer> {
    if (frame.byteLength !== width * height * 3) {
      throw new RangeError(
        `frame has ${frame.byteLength} bytes, expected ${width * height * 3} for ${width}x${height}`,
      );
    }
    const s = this.scale;
    const outWidth = width * s;
    // Its own ArrayBuffer: the inference worker transfers it to the main thread without a copy.
    const out = this.pool.acquire(outWidth * height * s * 3);
    for (const r of this.plan(width, height)) {
      if (r.pw === width && r.ph === height) {
        await this.model.runTile(frame, width, height, out);
        continue;
      }
      const input = this.tileBuffer('in', r.pw * r.ph * 3);
      copyRgbRegion(frame, width, r.px, r.py, input, r.pw, 0, 0, r.pw, r.ph);
      const tileOut = this.tileBuffer('out', r.pw * r.ph * s * s * 3);
      await this.model.runTile(input, r.pw, r.ph, tileOut);
      const sx = (r.x - r.px) * s;
      const sy = (r.y - r.py) * s;
      copyRgbRegion(tileOut, r.pw * s, sx, sy, out, outWidth, r.x * s, r.y * s, r.w * s, r.h * s);
    }
    return out;
  }

  /** Takes back an output frame nothing reads any more; a later frame reuses its memory. */
  release(frame: Buffer): void {
    this.pool.release(frame);
  }
}
