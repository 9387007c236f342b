import { onnx } from 'onnx-proto';
import { type ConstFloats, constantFloats, pruneDead } from './int8';

const { DataType } = onnx.TensorProto;

/**
 * The exact "max" form of a model's PRelus, applied in memory when a model loads (the file and its sha256 stay as
 * they are):
 *   PRelu_s(y) = max(y, s ⊙ y)            for every channel whose slope s ≤ 1,
 * and, for a channel with s > 1 (where max would pick s·y for y > 0), its sign is flipped around the activation: the
 * producing Conv's output channel is negated (weights and bias), max(−y, s ⊙ −y) = −PRelu_s(y), and every Conv
 * reading the activation negates that input channel's weights. Negation is exact in floating point, so the output
 * is bit-identical to the PRelu graph.
 *
 * Why: onnxruntime's CPU PRelu branches per element, so its time depends on the picture (measured on the anime model
 * at 480×270: the PRelus took 129 ms on a black frame and 398 ms on noise), while Mul and Max are branch-free vector
 * loops. In the int8 variant each PRelu runs in float between a DequantizeLinear and a QuantizeLinear, where it was
 * about half of the frame's time (docs/dev/models.md "int8 variants").
 *
 * A PRelu with a channel above 1 whose producer is not a lone plain Conv, or whose readers are not all plain Convs,
 * is left as it is (still correct, just not faster).
 */
export function withMaxPrelu(bytes: Uint8Array): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph;
  if (!graph?.node?.some((n) => n.opType === 'PRelu' && (n.domain ?? '') === '')) return bytes;
  const consts = constantFloats(graph);
  const plan = planFlips(graph.node, consts);
  if (!plan.rewrite.size) return bytes;
  const initializer = [...(graph.initializer ?? [])];
  const body = graph.node.flatMap((n): onnx.INodeProto[] => {
    if (plan.rewrite.has(n)) return maxNodes(n);
    const flipOut = plan.flipOut.get(n.output?.[0] ?? '');
    const flipIn = plan.flipIn.get(n.input?.[0] ?? '');
    if (n.opType !== 'Conv' || (!flipOut && !flipIn)) return [n];
    const [x, wName, bName] = n.input ?? [];
    const w = consts.get(wName) as { dims: number[]; values: Float32Array };
    const own = `__maxprelu__${n.output?.[0] ?? ''}`; // per Conv: two Convs may share weights, not their flips
    const input = [x, `${wName}${own}`];
    initializer.push(floatTensor(input[1], w.dims, flippedWeights(w, flipOut, flipIn)));
    if (bName) {
      const b = Float32Array.from(consts.get(bName)?.values ?? [], (v, c) => (flipOut?.[c] ? -v : v));
      input.push(`${bName}${own}`);
      initializer.push(floatTensor(input[2], [b.length], b));
    }
    return [{ ...n, input }];
  });
  const live = pruneDead(body, graph);
  const used = new Set(live.flatMap((n) => n.input ?? []));
  return onnx.ModelProto.encode({
    ...model,
    graph: { ...graph, node: live, initializer: initializer.filter((t) => used.has(t.name ?? '')) },
  }).finish();
}

interface FlipPlan {
  /** The PRelus that become Mul + Max. */
  rewrite: Set<onnx.INodeProto>;
  /** Conv output name → which of its channels are negated (a Conv may also read negated channels: signs multiply). */
  flipOut: Map<string, boolean[]>;
  /** Conv input name (a rewritten PRelu's output) → which of its channels come negated. */
  flipIn: Map<string, boolean[]>;
}

function planFlips(nodes: onnx.INodeProto[], consts: ConstFloats): FlipPlan {
  const plan: FlipPlan = { rewrite: new Set(), flipOut: new Map(), flipIn: new Map() };
  const readers = (name: string) => nodes.filter((n) => (n.input ?? []).includes(name));
  const producer = new Map(nodes.flatMap((n) => (n.output ?? []).map((o) => [o, n] as const)));
  for (const p of nodes.filter((n) => n.opType === 'PRelu' && (n.domain ?? '') === '')) {
    const [y, slopeName] = p.input ?? [];
    const slope = consts.get(slopeName ?? '')?.values;
    if (!slope) continue;
    if (slope.every((s) => s <= 1)) {
      plan.rewrite.add(p);
      continue;
    }
    const conv = producer.get(y ?? '');
    const channels = conv && consts.get(conv.input?.[1] ?? '')?.dims[0];
    const out = p.output?.[0] ?? '';
    if (!conv || !isPlainConv(conv, consts) || readers(y ?? '').length !== 1 || slope.length !== channels) continue;
    if (!readers(out).every((r) => isPlainConv(r, consts) && r.input?.[0] === out)) continue;
    const flips = Array.from(slope, (s) => s > 1);
    plan.rewrite.add(p);
    plan.flipOut.set(y ?? '', flips);
    plan.flipIn.set(out, flips);
  }
  return plan;
}

/** PRelu(y, s) → Max(y, Mul(y, s)); the Max keeps the PRelu's output name. */
function maxNodes(p: onnx.INodeProto): onnx.INodeProto[] {
  const [y, slope] = p.input ?? [];
  const name = p.name || p.output?.[0] || '';
  const scaled = `${name}__scaled`;
  return [
    { opType: 'Mul', name: `${name}__mul`, input: [y, slope], output: [scaled] },
    { opType: 'Max', name: `${name}__max`, input: [y, scaled], output: p.output },
  ];
}

/** Weights [O, C, kh, kw] with output channels `out` and input channels `inp` negated. */
function flippedWeights(w: { dims: number[]; values: Float32Array }, out?: boolean[], inp?: boolean[]): Float32Array {
  const [o, c] = w.dims;
  const k = w.values.length / (o * c);
  const values = new Float32Array(w.values);
  for (let oc = 0; oc < o; oc++) {
    for (let ic = 0; ic < c; ic++) {
      if (Boolean(out?.[oc]) === Boolean(inp?.[ic])) continue;
      for (let i = 0; i < k; i++) values[(oc * c + ic) * k + i] = -values[(oc * c + ic) * k + i];
    }
  }
  return values;
}

/** A Conv with constant 4-D weights, a constant or no bias, and one group. */
export function isPlainConv(n: onnx.INodeProto, consts: ConstFloats): boolean {
  const group = Number(n.attribute?.find((a) => a.name === 'group')?.i ?? 1);
  const bias = n.input?.[2];
  return (
    n.opType === 'Conv' &&
    (n.domain ?? '') === '' &&
    group === 1 &&
    consts.get(n.input?.[1] ?? '')?.dims.length === 4 &&
    (!bias || consts.has(bias))
  );
}

export const floatTensor = (name: string, dims: number[], values: Float32Array): onnx.ITensorProto => ({
  name,
  dataType: DataType.FLOAT,
  dims,
  rawData: new Uint8Array(values.buffer, values.byteOffset, values.byteLength),
});
