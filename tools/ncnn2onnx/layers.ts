import type { BinReader } from './bin';
import type { AttrValue, OnnxGraphBuilder } from './onnx-graph';
import { arrayParam, floatParam, intParam, type NcnnLayer } from './param';

// ncnn layer → ONNX nodes. Each mapper reads its weights from the .bin in ncnn's own load order and tracks, per
// blob, the channel count and the spatial scale relative to the model input: the converter checks them against
// the weights (a wrong layer interpretation fails loudly instead of producing a silently broken model).

export interface BlobInfo {
  /** ONNX tensor name. */
  tensor: string;
  /** Channel count; 0 while unknown (an Input layer without `2=c` learns it from its first Convolution). */
  channels: number;
  /** Output size / input size along H and W. */
  scale: number;
}

export interface MapContext {
  graph: OnnxGraphBuilder;
  bin: BinReader;
  blob(name: string): BlobInfo;
  define(name: string, info: BlobInfo): void;
}

export class LayerError extends Error {}

type Mapper = (ctx: MapContext, layer: NcnnLayer) => void;

const fail = (layer: NcnnLayer, detail: string): never => {
  throw new LayerError(`layer ${layer.name} (${layer.type}, line ${layer.line}): ${detail}`);
};

function expectArity(layer: NcnnLayer, nIn: number | 'many', nOut: number | 'many'): void {
  if (nIn !== 'many' && layer.inputs.length !== nIn) fail(layer, `expects ${nIn} input(s), has ${layer.inputs.length}`);
  if (nIn === 'many' && layer.inputs.length < 1) fail(layer, 'expects at least one input');
  if (nOut !== 'many' && layer.outputs.length !== nOut) {
    fail(layer, `expects ${nOut} output(s), has ${layer.outputs.length}`);
  }
}

function sameShape(layer: NcnnLayer, blobs: BlobInfo[]): BlobInfo {
  const first = blobs[0];
  for (const b of blobs) {
    if (b.channels !== first.channels || b.scale !== first.scale) {
      fail(
        layer,
        `inputs differ in shape (channels ${b.channels} vs ${first.channels}, scale ${b.scale} vs ${first.scale})`,
      );
    }
  }
  return first;
}

/** Emit a fused activation (Convolution `9=`, `10=`) after `input`, writing `output`. */
function activation(ctx: MapContext, layer: NcnnLayer, input: string, output: string): void {
  const type = intParam(layer, 9, 0);
  const params = arrayParam(layer, 10);
  const { graph } = ctx;
  switch (type) {
    case 1:
      graph.node('Relu', `${layer.name}_act`, [input], [output]);
      return;
    case 2:
      if (params.length < 1) fail(layer, 'LeakyReLU activation (9=2) without its slope (array key 10)');
      graph.node('LeakyRelu', `${layer.name}_act`, [input], [output], { alpha: { float: params[0] } });
      return;
    case 3: {
      if (params.length < 2) fail(layer, 'Clip activation (9=3) without its min/max (array key 10)');
      const lo = graph.constFloat(`${layer.name}.clip_min`, [], [params[0]]);
      const hi = graph.constFloat(`${layer.name}.clip_max`, [], [params[1]]);
      graph.node('Clip', `${layer.name}_act`, [input, lo, hi], [output]);
      return;
    }
    case 4:
      graph.node('Sigmoid', `${layer.name}_act`, [input], [output]);
      return;
    default:
      fail(
        layer,
        `fused activation type ${type} is not supported (supported: 0 none, 1 ReLU, 2 LeakyReLU, 3 Clip, 4 Sigmoid)`,
      );
  }
}

const input: Mapper = (ctx, layer) => {
  expectArity(layer, 0, 1);
  ctx.define(layer.outputs[0], { tensor: 'input', channels: intParam(layer, 2, 0), scale: 1 });
};

const split: Mapper = (ctx, layer) => {
  expectArity(layer, 1, 'many');
  const src = ctx.blob(layer.inputs[0]);
  for (const out of layer.outputs) ctx.define(out, src);
};

const convolution: Mapper = (ctx, layer) => {
  expectArity(layer, 1, 1);
  const src = ctx.blob(layer.inputs[0]);
  const outCh = intParam(layer, 0, 0);
  const kw = intParam(layer, 1, 0);
  const kh = intParam(layer, 11, kw);
  const dw = intParam(layer, 2, 1);
  const dh = intParam(layer, 12, dw);
  const sw = intParam(layer, 3, 1);
  const sh = intParam(layer, 13, sw);
  const pl = intParam(layer, 4, 0);
  const pt = intParam(layer, 14, pl);
  const pr = intParam(layer, 15, pl);
  const pb = intParam(layer, 16, pt);
  const biasTerm = intParam(layer, 5, 0);
  const weightSize = intParam(layer, 6, 0);
  if (intParam(layer, 8, 0) !== 0) fail(layer, 'int8-quantized convolution (8=int8_scale_term) is not supported');
  if (intParam(layer, 19, 0) !== 0) fail(layer, 'dynamic-weight convolution (19=1) is not supported');
  if (floatParam(layer, 18, 0) !== 0) fail(layer, 'a non-zero pad value (18=) is not supported');
  if (Math.min(pl, pt, pr, pb) < 0) fail(layer, 'automatic SAME padding (negative pad values) is not supported');
  if (outCh <= 0 || kw <= 0 || kh <= 0) fail(layer, 'num_output (0=) and kernel size (1=) must be positive');
  if (sw !== sh) fail(layer, `anisotropic stride ${sw}x${sh} is not supported`);
  const inCh = weightSize / (outCh * kh * kw);
  if (!Number.isInteger(inCh) || inCh <= 0) {
    fail(layer, `weight_data_size ${weightSize} is not a multiple of ${outCh}×${kh}×${kw}`);
  }
  if (src.channels === 0) src.channels = inCh;
  if (src.channels !== inCh)
    fail(layer, `weights expect ${inCh} input channels but the input blob has ${src.channels}`);

  const w = ctx.bin.readTagged(weightSize, `${layer.name} weights`);
  const inputs = [src.tensor, ctx.graph.weight(`${layer.name}.weight`, [outCh, inCh, kh, kw], w)];
  if (biasTerm)
    inputs.push(ctx.graph.weight(`${layer.name}.bias`, [outCh], ctx.bin.readFloat32(outCh, `${layer.name} bias`)));

  const out = ctx.graph.unique(layer.outputs[0]);
  const hasAct = intParam(layer, 9, 0) !== 0;
  const convOut = hasAct ? ctx.graph.unique(`${layer.outputs[0]}_preact`) : out;
  ctx.graph.node('Conv', layer.name, inputs, [convOut], {
    kernel_shape: { ints: [kh, kw] },
    strides: { ints: [sh, sw] },
    dilations: { ints: [dh, dw] },
    pads: { ints: [pt, pl, pb, pr] },
    group: { int: 1 },
  });
  if (hasAct) activation(ctx, layer, convOut, out);
  ctx.define(layer.outputs[0], { tensor: out, channels: outCh, scale: src.scale / sw });
};

const prelu: Mapper = (ctx, layer) => {
  expectArity(layer, 1, 1);
  const src = ctx.blob(layer.inputs[0]);
  const n = intParam(layer, 0, 0);
  if (n !== 1 && n !== src.channels) fail(layer, `${n} slopes for ${src.channels} channels`);
  const slope = ctx.graph.weight(
    `${layer.name}.slope`,
    n === 1 ? [1] : [n, 1, 1],
    ctx.bin.readFloat32(n, `${layer.name} slopes`),
  );
  const out = ctx.graph.unique(layer.outputs[0]);
  ctx.graph.node('PRelu', layer.name, [src.tensor, slope], [out]);
  ctx.define(layer.outputs[0], { ...src, tensor: out });
};

const relu: Mapper = (ctx, layer) => {
  expectArity(layer, 1, 1);
  const src = ctx.blob(layer.inputs[0]);
  const slope = floatParam(layer, 0, 0);
  const out = ctx.graph.unique(layer.outputs[0]);
  if (slope === 0) ctx.graph.node('Relu', layer.name, [src.tensor], [out]);
  else ctx.graph.node('LeakyRelu', layer.name, [src.tensor], [out], { alpha: { float: slope } });
  ctx.define(layer.outputs[0], { ...src, tensor: out });
};

const sigmoid: Mapper = (ctx, layer) => {
  expectArity(layer, 1, 1);
  const src = ctx.blob(layer.inputs[0]);
  const out = ctx.graph.unique(layer.outputs[0]);
  ctx.graph.node('Sigmoid', layer.name, [src.tensor], [out]);
  ctx.define(layer.outputs[0], { ...src, tensor: out });
};

const concat: Mapper = (ctx, layer) => {
  expectArity(layer, 'many', 1);
  const srcs = layer.inputs.map((b) => ctx.blob(b));
  let axis = intParam(layer, 0, 0);
  if (axis < 0) axis += 3;
  if (axis !== 0) fail(layer, `concatenation along ncnn axis ${axis} (not channels) is not supported`);
  if (srcs.some((s) => s.scale !== srcs[0].scale)) fail(layer, 'inputs have different spatial scales');
  const out = ctx.graph.unique(layer.outputs[0]);
  ctx.graph.node(
    'Concat',
    layer.name,
    srcs.map((s) => s.tensor),
    [out],
    { axis: { int: axis + 1 } },
  );
  ctx.define(layer.outputs[0], {
    tensor: out,
    channels: srcs.reduce((n, s) => n + s.channels, 0),
    scale: srcs[0].scale,
  });
};

const eltwise: Mapper = (ctx, layer) => {
  expectArity(layer, 'many', 1);
  const srcs = layer.inputs.map((b) => ctx.blob(b));
  const shape = sameShape(layer, srcs);
  const op = intParam(layer, 0, 1);
  const coeffs = arrayParam(layer, 1);
  const { graph } = ctx;
  const out = graph.unique(layer.outputs[0]);
  if (op === 1) {
    if (coeffs.length !== 0 && coeffs.length !== srcs.length)
      fail(layer, `${coeffs.length} coefficients for ${srcs.length} inputs`);
    const terms = srcs.map((s, i) => {
      const c = coeffs.length ? coeffs[i] : 1;
      if (c === 1) return s.tensor;
      const scaled = graph.unique(`${layer.outputs[0]}_term${i}`);
      graph.node(
        'Mul',
        `${layer.name}_mul${i}`,
        [s.tensor, graph.constFloat(`${layer.name}.coeff${i}`, [], [c])],
        [scaled],
      );
      return scaled;
    });
    if (terms.length === 2) graph.node('Add', layer.name, terms, [out]);
    else graph.node('Sum', layer.name, terms, [out]);
  } else if (op === 0 || op === 2) {
    let acc = srcs[0].tensor;
    for (let i = 1; i < srcs.length; i++) {
      const next = i === srcs.length - 1 ? out : graph.unique(`${layer.outputs[0]}_part${i}`);
      graph.node(op === 0 ? 'Mul' : 'Max', `${layer.name}_${i}`, [acc, srcs[i].tensor], [next]);
      acc = next;
    }
    if (srcs.length === 1) graph.node('Identity', layer.name, [acc], [out]);
  } else {
    fail(layer, `Eltwise operation ${op} is not supported (0 prod, 1 sum, 2 max)`);
  }
  ctx.define(layer.outputs[0], { ...shape, tensor: out });
};

const BINARY_OPS: Record<number, { op: string; swap?: boolean }> = {
  0: { op: 'Add' },
  1: { op: 'Sub' },
  2: { op: 'Mul' },
  3: { op: 'Div' },
  4: { op: 'Max' },
  5: { op: 'Min' },
  6: { op: 'Pow' },
  7: { op: 'Sub', swap: true },
  8: { op: 'Div', swap: true },
};

const binaryOp: Mapper = (ctx, layer) => {
  const code = intParam(layer, 0, 0);
  const spec = BINARY_OPS[code] ?? fail(layer, `BinaryOp operation ${code} is not supported`);
  const withScalar = intParam(layer, 1, 0) !== 0;
  expectArity(layer, withScalar ? 1 : 2, 1);
  const a = ctx.blob(layer.inputs[0]);
  let operands: string[];
  if (withScalar) {
    operands = [a.tensor, ctx.graph.constFloat(`${layer.name}.b`, [], [floatParam(layer, 2, 0)])];
  } else {
    const b = ctx.blob(layer.inputs[1]);
    sameShape(layer, [a, b]);
    operands = [a.tensor, b.tensor];
  }
  if (spec.swap) operands.reverse();
  const out = ctx.graph.unique(layer.outputs[0]);
  ctx.graph.node(spec.op, layer.name, operands, [out]);
  ctx.define(layer.outputs[0], { ...a, tensor: out });
};

const pixelShuffle: Mapper = (ctx, layer) => {
  expectArity(layer, 1, 1);
  const src = ctx.blob(layer.inputs[0]);
  const r = intParam(layer, 0, 1);
  const mode = intParam(layer, 1, 0);
  if (r < 1 || src.channels % (r * r) !== 0) fail(layer, `factor ${r} does not divide ${src.channels} channels`);
  if (mode !== 0 && mode !== 1) fail(layer, `PixelShuffle mode ${mode} is not supported`);
  const out = ctx.graph.unique(layer.outputs[0]);
  // ncnn mode 0 is PyTorch's PixelShuffle (channel-major) = ONNX CRD; mode 1 is TensorFlow's depth_to_space = DCR.
  ctx.graph.node('DepthToSpace', layer.name, [src.tensor], [out], {
    blocksize: { int: r },
    mode: { string: mode === 0 ? 'CRD' : 'DCR' },
  });
  ctx.define(layer.outputs[0], { tensor: out, channels: src.channels / (r * r), scale: src.scale * r });
};

const interp: Mapper = (ctx, layer) => {
  expectArity(layer, 1, 1);
  const src = ctx.blob(layer.inputs[0]);
  const type = intParam(layer, 0, 0);
  const hs = floatParam(layer, 1, 1);
  const ws = floatParam(layer, 2, 1);
  const alignCorner = intParam(layer, 6, 0) !== 0;
  if (intParam(layer, 3, 0) !== 0 || intParam(layer, 4, 0) !== 0 || intParam(layer, 5, 0) !== 0) {
    fail(layer, 'resizing to a fixed or dynamic output size is not supported (only scale factors 1= and 2=)');
  }
  if (hs !== ws || hs <= 0) fail(layer, `scale factors ${hs}×${ws} must be equal and positive`);
  const ctm = alignCorner ? 'align_corners' : 'half_pixel';
  const attrs: Record<string, AttrValue> =
    type === 1
      ? {
          mode: { string: 'nearest' },
          coordinate_transformation_mode: { string: 'asymmetric' },
          nearest_mode: { string: 'floor' },
        }
      : type === 2
        ? { mode: { string: 'linear' }, coordinate_transformation_mode: { string: ctm } }
        : type === 3
          ? {
              mode: { string: 'cubic' },
              cubic_coeff_a: { float: -0.75 },
              coordinate_transformation_mode: { string: ctm },
            }
          : fail(layer, `resize type ${type} is not supported (1 nearest, 2 bilinear, 3 bicubic)`);
  const scales = ctx.graph.constFloat(`${layer.name}.scales`, [4], [1, 1, hs, ws]);
  const out = ctx.graph.unique(layer.outputs[0]);
  ctx.graph.node('Resize', layer.name, [src.tensor, '', scales], [out], attrs);
  ctx.define(layer.outputs[0], { ...src, tensor: out, scale: src.scale * hs });
};

export const LAYER_MAPPERS: Readonly<Record<string, Mapper>> = {
  Input: input,
  Split: split,
  Convolution: convolution,
  PReLU: prelu,
  ReLU: relu,
  Sigmoid: sigmoid,
  Concat: concat,
  Eltwise: eltwise,
  BinaryOp: binaryOp,
  PixelShuffle: pixelShuffle,
  Interp: interp,
};
