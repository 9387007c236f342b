import { BinReader } from './bin';
import { ConversionError } from './errors';
import { type BlobInfo, LAYER_MAPPERS, LayerError, type MapContext } from './layers';
import { encodeModel, OnnxGraphBuilder } from './onnx-graph';
import { parseParam } from './param';

export const CONVERTER_VERSION = '1.0.0';

export interface ConvertOptions {
  /** Names used in error messages and in the ONNX doc string. */
  paramFile?: string;
  binFile?: string;
  /** Extra `metadata_props` entries (`huaju4k.scale` is always set from the graph). */
  metadata?: Record<string, string>;
  graphName?: string;
}

export interface ConvertResult {
  onnx: Uint8Array;
  /** Spatial upscale factor of the network, derived from the graph (PixelShuffle / Interp factors). */
  scale: number;
  inputChannels: number;
  outputChannels: number;
  nodeCount: number;
  initializerCount: number;
}

/**
 * Convert an ncnn image-to-image network to ONNX: input `input` [N,C,H,W] float32, output `output`
 * [N,C',H·s,W·s], H and W dynamic. Throws ConversionError on anything it cannot convert exactly.
 */
export function convertNcnnToOnnx(paramText: string, bin: Uint8Array, opts: ConvertOptions = {}): ConvertResult {
  const paramFile = opts.paramFile ?? '<param>';
  const binFile = opts.binFile ?? '<bin>';
  const param = parseParam(paramText, paramFile);
  const graph = new OnnxGraphBuilder();
  graph.unique('input');
  graph.unique('output');
  const reader = new BinReader(bin, binFile);
  const blobs = new Map<string, BlobInfo>();
  const consumed = new Set<string>();
  let inputInfo: BlobInfo | undefined;

  const ctx: MapContext = {
    graph,
    bin: reader,
    blob(name) {
      const info = blobs.get(name);
      if (!info) throw new LayerError(`blob "${name}" is used before any layer produces it`);
      consumed.add(name);
      return info;
    },
    define(name, info) {
      if (blobs.has(name)) throw new LayerError(`blob "${name}" is produced twice`);
      blobs.set(name, info);
    },
  };

  for (const layer of param.layers) {
    const mapper = LAYER_MAPPERS[layer.type];
    if (!mapper) {
      throw new ConversionError(
        paramFile,
        `line ${layer.line}: layer ${layer.name} has type ${layer.type}, which the converter does not support ` +
          `(supported: ${Object.keys(LAYER_MAPPERS).join(', ')})`,
      );
    }
    if (layer.type === 'Input' && inputInfo) throw new ConversionError(paramFile, 'more than one Input layer');
    try {
      mapper(ctx, layer);
    } catch (err) {
      if (err instanceof ConversionError) throw err;
      const msg = err instanceof Error ? err.message : String(err);
      throw new ConversionError(
        paramFile,
        msg.startsWith('layer ') ? msg : `layer ${layer.name} (line ${layer.line}): ${msg}`,
      );
    }
    if (layer.type === 'Input') inputInfo = blobs.get(layer.outputs[0]);
  }
  reader.assertConsumed();

  if (!inputInfo) throw new ConversionError(paramFile, 'the network has no Input layer');
  if (blobs.size !== param.blobCount) {
    throw new ConversionError(
      paramFile,
      `header announces ${param.blobCount} blobs but the layers produce ${blobs.size}`,
    );
  }
  const dangling = [...blobs.keys()].filter((b) => !consumed.has(b));
  if (dangling.length !== 1) {
    throw new ConversionError(
      paramFile,
      `expected exactly one output blob, found ${dangling.length}: ${dangling.join(', ')}`,
    );
  }
  const out = blobs.get(dangling[0])!;
  if (out.tensor === 'input') throw new ConversionError(paramFile, 'the output is the unmodified input');
  if (inputInfo.channels === 0) throw new ConversionError(paramFile, 'cannot tell the number of input channels');
  if (!Number.isInteger(out.scale) || out.scale < 1) {
    throw new ConversionError(paramFile, `the network scales by ${out.scale}, not a whole factor ≥ 1`);
  }
  graph.rename(out.tensor, 'output');

  const metadata = { 'huaju4k.scale': String(out.scale), ...opts.metadata };
  const onnx = encodeModel(graph, {
    graphName: opts.graphName ?? 'ncnn2onnx',
    producerVersion: CONVERTER_VERSION,
    docString: `Converted from ncnn ${paramFile.split(/[\\/]/).pop()} by huaju4k ncnn2onnx ${CONVERTER_VERSION}`,
    input: { name: 'input', dims: ['batch', inputInfo.channels, 'height', 'width'] },
    output: { name: 'output', dims: ['batch', out.channels, `height*${out.scale}`, `width*${out.scale}`] },
    metadata,
  });
  return {
    onnx,
    scale: out.scale,
    inputChannels: inputInfo.channels,
    outputChannels: out.channels,
    nodeCount: graph.nodes.length,
    initializerCount: graph.initializers.length,
  };
}
