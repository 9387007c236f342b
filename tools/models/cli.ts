// npm run models [-- --all] [-- --verify] [-- --out DIR]
//   (default)  convert the committed models into models/ and rewrite models.json + LICENSE-weights
//   --all      also convert the large optional models (realesrgan-x4plus, -anime); not committed, not in models.json
//   --verify   regenerate into a temp dir and compare sha256 with models/models.json and the committed files
//   --calibrate  measure the int8 activation ranges on real frames (python3-imageio clips, media/sample.mp4) into
//              models/int8-calibration.json first (minutes); without it the committed ranges are used
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { ModelEntry } from '../../src/engine/model/catalog';
import {
  CALIBRATION_FILE,
  type CalibrationFile,
  int8Source,
  readCalibration,
} from '../../src/engine/model/int8-variant';
import { CALIBRATION_CLIPS, CALIBRATION_PERCENTILE, calibrate, calibrationFrames } from './calibrate';
import { MODEL_SOURCES } from './catalog';
import { generateModel, modelsJsonText, sha256Hex } from './generate';
import { LICENSE_WEIGHTS } from './license-text';

const repoRoot = resolve(__dirname, '..', '..');
const log = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

const repoModels = join(repoRoot, 'models');

function generateInto(outDir: string, all: boolean): ModelEntry[] {
  mkdirSync(outDir, { recursive: true });
  const committed: ModelEntry[] = [];
  const calibration = readCalibration(repoModels);
  for (const src of MODEL_SOURCES) {
    if (!src.committed && !all) continue;
    const entry = generateModel(src, outDir, log, calibration);
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
      const good =
        listed?.sha256 === entry.sha256 && onDisk === entry.sha256 && listed?.int8?.sha256 === entry.int8?.sha256;
      ok &&= good;
      const int8 = entry.int8 ? `; int8 regenerated ${entry.int8.sha256}, models.json ${listed?.int8?.sha256}` : '';
      log(
        `${good ? 'OK  ' : 'FAIL'} ${entry.id}: regenerated ${entry.sha256}, models.json ${listed?.sha256 ?? 'absent'}, file ${onDisk}${int8}`,
      );
    }
    return ok;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Measures every committed model's activation ranges on the calibration frames and writes int8-calibration.json. */
async function calibrateAll(modelsDir: string): Promise<void> {
  const frames = calibrationFrames();
  const file: CalibrationFile = {
    version: 1,
    method: `fp32 activations, ${CALIBRATION_PERCENTILE} tail cut off each end (percentile), ${frames.length} frames`,
    frames: CALIBRATION_CLIPS.map((c) => `${c.file}: -vf ${c.filter}, ${c.frames} frames`),
    models: {},
  };
  for (const src of MODEL_SOURCES.filter((s) => s.committed && s.int8)) {
    const t = performance.now();
    file.models[src.id] = await calibrate(int8Source(readFileSync(join(modelsDir, src.file))), frames);
    log(`calibrated ${src.id} on ${frames.length} frames in ${((performance.now() - t) / 1000).toFixed(0)} s`);
  }
  // One tensor per line: [lo, hi] pairs stay on the line of their name.
  const text = JSON.stringify(file, null, 1).replace(/\[\s+([^\s,]+),\s+([^\s\]]+)\s+\]/g, '[$1, $2]');
  writeFileSync(join(repoModels, CALIBRATION_FILE), `${text}\n`);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      all: { type: 'boolean', default: false },
      verify: { type: 'boolean', default: false },
      out: { type: 'string' },
      calibrate: { type: 'boolean', default: false },
    },
  });
  const outDir = resolve(values.out ?? join(repoRoot, 'models'));
  if (values.verify) {
    const ok = verify(outDir);
    log(ok ? 'verify: all models reproduce their committed sha256' : 'verify: MISMATCH (see FAIL lines above)');
    return ok ? 0 : 1;
  }
  if (values.calibrate) {
    generateInto(outDir, false); // the fp32 files the ranges are measured on
    await calibrateAll(outDir);
  }
  generateInto(outDir, values.all);
  log(`wrote ${outDir}`);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`npm run models: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
