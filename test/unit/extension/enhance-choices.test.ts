import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  applyChoices,
  choiceTag,
  ESTIMATE_SPREAD,
  estimateFromTrial,
  estimateText,
  outputFor,
  trialLogLine,
} from '../../../src/extension/enhance/enhance-choices';
import { runTrial, TRIAL_FRAMES } from '../../../src/extension/enhance/trial-run';
import { buildEnhanceArgs, DEFAULT_SETTINGS } from '../../../src/extension/settings';

const ENGINE = fileURLToPath(new URL('../../../dist/engine.js', import.meta.url));

describe('Enhance to 4K As…: choices and the trial estimate', function () {
  this.timeout(60_000);

  it('turns the choices into engine arguments (size box or ×2, quality, container by the output name)', () => {
    const s = applyChoices(DEFAULT_SETTINGS, {
      model: 'realesr-animevideov3-x4',
      size: '1920x1080',
      quality: 'fast',
      container: 'mkv',
    });
    const args = buildEnhanceArgs({ input: '/v/a.mov', output: outputFor('/v/a.mov', 'mkv') }, s);
    assert.deepEqual(args.slice(0, 8), [
      'enhance',
      '/v/a.mov',
      '-o',
      '/v/a.4k.mkv',
      '--model',
      'realesr-animevideov3-x4',
      '--target',
      '1920x1080',
    ]);
    assert.ok(args.join(' ').includes('--crf 23') && args.join(' ').includes('--preset veryfast'));
    const x2 = buildEnhanceArgs(
      { input: '/v/a.mp4' },
      applyChoices(DEFAULT_SETTINGS, { model: 'm', size: 'x2', quality: 'balanced', container: 'mp4' }),
    );
    assert.ok(x2.join(' ').includes('--scale 2') && !x2.includes('--target'));
    assert.ok(!x2.includes('--preset'), 'balanced leaves the preset to the engine');
  });

  it('passes the sound and dark-region steps on; choices remembered before those steps keep the settings', () => {
    const chosen = buildEnhanceArgs(
      { input: '/v/a.mp4' },
      applyChoices(DEFAULT_SETTINGS, {
        model: 'm',
        size: 'x2',
        quality: 'balanced',
        container: 'mp4',
        audio: 'stage',
        darkRegions: 'soften',
      }),
    ).join(' ');
    assert.ok(chosen.includes('--audio stage') && chosen.includes('--dark-regions soften'), chosen);
    const old = applyChoices(
      { ...DEFAULT_SETTINGS, audio: 'clean', darkRegions: 'soften' },
      { model: 'm', size: 'x2', quality: 'balanced', container: 'mp4' },
    );
    assert.equal(old.audio, 'clean');
    assert.equal(old.darkRegions, 'soften');
    const plain = buildEnhanceArgs(
      { input: '/v/a.mp4' },
      applyChoices(DEFAULT_SETTINGS, { model: 'm', size: 'x2', quality: 'balanced', container: 'mp4', audio: 'copy' }),
    );
    assert.ok(!plain.includes('--audio') && !plain.includes('--dark-regions'), 'copy and off are the defaults');
  });

  it('scales a trial to the whole video where this machine has no finished run of the model', () => {
    assert.deepEqual(estimateFromTrial({ frames: 3, seconds: 1.5, bytes: 3000 }, 300), {
      seconds: 150,
      bytes: 300_000,
    });
  });

  it("times the frames left at this machine's steady time per frame, the trial's fixed costs counted once", () => {
    // A 3-frame trial in 10 s, 1 s a frame once warm in earlier runs: the other 297 frames take 297 s more.
    assert.deepEqual(estimateFromTrial({ frames: 3, seconds: 10, bytes: 3000, steadyFrameS: 1 }, 300), {
      seconds: 10 + 297,
      bytes: 300_000,
    });
  });

  it('states the measured error beside the estimate, each figure corrected by the middle of its spread', () => {
    const e = { seconds: 477, bytes: 1.5 * 1024 ** 2 };
    // The trial alone: 477 s × 0.715 (the middle of [0.09, 1.34]); 1.5 MiB × 0.645 (of [0.52, 0.77]).
    assert.equal(
      estimateText(e, 9540, 3, 'trial'),
      'about 5:41 (measured runs took 0.1–1.9× this) and 990.7 KiB (±19 %) for 9540 frames ' +
        '(from a 3-frame trial on this machine)',
    );
    // Timed by this machine's runs: 477 s × 1.36 (the middle of [0.45, 2.27]).
    assert.equal(
      estimateText(e, 9540, 3, 'runs'),
      "about 10:49 (measured runs took 0.3–1.7× this) and 990.7 KiB (±19 %) for 9540 frames (from a 3-frame trial and this machine's last runs)",
    );
    // The stated ranges cover every measured run: said × (1 ± error) ⊇ estimate × [lo, hi].
    const [bLo, bHi] = ESTIMATE_SPREAD.bytes;
    const said = 1.5 * ((bLo + bHi) / 2);
    assert.ok(said * 0.81 <= 1.5 * bLo + 0.01 && said * 1.19 >= 1.5 * bHi - 0.01);
    for (const [lo, hi] of Object.values(ESTIMATE_SPREAD.seconds)) assert.ok(lo < 1 && lo < hi, `${lo}–${hi}`);
  });

  it('runs a real 3-frame trial in a temporary folder and measures it', async function () {
    if (!existsSync(ENGINE)) this.skip();
    const dir = mkdtempSync(join(tmpdir(), 'huaju4k-trial-test-'));
    try {
      const clip = join(dir, 'clip.mp4');
      // biome-ignore format: ffmpeg argv reads best as option/value pairs
      execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=64x36:rate=24', '-frames:v', '48',
        '-c:v', 'libx264', '-pix_fmt', 'yuv420p', clip]);
      const before = new Set(readdirSync(tmpdir()));
      const args = buildEnhanceArgs(
        { input: clip, output: outputFor(clip, 'mkv') },
        { ...DEFAULT_SETTINGS, model: 'null', scale: 4 },
      );
      const t = await runTrial(ENGINE, args, {});
      assert.equal(t.frames, TRIAL_FRAMES);
      assert.equal(t.totalFrames, 48);
      assert.ok(t.bytes > 0 && t.seconds > 0, JSON.stringify(t));
      assert.equal(t.steadyFrameS, undefined, 'a trial alone does not time a video by its own (warming) frames');
      assert.ok(t.ownSteadyS !== undefined && t.ownSteadyS > 0, 'its own steady time per frame (done report)');
      // What a measured rate is looked up by (the null model runs on no provider).
      assert.deepEqual([t.model, t.executionProvider, t.modelPixels], ['null', 'none', 64 * 36]);
      assert.deepEqual(readdirSync(dir), ['clip.mp4'], 'nothing written beside the input');
      assert.ok(
        ![...readdirSync(tmpdir())].some((n) => n.startsWith('huaju4k-trial-') && !before.has(n)),
        'trial folder removed',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Enhance to 4K As…: the preselected answers', () => {
  it('are tagged "last used" only after a first run; on the very first they are the defaults', () => {
    assert.equal(choiceTag('mp4', 'mp4', false), 'default');
    assert.equal(choiceTag('mp4', 'mp4', true), 'last used');
    assert.equal(choiceTag('mkv', 'mp4', true), undefined);
  });
});

describe('Enhance to 4K As…: the estimate trial is logged', () => {
  it('says what ran, what it measured and what it estimated', () => {
    const line = trialLogLine(
      '/v/a.mp4',
      ['enhance', '/v/a.mp4', '--max-frames', '3'],
      { frames: 3, seconds: 1.5, bytes: 3000 },
      300,
    );
    assert.equal(
      line,
      'estimate trial of /v/a.mp4: 3 frames in 1.50 s, 3000 bytes → 300 frames ≈ 150 s (the trial scaled), 300000 bytes; engine enhance /v/a.mp4 --max-frames 3',
    );
    const timed = trialLogLine(
      '/v/a.mp4',
      ['enhance'],
      { frames: 3, seconds: 1.5, bytes: 3000, steadyFrameS: 0.25 },
      300,
    );
    assert.equal(
      timed,
      "estimate trial of /v/a.mp4: 3 frames in 1.50 s, 3000 bytes → 300 frames ≈ 76 s (this machine's runs: 0.250 s a frame once warm), 300000 bytes; engine enhance",
    );
  });
});
