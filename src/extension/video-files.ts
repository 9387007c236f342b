import * as path from 'node:path';

/** Container extensions offered for enhancement (lower case, no dot). Kept in sync with the manifest's menus. */
export const VIDEO_EXTENSIONS = ['mp4', 'mkv', 'mov', 'webm', 'avi', 'm4v', 'ts', 'ogv', 'mpg', 'mpeg', 'wmv', 'flv'];

/** Glob for `workspace.findFiles` / file watchers. */
export const VIDEO_GLOB = `**/*.{${VIDEO_EXTENSIONS.join(',')}}`;

/** Suffix the engine gives its default output: `<dir>/<name>.4k.mp4`. */
export const OUTPUT_SUFFIX = '.4k.mp4';

export function isVideoPath(filePath: string): boolean {
  const ext = path.extname(filePath).slice(1).toLowerCase();
  return VIDEO_EXTENSIONS.includes(ext);
}

/** Outputs of earlier runs are shown under their source, not as videos to enhance again. */
export function isEnhancedOutput(filePath: string): boolean {
  return filePath.toLowerCase().endsWith(OUTPUT_SUFFIX);
}

/** The engine's default output path for an input (mirrors `huaju4k enhance` without `-o`). */
export function defaultOutputPath(input: string): string {
  const parsed = path.parse(input);
  return path.join(parsed.dir, `${parsed.name}${OUTPUT_SUFFIX}`);
}
