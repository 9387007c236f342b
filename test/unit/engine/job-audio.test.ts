import assert from 'node:assert/strict';
import { startJobAudio } from '../../../src/engine/audio/job-audio';
import type { JobManifest } from '../../../src/engine/checkpoint/manifest';
import { children } from '../../../src/engine/children';
import { planStreams } from '../../../src/engine/ffmpeg/stream-map';
import type { EngineEvent } from '../../../src/protocol/engine-events';
import { basicClip, clip, freshDir } from './helpers';

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

describe('--audio: what the measurement reads, and a job stopped while it runs', () => {
  it('a job cancelled while its sound is measured says nothing about the sound (the measurement died with the job)', async function () {
    this.timeout(120_000);
    // Two minutes of sound: its measurement runs for seconds, long enough to be cut off.
    const long = clip('tone-120s.mka', [
      ...['-f', 'lavfi', '-i', 'sine=f=300:d=120:sample_rate=48000', '-c:a', 'flac'],
    ]);
    const events: EngineEvent[] = [];
    const stop = new AbortController();
    const treated = startJobAudio({
      ...{ mode: 'clean', ffmpeg: 'ffmpeg', info: { path: long, audio: [{ index: 0, codec: 'flac' }] } },
      ...{ dir: freshDir('huaju4k-job-audio-'), manifest: { segments: [] } as unknown as JobManifest },
      emit: (e) => events.push(e as EngineEvent),
      signal: stop.signal,
    });
    while (children.size === 0) await new Promise((r) => setTimeout(r, 10));
    // What the CLI does on SIGINT/SIGTERM: the signal aborted, then every child killed.
    stop.abort();
    children.killAll();
    assert.equal(await treated, undefined, 'the measurement was cut off');
    assert.deepEqual(
      events.filter((e) => e.type === 'warning'),
      [],
    );
  });

  it('a --max-frames trial measures only the seconds it encodes, not the whole recording', async function () {
    this.timeout(120_000);
    // 4 s of a quiet tone, then 4 s of a loud one: the trial's first 3 s hold only the quiet one.
    const twoLevels = clip('tone-quiet-then-loud.mka', [
      ...[
        '-f',
        'lavfi',
        '-i',
        'sine=f=300:d=4:sample_rate=48000',
        '-f',
        'lavfi',
        '-i',
        'sine=f=300:d=4:sample_rate=48000',
      ],
      ...['-filter_complex', '[0]volume=-30dB[a];[1]volume=-6dB[b];[a][b]concat=n=2:v=0:a=1', '-c:a', 'flac'],
    ]);
    const measure = async (durationS?: number) => {
      const t = await startJobAudio({
        ...{ mode: 'clean', ffmpeg: 'ffmpeg', info: { path: twoLevels, audio: [{ index: 0, codec: 'flac' }] } },
        ...{ dir: freshDir('huaju4k-job-audio-'), manifest: { segments: [] } as unknown as JobManifest },
        emit: () => {},
        durationS,
      });
      assert.ok(t);
      return t.before;
    };
    const trial = await measure(3);
    const whole = await measure();
    assert.ok(trial.truePeakDb < -40, `trial: true peak ${trial.truePeakDb} dBTP (the quiet tone's, about -48)`);
    assert.ok(whole.truePeakDb > -30, `whole: true peak ${whole.truePeakDb} dBTP (the loud tone's, about -24)`);
  });
});
