import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  parseBenchArgs,
  parseEnhanceArgs,
  parseJobsArgs,
  parseProbeArgs,
  parseResumeArgs,
} from '../../../src/engine/args';
import { EngineError } from '../../../src/engine/errors';
import { ROOT, runCli } from './helpers';

/** Options named in a help text: `--name` at the start of an option line. */
const documented = (help: string): string[] =>
  [...help.matchAll(/^\s+(?:-\w, )?--([a-z0-9-]+)/gm)].map((m) => m[1]).filter((n) => n !== 'help');

/** A value each option accepts, so an option the parser does not know shows as "Unknown option". */
const SAMPLE_VALUE: Record<string, string> = {
  target: '1920x1080',
  scale: '2',
  tile: 'auto',
  encoder: 'libx264',
  crf: '20',
  preset: 'fast',
  ep: 'cpu',
  precision: 'fp32',
  'vram-budget': '4G',
  'disk-budget': '4x',
  'disk-reserve': '1G',
  temporal: 'low',
  reuse: 'off',
  publish: 'ws://127.0.0.1:1/video_in',
  mode: 'model',
  model: 'm.onnx',
  output: 'o.mp4',
};

const PARSERS: Record<string, { parse: (argv: string[]) => unknown; positional: string[] }> = {
  enhance: { parse: parseEnhanceArgs, positional: ['in.mp4'] },
  resume: { parse: parseResumeArgs, positional: ['out.mp4'] },
  jobs: { parse: parseJobsArgs, positional: [] },
  probe: { parse: parseProbeArgs, positional: ['in.mp4'] },
  bench: { parse: parseBenchArgs, positional: [] },
};

describe('engine: CLI help and version', () => {
  for (const [command, { parse, positional }] of Object.entries(PARSERS)) {
    it(`${command} --help / -h prints its own usage, exit 0, and every option it lists is accepted`, async () => {
      const long = await runCli([command, '--help']);
      assert.equal(long.code, 0, long.stderr);
      assert.match(long.stdout, new RegExp(`^usage: huaju4k ${command} `));
      const short = await runCli([command, '-h']);
      assert.equal(short.code, 0, short.stderr);
      assert.equal(short.stdout, long.stdout);
      const names = documented(long.stdout);
      assert.ok(names.includes('json'), `${command} documents --json`);
      for (const name of names) {
        const argv = [...positional, `--${name}`];
        if (/^\s+(?:-\w, )?--[a-z0-9-]+ </m.test(long.stdout.split('\n').find((l) => l.includes(`--${name}`)) ?? '')) {
          argv.push(SAMPLE_VALUE[name] ?? '3');
        }
        try {
          parse(argv);
        } catch (err) {
          assert.ok(err instanceof EngineError, String(err));
          assert.doesNotMatch(err.message, /Unknown option/, `${command} lists --${name} but rejects it`);
        }
      }
    });
  }

  it('enhance --help lists every option command lines in the docs use', async () => {
    const help = (await runCli(['enhance', '--help'])).stdout;
    const names = new Set(documented(help));
    // Options named in the user docs: each must be in the help text.
    const docs = ['README.md', 'docs/guide.md', 'docs/dev/engine.md'].map((f) => readFileSync(join(ROOT, f), 'utf8'));
    const used = new Set<string>();
    for (const text of docs) {
      for (const line of text.split('\n').filter((l) => /huaju4k enhance|engine\.js enhance/.test(l))) {
        for (const m of line.matchAll(/ --([a-z][a-z0-9-]+)/g)) used.add(m[1]);
      }
    }
    assert.ok(used.size >= 3, 'the docs name enhance options');
    for (const name of used) {
      if (name !== 'help') assert.ok(names.has(name), `--${name} (used in the docs) is missing from enhance --help`);
    }
  });

  it('a usage error names the command whose --help explains it', async () => {
    const r = await runCli(['enhance', 'x.mp4', '--bogus']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--bogus/);
    assert.match(r.stderr, /huaju4k enhance --help/);
  });

  it('--version prints the package version', async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const r = await runCli(['--version']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, new RegExp(`^huaju4k ${version.replace(/\./g, '\\.')} `));
  });
});
