// Reads `metadata_props` (ModelProto field 14) straight from the protobuf wire format. onnxruntime-node does not
// expose custom metadata, and a full ONNX decoder is far more than the few top-level fields need. Walking the
// top-level fields also tells a truncated or non-ONNX file apart early, with a clearer message than ORT's.

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;
const MODEL_GRAPH = 7;
const MODEL_METADATA_PROPS = 14;

export class OnnxFormatError extends Error {}

class Cursor {
  pos = 0;
  constructor(
    readonly buf: Uint8Array,
    readonly end = buf.byteLength,
  ) {}

  varint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new OnnxFormatError(`file ends inside a field (at byte ${this.pos})`);
      const b = this.buf[this.pos++];
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
    throw new OnnxFormatError(`malformed varint at byte ${this.pos}`);
  }

  /** Skips or returns a field's bytes; `null` for non-length-delimited fields. */
  field(wire: number): Uint8Array | null {
    let size: number;
    if (wire === WIRE_VARINT) {
      this.varint();
      return null;
    }
    if (wire === WIRE_I64) size = 8;
    else if (wire === WIRE_I32) size = 4;
    else if (wire === WIRE_LEN) size = this.varint();
    else throw new OnnxFormatError(`unexpected wire type ${wire} at byte ${this.pos} (not an ONNX model)`);
    if (this.pos + size > this.end) {
      throw new OnnxFormatError(
        `a field of ${size} bytes at byte ${this.pos} runs past the end (${this.end}): truncated`,
      );
    }
    const bytes = this.buf.subarray(this.pos, this.pos + size);
    this.pos += size;
    return wire === WIRE_LEN ? bytes : null;
  }
}

function readEntry(bytes: Uint8Array): [string, string] {
  const c = new Cursor(bytes);
  let key = '';
  let value = '';
  const dec = new TextDecoder();
  while (c.pos < c.end) {
    const tag = c.varint();
    const data = c.field(tag & 7);
    if (data && tag >>> 3 === 1) key = dec.decode(data);
    if (data && tag >>> 3 === 2) value = dec.decode(data);
  }
  return [key, value];
}

/** The model's metadata_props. Throws OnnxFormatError when the bytes are not a complete ONNX ModelProto. */
export function readOnnxMetadata(buf: Uint8Array): Map<string, string> {
  const c = new Cursor(buf);
  const props = new Map<string, string>();
  let sawGraph = false;
  while (c.pos < c.end) {
    const tag = c.varint();
    const fieldNo = tag >>> 3;
    const data = c.field(tag & 7);
    if (fieldNo === MODEL_GRAPH && data) sawGraph = true;
    if (fieldNo === MODEL_METADATA_PROPS && data) {
      const [k, v] = readEntry(data);
      props.set(k, v);
    }
  }
  if (!sawGraph) throw new OnnxFormatError('no graph in the file (empty, truncated or not an ONNX model)');
  return props;
}
