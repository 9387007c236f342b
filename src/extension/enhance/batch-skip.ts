import * as path from 'node:path';
import { probeVideo } from '../videos/video-probe';

/** The files ffprobe can read (an unreadable one would only fail in the engine), and the names of the others. */
export async function splitReadable(files: string[], ffprobe: string): Promise<{ ok: string[]; unreadable: string[] }> {
  const ok: string[] = [];
  const unreadable: string[] = [];
  for (const file of files) {
    if ('error' in (await probeVideo(ffprobe, file))) unreadable.push(path.basename(file));
    else ok.push(file);
  }
  return { ok, unreadable };
}

export interface FolderBatch {
  /** The folder as the user sees it (workspace-relative). */
  name: string;
  /** Videos found in it. */
  found: number;
  /** Of those, already enhanced (an output in any container). */
  done: number;
  unreadable: string[];
  /** Videos queued. */
  todo: number;
}

/** What a folder batch left out and why, in one sentence; undefined when it left nothing out. */
export function skippedText(b: FolderBatch): string | undefined {
  if (b.found === 0) return `huaju4k: ${b.name} has no videos; nothing to enhance.`;
  const skipped = [
    ...(b.done > 0 ? [`${b.done} already enhanced`] : []),
    ...(b.unreadable.length > 0 ? [`${b.unreadable.length} unreadable (${b.unreadable.join(', ')})`] : []),
  ];
  if (skipped.length === 0) return undefined;
  const what = b.todo === 0 ? 'nothing to enhance' : `enhancing ${b.todo}`;
  return `huaju4k: ${b.name}: ${what}; skipped ${skipped.join(', ')}.`;
}
