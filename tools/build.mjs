// Bundles the three targets with esbuild: extension (node/cjs), engine CLI + child entry (node/cjs), webview (browser).
import { build, context } from 'esbuild';

const watch = process.argv.includes('--watch');
const common = { bundle: true, sourcemap: 'linked', sourcesContent: false, logLevel: 'info', legalComments: 'none' };

/** Native addons and the VS Code API are loaded at run time, never bundled. */
const nodeExternals = ['vscode', 'onnxruntime-node', 'zeromq'];

const targets = [
  {
    ...common,
    entryPoints: { extension: 'src/extension/extension.ts' },
    outdir: 'dist',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: nodeExternals,
  },
  {
    ...common,
    entryPoints: { engine: 'src/engine/cli.ts' },
    outdir: 'dist',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: nodeExternals,
    banner: { js: '#!/usr/bin/env node' },
  },
  {
    ...common,
    entryPoints: { webview: 'webview/main.ts' },
    outdir: 'dist',
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    loader: { '.css': 'css' },
  },
];

if (watch) {
  for (const t of targets) await (await context(t)).watch();
} else {
  await Promise.all(targets.map((t) => build(t)));
}
