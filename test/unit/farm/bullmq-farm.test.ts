import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { FlowProducer, Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { RANGES_QUEUE, type RangeJobData, type RangeJobProgress } from '../../../src/engine/farm/farm-queue';
import { collect, runCli, startCli } from '../engine/helpers';
import { isAlive, waitGone } from '../resume/helpers';
import { args, rangeEvents, startWorker, useFarm } from './farm-fixture';
import { decodedFrameMd5s } from './helpers';
import { freePort } from './redis-harness';

const PASSWORD = 's3cret-pw';

describe('farm: BullMQ on a real redis-server — a job on several worker processes', function () {
  this.timeout(600000);
  const f = useFarm(PASSWORD);

  it('3 workers, one killed with SIGKILL mid-range: its range goes back and resumes; the frames of a local run', async () => {
    for (let i = 0; i < 3; i++) startWorker(f);
    const out = join(f.dir, 'farm.mp4');
    const coordinator = startCli(args(f.input, out, ['--farm', f.redis.url, '--ranges', '4']), f.env);
    let victim: number | undefined;
    const r = await collect(coordinator, (e) => {
      // After a range's first recorded segment, while it has more to do: kill its worker process outright.
      if (victim !== undefined || e.type !== 'range' || e.state !== 'segment' || e.frames >= e.total) return;
      victim = Number(e.worker.split('/').pop());
      process.kill(victim, 'SIGKILL');
    });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(victim && f.workers.some((w) => w.pid === victim), 'a worker process was killed');
    assert.ok(!isAlive(victim));
    const events = rangeEvents(r.events);
    const stalled = events.find((e) => e.state === 'retry' && /stopped answering/.test(e.message ?? ''));
    assert.ok(stalled, 'BullMQ saw the lost worker and put its range back');
    const again = events.filter((e) => e.range === stalled.range && e.state === 'started');
    assert.ok(again.length >= 2, 'the range was started again');
    assert.ok(
      events.some((e) => e.range === stalled.range && e.state === 'done' && !e.worker.endsWith(`/${victim}`)),
      'finished by another worker',
    );
    assert.deepEqual(decodedFrameMd5s(out), decodedFrameMd5s(f.ref));
    assert.ok(!JSON.stringify(r.events).includes(PASSWORD), 'the password is never printed');
  });

  it('a worker that cannot see the source refuses with the path; a path-mapped worker runs the job', async () => {
    // The coordinator sees the shared folder as view/ (a link); the workers are told where it is on their host.
    const share = join(f.dir, 'share');
    const view = join(f.dir, 'view');
    mkdirSync(share);
    symlinkSync(share, view);
    copyFileSync(f.input, join(share, 'in.mp4'));
    startWorker(f, ['--path-map', `${view}=${join(f.dir, 'nowhere')}`]);
    startWorker(f, ['--path-map', `${view}=${share}`]);
    const out = join(view, 'mapped.mp4');
    const r = await collect(startCli(args(join(view, 'in.mp4'), out, ['--farm', f.redis.url, '--ranges', '2']), f.env));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(decodedFrameMd5s(join(share, 'mapped.mp4')), decodedFrameMd5s(f.ref));
    const refused = rangeEvents(r.events).filter((e) => e.state === 'refused');
    for (const e of refused) {
      assert.match(e.message ?? '', /cannot read the source .*nowhere\/in\.mp4 \(the coordinator's .*view\/in\.mp4\)/);
    }
  });
});

describe('farm: BullMQ on a real redis-server — errors of the coordinator', function () {
  this.timeout(600000);
  const f = useFarm(PASSWORD);

  it('Redis unreachable at start: a clear error, exit 3, nothing queued or written, no password printed', async () => {
    const port = await freePort();
    const out = join(f.dir, 'unreachable.mp4');
    const r = await runCli(args(f.input, out, ['--farm', `redis://user:${PASSWORD}@127.0.0.1:${port}`]));
    assert.equal(r.code, 3, r.stderr);
    const err = r.events.find((e) => e.type === 'error');
    assert.ok(err?.type === 'error' && err.reason === 'farm-unreachable', JSON.stringify(err));
    assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
    assert.ok(!(r.stdout + r.stderr).includes(PASSWORD), 'the password is never printed');
    assert.ok(!existsSync(`${out}.huaju4k`), 'no work folder');
  });

  it('a second coordinator of the same output is refused; a cancel removes every queued range', async () => {
    const out = join(f.dir, 'twice.mp4');
    // No worker runs: the first coordinator's ranges stay queued until it is cancelled.
    const first = startCli(args(f.input, out, ['--farm', f.redis.url, '--ranges', '3']), f.env);
    const started = new Promise<void>((resolve) =>
      first.stdout?.on('data', (d: Buffer) => (d.toString().includes('"type":"start"') ? resolve() : undefined)),
    );
    const firstDone = collect(first);
    await started;
    const second = await runCli(args(f.input, out, ['--farm', f.redis.url, '--ranges', '3']), f.env);
    assert.equal(second.code, 2, second.stderr);
    const err = second.events.find((e) => e.type === 'error');
    // On one machine the job's lock refuses it first (naming the running engine); from another host, whose pids
    // mean nothing here, the coordinator's claim in Redis does (naming host/pid).
    assert.ok(err?.type === 'error' && /^(farm-)?job-running$/.test(err.reason), JSON.stringify(err));
    assert.match(err.message, new RegExp(`another (huaju4k engine \\(pid |coordinator \\(\\S+/)${first.pid}\\)`));
    const connection = new Redis(f.redis.url, { maxRetriesPerRequest: null });
    const queue = new Queue(RANGES_QUEUE, { connection });
    try {
      assert.equal(await queue.getWaitingCount(), 3, 'the first job is queued as 3 ranges');
      first.kill('SIGTERM');
      const r = await firstDone;
      assert.equal(r.code, 5, r.stderr);
      assert.equal(await queue.getWaitingCount(), 0, 'the cancel removed every queued range');
    } finally {
      await queue.close();
      connection.disconnect();
    }
  });
});

describe('farm: BullMQ on a real redis-server — a worker refuses what it cannot run', function () {
  this.timeout(600000);
  const f = useFarm(PASSWORD);

  it('a range job of another huaju4k version is refused with the reason (and left for another worker)', async () => {
    startWorker(f);
    const connection = new Redis(f.redis.url, { maxRetriesPerRequest: null });
    const eventsConnection = connection.duplicate();
    const events = new QueueEvents(RANGES_QUEUE, { connection: eventsConnection });
    const flow = new FlowProducer({ connection });
    try {
      await events.waitUntilReady();
      const refused = new Promise<RangeJobProgress>((resolve) =>
        events.on('progress', ({ data }) => {
          const p = data as unknown as RangeJobProgress;
          if (p.state === 'refused') resolve(p);
        }),
      );
      const data: RangeJobData = {
        key: 'other-version',
        engine: '0.0.0-other',
        range: '0:',
        input: f.input,
        output: join(f.dir, 'other.mp4'),
        options: [],
      };
      const { job } = await flow.add({ name: 'range 0:', queueName: RANGES_QUEUE, data });
      const p = await refused;
      assert.match(p.message ?? '', /runs huaju4k \S+, the job needs 0\.0\.0-other/);
      assert.equal(await job.getState(), 'delayed', 'back in the queue for another worker');
      assert.equal(
        (await flow.getFlow({ id: job.id ?? '', queueName: RANGES_QUEUE }))?.job.attemptsMade,
        0,
        'no attempt used',
      );
      await job.remove();
    } finally {
      await events.close();
      await flow.close();
      eventsConnection.disconnect();
      connection.disconnect();
    }
  });

  it('a worker stops on SIGTERM (it exits, nothing left running under its pid)', async () => {
    const w = startWorker(f);
    const ready = new Promise<void>((resolve) =>
      w.stdout?.on('data', (d: Buffer) => (d.toString().includes('farm-worker-ready') ? resolve() : undefined)),
    );
    await ready;
    w.kill('SIGTERM');
    assert.deepEqual(await waitGone([w.pid ?? 0]), []);
  });
});
