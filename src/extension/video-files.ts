import * as path from 'node:path';

/** Container extensions offered for enhancement (lower case, no dot). Kept in sync with the manifest's menus. */
export const VIDEO_EXTENSIONS = ['mp4', 'mkv', 'mov', 'webm', 'avi', 'm4v', 'ts', 'ogv', 'mpg', 'mpeg', 'wmv', 'flv'];

/** Glob for `workspace.findFiles` / file watchers. */
export const VIDEO_GLOB = `**/*.{${VIDEO_EXTENSIONS.join(',')}}`;

import { OUTPUT_SUFFIX } from '../protocol/output-name';

export { defaultOutputPath, OUTPUT_SUFFIX } from '../protocol/output-name';

export function isVideoPath(filePath: string): boolean {
  const ext = path.extname(filePath).slice(1).toLowerCase();
  return VIDEO_EXTENSIONS.includes(ext);
}

/** Outputs of earlier runs are shown under their source, not as videos to enhance again. */
export function isEnhancedOutput(filePath: string): boolean {
  return filePath.toLowerCase().endsWith(OUTPUT_SUFFIX);
}
