import assert from 'node:assert/strict';
import { encoderArgs } from '../../../src/engine/encoder';
import { planStreams } from '../../../src/engine/stream-map';

describe('engine: stream mapping', () => {
  it('copies what the container takes, transcodes or drops the rest with a warning', () => {
    const info = {
      audio: [
        { index: 1, codec: 'aac' },
        { index: 2, codec: 'pcm_s16le' },
      ],
      subtitles: [
        { index: 3, codec: 'subrip' },
        { index: 4, codec: 'hdmv_pgs_subtitle' },
        { index: 5, codec: 'mov_text' },
      ],
    };
    const mp4 = planStreams(info, 'out.mp4');
    assert.deepEqual(mp4.args, [
      '-map',
      '1:1',
      '-c:a:0',
      'copy',
      '-map',
      '1:2',
      '-c:a:1',
      'aac',
      '-b:a:1',
      '192k',
      '-map',
      '1:3',
      '-c:s:0',
      'mov_text',
      '-map',
      '1:5',
      '-c:s:1',
      'copy',
    ]);
    assert.deepEqual(
      mp4.warnings.map((w) => w.code),
      ['audio-transcoded', 'subtitle-transcoded', 'subtitle-dropped'],
    );
    const mkv = planStreams(info, 'out.mkv');
    assert.equal(mkv.warnings.length, 1, 'mkv keeps everything but mov_text');
    assert.equal(planStreams(info, 'out.mov').warnings[0].code, 'subtitle-transcoded');
    assert.throws(() => planStreams(info, 'out.avi'), /unsupported output extension/);
    assert.equal(planStreams({ audio: [], subtitles: [] }, 'x.mp4').mapsSource, false);
  });
  it('encoder args: lanczos to target, bt709 tags, trim to max frames, codec settings', () => {
    const base = {
      ffmpeg: 'ffmpeg',
      output: 'o.mkv',
      frameSize: { width: 256, height: 144 },
      target: { width: 3840, height: 2160 },
      fpsRational: '30000/1001',
    };
    const x265 = encoderArgs({ ...base, settings: { codec: 'libx265' }, maxFrames: 30 }).args.join(' ');
    assert.match(x265, /scale=3840:2160:flags=lanczos/);
    assert.match(x265, /-c:v libx265 -preset fast -crf 20/);
    assert.match(x265, /-frames:v 30 -t 1\.001000/);
    assert.match(x265, /-colorspace bt709/);
    assert.doesNotMatch(x265, /faststart/);
    const nv = encoderArgs({
      ...base,
      target: base.frameSize,
      settings: { codec: 'h264_nvenc', crf: 21 },
      videoStartS: 0.5,
    });
    assert.match(
      nv.args.join(' '),
      /^-nostdin .* -itsoffset 0\.500000 .*-vf scale=out_color_matrix=bt709:out_range=tv,format=yuv420p .*-cq 21/,
    );
  });
});
