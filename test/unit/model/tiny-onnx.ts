import { onnx } from 'onnx-proto';

// Hand-built ONNX graphs for the loader's rejection paths.

const { DataType } = onnx.TensorProto;

function io(name: string, dims: (number | string)[], elemType: number = DataType.FLOAT): onnx.IValueInfoProto {
  const dim = dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return { name, type: { tensorType: { elemType, shape: { dim } } } };
}

export function singleOpModel(
  opType: string,
  inputDims: (number | string)[],
  outputDims: (number | string)[],
  attribute: onnx.IAttributeProto[] = [],
): Uint8Array {
  return onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'tiny',
      node: [{ opType, input: ['x'], output: ['y'], attribute }],
      input: [io('x', inputDims)],
      output: [io('y', outputDims)],
    },
  }).finish();
}

/** The same model without its metadata_props (as if converted by another tool). */
export function stripMetadata(bytes: Uint8Array): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  model.metadataProps = [];
  return onnx.ModelProto.encode(model).finish();
}
