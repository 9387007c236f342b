import { onnx } from 'onnx-proto';
import type { WeightData } from './bin';

// Accumulates ONNX nodes and initializers and serialises them. Everything is emitted in a fixed order with no
// timestamps or random ids, so the same ncnn files always give the same bytes.

export const ONNX_OPSET = 17;
export const ONNX_IR_VERSION = 8;

const { AttributeType } = onnx.AttributeProto;
const { DataType } = onnx.TensorProto;

export type AttrValue = { int: number } | { float: number } | { ints: number[] } | { string: string };

function toAttribute(name: string, value: AttrValue): onnx.IAttributeProto {
  if ('int' in value) return { name, type: AttributeType.INT, i: value.int };
  // Floats are always written as FLOAT: an integer-looking 4.0 must not become an INT attribute.
  if ('float' in value) return { name, type: AttributeType.FLOAT, f: value.float };
  if ('ints' in value) return { name, type: AttributeType.INTS, ints: value.ints };
  return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value.string) };
}

export class OnnxGraphBuilder {
  readonly nodes: onnx.INodeProto[] = [];
  readonly initializers: onnx.ITensorProto[] = [];
  private readonly used = new Set<string>();

  /** A tensor name not used before, derived from `base`. */
  unique(base: string): string {
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }

  node(opType: string, name: string, inputs: string[], outputs: string[], attrs: Record<string, AttrValue> = {}): void {
    const attribute = Object.entries(attrs).map(([k, v]) => toAttribute(k, v));
    this.nodes.push({ opType, name: this.unique(`node/${name}`), input: inputs, output: outputs, attribute });
  }

  /** A weight tensor usable as float32. fp16 weights stay fp16 in the file and get a Cast (ORT folds it). */
  weight(base: string, dims: number[], data: WeightData): string {
    if (data.dtype === 'fp32') {
      const name = this.unique(base);
      this.initializers.push({ name, dims, dataType: DataType.FLOAT, rawData: data.bytes });
      return name;
    }
    const stored = this.unique(`${base}_fp16`);
    this.initializers.push({ name: stored, dims, dataType: DataType.FLOAT16, rawData: data.bytes });
    const name = this.unique(base);
    this.node('Cast', `${base}_cast`, [stored], [name], { to: { int: DataType.FLOAT } });
    return name;
  }

  constFloat(base: string, dims: number[], values: number[]): string {
    const name = this.unique(base);
    const bytes = new Uint8Array(new Float32Array(values).buffer);
    this.initializers.push({ name, dims, dataType: DataType.FLOAT, rawData: bytes });
    return name;
  }

  /** Replace a tensor name everywhere (used to give the graph output its public name). */
  rename(from: string, to: string): void {
    for (const n of this.nodes) {
      n.input = (n.input ?? []).map((x) => (x === from ? to : x));
      n.output = (n.output ?? []).map((x) => (x === from ? to : x));
    }
  }
}

export interface ModelIo {
  name: string;
  /** A number is a fixed dimension, a string a symbolic (dynamic) one. */
  dims: (number | string)[];
}

function valueInfo(io: ModelIo): onnx.IValueInfoProto {
  const dim = io.dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return { name: io.name, type: { tensorType: { elemType: DataType.FLOAT, shape: { dim } } } };
}

export interface EncodeOptions {
  graphName: string;
  input: ModelIo;
  output: ModelIo;
  producerVersion: string;
  docString?: string;
  metadata: Record<string, string>;
}

export function encodeModel(graph: OnnxGraphBuilder, opts: EncodeOptions): Uint8Array {
  const model: onnx.IModelProto = {
    irVersion: ONNX_IR_VERSION,
    producerName: 'huaju4k-ncnn2onnx',
    producerVersion: opts.producerVersion,
    docString: opts.docString ?? '',
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    metadataProps: Object.keys(opts.metadata)
      .sort()
      .map((key) => ({ key, value: opts.metadata[key] })),
    graph: {
      name: opts.graphName,
      node: graph.nodes,
      initializer: graph.initializers,
      input: [valueInfo(opts.input)],
      output: [valueInfo(opts.output)],
    },
  };
  return onnx.ModelProto.encode(model).finish();
}
