import assert from 'node:assert/strict';
import pkg from '../../../package.json';
import { parseEnhanceArgs } from '../../../src/engine/args';
import {
  buildEnhanceArgs,
  DEFAULT_SETTINGS,
  engineEnv,
  farmSecretEnv,
  jobDevice,
  readSettings,
  SettingsError,
} from '../../../src/extension/settings';
import {
  ENHANCE_COMMAND,
  FARM_PASSWORD_ENV,
  MAX_LOCAL_WORKERS,
  PRECISION_CHOICES,
} from '../../../src/protocol/cli-options';

describe('extension settings → engine CLI args', () => {
  it('defaults give model, target, tile, encoder and crf only (the engine picks the preset)', () => {
    const args = buildEnhanceArgs(
      { input: '/v/a.mp4' },
      readSettings(() => undefined),
    );
    assert.deepEqual(args, [
      'enhance',
      '/v/a.mp4',
      '--model',
      'realesr-general-x4v3',
      '--target',
      '3840x2160',
      '--tile',
      'auto',
      '--encoder',
      'libx264',
      '--crf',
      '18',
    ]);
  });

  it('passes every changed knob with its flag', () => {
    const s = readSettings(
      (k) =>
        ({
          model: 'realesr-animevideov3-x4',
          scale: 4,
          tile: '128',
          executionProvider: 'cuda',
          precision: 'fp32',
          gpuMemoryBudget: 4,
          temporal: 'off',
          tileReuse: false,
          audio: 'stage',
          darkRegions: 'soften',
          encoder: 'auto',
          crf: 23,
          preset: 'fast',
          segmentFrames: 48,
          diskBudgetMultiplier: 3,
          diskReserveGB: 1,
          bufferMB: 256,
          maxFrames: 10,
          extraArgs: ['--foo'],
        })[k as string],
    );
    const args = buildEnhanceArgs({ input: 'in.mkv', output: 'out.mp4' }, s);
    assert.deepEqual(args, [
      'enhance',
      'in.mkv',
      '-o',
      'out.mp4',
      '--model',
      'realesr-animevideov3-x4',
      '--scale',
      '4',
      '--tile',
      '128',
      '--ep',
      'cuda',
      '--precision',
      'fp32',
      '--vram-budget',
      '4',
      '--temporal',
      'off',
      '--reuse',
      'off',
      '--dark-regions',
      'soften',
      '--audio',
      'stage',
      '--crf',
      '23',
      '--preset',
      'fast',
      '--segment-frames',
      '48',
      '--disk-budget',
      '3x',
      '--disk-reserve',
      '1G',
      '--buffer-mb',
      '256',
      '--max-frames',
      '10',
      '--foo',
    ]);
  });

  it('a custom .onnx file replaces the chosen model; a legacy path in huaju4k.model still works', () => {
    const model = (over: Record<string, unknown>) => {
      const args = buildEnhanceArgs(
        { input: 'a.mp4' },
        readSettings((k) => over[k as string]),
      );
      return args[args.indexOf('--model') + 1];
    };
    assert.equal(model({}), 'realesr-general-x4v3');
    assert.equal(model({ model: 'realesr-animevideov3-x4' }), 'realesr-animevideov3-x4');
    assert.equal(model({ model: 'realesr-animevideov3-x4', modelPath: ' /m/mine.onnx ' }), '/m/mine.onnx');
    assert.equal(model({ model: '/m/legacy.onnx' }), '/m/legacy.onnx');
    assert.equal(model({ model: ' ', modelPath: '/m/mine.onnx' }), '/m/mine.onnx');
  });

  it('ignores values of the wrong type and falls back to the default', () => {
    const s = readSettings((k) => ({ crf: 'high', extraArgs: [1, 2], scale: '4', tile: 64 })[k as string]);
    assert.equal(s.crf, DEFAULT_SETTINGS.crf);
    assert.deepEqual(s.extraArgs, []);
    assert.equal(s.scale, 0);
    assert.equal(s.tile, 'auto');
  });

  it('names the setting that is wrong', () => {
    for (const [key, value] of [
      ['target', '4k'],
      ['tile', 'big'],
      ['crf', 60],
      ['model', ' '],
      ['precision', 'half'],
      ['temporal', 'max'],
      ['executionProvider', 'gpu'],
      ['encoder', 'x264'],
      ['audio', 'loud'],
      ['audio', 'auto'],
      ['darkRegions', 'on'],
    ] as const) {
      const s = readSettings((k) => (k === key ? value : undefined));
      assert.throws(
        () => buildEnhanceArgs({ input: 'a.mp4' }, s),
        (e: unknown) => e instanceof SettingsError && e.key === key && e.message.includes(`huaju4k.${key}`),
      );
    }
  });

  it('precision int8 is passed on, and every precision the setting offers is one the engine accepts', () => {
    const s = readSettings((k) => (k === 'precision' ? 'int8' : undefined));
    const args = buildEnhanceArgs({ input: 'a.mp4' }, s);
    assert.deepEqual(args.slice(args.indexOf('--precision'), args.indexOf('--precision') + 2), ['--precision', 'int8']);
    const offered = pkg.contributes.configuration.find((g) => g.properties['huaju4k.precision'])?.properties[
      'huaju4k.precision'
    ]?.enum;
    assert.deepEqual(offered, [...PRECISION_CHOICES]);
  });

  it('the GPU memory budget set under its old key huaju4k.vramBudgetGiB still applies; the new key wins', () => {
    const vram = (s: ReturnType<typeof readSettings>) =>
      buildEnhanceArgs({ input: 'a.mp4' }, s).indexOf('--vram-budget');
    const old = buildEnhanceArgs(
      { input: 'a.mp4' },
      readSettings((k) => ({ vramBudgetGiB: 3 })[k]),
    );
    assert.deepEqual(old.slice(old.indexOf('--vram-budget'), old.indexOf('--vram-budget') + 2), ['--vram-budget', '3']);
    const both = readSettings((k) => ({ vramBudgetGiB: 3, gpuMemoryBudget: 10 })[k]);
    assert.equal(both.gpuMemoryBudget, 10);
    assert.equal(readSettings((k) => ({ vramBudgetGiB: 'lots', gpuMemoryBudget: undefined })[k]).gpuMemoryBudget, 6);
    assert.equal(vram(readSettings(() => undefined)), -1, 'neither set: the engine default, no flag');
  });

  it('tool paths travel as environment variables', () => {
    const s = readSettings((k) => ({ ffmpegPath: '/opt/ff/ffmpeg' })[k as string]);
    assert.deepEqual(engineEnv(s), { HUAJU4K_FFMPEG: '/opt/ff/ffmpeg' });
    const cuda = engineEnv(readSettings((k) => ({ cudaProviderPath: '/opt/ort-gpu/lib' })[k as string]));
    assert.equal(cuda.HUAJU4K_CUDA_PROVIDERS, '/opt/ort-gpu/lib');
    assert.equal(cuda.LD_LIBRARY_PATH?.split(':')[0], '/opt/ort-gpu/lib');
  });

  it("package.json's settings agree with the engine's option table (names, choices, defaults)", () => {
    const props: Record<string, { default?: unknown; enum?: string[] }> = Object.assign(
      {},
      ...pkg.contributes.configuration.map((g) => g.properties),
    );
    for (const o of ENHANCE_COMMAND.options.filter((x) => x.setting)) {
      const prop = props[`huaju4k.${o.setting}`];
      assert.ok(prop, `--${o.name} names huaju4k.${o.setting}, which package.json lacks`);
      if (o.choices && prop.enum) {
        const without = (l: readonly string[]) => l.filter((v) => v !== 'auto').sort();
        assert.deepEqual(without(prop.enum), without(o.choices), `huaju4k.${o.setting}'s dropdown vs --${o.name}`);
      }
    }
    // Every engine knob among the settings feeds an option; the rest are the extension's own.
    const own = [
      'modelPath',
      'ffmpegPath',
      'ffprobePath',
      'cudaProviderPath',
      'jobsPerDevice',
      'extraArgs',
      'backends',
    ];
    const fed = new Set(ENHANCE_COMMAND.options.map((o) => o.setting));
    for (const key of Object.keys(props).map((k) => k.replace(/^huaju4k\./, ''))) {
      assert.ok(fed.has(key) || own.includes(key), `huaju4k.${key} feeds no engine option and is not listed as own`);
      if (key in DEFAULT_SETTINGS) {
        assert.deepEqual(props[`huaju4k.${key}`].default, DEFAULT_SETTINGS[key as keyof typeof DEFAULT_SETTINGS], key);
      }
    }
  });

  it('every flag the settings produce is one the engine lists and parses', () => {
    const changed: Record<string, unknown> = {
      tile: '128',
      executionProvider: 'cpu',
      precision: 'fp32',
      gpuMemoryBudget: 4,
      temporal: 'off',
      tileReuse: false,
      audio: 'clean',
      darkRegions: 'soften',
      preset: 'fast',
      segmentFrames: 48,
      diskBudgetMultiplier: 3,
      diskReserveGB: 1.5,
      bufferMB: 256,
      maxFrames: 10,
    };
    const args = buildEnhanceArgs(
      { input: 'in.mkv', output: 'out.mp4' },
      readSettings((k) => changed[k]),
    );
    const listed = new Set(ENHANCE_COMMAND.options.filter((o) => !o.hidden).map((o) => `--${o.name}`));
    for (const flag of args.filter((a) => a.startsWith('--'))) assert.ok(listed.has(flag), flag);
    const parsed = parseEnhanceArgs(args.slice(1));
    assert.equal(parsed.diskReserveBytes, 1.5 * 2 ** 30);
    assert.equal(parsed.maxFrames, 10);
    assert.equal(parsed.audio, 'clean');
    assert.equal(parsed.darkRegions, 'soften');
  });
});

describe('extension settings → a split job: --workers, --farm, and the farm password', () => {
  const settings = (values: Record<string, unknown>) => readSettings((k) => values[k]);
  const flagValue = (args: string[], flag: string) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);

  it('huaju4k.workers > 1 splits an ordinary enhance (--workers n, which the engine parses); 1 passes nothing', () => {
    const four = buildEnhanceArgs({ input: '/v/a.mp4' }, settings({ workers: 4 }));
    assert.equal(flagValue(four, '--workers'), '4');
    assert.equal(parseEnhanceArgs(four.slice(1)).workers, 4);
    const props: Record<string, { maximum?: number }> = Object.assign(
      {},
      ...pkg.contributes.configuration.map((g) => g.properties),
    );
    assert.equal(props['huaju4k.workers'].maximum, MAX_LOCAL_WORKERS, "the setting's maximum is the engine's");
    const one = buildEnhanceArgs({ input: '/v/a.mp4' }, settings({ workers: 1 }));
    assert.ok(!one.includes('--workers'));
    for (const bad of [0, 2.5, MAX_LOCAL_WORKERS + 1]) {
      assert.throws(
        () => buildEnhanceArgs({ input: '/v/a.mp4' }, settings({ workers: bad })),
        (e: unknown) => e instanceof SettingsError && e.key === 'workers',
        String(bad),
      );
    }
  });

  it('Enhance on Farm: --farm <huaju4k.farm.url> and no --workers (the engine takes one of them)', () => {
    const s = settings({ 'farm.url': ' rediss://farm.lan:6380 ', workers: 4 });
    const args = buildEnhanceArgs({ input: '/v/a.mp4', output: '/v/a.4k.mp4', farm: true }, s);
    assert.equal(flagValue(args, '--farm'), 'rediss://farm.lan:6380');
    assert.ok(!args.includes('--workers'));
    assert.equal(parseEnhanceArgs(args.slice(1)).farm, 'rediss://farm.lan:6380');
    // An ordinary enhance with a farm URL set runs here, split over the local workers.
    const local = buildEnhanceArgs({ input: '/v/a.mp4' }, s);
    assert.ok(!local.includes('--farm'));
    assert.equal(flagValue(local, '--workers'), '4');
    // A Redis ACL user name is no secret.
    const user = buildEnhanceArgs({ input: '/v/a.mp4', farm: true }, settings({ 'farm.url': 'redis://ops@h:6379' }));
    assert.equal(flagValue(user, '--farm'), 'redis://ops@h:6379');
  });

  it('refuses a farm URL that is empty, not Redis, or holds a password, naming huaju4k.farm.url and what to do', () => {
    const cases: Array<[string, RegExp]> = [
      ['', /not set.*redis:\/\/host:6379/],
      ['http://farm.lan:6379', /must be a Redis URL/],
      ['farm.lan:6379', /must be a Redis URL/],
      ['redis://:hunter2@farm.lan:6379', /holds a password.*Set Farm Password/],
      ['redis://ops:hunter2@farm.lan:6379', /holds a password.*Set Farm Password/],
    ];
    for (const [url, message] of cases) {
      assert.throws(
        () => buildEnhanceArgs({ input: '/v/a.mp4', farm: true }, settings({ 'farm.url': url })),
        (e: unknown) =>
          e instanceof SettingsError &&
          e.key === 'farm.url' &&
          message.test(e.message) &&
          !e.message.includes('hunter2'),
        url,
      );
    }
  });

  it('the password goes into the environment of a --farm job only, never into its argv', () => {
    const args = buildEnhanceArgs({ input: '/v/a.mp4', farm: true }, settings({ 'farm.url': 'redis://h:6379' }));
    assert.deepEqual(farmSecretEnv(args, 'hunter2'), { [FARM_PASSWORD_ENV]: 'hunter2' });
    assert.ok(!args.join(' ').includes('hunter2'));
    assert.deepEqual(farmSecretEnv(args, undefined), {});
    assert.deepEqual(farmSecretEnv(buildEnhanceArgs({ input: '/v/a.mp4' }, settings({ workers: 2 })), 'hunter2'), {});
    assert.ok(!(FARM_PASSWORD_ENV in engineEnv(settings({ 'farm.url': 'redis://h:6379' }))), 'not journaled');
  });
});

describe('extension settings → the GPU a job runs on (huaju4k.gpu → --gpu)', () => {
  const settings = (values: Record<string, unknown>) => readSettings((k) => values[k]);

  it('-1 (the default) passes nothing; an index passes --gpu n, which the engine parses; a farm job none', () => {
    assert.ok(!buildEnhanceArgs({ input: '/v/a.mp4' }, settings({})).includes('--gpu'));
    const one = buildEnhanceArgs({ input: '/v/a.mp4' }, settings({ gpu: 1, executionProvider: 'dml' }));
    assert.deepEqual(one.slice(one.indexOf('--gpu'), one.indexOf('--gpu') + 2), ['--gpu', '1']);
    assert.equal(parseEnhanceArgs(one.slice(1)).gpu, 1);
    const farm = buildEnhanceArgs(
      { input: '/v/a.mp4', farm: true },
      settings({ gpu: 1, 'farm.url': 'redis://h:6379' }),
    );
    assert.ok(!farm.includes('--gpu'), 'each farm worker has its own --device');
    for (const bad of [-2, 1.5, 1000]) {
      assert.throws(
        () => buildEnhanceArgs({ input: '/v/a.mp4' }, settings({ gpu: bad })),
        (e: unknown) => e instanceof SettingsError && e.key === 'gpu' && /huaju4k\.gpu must be -1/.test(e.message),
        String(bad),
      );
    }
  });

  it('jobs on different GPUs count against jobsPerDevice apart; the default GPU is GPU 0; the CPU has none', () => {
    assert.equal(jobDevice({ executionProvider: 'auto', gpu: -1 }), 'default');
    assert.equal(jobDevice({ executionProvider: 'auto', gpu: 0 }), 'default');
    assert.equal(jobDevice({ executionProvider: 'auto', gpu: 1 }), 'default:gpu1');
    assert.equal(jobDevice({ executionProvider: 'dml', gpu: 2 }), 'dml:gpu2');
    assert.equal(jobDevice({ executionProvider: 'cpu', gpu: 1 }), 'cpu');
  });
});
