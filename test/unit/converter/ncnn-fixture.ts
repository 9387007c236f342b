import { floatToHalf } from '../../../src/engine/model/half';
import { TAG_FP16, TAG_INT8 } from '../../../tools/ncnn2onnx/bin';

// Builds small ncnn models in memory, so each converter test states exactly the bytes it feeds in.

export function paramText(blobCount: number, layers: string[]): string {
  return `7767517\n${layers.length} ${blobCount}\n${layers.join('\n')}\n`;
}

export class BinBuilder {
  private readonly parts: Uint8Array[] = [];

  private u32(v: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v, true);
    this.parts.push(b);
    return this;
  }

  /** Untagged fp32 (biases, slopes). */
  raw(values: number[]): this {
    this.parts.push(new Uint8Array(new Float32Array(values).buffer));
    return this;
  }

  fp32(values: number[]): this {
    return this.u32(0).raw(values);
  }

  fp16(values: number[]): this {
    this.u32(TAG_FP16);
    const padded = new Uint16Array(values.length + (values.length % 2));
    values.forEach((v, i) => {
      padded[i] = floatToHalf(v);
    });
    this.parts.push(new Uint8Array(padded.buffer));
    return this;
  }

  int8(values: number[]): this {
    this.u32(TAG_INT8);
    this.parts.push(new Uint8Array(values.length + ((4 - (values.length % 4)) % 4)));
    return this;
  }

  /** ncnn's codebook storage: any other non-zero tag, then 256 floats and uint8 indices. */
  codebook(count: number): this {
    this.u32(0x00000001);
    this.raw(new Array(256).fill(0));
    this.parts.push(new Uint8Array(count + ((4 - (count % 4)) % 4)));
    return this;
  }

  bytes(): Uint8Array {
    return Buffer.concat(this.parts);
  }
}
