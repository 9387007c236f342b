import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { countVideoPackets } from '../../../src/engine/ffmpeg/verify';
import { FAST_MODEL } from '../engine/helpers';

/** sha256 of the raw H.264 elementary stream (Annex B): the video bytes, free of container timestamps/metadata. */
export function videoStreamHash(path: string): string {
  const es = execFileSync(
    'ffmpeg',
    ['-v', 'error', '-i', path, '-map', '0:v:0', '-c', 'copy', '-bsf:v', 'h264_mp4toannexb', '-f', 'h264', 'pipe:1'],
    { maxBuffer: 1 << 30 },
  );
  return createHash('sha256').update(es).digest('hex');
}

/** Direct children of `pid` (ps), with their command lines. */
export function childProcesses(pid: number): Array<{ pid: number; args: string }> {
  let out = '';
  try {
    out = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(pid)]).toString();
  } catch {
    return [];
  }
  return out
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const m = /^(\d+)\s+(.*)$/.exec(l);
      return { pid: Number(m?.[1]), args: m?.[2] ?? '' };
    });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A zombie still answers signal 0; read its state.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

/** Waits until every pid has exited (orphaned ffmpeg children of a killed engine finish on their own). */
export async function waitGone(pids: number[], ms = 10000): Promise<number[]> {
  const until = Date.now() + ms;
  let left = pids.filter(isAlive);
  while (left.length && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 50));
    left = left.filter(isAlive);
  }
  return left;
}

/** Every ffmpeg/ffprobe process whose command line mentions `needle` (a test's temp folder). */
export function strayFfmpeg(needle: string): number[] {
  const out = execFileSync('ps', ['-eo', 'pid=,stat=,args=']).toString();
  return out
    .split('\n')
    .filter((l) => /ff(mpeg|probe)/.test(l) && l.includes(needle) && !/\sZ/.test(l.slice(0, 16)))
    .map((l) => Number.parseInt(l.trim(), 10))
    .filter((n) => n > 0 && n !== process.pid);
}

export function partialFiles(dir: string): string[] {
  try {
    return readdirSync(dir).filter((f) => f.includes('.partial.'));
  } catch {
    return [];
  }
}

/** A small deterministic PRNG so a failing kill schedule can be replayed (seed printed by the test). */
export function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

export async function packets(path: string): Promise<number> {
  return countVideoPackets('ffprobe', path);
}

export function workFolder(output: string): string {
  return `${output}.huaju4k`;
}

export function segmentsIn(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => /^seg-\d+\.mp4$/.test(f))
      .map((f) => join(dir, f));
  } catch {
    return [];
  }
}

/** Per-packet md5 lines of the video stream (for saying which frame differs when the hashes do not match). */
export function packetMd5s(path: string): string[] {
  return execFileSync('ffmpeg', ['-v', 'error', '-i', path, '-map', '0:v:0', '-c', 'copy', '-f', 'framemd5', 'pipe:1'])
    .toString()
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(',').slice(-1)[0].trim());
}

/** "identical" or where two outputs' video packets first differ. */
export function firstDifference(a: string, b: string): string {
  const x = packetMd5s(a);
  const y = packetMd5s(b);
  const i = x.findIndex((v, k) => v !== y[k]);
  if (i < 0 && x.length === y.length) return 'identical packets';
  return `packets ${x.length} vs ${y.length}, first difference at packet ${i < 0 ? Math.min(x.length, y.length) : i}`;
}

/**
 * `enhance` arguments for runs that must come out byte-identical to each other: a fixed tile ('auto' sizes tiles
 * from free RAM, so two runs on a busy machine could differ), a fixed scale and fixed segment boundaries.
 */
export function deterministicArgs(input: string, out: string, segmentFrames: number, extra: string[] = []): string[] {
  return [
    'enhance',
    input,
    '-o',
    out,
    '--model',
    FAST_MODEL,
    '--tile',
    '0',
    '--scale',
    '4',
    '--segment-frames',
    String(segmentFrames),
    '--json',
    ...extra,
  ];
}
