import { onnx } from 'onnx-proto';
import { type ActivationRanges, constantFloats, Int8ConversionError, pruneDead } from '../../src/engine/model/int8';
import { floatTensor, isPlainConv } from '../../src/engine/model/prelu-max';

const RELU = '__relu';
const CAT = '__cat';

/**
 * The exact "relu-split" rewrite of Conv → PRelu → Conv chains, so that the int8 variant needs no float PRelu:
 *   PRelu_s(y) = relu(y) − s ⊙ relu(−y).
 * The producing Conv (weights W, bias b, C outputs) becomes one with 2C outputs [W; −W], bias [b; −b], followed by a
 * Relu, and every Conv reading the PRelu gets input weights [V, −V·diag(s)] over those 2C channels. The Relu output
 * keeps the PRelu's name. ORT fuses Conv + Relu + QuantizeLinear into one QLinearConv whose output range is [0, hi]
 * (zero point 0), so everything between the input and the last Conv runs as int8 convolutions. The inner Convs do
 * four times the multiply-adds (both their inputs and outputs double).
 * The 'concat' form uses PRelu_s(y) = s ⊙ y + (1 − s) ⊙ relu(y) instead: the producing Conv is unchanged, a Relu and
 * a Concat make [y, relu(y)], and the readers get [V·diag(s), V·diag(1 − s)]: twice the multiply-adds, and in int8
 * (`fuseReluConcat`) relu(y) is exact on the uint8 y. A PRelu whose input or readers do not fit (not a lone Conv output, a reader that is
 * not a plain Conv with constant weights, a slope that is not per channel) is left as it is.
 */
export function splitPrelu(bytes: Uint8Array, form: 'split' | 'concat' = 'split'): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph;
  if (!graph) throw new Int8ConversionError('the file has no graph');
  const nodes = graph.node ?? [];
  const consts = constantFloats(graph);
  const readers = (name: string) => nodes.filter((n) => (n.input ?? []).includes(name));
  const producer = new Map(nodes.flatMap((n) => (n.output ?? []).map((o) => [o, n] as const)));
  /** PRelu → its slope, for the PRelus that split. */
  const split = new Map<onnx.INodeProto, Float32Array>();
  for (const p of nodes.filter((n) => n.opType === 'PRelu')) {
    const conv = producer.get(p.input?.[0] ?? '');
    const out = p.output?.[0] ?? '';
    const slope = consts.get(p.input?.[1] ?? '')?.values;
    const channels = conv && consts.get(conv.input?.[1] ?? '')?.dims[0];
    if (!conv || !isPlainConv(conv, consts) || readers(p.input?.[0] ?? '').length !== 1) continue;
    if (!slope || slope.length !== channels) continue;
    if (!readers(out).every((r) => isPlainConv(r, consts) && r.input?.[0] === out)) continue;
    split.set(p, slope);
  }
  if (!split.size) return bytes;
  const splitByInput = new Map([...split].map(([p, s]) => [p.output?.[0] ?? '', s]));
  const splitByConvOut = new Set([...split.keys()].map((p) => p.input?.[0] ?? ''));
  const initializer = [...(graph.initializer ?? [])];
  const body = nodes.flatMap((n): onnx.INodeProto[] => {
    if (split.has(n))
      return form === 'concat'
        ? concatRelu(n)
        : [{ opType: 'Relu', name: `${n.name ?? ''}__relu`, input: [n.input?.[0] ?? ''], output: n.output }];
    if (n.opType !== 'Conv' || !isPlainConv(n, consts)) return [n];
    const slope = splitByInput.get(n.input?.[0] ?? '');
    const doubled = form === 'split' && splitByConvOut.has(n.output?.[0] ?? '');
    if (!slope && !doubled) return [n];
    const [x, wName, bName] = n.input ?? [];
    let w = consts.get(wName) as { dims: number[]; values: Float32Array };
    if (slope) w = splitInputs(w, slope, form === 'concat');
    if (doubled) w = { dims: [2 * w.dims[0], ...w.dims.slice(1)], values: withNegated(w.values) };
    const input = [x, `${wName}__split`];
    initializer.push(floatTensor(input[1], w.dims, w.values));
    if (bName) {
      const b = consts.get(bName)?.values ?? new Float32Array();
      input.push(`${bName}__split`);
      initializer.push(floatTensor(input[2], [doubled ? 2 * b.length : b.length], doubled ? withNegated(b) : b));
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

/** [v; −v] along the first axis. */
function withNegated(v: Float32Array): Float32Array {
  const out = new Float32Array(2 * v.length);
  out.set(v);
  for (let i = 0; i < v.length; i++) out[v.length + i] = -v[i];
  return out;
}

/** Weights [O, C, kh, kw] → [O, 2C, kh, kw]: split [V, −V·diag(s)] over [relu(y), relu(−y)], concat [V·diag(s), V·diag(1 − s)] over [y, relu(y)]. */
function splitInputs(w: { dims: number[]; values: Float32Array }, s: Float32Array, concat: boolean) {
  const [o, c, kh, kw] = w.dims;
  const k = kh * kw;
  const values = new Float32Array(2 * w.values.length);
  for (let oc = 0; oc < o; oc++) {
    for (let ic = 0; ic < c; ic++) {
      for (let i = 0; i < k; i++) {
        const v = w.values[(oc * c + ic) * k + i];
        values[(oc * 2 * c + ic) * k + i] = concat ? Math.fround(v * s[ic]) : v;
        values[(oc * 2 * c + c + ic) * k + i] = concat ? Math.fround(v * (1 - s[ic])) : Math.fround(-v * s[ic]);
      }
    }
  }
  return { dims: [o, 2 * c, kh, kw], values };
}

/**
 * The concat form's Concat input has the same quantization as the Conv output it doubles (relu keeps the scale and
 * zero point), so the calibrated range of the Concat output is replaced by its first input's.
 */
export function tieConcatRanges(bytes: Uint8Array, ranges: ActivationRanges): ActivationRanges {
  const out = { ...ranges };
  for (const n of onnx.ModelProto.decode(bytes).graph?.node ?? []) {
    if (n.opType === 'Concat' && n.name?.endsWith(CAT)) out[n.output?.[0] ?? ''] = ranges[n.input?.[0] ?? ''];
  }
  return out;
}

/**
 * The concat form in QOperator int8 (toInt8Model format 'qoperator'): relu(y) becomes com.microsoft
 * QLinearLeakyRelu with alpha 0 on the uint8 y (max(q, zero point), exact), and the Concat joins the two uint8
 * tensors that the next QLinearConv reads, so no float op remains between the Convs.
 */
export function fuseReluConcat(bytes: Uint8Array): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph;
  if (!graph) throw new Int8ConversionError('the file has no graph');
  const catOutputs = new Set(
    (graph.node ?? []).filter((n) => n.opType === 'Concat' && n.name?.endsWith(CAT)).map((n) => n.output?.[0]),
  );
  const nodes = (graph.node ?? []).flatMap((n): onnx.INodeProto[] => {
    const y = (n.name ?? '').slice(0, -RELU.length);
    if (n.opType === 'Relu' && n.name?.endsWith(RELU)) {
      const q = [`${y}__u8`, `${y}__s`, `${y}__z`];
      const alpha = { name: 'alpha', type: onnx.AttributeProto.AttributeType.FLOAT, f: 0 };
      return [
        {
          ...n,
          opType: 'QLinearLeakyRelu',
          domain: 'com.microsoft',
          input: [...q, q[1], q[2]],
          output: [`${y}__relu_u8`],
          attribute: [alpha],
        },
      ];
    }
    if (n.opType === 'Concat' && n.name?.endsWith(CAT)) {
      const x = (n.name ?? '').slice(0, -CAT.length);
      return [{ ...n, input: [`${x}__u8`, `${x}__relu_u8`], output: [`${n.output?.[0]}__u8`] }];
    }
    return n.opType === 'QuantizeLinear' && catOutputs.has(n.input?.[0]) ? [] : [n];
  });
  const opsetImport = [...(model.opsetImport ?? []), { domain: 'com.microsoft', version: 1 }];
  return onnx.ModelProto.encode({ ...model, opsetImport, graph: { ...graph, node: pruneDead(nodes, graph) } }).finish();
}

/** The concat form of a PRelu: [y, relu(y)] under the PRelu's output name. */
function concatRelu(p: onnx.INodeProto): onnx.INodeProto[] {
  const y = p.input?.[0] ?? '';
  const axis = { name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 };
  return [
    { opType: 'Relu', name: `${y}${RELU}`, input: [y], output: [`${y}${RELU}`] },
    { opType: 'Concat', name: `${y}${CAT}`, input: [y, `${y}${RELU}`], output: p.output, attribute: [axis] },
  ];
}
