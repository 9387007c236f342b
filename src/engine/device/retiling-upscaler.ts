import { type TileModel, TileUpscaler, type UpscaleModel } from '../inference/upscaler';
import type { RetileableUpscaler } from './oom';

/** The tiled model in this thread with a tile that can change between frames (a new tiler per tile size). */
export class RetilingTileUpscaler implements RetileableUpscaler {
  private current: TileUpscaler;

  constructor(
    private readonly model: UpscaleModel | TileModel,
    tile: number,
    private readonly pad: number,
  ) {
    this.current = new TileUpscaler(model, { tile, pad });
  }

  get scale(): number {
    return this.model.scale;
  }

  get tile(): number {
    return this.current.opts.tile;
  }

  setTile(tile: number): void {
    if (tile !== this.tile) this.current = new TileUpscaler(this.model, { tile, pad: this.pad });
  }

  upscale(frame: Uint8Array, width: number, height: number): Promise<Buffer> {
    return this.current.upscale(frame, width, height);
  }

  release(frame: Buffer): void {
    this.current.release(frame);
  }
}
