// npm run models [-- --all] [-- --verify] [-- --out DIR]
//   (default)  convert the committed models into models/ and rewrite models.json + LICENSE-weights
//   --all      also convert the large optional models (realesrgan-x4plus, -anime); not committed, not in models.json
//   --verify   regenerate into a temp dir and compare sha256 with models/models.json and the committed files
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { ModelEntry } from '../../src/engine/model/catalog';
import { MODEL_SOURCES } from './catalog';
import { generateModel, modelsJsonText, sha256Hex } from './generate';
import { LICENSE_WEIGHTS } from './license-text';

const repoRoot = resolve(__dirname, '..', '..');
const log = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

function generateInto(outDir: string, all: boolean): ModelEntry[] {
  mkdirSync(outDir, { recursive: true });
  const committed: ModelEntry[] = [];
  for (const src of MODEL_SOURCES) {
    if (!src.committed && !all) continue;
    const entry = generateModel(src, outDir, log);
    if (src.committed) {
      committed.push(entry);
      // Rewrite the index after each model, so the first one is usable while the rest convert.
      writeFileSync(join(outDir, 'models.json'), modelsJsonText(committed));
    }
  }
  writeFileSync(join(outDir, 'LICENSE-weights'), LICENSE_WEIGHTS);
  return committed;
}

function verify(modelsDir: string): boolean {
  const tmp = mkdtempSync(join(tmpdir(), 'huaju4k-models-'));
  try {
    const regenerated = generateInto(tmp, false);
    const indexFile = join(modelsDir, 'models.json');
    if (!existsSync(indexFile)) {
      log(`FAIL ${indexFile} is missing; run npm run models`);
      return false;
    }
    const committed = (JSON.parse(readFileSync(indexFile, 'utf8')) as { models: ModelEntry[] }).models;
    let ok = readFileSync(indexFile, 'utf8') === readFileSync(join(tmp, 'models.json'), 'utf8');
    if (!ok) log('FAIL models.json differs from the regenerated one');
    for (const entry of regenerated) {
      const listed = committed.find((m) => m.id === entry.id);
      const file = join(modelsDir, entry.file);
      const onDisk = existsSync(file) ? sha256Hex(readFileSync(file)) : 'missing';
      const good = listed?.sha256 === entry.sha256 && onDisk === entry.sha256;
      ok &&= good;
      log(
        `${good ? 'OK  ' : 'FAIL'} ${entry.id}: regenerated ${entry.sha256}, models.json ${listed?.sha256 ?? 'absent'}, file ${onDisk}`,
      );
    }
    return ok;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function main(): number {
  const { values } = parseArgs({
    options: {
      all: { type: 'boolean', default: false },
      verify: { type: 'boolean', default: false },
      out: { type: 'string' },
    },
  });
  const outDir = resolve(values.out ?? join(repoRoot, 'models'));
  if (values.verify) {
    const ok = verify(outDir);
    log(ok ? 'verify: all models reproduce their committed sha256' : 'verify: MISMATCH (see FAIL lines above)');
    return ok ? 0 : 1;
  }
  generateInto(outDir, values.all);
  log(`wrote ${outDir}`);
  return 0;
}

try {
  process.exitCode = main();
} catch (err) {
  process.stderr.write(`npm run models: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
