import { closeSync, openSync, readSync } from 'node:fs';
import * as path from 'node:path';

/** Container extensions offered for enhancement (lower case, no dot). Kept in sync with the manifest's menus. */
export const VIDEO_EXTENSIONS = [
  'mp4',
  'mkv',
  'mov',
  'webm',
  'avi',
  'm4v',
  'ts',
  'm2ts',
  'mts',
  'ogv',
  'mpg',
  'mpeg',
  'wmv',
  'flv',
];

/** Glob for `workspace.findFiles` / file watchers. */
export const VIDEO_GLOB = `**/*.{${VIDEO_EXTENSIONS.join(',')}}`;

import { existsSync } from 'node:fs';
import { isOutputName, outputsFor, WORKDIR_SUFFIX, workDirFor } from '../../protocol/output-name';

export { defaultOutputPath, OUTPUT_SUFFIX } from '../../protocol/output-name';

export function isVideoPath(filePath: string): boolean {
  const ext = path.extname(filePath).slice(1).toLowerCase();
  return VIDEO_EXTENSIONS.includes(ext);
}

/** Outputs of earlier runs (any container, "As…" names too) are shown under their source, never enhanced again. */
export function isEnhancedOutput(filePath: string): boolean {
  return isOutputName(filePath);
}

/** The finished output of `input` in any container (no unfinished work beside it), the default name first. */
export function finishedOutputOf(input: string, exists: (p: string) => boolean = existsSync): string | undefined {
  return outputsFor(input).find((o) => exists(o) && !exists(workDirFor(o)));
}

/** Files the engine writes while it works: anything in a `*.huaju4k` work folder and `<name>.partial.<ext>` outputs. */
export function isEngineFile(filePath: string): boolean {
  const parts = filePath.split(/[\\/]/);
  return parts.slice(0, -1).some((p) => p.endsWith(WORKDIR_SUFFIX)) || /\.partial\.[^.]+$/i.test(parts.at(-1) ?? '');
}

/**
 * `.ts` is both an MPEG transport stream and TypeScript. A transport stream starts with the sync byte 0x47 (and
 * repeats it every 188 bytes); a source file does not.
 */
export function isMpegTransportStream(filePath: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(filePath, 'r');
    const head = Buffer.alloc(189);
    const n = readSync(fd, head, 0, head.length, 0);
    return n >= 189 ? head[0] === 0x47 && head[188] === 0x47 : n > 0 && head[0] === 0x47;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** A video by its extension and, for `.ts`, by its first bytes (not a TypeScript file); never an engine work file. */
export function isVideoFile(filePath: string): boolean {
  if (!isVideoPath(filePath) || isEngineFile(filePath)) return false;
  return path.extname(filePath).toLowerCase() !== '.ts' || isMpegTransportStream(filePath);
}

/** A file to offer for enhancing (Videos view, palette picker): a video file that is not an output of ours. */
export function isEnhanceable(filePath: string): boolean {
  return isVideoFile(filePath) && !isEnhancedOutput(filePath);
}
