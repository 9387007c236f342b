import { onnx } from 'onnx-proto';
import { halfToFloat } from './half';
import { rewriteNearestSkip } from './skip-rewrite';

const { DataType } = onnx.TensorProto;
const { AttributeType } = onnx.AttributeProto;

/** Why a model cannot be turned into its int8 variant (it then runs in fp32). */
export class Int8ConversionError extends Error {}

/** Calibrated range [lo, hi] of each activation the int8 variant quantizes, by tensor name. */
export type ActivationRanges = Record<string, readonly [number, number]>;

export interface Int8Options {
  /**
   * 'int8': per-channel symmetric int8 weights (u8s8: ORT's QLinearConv runs VNNI/AVX-512 kernels on it).
   * 'uint8': the same weights shifted to uint8 with zero point 128 (u8u8), for comparison.
   */
  weightType?: 'int8' | 'uint8';
  /**
   * 'qdq': QuantizeLinear/DequantizeLinear pairs around float Convs, which ORT fuses into QLinearConv.
   * 'qoperator': QLinearConv nodes written out, DequantizeLinear/QuantizeLinear only around the float ops.
   */
  format?: 'qdq' | 'qoperator';
  /** Move the nearest-upscaled input skip before the pixel shuffle (skip-rewrite.ts); exact. Default true. */
  rewriteSkip?: boolean;
}

interface ActQuant {
  scale: number;
  zeroPoint: number;
}

/** Per-tensor asymmetric uint8 for an activation range (0 always representable, as ONNX requires). */
export function activationQuant([lo, hi]: readonly [number, number]): ActQuant {
  const min = Math.min(lo, 0);
  const max = Math.max(hi, 0);
  const scale = Math.fround(max > min ? (max - min) / 255 : 1);
  const zeroPoint = Math.max(0, Math.min(255, roundHalfEven(-min / scale)));
  return { scale, zeroPoint };
}

/** Round half to even, as ONNX QuantizeLinear does. */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function rawFloats(t: onnx.ITensorProto): Float32Array {
  if (t.rawData && t.rawData.byteLength > 0) {
    const copy = new Uint8Array(t.rawData.byteLength);
    copy.set(t.rawData);
    if (t.dataType === DataType.FLOAT) return new Float32Array(copy.buffer);
    if (t.dataType === DataType.FLOAT16) return Float32Array.from(new Uint16Array(copy.buffer), halfToFloat);
  } else if (t.dataType === DataType.FLOAT) return Float32Array.from(t.floatData ?? []);
  else if (t.dataType === DataType.FLOAT16) return Float32Array.from(t.int32Data ?? [], halfToFloat);
  throw new Int8ConversionError(`tensor ${t.name ?? ''} is neither float32 nor float16`);
}

/** A model's constant float tensors by name: initializers, and float16 initializers behind a Cast to float. */
export type ConstFloats = Map<string, { dims: number[]; values: Float32Array }>;

export function constantFloats(graph: onnx.IGraphProto): ConstFloats {
  const inits = new Map((graph.initializer ?? []).map((t) => [t.name ?? '', t]));
  const out = new Map<string, { dims: number[]; values: Float32Array }>();
  const add = (name: string, t: onnx.ITensorProto) =>
    out.set(name, { dims: (t.dims ?? []).map(Number), values: rawFloats(t) });
  for (const [name, t] of inits) if (t.dataType === DataType.FLOAT) add(name, t);
  for (const n of graph.node ?? []) {
    const src = inits.get(n.input?.[0] ?? '');
    const to = n.attribute?.find((a) => a.name === 'to');
    if (n.opType === 'Cast' && src?.dataType === DataType.FLOAT16 && Number(to?.i) === DataType.FLOAT)
      add(n.output?.[0] ?? '', src);
  }
  return out;
}

const tensor = (name: string, dataType: number, dims: number[], data: ArrayBufferView): onnx.ITensorProto => ({
  name,
  dataType,
  dims,
  rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
});

const node = (opType: string, input: string[], output: string[], attrs: onnx.IAttributeProto[] = []) => ({
  opType,
  name: output[0],
  input,
  output,
  attribute: attrs,
});

const intAttr = (name: string, i: number): onnx.IAttributeProto => ({ name, type: AttributeType.INT, i });

interface QuantWeight {
  initializers: onnx.ITensorProto[];
  /** Names of the quantized weight, its scales and zero points (per output channel). */
  q: string;
  scale: string;
  zeroPoint: string;
  scales: Float32Array;
}

/** Per-output-channel symmetric weights: scale = max|w| / 127; uint8 is the same with zero point 128. */
function quantizeWeight(
  name: string,
  w: { dims: number[]; values: Float32Array },
  type: 'int8' | 'uint8',
): QuantWeight {
  const channels = w.dims[0];
  const per = w.values.length / channels;
  const scales = new Float32Array(channels);
  const signed = new Int8Array(w.values.length);
  for (let c = 0; c < channels; c++) {
    let m = 0;
    for (let i = 0; i < per; i++) m = Math.max(m, Math.abs(w.values[c * per + i]));
    scales[c] = m > 0 ? m / 127 : 1;
    for (let i = 0; i < per; i++) {
      const q = roundHalfEven(w.values[c * per + i] / scales[c]);
      signed[c * per + i] = Math.max(-127, Math.min(127, q));
    }
  }
  const unsigned = type === 'uint8';
  const data = unsigned ? Uint8Array.from(signed, (v) => v + 128) : signed;
  const zp = unsigned ? new Uint8Array(channels).fill(128) : new Int8Array(channels);
  const dt = unsigned ? DataType.UINT8 : DataType.INT8;
  const q = `${name}__q`;
  return {
    initializers: [
      tensor(q, dt, w.dims, data),
      tensor(`${name}__scale`, DataType.FLOAT, [channels], scales),
      tensor(`${name}__zp`, dt, [channels], zp),
    ],
    q,
    scale: `${name}__scale`,
    zeroPoint: `${name}__zp`,
    scales,
  };
}

/** int32 bias with scale x_scale × w_scale[c] and zero point 0, as QLinearConv and ORT's QDQ Conv fusion want. */
function quantizeBias(name: string, bias: Float32Array, xScale: number, wScales: Float32Array): onnx.ITensorProto[] {
  const scales = wScales.map((s) => Math.fround(xScale * s));
  const q = Int32Array.from(bias, (b, c) => roundHalfEven(b / scales[c]));
  return [
    tensor(`${name}__q`, DataType.INT32, [bias.length], q),
    tensor(`${name}__scale`, DataType.FLOAT, [bias.length], scales),
    tensor(`${name}__zp`, DataType.INT32, [bias.length], new Int32Array(bias.length)),
  ];
}

/**
 * The float tensors the int8 variant quantizes: every Conv's data input and output (a Conv's output that only a Relu
 * reads: the Relu's output instead). Only 2-D Convs with constant
 * weights qualify; the ranges of these tensors are what calibration measures.
 */
export function quantizedActivations(bytes: Uint8Array): string[] {
  const graph = onnx.ModelProto.decode(bytes).graph;
  if (!graph) throw new Int8ConversionError('the file has no graph');
  const consts = constantFloats(graph);
  const names: string[] = [];
  const nodes = graph.node ?? [];
  for (const n of convNodes(graph, consts)) {
    // A Conv read only by a Relu (the relu-split form) is quantized after the Relu, where it is the next Conv's
    // input: ORT fuses Conv + Relu + QuantizeLinear, its output range [0, hi].
    const out = n.output?.[0] ?? '';
    const readers = nodes.filter((r) => (r.input ?? []).includes(out));
    const fusedRelu = readers.length === 1 && readers[0].opType === 'Relu';
    for (const t of [n.input?.[0] ?? '', ...(fusedRelu ? [] : [out])]) if (!names.includes(t)) names.push(t);
  }
  if (!names.length) throw new Int8ConversionError('it has no Conv with constant weights');
  return names;
}

function convNodes(graph: onnx.IGraphProto, consts: ConstFloats): onnx.INodeProto[] {
  return (graph.node ?? []).filter(
    (n) =>
      n.opType === 'Conv' &&
      (n.domain ?? '') === '' &&
      consts.get(n.input?.[1] ?? '')?.dims.length === 4 &&
      (n.input?.[2] === undefined || n.input[2] === '' || consts.has(n.input[2])),
  );
}

/**
 * A copy of the model whose outputs also include every tensor `quantizedActivations` names, for calibration: run it
 * on real frames and record each tensor's range.
 */
export function withActivationOutputs(bytes: Uint8Array): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph;
  if (!graph) throw new Int8ConversionError('the file has no graph');
  const existing = new Set((graph.output ?? []).map((o) => o.name ?? ''));
  const inputs = new Set((graph.input ?? []).map((o) => o.name ?? ''));
  const extra = quantizedActivations(bytes)
    .filter((t) => !existing.has(t) && !inputs.has(t))
    .map((name) => ({ name, type: { tensorType: { elemType: DataType.FLOAT } } }));
  return onnx.ModelProto.encode({
    ...model,
    graph: { ...graph, output: [...(graph.output ?? []), ...extra] },
  }).finish();
}

interface Builder {
  initializers: onnx.ITensorProto[];
  /** Nodes that produce constants (weight DequantizeLinear), placed first. */
  head: onnx.INodeProto[];
  /** Q/DQ pairs to place right after the node producing a tensor (or at the start for graph inputs). */
  after: Map<string, onnx.INodeProto[]>;
  act: Map<string, ActQuant>;
}

/** One QuantizeLinear → DequantizeLinear pair per activation; the Conv reads the DQ output, other consumers too. */
function addActivationQdq(b: Builder, name: string, q: ActQuant): void {
  b.initializers.push(
    tensor(`${name}__s`, DataType.FLOAT, [], new Float32Array([q.scale])),
    tensor(`${name}__z`, DataType.UINT8, [], new Uint8Array([q.zeroPoint])),
  );
  b.after.set(name, [
    node('QuantizeLinear', [name, `${name}__s`, `${name}__z`], [`${name}__u8`]),
    node('DequantizeLinear', [`${name}__u8`, `${name}__s`, `${name}__z`], [`${name}__dq`]),
  ]);
}

function rangeOf(ranges: ActivationRanges, name: string): ActQuant {
  const r = ranges[name];
  if (!r || !Number.isFinite(r[0]) || !Number.isFinite(r[1]))
    throw new Int8ConversionError(`no calibrated range for tensor ${name}`);
  return activationQuant(r);
}

/** The QDQ form of one Conv: int8 weights and int32 bias behind DequantizeLinear, its input the activation's DQ. */
function qdqConv(b: Builder, n: onnx.INodeProto, consts: ConstFloats, opts: Int8Options) {
  const [x, wName, bName] = n.input ?? [];
  const w = quantizeWeight(
    wName,
    consts.get(wName) ?? { dims: [], values: new Float32Array() },
    opts.weightType ?? 'int8',
  );
  b.initializers.push(...w.initializers);
  b.head.push(node('DequantizeLinear', [w.q, w.scale, w.zeroPoint], [`${wName}__dq`], [intAttr('axis', 0)]));
  const input = [`${x}__dq`, `${wName}__dq`];
  if (bName) {
    const xq = b.act.get(x) as ActQuant;
    b.initializers.push(...quantizeBias(bName, consts.get(bName)?.values ?? new Float32Array(), xq.scale, w.scales));
    b.head.push(
      node(
        'DequantizeLinear',
        [`${bName}__q`, `${bName}__scale`, `${bName}__zp`],
        [`${bName}__dq`],
        [intAttr('axis', 0)],
      ),
    );
    input.push(`${bName}__dq`);
  }
  if (opts.format !== 'qoperator') return { ...n, input };
  const y = n.output?.[0] ?? '';
  const qInput = [`${x}__u8`, `${x}__s`, `${x}__z`, w.q, w.scale, w.zeroPoint, `${y}__s`, `${y}__z`];
  return {
    ...n,
    opType: 'QLinearConv',
    name: `${n.name ?? y}__qlinear`,
    input: [...qInput, ...(bName ? [`${bName}__q`] : [])],
    output: [`${y}__u8`],
  };
}

/** Readers of a quantized tensor read its DequantizeLinear output instead (Q itself still reads the float). */
function rewireToDq(nodes: onnx.INodeProto[], quantized: Set<string>): onnx.INodeProto[] {
  return nodes.map((n) =>
    n.opType === 'QuantizeLinear'
      ? n
      : { ...n, input: (n.input ?? []).map((i) => (quantized.has(i) ? `${i}__dq` : i)) },
  );
}

/**
 * The static int8 variant of a float32 model: per-channel symmetric int8 weights, per-tensor uint8 activations from
 * calibrated `ranges` at every Conv's input and output, int32 biases; everything else (PRelu, DepthToSpace, the
 * Resize + Add skip) stays float between DequantizeLinear and QuantizeLinear. float32 in and out, so the tiler and
 * everything around it are unchanged. Deterministic: the same model and ranges always give the same bytes.
 */
export function toInt8Model(bytes: Uint8Array, ranges: ActivationRanges, opts: Int8Options = {}): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph;
  if (!graph) throw new Int8ConversionError('the file has no graph');
  const consts = constantFloats(graph);
  const convs = new Set(convNodes(graph, consts));
  const b: Builder = { initializers: [], head: [], after: new Map(), act: new Map() };
  const names = quantizedActivations(bytes);
  for (const name of names) b.act.set(name, rangeOf(ranges, name));
  for (const name of names) addActivationQdq(b, name, b.act.get(name) as ActQuant);
  const convOutputs = new Set([...convs].map((n) => n.output?.[0] ?? ''));
  const body: onnx.INodeProto[] = [];
  for (const name of (graph.input ?? []).map((i) => i.name ?? '')) body.push(...(b.after.get(name) ?? []));
  for (const n of graph.node ?? []) {
    body.push(convs.has(n) ? qdqConv(b, n, consts, opts) : n);
    // QOperator: QLinearConv writes the uint8 output itself; only its DequantizeLinear remains.
    const qdq = (o: string) => (b.after.get(o) ?? []).slice(opts.format === 'qoperator' && convOutputs.has(o) ? 1 : 0);
    for (const o of n.output ?? []) body.push(...qdq(o));
  }
  let nodes = rewireToDq(body, new Set(names));
  const initializers = [...(graph.initializer ?? []), ...b.initializers];
  if (opts.rewriteSkip !== false) {
    const r = rewriteNearestSkip(nodes, initializers);
    nodes = r.nodes;
    initializers.push(...r.initializers);
  }
  nodes = pruneDead([...b.head, ...nodes], graph);
  const used = new Set(nodes.flatMap((n) => n.input ?? []));
  const initializer = initializers.filter((t) => used.has(t.name ?? ''));
  const metadataProps = [...(model.metadataProps ?? []), { key: 'huaju4k.precision', value: 'int8' }];
  const out = { ...model, metadataProps, graph: { ...graph, node: nodes, initializer } };
  return onnx.ModelProto.encode(out).finish();
}

/** Drops nodes none of whose outputs is read (the Casts of weights that now come quantized). */
export function pruneDead(nodes: onnx.INodeProto[], graph: onnx.IGraphProto): onnx.INodeProto[] {
  const outputs = new Set((graph.output ?? []).map((o) => o.name ?? ''));
  let live = nodes;
  for (;;) {
    const read = new Set(live.flatMap((n) => n.input ?? []));
    const next = live.filter((n) => (n.output ?? []).some((o) => read.has(o) || outputs.has(o)));
    if (next.length === live.length) return live;
    live = next;
  }
}
