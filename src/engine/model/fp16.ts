import { onnx } from 'onnx-proto';
import { floatToHalf } from './half';

const { DataType } = onnx.TensorProto;
const { AttributeType } = onnx.AttributeProto;

/** Why a model cannot be turned into its fp16 variant (it then runs in fp32). */
export class Fp16ConversionError extends Error {}

/**
 * Operators whose ONNX definitions accept float16 for every float input, and that the GPU providers implement in
 * fp16. A model using anything else stays fp32: guessing would risk a session that fails or loses precision.
 */
const FP16_OPS = new Set([
  'Add',
  'Cast',
  'Clip',
  'Concat',
  'Constant',
  'Conv',
  'DepthToSpace',
  'Div',
  'Identity',
  'LeakyRelu',
  'Mul',
  'Pad',
  'PRelu',
  'Relu',
  'Reshape',
  'Resize',
  'Sigmoid',
  'Slice',
  'Sub',
  'Sum',
  'Tanh',
  'Transpose',
  'Upsample',
]);

/** Inputs that ONNX requires to stay float32 whatever the data's type (Resize's roi/scales, Upsample's scales). */
const FLOAT32_INPUTS: Record<string, number[]> = { Resize: [1, 2], Upsample: [1] };

/** fp16's largest finite value: weights beyond it are clamped rather than turned into Infinity. */
const FP16_MAX = 65504;

const toHalfBits = (v: number): number => floatToHalf(Math.max(-FP16_MAX, Math.min(FP16_MAX, v)));

function floatValues(t: onnx.ITensorProto): Float32Array {
  if (t.rawData && t.rawData.byteLength > 0) {
    const raw = t.rawData;
    const copy = new Uint8Array(raw.byteLength);
    copy.set(raw);
    return new Float32Array(copy.buffer);
  }
  return Float32Array.from(t.floatData ?? []);
}

/** A float32 tensor's data as float16 (raw little-endian bits); other tensors unchanged. */
function tensorToFp16(t: onnx.ITensorProto): onnx.ITensorProto {
  if (t.dataType !== DataType.FLOAT) return t;
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    throw new Fp16ConversionError(`tensor ${t.name ?? ''} stores its data in an external file`);
  }
  const values = floatValues(t);
  const bits = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) bits[i] = toHalfBits(values[i]);
  return {
    ...t,
    dataType: DataType.FLOAT16,
    floatData: [],
    rawData: new Uint8Array(bits.buffer),
  };
}

export function castNode(name: string, input: string, output: string, to: number): onnx.INodeProto {
  return {
    opType: 'Cast',
    name,
    input: [input],
    output: [output],
    attribute: [{ name: 'to', type: AttributeType.INT, i: to }],
  };
}

function elemType(v: onnx.IValueInfoProto): number | undefined {
  const t = v.type?.tensorType?.elemType;
  return t === null ? undefined : t;
}

function withElemType(v: onnx.IValueInfoProto, type: number): onnx.IValueInfoProto {
  return { ...v, type: { ...v.type, tensorType: { ...v.type?.tensorType, elemType: type } } };
}

/** Tensor names that must stay float32: inputs at FLOAT32_INPUTS positions, and whatever feeds them through Casts. */
function float32Names(nodes: onnx.INodeProto[]): Set<string> {
  const keep = new Set<string>();
  for (const n of nodes) {
    for (const i of FLOAT32_INPUTS[n.opType ?? ''] ?? []) {
      const name = n.input?.[i];
      if (name) keep.add(name);
    }
  }
  return keep;
}

function checkOps(graph: onnx.IGraphProto): void {
  const unsupported = new Set<string>();
  for (const n of graph.node ?? []) {
    if ((n.domain ?? '') !== '' || !FP16_OPS.has(n.opType ?? ''))
      unsupported.add(`${n.domain ? `${n.domain}.` : ''}${n.opType}`);
    for (const a of n.attribute ?? []) {
      if (a.type === AttributeType.GRAPH || a.type === AttributeType.GRAPHS) unsupported.add(`${n.opType} (subgraph)`);
    }
  }
  if (unsupported.size) throw new Fp16ConversionError(`it uses ${[...unsupported].sort().join(', ')}`);
}

/**
 * The fp16 variant of a float32 model, for the GPU providers (tensor cores, half the memory traffic): weights and
 * activations in float16, the interface unchanged (float32 in, float32 out, a Cast at each end), so the tiler and
 * everything around it stay as they are. Deterministic: the same model always gives the same bytes.
 */
export function toFp16Model(bytes: Uint8Array): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph;
  if (!graph) throw new Fp16ConversionError('the file has no graph');
  checkOps(graph);
  const nodes = graph.node ?? [];
  const keep = float32Names(nodes);
  const initializers = (graph.initializer ?? []).map((t) => (keep.has(t.name ?? '') ? t : tensorToFp16(t)));

  const converted: onnx.INodeProto[] = nodes.map((n) => {
    const attribute = (n.attribute ?? []).map((a) => {
      if (n.opType === 'Cast' && a.name === 'to' && Number(a.i) === DataType.FLOAT && !keep.has(n.output?.[0] ?? '')) {
        return { ...a, i: DataType.FLOAT16 };
      }
      if (a.type === AttributeType.TENSOR && a.t && !keep.has(n.output?.[0] ?? ''))
        return { ...a, t: tensorToFp16(a.t) };
      return a;
    });
    return { ...n, attribute };
  });

  const rename = (from: string, to: string) => {
    for (const n of converted) {
      n.input = (n.input ?? []).map((x) => (x === from ? to : x));
      n.output = (n.output ?? []).map((x) => (x === from ? to : x));
    }
  };
  const head: onnx.INodeProto[] = [];
  const tail: onnx.INodeProto[] = [];
  for (const input of graph.input ?? []) {
    if (elemType(input) !== DataType.FLOAT || initializers.some((t) => t.name === input.name)) continue;
    const name = input.name ?? '';
    rename(name, `${name}__fp16`);
    head.push(castNode(`${name}__to_fp16`, name, `${name}__fp16`, DataType.FLOAT16));
  }
  for (const output of graph.output ?? []) {
    if (elemType(output) !== DataType.FLOAT) continue;
    const name = output.name ?? '';
    rename(name, `${name}__fp16`);
    tail.push(castNode(`${name}__to_fp32`, `${name}__fp16`, name, DataType.FLOAT));
  }
  const valueInfo = (graph.valueInfo ?? []).map((v) =>
    elemType(v) === DataType.FLOAT && !keep.has(v.name ?? '') ? withElemType(v, DataType.FLOAT16) : v,
  );
  const metadataProps = [...(model.metadataProps ?? []), { key: 'huaju4k.precision', value: 'fp16' }];
  const out: onnx.IModelProto = {
    ...model,
    metadataProps,
    graph: { ...graph, node: [...head, ...converted, ...tail], initializer: initializers, valueInfo },
  };
  return onnx.ModelProto.encode(out).finish();
}
