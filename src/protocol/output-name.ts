import * as path from 'node:path';

/** Suffix the engine gives its default output: `<dir>/<name>.4k.mp4`. */
export const OUTPUT_SUFFIX = '.4k.mp4';

/** Where `huaju4k enhance` writes without `-o`; the extension shows and resumes jobs by the same name. */
export function defaultOutputPath(input: string): string {
  const parsed = path.parse(input);
  return path.join(parsed.dir, `${parsed.name}${OUTPUT_SUFFIX}`);
}

/** Suffix of a job's work folder (checkpoint, segments) beside its output. */
export const WORKDIR_SUFFIX = '.huaju4k';

/** The work folder beside the output: `movie.4k.mp4` → `movie.4k.mp4.huaju4k/`. */
export function workDirFor(output: string): string {
  return path.join(path.dirname(output), `${path.basename(output)}${WORKDIR_SUFFIX}`);
}
