import { onnx } from 'onnx-proto';
import { castNode } from './fp16';

const { DataType } = onnx.TensorProto;
const { AttributeType } = onnx.AttributeProto;

/** Why a model's interface cannot take rgb24 (its session is then opened as it is, and the loader says why not). */
export class Rgb24IoError extends Error {}

/** Round and Clip with min/max as inputs: the wrapper's output end needs opset 11 of the default domain. */
const MIN_OPSET = 11;

const dims = (v: onnx.IValueInfoProto): onnx.TensorShapeProto.IDimension[] => v.type?.tensorType?.shape?.dim ?? [];

/** A copy of a rank-4 value's type with its axes in `perm` order and element type `elemType`. */
function permuted(v: onnx.IValueInfoProto, name: string, perm: number[], elemType: number): onnx.IValueInfoProto {
  const d = dims(v);
  return {
    name,
    type: { tensorType: { elemType, shape: { dim: perm.map((p) => d[p] ?? {}) } } },
  };
}

function node(opType: string, name: string, input: string[], output: string, ints?: number[]): onnx.INodeProto {
  const attribute = ints ? [{ name: 'perm', type: AttributeType.INTS, ints }] : [];
  return { opType, name, input, output: [output], attribute };
}

function scalar(name: string, value: number): onnx.ITensorProto {
  return { name, dataType: DataType.FLOAT, dims: [], floatData: [value] };
}

function checkFloatImage(v: onnx.IValueInfoProto | undefined, what: string): onnx.IValueInfoProto {
  if (!v) throw new Rgb24IoError(`it has no ${what}`);
  const type = v.type?.tensorType?.elemType;
  if (type !== DataType.FLOAT) {
    const name = type === null || type === undefined ? 'untyped' : (DataType[type] ?? String(type)).toLowerCase();
    throw new Rgb24IoError(`its ${what} is ${name}, not float32`);
  }
  if (dims(v).length !== 4) throw new Rgb24IoError(`its ${what} has rank ${dims(v).length}, not 4 (N,C,H,W)`);
  return v;
}

/**
 * The model with its pre- and post-processing inside the graph, so the execution provider runs them and no
 * per-pixel loop runs in JavaScript: the new input takes rgb24 pixels as uint8 [N,H,W,3] (Transpose to NCHW, Cast,
 * ÷255 — the float planar 0..1 tensor the model was trained on), the new output gives uint8 [N,sH,sW,3]
 * (×255, Clip 0..255, Round half to even, Cast, Transpose to NHWC). The transposes run on the uint8 side, a quarter
 * of the bytes of float32. The original graph is untouched; only its interface moves inward.
 * The new input and output are named after the old ones plus `_rgb24`. Deterministic: the same model always gives the same bytes.
 */
export function withRgb24Io(bytes: Uint8Array): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph;
  if (!graph) throw new Rgb24IoError('the file has no graph');
  const initNames = new Set((graph.initializer ?? []).map((t) => t.name));
  const inputs = (graph.input ?? []).filter((v) => !initNames.has(v.name));
  if (inputs.length !== 1) throw new Rgb24IoError(`it has ${inputs.length} inputs`);
  const input = checkFloatImage(inputs[0], 'input');
  const output = checkFloatImage(graph.output?.[0], 'output');
  const opset = (model.opsetImport ?? []).find((o) => (o.domain ?? '') === '');
  if (!opset || Number(opset.version) < MIN_OPSET) throw new Rgb24IoError(`its opset is below ${MIN_OPSET}`);

  const x = input.name ?? '';
  const y = output.name ?? '';
  const p = 'huaju4k_rgb24';
  const head = [
    node('Transpose', `${p}_in_nchw`, [`${x}_rgb24`], `${p}_in_nchw`, [0, 3, 1, 2]),
    castNode(`${p}_in_float`, `${p}_in_nchw`, `${p}_in_float`, DataType.FLOAT),
    node('Div', `${p}_in_unit`, [`${p}_in_float`, `${p}_255`], x),
  ];
  const tail = [
    node('Mul', `${p}_out_255`, [y, `${p}_255`], `${p}_out_255`),
    node('Clip', `${p}_out_clip`, [`${p}_out_255`, `${p}_0`, `${p}_255`], `${p}_out_clip`),
    node('Round', `${p}_out_round`, [`${p}_out_clip`], `${p}_out_round`),
    castNode(`${p}_out_u8`, `${p}_out_round`, `${p}_out_u8`, DataType.UINT8),
    node('Transpose', `${p}_out_nhwc`, [`${p}_out_u8`], `${y}_rgb24`, [0, 2, 3, 1]),
  ];
  const newInput = permuted(input, `${x}_rgb24`, [0, 2, 3, 1], DataType.UINT8);
  const newOutput = permuted(output, `${y}_rgb24`, [0, 2, 3, 1], DataType.UINT8);
  const out: onnx.IModelProto = {
    ...model,
    graph: {
      ...graph,
      input: [newInput, ...(graph.input ?? []).filter((v) => v !== input)],
      output: [newOutput, ...(graph.output ?? []).slice(1)],
      node: [...head, ...(graph.node ?? []), ...tail],
      initializer: [...(graph.initializer ?? []), scalar(`${p}_255`, 255), scalar(`${p}_0`, 0)],
      // The model's own input and output are inner values now.
      valueInfo: [...(graph.valueInfo ?? []), input, output],
    },
  };
  return onnx.ModelProto.encode(out).finish();
}
