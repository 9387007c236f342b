import { halfToFloat } from '../../src/engine/model/half';
import { ConversionError } from './errors';

// ncnn .bin: a flat little-endian stream read in layer order. Weights that ncnn loads with type 0 start with a
// 4-byte tag saying how they are stored; biases, slopes and the like (type 1) are raw fp32 without a tag.

export const TAG_FP16 = 0x01306b47;
export const TAG_INT8 = 0x000d4b38;
export const TAG_FP32_SCALED = 0x0002c056;

export type WeightDtype = 'fp16' | 'fp32';

export interface WeightData {
  dtype: WeightDtype;
  /** Element count. */
  count: number;
  /** Little-endian values, exactly count * (2 | 4) bytes (any alignment padding stripped). */
  bytes: Uint8Array;
}

const align4 = (n: number): number => (n + 3) & ~3;

export class BinReader {
  private offset = 0;
  private readonly view: DataView;

  constructor(
    private readonly data: Uint8Array,
    private readonly file = '<bin>',
  ) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }

  get position(): number {
    return this.offset;
  }

  private take(size: number, what: string): Uint8Array {
    if (this.offset + size > this.data.byteLength) {
      throw new ConversionError(
        this.file,
        `truncated .bin: ${what} needs ${size} bytes at offset ${this.offset}, but the file has only ` +
          `${this.data.byteLength} bytes. Re-download the model, or check that the .bin matches the .param.`,
      );
    }
    const out = this.data.subarray(this.offset, this.offset + size);
    this.offset += size;
    return out;
  }

  /** A tagged weight blob (ncnn ModelBin::load(w, 0)). */
  readTagged(count: number, what: string): WeightData {
    const at = this.offset;
    const tagBytes = this.take(4, `${what} (storage tag)`);
    const tag = this.view.getUint32(at, true);
    if (tag === TAG_FP16) {
      const bytes = this.take(align4(count * 2), `${what} (${count} fp16 values)`).subarray(0, count * 2);
      this.checkFinite(bytes, 'fp16', what);
      return { dtype: 'fp16', count, bytes };
    }
    if (tag === 0) {
      const bytes = this.take(count * 4, `${what} (${count} fp32 values)`);
      this.checkFinite(bytes, 'fp32', what);
      return { dtype: 'fp32', count, bytes };
    }
    const kind =
      tag === TAG_INT8
        ? 'int8-quantized'
        : tag === TAG_FP32_SCALED
          ? 'fp32-with-scales'
          : tagBytes.some((b) => b !== 0)
            ? '256-entry codebook (uint8-quantized)'
            : 'unknown';
    throw new ConversionError(
      this.file,
      `${what} at offset ${at} uses ${kind} storage (tag 0x${tag.toString(16).padStart(8, '0')}); only fp16 and ` +
        'fp32 weights are supported. Use an unquantized model (ncnn2table/ncnn2int8 outputs cannot be converted).',
    );
  }

  /** Untagged fp32 values (ncnn ModelBin::load(w, 1)): biases, PReLU slopes. */
  readFloat32(count: number, what: string): WeightData {
    const bytes = this.take(count * 4, `${what} (${count} fp32 values)`);
    this.checkFinite(bytes, 'fp32', what);
    return { dtype: 'fp32', count, bytes };
  }

  assertConsumed(): void {
    if (this.offset !== this.data.byteLength) {
      throw new ConversionError(
        this.file,
        `the .param consumed ${this.offset} bytes but the .bin has ${this.data.byteLength}: ` +
          'the two files do not belong together (or a layer reads its weights differently than assumed).',
      );
    }
  }

  private checkFinite(bytes: Uint8Array, dtype: WeightDtype, what: string): void {
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const step = dtype === 'fp16' ? 2 : 4;
    for (let i = 0; i < bytes.byteLength; i += step) {
      const x = dtype === 'fp16' ? halfToFloat(v.getUint16(i, true)) : v.getFloat32(i, true);
      if (!Number.isFinite(x)) {
        throw new ConversionError(this.file, `${what} holds a non-finite value (${x}) at byte ${i}: corrupt weights`);
      }
    }
  }
}
