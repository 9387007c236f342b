import { execFileSync } from 'node:child_process';
import * as vscode from 'vscode';
import type { Huaju4kApi } from '../../../src/extension/extension';
import type { VideoFacts } from '../../../src/extension/videos/videos-model';
import { videoState } from '../../../src/extension/videos/videos-model';

export async function api(): Promise<Huaju4kApi> {
  const ext = vscode.extensions.getExtension<Huaju4kApi>('huaju4k.huaju4k');
  if (!ext) throw new Error('extension huaju4k.huaju4k is not loaded');
  return ext.activate();
}

/** Polls (the tree and jobs update asynchronously) until `pred` returns a value. */
export async function until<T>(
  what: string,
  pred: () => T | undefined | Promise<T | undefined>,
  ms = 120_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await pred();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function treeFacts(a: Huaju4kApi, file: string): Promise<VideoFacts | undefined> {
  return (await a.videos()).find((f) => f.path === file);
}

export async function treeState(a: Huaju4kApi, file: string): Promise<string> {
  const f = await treeFacts(a, file);
  if (!f) return 'absent';
  const s = videoState(f);
  return s.kind === 'running' || s.kind === 'interrupted' ? `${s.kind} ${s.percent}%` : s.kind;
}

export function probeFrames(ffprobe: string, file: string): { width: number; height: number; frames: number } {
  const out = execFileSync(ffprobe, [
    '-v',
    'error',
    '-select_streams',
    'v:0',
    '-count_packets',
    '-show_entries',
    'stream=width,height,nb_read_packets',
    '-of',
    'json',
    file,
  ]).toString();
  const s = (JSON.parse(out) as { streams: { width: number; height: number; nb_read_packets: string }[] }).streams[0];
  return { width: s.width, height: s.height, frames: Number(s.nb_read_packets) };
}

export function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}
