import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newJob } from '../../../src/extension/jobs/job-state';
import { finishedOutputOf, isEngineFile, isEnhanceable, isVideoFile } from '../../../src/extension/videos/video-files';
import { parseProbe } from '../../../src/extension/videos/video-probe';
import {
  describeVideo,
  folderDescription,
  groupVideos,
  matchesFilter,
  sortVideos,
  type VideoFacts,
  videoState,
  videosViewMessage,
} from '../../../src/extension/videos/videos-model';

const base: VideoFacts = { path: '/w/clips/a.mp4', relPath: 'clips/a.mp4' };

describe('Videos tree model', () => {
  it('not enhanced, with metadata in the description', () => {
    const v = describeVideo({ ...base, meta: { width: 64, height: 36, durationS: 2, fps: 25 } });
    assert.equal(v.label, 'a.mp4');
    assert.equal(v.description, 'not enhanced · 64×36 · 0:02 · 25 fps');
    assert.equal(v.contextValue, 'video.not-enhanced');
  });

  it('running n% while a job runs, queued with its place in line', () => {
    const job = {
      ...newJob('j', base.path, '/w/clips/a.4k.mp4', 0),
      phase: 'running' as const,
      frame: 30,
      total: 40,
      fps: 2,
    };
    assert.deepEqual(videoState({ ...base, job }), { kind: 'running', percent: 75, fps: 2, etaS: 0 });
    assert.equal(describeVideo({ ...base, job }).contextValue, 'video.running');
    const queued = { ...job, phase: 'queued' as const };
    assert.match(describeVideo({ ...base, job: queued, queuePosition: 2 }).description, /^queued #2/);
  });

  it('interrupted n% from a remembered record wins over a stale output, and says when', () => {
    const record = {
      phase: 'interrupted' as const,
      frame: 12,
      total: 48,
      updatedAt: 1000,
      output: '/w/clips/a.4k.mp4',
      failure: { exitCode: null, signal: 'SIGKILL', reason: 'killed', message: 'stopped by SIGKILL' },
    };
    const v = describeVideo({ ...base, record, output: '/w/clips/a.4k.mp4' }, 61_000);
    assert.equal(v.contextValue, 'video.interrupted');
    assert.match(v.description, /^interrupted 25%/);
    assert.match(v.tooltip, /Interrupted at 25% \(60 s ago\): stopped by SIGKILL/);
  });

  it('done when the output exists; failed shows the reason in the tooltip', () => {
    assert.equal(videoState({ ...base, output: '/w/clips/a.4k.mp4' }).kind, 'done');
    const record = {
      phase: 'failed' as const,
      frame: 0,
      total: 0,
      updatedAt: 1,
      output: 'x',
      failure: { exitCode: 2, signal: null, reason: 'no-video-stream', message: 'a.mp4 has no video stream' },
    };
    const v = describeVideo({ ...base, record });
    assert.equal(v.contextValue, 'video.failed');
    assert.match(v.tooltip, /Failed: a\.mp4 has no video stream/);
  });

  it('sorts by folder and name, case-insensitively', () => {
    const sorted = sortVideos([{ relPath: 'b/Z.mp4' }, { relPath: 'a.mp4' }, { relPath: 'B/a.mkv' }]);
    assert.deepEqual(
      sorted.map((s) => s.relPath),
      ['a.mp4', 'B/a.mkv', 'b/Z.mp4'],
    );
  });

  it('a done video shows its output beside it, with its size', () => {
    const v = describeVideo({ ...base, output: '/w/clips/a.4k.mp4', outputBytes: 3 * 2 ** 20 });
    assert.equal(v.description, 'done → a.4k.mp4 (3.0 MiB)');
  });

  const meta = (durationS: number) => ({ width: 64, height: 36, durationS, fps: 24 });
  const many: VideoFacts[] = [
    { path: '/w/z.mp4', relPath: 'z.mp4', meta: meta(5) },
    { path: '/w/trip/b.mp4', relPath: 'trip/b.mp4', meta: meta(90) },
    { path: '/w/trip/a.mp4', relPath: 'trip/a.mp4', meta: meta(30), output: '/w/trip/a.4k.mp4' },
    { path: '/w/trip/day2/c.mkv', relPath: 'trip/day2/c.mkv', meta: meta(60) },
  ];

  it('groups by folder (sub-folders first, the top level last) and sorts by name, state or duration', () => {
    const names = (sort?: 'name' | 'state' | 'duration') =>
      groupVideos(many, sort).map((g) => `${g.dir}: ${g.items.map((f) => f.relPath.split('/').at(-1)).join(' ')}`);
    assert.deepEqual(names(), ['trip: a.mp4 b.mp4', 'trip/day2: c.mkv', '.: z.mp4']);
    assert.deepEqual(names('state'), ['trip: b.mp4 a.mp4', 'trip/day2: c.mkv', '.: z.mp4']);
    assert.deepEqual(names('duration'), ['trip: b.mp4 a.mp4', 'trip/day2: c.mkv', '.: z.mp4']);
  });

  it('filters by every word of the path and the state', () => {
    const kept = (filter: string) => many.filter((f) => matchesFilter(f, filter)).map((f) => f.relPath);
    assert.deepEqual(
      kept(''),
      many.map((f) => f.relPath),
    );
    assert.deepEqual(kept('TRIP done'), ['trip/a.mp4']);
    assert.deepEqual(kept('not enhanced day2'), ['trip/day2/c.mkv']);
    assert.deepEqual(kept('nothing-like-this'), []);
  });

  it('parses ffprobe JSON (fractional frame rate, missing stream)', () => {
    const json = JSON.stringify({
      streams: [{ codec_type: 'video', width: 64, height: 36, avg_frame_rate: '30000/1001' }],
      format: { duration: '2.5' },
    });
    assert.deepEqual(parseProbe(json), { width: 64, height: 36, fps: 29.97, durationS: 2.5 });
    assert.deepEqual(parseProbe('{"streams":[]}'), { error: 'no video stream' });
    assert.deepEqual(parseProbe('oops'), { error: 'ffprobe printed no JSON' });
  });
});

describe('which files are videos to enhance', () => {
  it('an unreadable file offers no Enhance (its own context value) and says why', () => {
    const v = describeVideo({ ...base, meta: { error: 'moov atom not found' } });
    assert.equal(v.contextValue, 'video.unreadable');
    assert.match(v.tooltip, /ffprobe: moov atom not found/);
  });

  it("skips the engine's work files, our outputs, and TypeScript files named .ts", () => {
    const dir = mkdtempSync(join(tmpdir(), 'huaju4k-files-'));
    try {
      const ts = join(dir, 'rec.ts');
      execFileSync('ffmpeg', [
        '-v',
        'error',
        '-f',
        'lavfi',
        '-i',
        'testsrc2=size=64x36',
        '-frames:v',
        '2',
        '-f',
        'mpegts',
        ts,
      ]);
      const source = join(dir, 'index.ts');
      writeFileSync(source, 'export const x = 1;\n');
      assert.equal(isEnhanceable(ts), true, 'an MPEG transport stream');
      assert.equal(isEnhanceable(source), false, 'a TypeScript file');
      assert.equal(isVideoFile(source), false);
      assert.equal(isEnhanceable(join(dir, 'a.mp4')), true);
      assert.equal(isEnhanceable(join(dir, 'a.4k.mp4')), false, 'an output of ours');
      for (const other of ['a.4k.mkv', 'a.4k.mov', 'A.4K.MKV'])
        assert.equal(isEnhanceable(join(dir, other)), false, `an output of ours in another container: ${other}`);
      assert.equal(isVideoFile(join(dir, 'a.4k.mp4')), true, 'still a video when chosen explicitly');
      for (const engineFile of [
        join(dir, 'a.4k.mp4.huaju4k', 'seg-000000.2279.partial.mp4'),
        join(dir, 'a.4k.mp4.huaju4k', 'seg-000001.mp4'),
        join(dir, 'a.4k.partial.mp4'),
      ]) {
        assert.equal(isEngineFile(engineFile), true, engineFile);
        assert.equal(isEnhanceable(engineFile), false, engineFile);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a video with an output in any container (Enhance to 4K As…) is done: the Videos view and batches skip it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'huaju4k-files-'));
    try {
      const input = join(dir, 'film.ogv');
      writeFileSync(input, '');
      assert.equal(finishedOutputOf(input), undefined);
      writeFileSync(join(dir, 'film.4k.mkv'), 'x');
      assert.equal(finishedOutputOf(input), join(dir, 'film.4k.mkv'));
      mkdirSync(join(dir, 'film.4k.mkv.huaju4k'));
      assert.equal(finishedOutputOf(input), undefined, 'unfinished work beside it: not done');
      writeFileSync(join(dir, 'film.4k.mov'), 'x');
      assert.equal(finishedOutputOf(input), join(dir, 'film.4k.mov'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the line above the Videos tree', () => {
  it('a filter that matches nothing says so instead of a blank view', () => {
    const m = videosViewMessage({ shown: 0, total: 3, filter: 'holiday', trusted: true });
    assert.match(m ?? '', /No video matches "holiday" \(3 in all\)/);
    assert.equal(videosViewMessage({ shown: 2, total: 3, filter: 'a', trusted: true }), undefined);
  });

  it('Restricted Mode says that enhancing is off and how to turn it on', () => {
    assert.match(videosViewMessage({ shown: 3, total: 3, filter: '', trusted: false }) ?? '', /Restricted Mode.*Trust/);
    assert.equal(
      videosViewMessage({ shown: 0, total: 0, filter: '', trusted: false }),
      undefined,
      'no videos: the welcome text',
    );
  });
});

describe('a folder row of the Videos tree', () => {
  it('does not count an unreadable file among its videos, and names it apart', () => {
    const items: VideoFacts[] = [
      { ...base, meta: { error: 'Invalid data found when processing input' } },
      { ...base, path: '/w/clips/b.mp4', relPath: 'clips/b.mp4', output: '/w/clips/b.4k.mp4' },
      { ...base, path: '/w/clips/c.mp4', relPath: 'clips/c.mp4' },
    ];
    assert.equal(folderDescription(items), '2 videos · 1 done · 1 unreadable');
    assert.equal(folderDescription(items.slice(1, 2)), '1 video · 1 done');
  });
});
