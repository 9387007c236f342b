import assert from 'node:assert/strict';
import { parseBenchArgs, parseEnhanceArgs, parseProbeArgs } from '../../../src/engine/args';
import { EngineError } from '../../../src/engine/errors';

describe('engine: CLI arguments', () => {
  it('parses enhance options and rejects bad ones with usage errors (exit 2)', () => {
    const a = parseEnhanceArgs([
      'in.mp4',
      '-o',
      'x.mp4',
      '--tile',
      '128',
      '--crf',
      '20',
      '--max-frames',
      '5',
      '--json',
    ]);
    assert.equal(a.input, 'in.mp4');
    assert.equal(a.tile, 128);
    assert.equal(a.encoder.crf, 20);
    assert.equal(a.maxFrames, 5);
    assert.equal(a.json, true);
    for (const bad of [
      [],
      ['a', 'b'],
      ['a', '--target', '1920x1080', '--scale', '2'],
      ['a', '--encoder', 'xvid'],
      ['a', '--crf', '99'],
      ['a', '--scale', 'x'],
      ['a', '--tile', '3'],
      ['a', '--bogus'],
      ['a', '--preset', 'a;b'],
    ]) {
      assert.throws(
        () => parseEnhanceArgs(bad),
        (e: unknown) => e instanceof EngineError && e.code === 2,
        bad.join(' '),
      );
    }
    assert.deepEqual(parseProbeArgs(['x', '--json']), { input: 'x', json: true });
    assert.throws(() => parseProbeArgs([]), EngineError);
    assert.equal(parseBenchArgs([]).frames, 20);
    assert.equal(parseBenchArgs(['--mode', 'model', '--frames', '3']).mode, 'model');
    assert.throws(() => parseBenchArgs(['--mode', 'x']), EngineError);
    assert.throws(() => parseBenchArgs(['a', 'b']), EngineError);
    const gpu = parseBenchArgs(['--ep', 'cuda', '--precision', 'fp16', '--encoder', 'h264_nvenc']);
    assert.deepEqual([gpu.ep, gpu.precision, gpu.encoder], ['cuda', 'fp16', 'h264_nvenc']);
    const dflt = parseBenchArgs([]);
    assert.deepEqual([dflt.ep, dflt.precision, dflt.encoder], ['auto', 'auto', 'libx264']);
    for (const bad of [
      ['--ep', 'metal'],
      ['--precision', 'int4'],
      ['--encoder', 'av1'],
    ]) {
      assert.throws(() => parseBenchArgs(bad), EngineError, bad.join(' '));
    }
  });
});
