// Standalone use: tsx tools/ncnn2onnx/cli.ts model.param model.bin out.onnx [key=value metadata...]
import { readFileSync, writeFileSync } from 'node:fs';
import { convertNcnnToOnnx } from './convert';
import { ConversionError } from './errors';

const [paramFile, binFile, outFile, ...meta] = process.argv.slice(2);
if (!paramFile || !binFile || !outFile) {
  process.stderr.write('usage: tsx tools/ncnn2onnx/cli.ts model.param model.bin out.onnx [key=value ...]\n');
  process.exit(2);
}
try {
  const metadata = Object.fromEntries(meta.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  const r = convertNcnnToOnnx(readFileSync(paramFile, 'utf8'), readFileSync(binFile), { paramFile, binFile, metadata });
  writeFileSync(outFile, r.onnx);
  process.stdout.write(`${outFile}: x${r.scale}, ${r.nodeCount} nodes, ${r.onnx.byteLength} bytes\n`);
} catch (err) {
  process.stderr.write(`ncnn2onnx: ${err instanceof ConversionError ? err.message : String(err)}\n`);
  process.exit(1);
}
