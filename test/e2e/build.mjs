// Bundles the extension-host test suite (mocha + tests) into out/test/suite/index.js (out/ is git-ignored).
import { build } from 'esbuild';

export async function buildSuite() {
  await build({
    entryPoints: { 'suite/index': 'test/e2e/suite/index.ts' },
    outdir: 'out/test',
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    sourcemap: 'inline',
    external: ['vscode', 'onnxruntime-node', 'zeromq'],
    logLevel: 'error',
  });
  return 'out/test/suite/index.js';
}
