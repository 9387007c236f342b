import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { readManifest } from '../../../src/engine/checkpoint/manifest';
import { collect, runCli, startCli } from '../engine/helpers';
import { args, rangeEvents, startWorker, useFarm } from './farm-fixture';
import { decodedFrameMd5s } from './helpers';
import { type RedisTls, startRedis } from './redis-harness';

const PASSWORD = 'faults-pw';

/** Writes into `dir` until its disk is full (ENOSPC): what a filling disk looks like to the engine. */
function fillDisk(dir: string): void {
  const fd = openSync(join(dir, 'filler'), 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
}

/** A CA and a server certificate for 127.0.0.1 signed by it, made with openssl. */
function makeCerts(): RedisTls {
  const dir = mkdtempSync(join(tmpdir(), 'huaju4k-tls-'));
  const p = (name: string) => join(dir, name);
  const ssl = (...a: string[]) => execFileSync('openssl', a, { stdio: 'pipe' });
  const key = (name: string) => ['-newkey', 'rsa:2048', '-nodes', '-keyout', p(name)];
  ssl('req', '-x509', ...key('ca.key'), '-out', p('ca.pem'), '-days', '2', '-subj', '/CN=huaju4k test CA');
  ssl('req', ...key('server.key'), '-out', p('server.csr'), '-subj', '/CN=127.0.0.1');
  writeFileSync(p('san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  ssl(
    ...['x509', '-req', '-in', p('server.csr'), '-CA', p('ca.pem'), '-CAkey', p('ca.key'), '-CAcreateserial'],
    ...['-out', p('server.pem'), '-days', '2', '-extfile', p('san.ext')],
  );
  return { cert: p('server.pem'), key: p('server.key'), ca: p('ca.pem') };
}

describe('farm faults: Redis restarted mid-job', function () {
  this.timeout(600000);
  const f = useFarm(PASSWORD);

  it('Redis restarted without its data mid-range: the unfinished ranges are queued again and resume; the frames of a local run', async () => {
    startWorker(f);
    startWorker(f);
    const out = join(f.dir, 'restarted.mp4');
    const coordinator = startCli(args(f.input, out, ['--farm', f.redis.url, '--ranges', '4']), f.env);
    let restarted: Promise<void> | undefined;
    const r = await collect(coordinator, (e) => {
      // After a range's first recorded segment, while it has more to do: Redis goes away and comes back empty.
      if (restarted || e.type !== 'range' || e.state !== 'segment' || e.frames >= e.total) return;
      restarted = f.redis.restart();
    });
    await restarted;
    assert.ok(restarted, 'Redis was restarted mid-job');
    assert.equal(r.code, 0, r.stderr);
    const lost = r.events.find((e) => e.type === 'warning' && e.code === 'farm-queue-lost');
    assert.ok(lost?.type === 'warning', 'the coordinator said what happened');
    assert.match(lost.message, /queued again and resume from their finished segments/);
    assert.deepEqual(decodedFrameMd5s(out), decodedFrameMd5s(f.ref), 'nothing lost, nothing doubled');
  });
});

describe('farm faults: Redis gone for good', function () {
  this.timeout(600000);
  const f = useFarm(PASSWORD);

  it('a worker stopped (SIGTERM) mid-range while its Redis is away ends (exit 0) instead of waiting for Redis', async () => {
    const w = startWorker(f);
    const coordinator = startCli(
      args(f.input, join(f.dir, 'away.mp4'), ['--farm', f.redis.url, '--ranges', '2']),
      f.env,
    );
    let stopped: Promise<void> | undefined;
    const gone = new Promise<number | null>((resolve) => w.once('exit', (code) => resolve(code)));
    const r = collect(coordinator, (e) => {
      if (stopped || e.type !== 'range' || e.state !== 'segment' || e.frames >= e.total) return;
      // Mid-range: Redis goes away for good, then the worker is told to stop.
      stopped = f.redis.stop().then(() => {
        w.kill('SIGTERM');
      });
    });
    assert.equal(await gone, 0);
    assert.ok(stopped, 'Redis was stopped mid-range');
    coordinator.kill('SIGKILL');
    await r;
  });
});

describe('farm faults: the coordinator cancelled while Redis is away', function () {
  this.timeout(600000);
  const f = useFarm(PASSWORD);

  it('a coordinator stopped (SIGTERM) mid-job while its Redis is away says so, ends cancelled (exit 5), and the job resumes', async () => {
    // Lossless: the worker's engine, stopped below with a SIGTERM, closes its open segment short, and a lossy encoder
    // gives that cut plan segment other bytes than an uninterrupted run (test/unit/farm/range-cancel.test.ts).
    const lossless = (out: string, extra: string[]) =>
      args(f.input, out, ['--crf', '0', '--farm', f.redis.url, '--ranges', '2', ...extra]);
    const ref = join(f.dir, 'cancelled-away-ref.mp4');
    const local = await runCli(args(f.input, ref, ['--crf', '0']), f.env);
    assert.equal(local.code, 0, local.stderr);
    const w = startWorker(f);
    const out = join(f.dir, 'cancelled-away.mp4');
    const coordinator = startCli(lossless(out, []), f.env);
    let stopped: Promise<void> | undefined;
    const r = await collect(coordinator, (e) => {
      if (stopped || e.type !== 'range' || e.state !== 'segment' || e.frames >= e.total) return;
      // Mid-range: Redis goes away, then the coordinator is cancelled (what the extension's Cancel sends).
      stopped = f.redis.halt().then(() => {
        coordinator.kill('SIGTERM');
      });
    });
    assert.ok(stopped, 'Redis was stopped mid-job');
    assert.equal(r.code, 5, r.stderr);
    const warnings = r.events.flatMap((e) => (e.type === 'warning' ? [e.code] : []));
    assert.ok(warnings.includes('farm-redis-away'), `the outage is said: ${warnings.join(', ')}`);
    assert.ok(warnings.includes('farm-cancel-unsent'), `the workers could not be told: ${warnings.join(', ')}`);
    // Said once, as events: not a stack trace for every failed reconnect.
    assert.doesNotMatch(r.stderr, /ECONNREFUSED/);
    const end = r.events.find((e) => e.type === 'error');
    assert.ok(end?.type === 'error' && end.reason === 'cancelled', JSON.stringify(end));
    assert.ok((end.framesKept ?? 0) > 0, 'the finished segments are kept');
    assert.match(end.hint ?? '', /--resume/);
    // The worker cannot hear of the cancel; stopped (SIGTERM), it ends, its engine closing its open segment short.
    const gone = new Promise((resolve) => w.once('exit', resolve));
    w.kill('SIGTERM');
    await gone;
    await f.redis.restart();
    startWorker(f);
    const resumed = await runCli(lossless(out, ['--resume']), f.env);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.deepEqual(decodedFrameMd5s(out), decodedFrameMd5s(ref), 'the resumed job gives the frames of a local run');
  });
});

describe('farm faults: the coordinator cancelled while Redis is away, Redis back with its data', function () {
  this.timeout(600000);
  const f = useFarm(PASSWORD, undefined, true);

  it('Redis comes back (AOF) with the cancelled coordinator’s owner key still alive: an immediate --resume is not refused', async () => {
    const lossless = (out: string, extra: string[]) =>
      args(f.input, out, ['--crf', '0', '--farm', f.redis.url, '--ranges', '2', ...extra]);
    const ref = join(f.dir, 'back-ref.mp4');
    const local = await runCli(args(f.input, ref, ['--crf', '0']), f.env);
    assert.equal(local.code, 0, local.stderr);
    const w = startWorker(f);
    const out = join(f.dir, 'back.mp4');
    const coordinator = startCli(lossless(out, []), f.env);
    let stopped: Promise<void> | undefined;
    const r = await collect(coordinator, (e) => {
      if (stopped || e.type !== 'range' || e.state !== 'segment' || e.frames >= e.total) return;
      stopped = f.redis.halt().then(() => {
        coordinator.kill('SIGTERM');
      });
    });
    assert.equal(r.code, 5, r.stderr);
    const gone = new Promise((resolve) => w.once('exit', resolve));
    w.kill('SIGTERM');
    await gone;
    // Back with its data, well within the owner key's 30 s: the cancelled coordinator's claim is still there.
    await f.redis.restart();
    const redis = new Redis(f.redis.url, { maxRetriesPerRequest: null });
    try {
      const owners = await redis.keys('huaju4k:owner:*');
      assert.equal(owners.length, 1, 'the cancelled coordinator’s claim came back with the data');
      assert.ok((await redis.pttl(owners[0])) > 0, 'and has not lapsed');
    } finally {
      redis.disconnect();
    }
    startWorker(f);
    const resumed = await runCli(lossless(out, ['--resume']), f.env);
    const error = resumed.events.find((e) => e.type === 'error');
    assert.equal(resumed.code, 0, `${JSON.stringify(error)} ${resumed.stderr}`);
    assert.deepEqual(decodedFrameMd5s(out), decodedFrameMd5s(ref), 'the resumed job gives the frames of a local run');
  });
});

describe('farm faults: a worker whose disk fills', function () {
  this.timeout(600000);
  const f = useFarm(PASSWORD);
  let small: string | undefined;
  before(function () {
    small = join(f.dir, 'small');
    mkdirSync(small);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', small], { stdio: 'pipe' });
    } catch (err) {
      process.stderr.write(`    skipped: cannot mount a small tmpfs here (${String(err).split('\n')[0]})\n`);
      small = undefined;
      this.skip();
    }
  });
  after(() => {
    if (small) execFileSync('umount', [small]);
  });

  it('the disk of the work folder fills mid-range: an error naming the folder and the host, no half segment kept; --resume completes it', async () => {
    const dir = small ?? '';
    startWorker(f);
    const out = join(dir, 'full.mp4');
    const job = args(f.input, out, ['--farm', f.redis.url, '--ranges', '2', '--disk-reserve', '0']);
    let filled = false;
    const r = await collect(startCli(job, f.env), (e) => {
      if (filled || e.type !== 'range' || e.state !== 'segment' || e.frames >= e.total) return;
      filled = true;
      fillDisk(dir);
    });
    assert.ok(filled, 'the disk was filled mid-range');
    assert.notEqual(r.code, 0, 'the job stopped');
    const err = r.events.find((e) => e.type === 'error');
    assert.ok(err?.type === 'error' && err.reason === 'farm-range-failed', JSON.stringify(err));
    assert.ok(err.message.includes(`${dir}/full.mp4.huaju4k`), `names the work folder: ${err.message}`);
    assert.ok(err.message.includes(hostname()), `names the host: ${err.message}`);
    assert.match(err.hint ?? '', /--resume/);
    const retried = rangeEvents(r.events).filter((e) => e.state === 'retry');
    assert.ok(retried.length > 0, 'BullMQ tried the range again before giving up');
    for (const e of retried) assert.match(e.message ?? '', /^try \d of \d failed: .*disk/, 'each retry says why');
    // Every range keeps exactly the segments its checkpoint lists: the one cut off by the full disk is not there.
    const ranges = join(`${out}.huaju4k`, 'ranges');
    for (const name of readdirSync(ranges).filter((n) => n.startsWith('r-'))) {
      const listed = (readManifest(join(ranges, name))?.segments ?? []).map((s) => s.file).sort();
      const files = readdirSync(join(ranges, name))
        .filter((n) => n.startsWith('seg-'))
        .sort();
      assert.deepEqual(files, listed, `${name}: only complete, recorded segments`);
    }
    rmSync(join(dir, 'filler'));
    const resumed = await collect(startCli([...job, '--resume'], f.env));
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.deepEqual(decodedFrameMd5s(out), decodedFrameMd5s(f.ref));
  });
});

describe('farm faults: rediss:// against a real TLS redis-server', function () {
  this.timeout(600000);
  let certs: RedisTls | undefined;
  // Registered before the farm's own hook: a redis-server built without TLS skips these tests, saying so.
  before(async function () {
    try {
      certs = makeCerts();
      await (await startRedis(undefined, certs)).stop();
    } catch (err) {
      process.stderr.write(`    skipped: no TLS redis-server here (${String(err).split('\n')[0]})\n`);
      this.skip();
    }
  });
  const f = useFarm(PASSWORD, () => certs as RedisTls);

  it('worker and coordinator on rediss:// (the CA trusted through NODE_EXTRA_CA_CERTS) run a job; an untrusted certificate is a clear exit 3', async () => {
    assert.match(f.redis.url, /^rediss:\/\//);
    const untrusted = await collect(
      startCli(args(f.input, join(f.dir, 'untrusted.mp4'), ['--farm', f.redis.url]), {
        ...f.env,
        NODE_EXTRA_CA_CERTS: '',
      }),
    );
    assert.equal(untrusted.code, 3, untrusted.stderr);
    const err = untrusted.events.find((e) => e.type === 'error');
    assert.ok(err?.type === 'error' && err.reason === 'farm-unreachable', JSON.stringify(err));
    assert.match(err.message, /rediss:\/\/\*\*\*@127\.0\.0\.1:\d+ \((SELF_SIGNED|UNABLE_TO_VERIFY|DEPTH_ZERO)/);
    assert.ok(!(untrusted.stdout + untrusted.stderr).includes(PASSWORD), 'the password is never printed');
    startWorker(f);
    const out = join(f.dir, 'tls.mp4');
    const r = await collect(startCli(args(f.input, out, ['--farm', f.redis.url, '--ranges', '2']), f.env));
    assert.equal(r.code, 0, r.stderr);
    assert.ok(rangeEvents(r.events).some((e) => e.state === 'done'));
    assert.deepEqual(decodedFrameMd5s(out), decodedFrameMd5s(f.ref));
  });
});
