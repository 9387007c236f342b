import assert from 'node:assert/strict';
import { startJobAudio } from '../../../src/engine/audio/job-audio';
import type { JobManifest } from '../../../src/engine/checkpoint/manifest';
import { planStreams } from '../../../src/engine/ffmpeg/stream-map';
import type { EngineEvent } from '../../../src/protocol/engine-events';
import { basicClip, freshDir } from './helpers';

describe('--audio: stream args and a sound that cannot be measured', () => {
  it('the treated stream is filtered and encoded AAC 48 kHz in every container; the others are planned as before', () => {
    const info = {
      audio: [
        { index: 1, codec: 'aac' },
        { index: 2, codec: 'aac' },
      ],
      subtitles: [],
    };
    for (const out of ['o.mp4', 'o.mkv', 'o.mov']) {
      const plan = planStreams(info, out, { stream: 1, filter: 'highpass=f=80', rate: 48000 });
      assert.deepEqual(plan.args, [
        ...['-map', '1:1', '-filter:a:0', 'highpass=f=80', '-ar:a:0', '48000', '-c:a:0', 'aac', '-b:a:0', '192k'],
        ...['-map', '1:2', '-c:a:1', 'copy'],
      ]);
      assert.deepEqual(plan.warnings, []);
    }
    assert.deepEqual(planStreams(info, 'o.mp4', undefined), planStreams(info, 'o.mp4'));
  });

  it('when ffmpeg cannot measure the sound, the job goes on with it copied and a warning says why', async () => {
    const events: EngineEvent[] = [];
    const manifest = { segments: [] } as unknown as JobManifest;
    const treated = await startJobAudio({
      mode: 'clean',
      ffmpeg: 'ffmpeg',
      // Stream #7 does not exist in the clip: ffmpeg's measurement pass fails.
      info: { path: basicClip(12), audio: [{ index: 7, codec: 'aac' }] },
      dir: freshDir('huaju4k-job-audio-'),
      manifest,
      emit: (e) => events.push(e as EngineEvent),
    });
    assert.equal(treated, undefined);
    assert.equal(manifest.audio, undefined, 'nothing saved in the checkpoint');
    const w = events.find((e) => e.type === 'warning');
    assert.ok(w && w.type === 'warning' && w.code === 'audio-not-treated', JSON.stringify(events));
    assert.match(w.message, /measuring the audio of .* \(stream #7\) failed.*copied as it is/s);
  });
});
