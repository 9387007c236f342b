import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readManifest } from '../../../src/engine/checkpoint/manifest';
import { rangeDir } from '../../../src/engine/farm/ranges';
import type { EngineEvent, RangeEvent } from '../../../src/protocol/engine-events';
import { LOCK_NAME } from '../../../src/protocol/engine-lock';
import { basicClip, collect, freshDir, runCli, startCli } from '../engine/helpers';
import { deterministicArgs, isAlive, waitGone, workFolder } from '../resume/helpers';
import { decodedFrameMd5s } from './helpers';

const SEGMENT = 3;
const FRAMES = 24;

/** The null model (no ORT) waiting this long per frame, as a busy device would: a range takes long enough to kill. */
const SLOW_NULL = { HUAJU4K_NULL_DEVICE_MS: '120', HUAJU4K_PROGRESS_EVERY_MS: '0' };

const ranges = (events: EngineEvent[]): RangeEvent[] => events.filter((e): e is RangeEvent => e.type === 'range');

describe('farm: --workers runs one long-lived engine child per worker, range after range, joined as one local run', function () {
  this.timeout(600000);
  let dir: string;
  let input: string;
  before(() => {
    dir = freshDir('huaju4k-farm-local-');
    input = join(dir, 'in.mp4');
    copyFileSync(basicClip(FRAMES), input);
  });

  it('--workers 2 (temporal, motion and reuse on; audio): the frames of one local run, one progress stream', async () => {
    const ref = join(dir, 'ref.mp4');
    const local = await runCli(deterministicArgs(input, ref, SEGMENT));
    assert.equal(local.code, 0, local.stderr);
    const out = join(dir, 'workers.mp4');
    const r = await runCli(deterministicArgs(input, out, SEGMENT, ['--workers', '2']));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(decodedFrameMd5s(out), decodedFrameMd5s(ref));
    const done = ranges(r.events).filter((e) => e.state === 'done');
    assert.equal(done.length, 4, 'two ranges per worker, each finished once');
    assert.equal(new Set(done.map((e) => e.worker)).size, 2, 'both workers took ranges');
    const engines = new Set(ranges(r.events).flatMap((e) => (e.state === 'started' ? [e.pid] : [])));
    assert.equal(engines.size, 2, 'one long-lived engine per worker ran all its ranges (the model loaded once)');
    const progress = r.events.filter((e) => e.type === 'progress');
    assert.equal(progress.at(-1)?.type === 'progress' && progress.at(-1)?.frame, FRAMES, 'one stream, summed');
    assert.equal(r.events.filter((e) => e.type === 'start').length, 1);
    assert.equal(r.events.at(-1)?.type, 'done');
    assert.ok(!existsSync(`${out}.huaju4k`), 'work folder removed');
  });

  it('a child killed with SIGKILL mid-range: its range goes on from its last complete segment; the same frames', async () => {
    const args = (out: string, extra: string[] = []) =>
      deterministicArgs(input, out, SEGMENT, ['--model', 'null', '--scale', '4', ...extra]);
    const ref = join(dir, 'null-ref.mp4');
    const local = await runCli(args(ref), SLOW_NULL);
    assert.equal(local.code, 0, local.stderr);
    const out = join(dir, 'killed.mp4');
    const child = startCli(args(out, ['--workers', '2']), SLOW_NULL);
    const pids = new Map<string, number>();
    let victim: { range: string; pid: number } | undefined;
    const r = await collect(child, (e) => {
      if (e.type !== 'range') return;
      if (e.state === 'started' && e.pid) pids.set(e.range, e.pid);
      // After the range's first recorded segment, while it has more to do: kill its engine outright.
      if (!victim && e.state === 'segment' && e.frames < e.total) {
        victim = { range: e.range, pid: pids.get(e.range) ?? 0 };
        process.kill(victim.pid, 'SIGKILL');
      }
    });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(victim, 'a range was killed');
    assert.ok(!isAlive(victim.pid));
    const its = ranges(r.events).filter((e) => e.range === victim?.range);
    assert.ok(
      its.some((e) => e.state === 'retry' && /SIGKILL/.test(e.message ?? '')),
      'the kill was seen and retried',
    );
    const restarts = its.filter((e) => e.state === 'started');
    assert.equal(restarts.length, 2, 'started again once');
    assert.ok(restarts[1].frames >= SEGMENT, `resumed from its recorded segment (${restarts[1].frames} frames kept)`);
    assert.deepEqual(decodedFrameMd5s(out), decodedFrameMd5s(ref));
    assert.deepEqual(await waitGone([...pids.values()]), [], 'every engine child reaped');
  });
});

describe('farm: an engine whose --workers coordinator died drops its open segment', function () {
  this.timeout(600000);
  let dir: string;
  let input: string;
  before(() => {
    dir = freshDir('huaju4k-farm-orphan-');
    input = join(dir, 'in.mp4');
    copyFileSync(basicClip(FRAMES), input);
  });

  it('the coordinator killed with SIGKILL mid-segment: its engine drops the open segment and ends; resumed (lossy), the frames of a local run', async () => {
    // The default crf: a segment closed short (what a cancel keeps) would decode to other frames than the
    // uninterrupted run's (range-cancel.test.ts); an engine whose parent is gone must drop it instead.
    const args = (out: string, extra: string[] = []) =>
      deterministicArgs(input, out, SEGMENT, ['--model', 'null', '--scale', '4', ...extra]);
    const ref = join(dir, 'orphan-ref.mp4');
    const local = await runCli(args(ref), SLOW_NULL);
    assert.equal(local.code, 0, local.stderr);
    const out = join(dir, 'orphan.mp4');
    const coordinator = startCli(args(out, ['--workers', '1', '--ranges', '2']), SLOW_NULL);
    const range0 = rangeDir(workFolder(out), { firstSegment: 0 });
    let engine = 0;
    let keptAtKill = -1;
    await collect(coordinator, (e) => {
      if (e.type === 'range' && e.state === 'started' && e.pid) engine = e.pid;
      if (keptAtKill >= 0 || e.type !== 'progress' || e.frame < SEGMENT + 1 || !engine) return;
      // Frozen while the coordinator dies, so the open segment surely holds frames when its parent goes.
      process.kill(engine, 'SIGSTOP');
      keptAtKill = readManifest(range0)?.segments.reduce((n, s) => n + s.frames, 0) ?? -1;
      process.kill(coordinator.pid ?? 0, 'SIGKILL');
      process.kill(engine, 'SIGCONT');
    });
    assert.equal(keptAtKill, SEGMENT, 'killed with the second segment open (frames written, not recorded)');
    assert.deepEqual(await waitGone([engine]), [], 'the orphaned engine ended on its own');
    const m = readManifest(range0);
    assert.deepEqual(
      m?.segments.map((s) => s.frames),
      [SEGMENT],
      'the open segment was dropped, not closed short',
    );
    const left = readdirSync(range0).filter((n) => n.includes('partial') || n === LOCK_NAME);
    assert.deepEqual(left, [], 'no partial segment, the lock released');
    const resumed = await runCli(args(out, ['--workers', '2', '--resume']), SLOW_NULL);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.deepEqual(decodedFrameMd5s(out), decodedFrameMd5s(ref));
  });
});
