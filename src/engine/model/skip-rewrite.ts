import { onnx } from 'onnx-proto';

const { DataType } = onnx.TensorProto;

/**
 * SRVGGNetCompact ends in `Add(DepthToSpace(conv), Resize(input, nearest ×bs))`: the network predicts a residual
 * over the nearest-upscaled input. ORT's nearest Resize costs as much as several small kernels, so this rewrites
 * the skip exactly before the pixel shuffle, at the low resolution:
 *   `DepthToSpace(Reshape(Add(Reshape(conv, [0,C,bs²,-1]), Reshape(input, [0,C,1,-1])), Shape(conv)))` (CRD;
 * DCR swaps C and bs²). Every output pixel gets the same input value added as before, so the result is identical.
 * Returns the nodes unchanged when the pattern is not there.
 */
export function rewriteNearestSkip(
  nodes: onnx.INodeProto[],
  inits: onnx.ITensorProto[],
): { nodes: onnx.INodeProto[]; initializers: onnx.ITensorProto[] } {
  const producer = new Map(nodes.flatMap((n) => (n.output ?? []).map((o) => [o, n] as const)));
  const readers = (name: string) => nodes.filter((n) => (n.input ?? []).includes(name));
  for (const add of nodes.filter((n) => n.opType === 'Add')) {
    const [d2s, resize] = orderPair(add, producer);
    if (!d2s || !resize) continue;
    const bs = Number(d2s.attribute?.find((a) => a.name === 'blocksize')?.i ?? 0);
    if (!isNearestUpscale(resize, inits, bs) || readers(d2s.output?.[0] ?? '').length !== 1) continue;
    const crd = attrText(d2s, 'mode') === 'CRD';
    const conv = d2s.input?.[0] ?? '';
    const x = resize.input?.[0] ?? '';
    const p = `${add.output?.[0]}__skip`;
    const shape = (name: string, dims: number[]) => ({
      name,
      dataType: DataType.INT64,
      dims: [dims.length],
      rawData: new Uint8Array(BigInt64Array.from(dims.map(BigInt)).buffer),
    });
    const bs2 = bs * bs;
    const initializers = [
      shape(`${p}_a`, crd ? [0, 3, bs2, -1] : [0, bs2, 3, -1]),
      shape(`${p}_x`, crd ? [0, 3, 1, -1] : [0, 1, 3, -1]),
    ];
    const replacement: onnx.INodeProto[] = [
      { opType: 'Shape', name: `${p}_shape`, input: [conv], output: [`${p}_shape`] },
      { opType: 'Reshape', name: `${p}_a5`, input: [conv, `${p}_a`], output: [`${p}_a5`] },
      { opType: 'Reshape', name: `${p}_x5`, input: [x, `${p}_x`], output: [`${p}_x5`] },
      { opType: 'Add', name: `${p}_sum5`, input: [`${p}_a5`, `${p}_x5`], output: [`${p}_sum5`] },
      { opType: 'Reshape', name: `${p}_sum`, input: [`${p}_sum5`, `${p}_shape`], output: [`${p}_sum`] },
      { ...d2s, input: [`${p}_sum`], output: add.output },
    ];
    const resizeShared = readers(resize.output?.[0] ?? '').length > 1;
    const out = nodes.flatMap((n) =>
      n === add ? replacement : n === d2s || (n === resize && !resizeShared) ? [] : [n],
    );
    return { nodes: out, initializers };
  }
  return { nodes, initializers: [] };
}

function orderPair(add: onnx.INodeProto, producer: Map<string, onnx.INodeProto>) {
  const [a, b] = (add.input ?? []).map((i) => producer.get(i));
  if (a?.opType === 'DepthToSpace' && b?.opType === 'Resize') return [a, b] as const;
  if (b?.opType === 'DepthToSpace' && a?.opType === 'Resize') return [b, a] as const;
  return [undefined, undefined] as const;
}

const attrText = (n: onnx.INodeProto, name: string): string => {
  const s = n.attribute?.find((a) => a.name === name)?.s;
  return s ? Buffer.from(s).toString() : '';
};

/** Resize(x, scales [1,1,bs,bs]), nearest, asymmetric + floor: each input pixel copied into a bs×bs block. */
function isNearestUpscale(resize: onnx.INodeProto, inits: onnx.ITensorProto[], bs: number): boolean {
  if (bs < 1 || attrText(resize, 'mode') !== 'nearest') return false;
  if (attrText(resize, 'coordinate_transformation_mode') !== 'asymmetric') return false;
  if (!['', 'floor'].includes(attrText(resize, 'nearest_mode'))) return false;
  const scales = inits.find((t) => t.name === resize.input?.[2]);
  if (!scales?.rawData || scales.dataType !== DataType.FLOAT) return false;
  const copy = new Uint8Array(scales.rawData.byteLength);
  copy.set(scales.rawData);
  return new Float32Array(copy.buffer).join(',') === `1,1,${bs},${bs}`;
}
