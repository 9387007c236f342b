import { type InferenceSession, Tensor } from 'onnxruntime-node';
import { planarToRgb, planTiles, rgbToPlanar, type TileRect } from './tiler';

/** What the upscaler needs of a loaded model (model/loader.ts's LoadedModel has all of it). */
export interface UpscaleModel {
  scale: number;
  inputName: string;
  outputName: string;
  session: InferenceSession;
}

export interface UpscalerOptions {
  /** Tile size in low-res pixels; 0 = whole frame. */
  tile: number;
  /** Context around each tile, low-res pixels (≥ 10). */
  pad: number;
}

/**
 * Runs the model over a frame tile by tile. `session.run` is asynchronous and executes on ORT's own threads, so
 * while a frame is in the model the JS thread keeps the decoder and encoder pipes moving. Input tensors are reused
 * per tile size; the output frame is allocated per frame because the encoder owns it until its write completes.
 */
/** The tile-reuse wrapper sends areas of many sizes: keep buffers and plans for only a few sizes at a time. */
const MAX_CACHED_SIZES = 8;

export class TileUpscaler {
  readonly scale: number;
  private readonly inputs = new Map<string, Float32Array>();
  private plans = new Map<string, TileRect[]>();

  constructor(
    private readonly model: UpscaleModel,
    readonly opts: UpscalerOptions,
  ) {
    this.scale = model.scale;
  }

  private plan(width: number, height: number): TileRect[] {
    const key = `${width}x${height}`;
    let p = this.plans.get(key);
    if (!p) {
      if (this.plans.size >= MAX_CACHED_SIZES) this.plans.clear();
      p = planTiles(width, height, this.opts.tile, this.opts.pad);
      this.plans.set(key, p);
    }
    return p;
  }

  private inputBuffer(w: number, h: number): Float32Array {
    const key = `${w}x${h}`;
    let buf = this.inputs.get(key);
    if (!buf) {
      if (this.inputs.size >= MAX_CACHED_SIZES) this.inputs.clear();
      buf = new Float32Array(3 * w * h);
      this.inputs.set(key, buf);
    }
    return buf;
  }

  /** Upscales one packed RGB24 frame; returns packed RGB24 of (scale·width)×(scale·height). */
  async upscale(frame: Uint8Array, width: number, height: number): Promise<Buffer> {
    const s = this.scale;
    const outWidth = width * s;
    // Its own ArrayBuffer (not the pool): the inference worker transfers it to the main thread without a copy.
    const out = Buffer.allocUnsafeSlow(outWidth * height * s * 3);
    for (const r of this.plan(width, height)) {
      const data = rgbToPlanar(frame, width, r.px, r.py, r.pw, r.ph, this.inputBuffer(r.pw, r.ph));
      const input = new Tensor('float32', data, [1, 3, r.ph, r.pw]);
      const result = await this.model.session.run({ [this.model.inputName]: input });
      const tensor = result[this.model.outputName];
      const [, , oh, ow] = tensor.dims;
      if (ow !== r.pw * s || oh !== r.ph * s) {
        throw new Error(`model returned ${ow}x${oh} for a ${r.pw}x${r.ph} tile, expected ×${s}`);
      }
      planarToRgb(
        tensor.data as Float32Array,
        ow,
        oh,
        (r.x - r.px) * s,
        (r.y - r.py) * s,
        out,
        outWidth,
        r.x * s,
        r.y * s,
        r.w * s,
        r.h * s,
      );
      tensor.dispose();
    }
    return out;
  }
}
