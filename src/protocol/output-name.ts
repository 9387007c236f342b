import * as path from 'node:path';

/** Suffix the engine gives its default output: `<dir>/<name>.4k.mp4`. */
export const OUTPUT_SUFFIX = '.4k.mp4';

/** Where `huaju4k enhance` writes without `-o`; the extension shows and resumes jobs by the same name. */
export function defaultOutputPath(input: string): string {
  const parsed = path.parse(input);
  return path.join(parsed.dir, `${parsed.name}${OUTPUT_SUFFIX}`);
}

/** Containers the extension writes outputs in (the engine's encoder and segment join: `containerOf`). */
export const OUTPUT_CONTAINERS = ['mp4', 'mkv', 'mov'] as const;
export type OutputContainer = (typeof OUTPUT_CONTAINERS)[number];

/** `<name>.4k.<container>` beside the input (the default output, and Enhance to 4K As…'s). */
export function outputFor(input: string, container: OutputContainer): string {
  const parsed = path.parse(input);
  return path.join(parsed.dir, `${parsed.name}.4k.${container}`);
}

/** Every name an output of `input` can have, the default first. */
export function outputsFor(input: string): string[] {
  return OUTPUT_CONTAINERS.map((c) => outputFor(input, c));
}

/** An output of ours, in any container we write: never a source to enhance. */
export function isOutputName(filePath: string): boolean {
  return /\.4k\.(mp4|mkv|mov)$/i.test(filePath);
}

/** Suffix of a job's work folder (checkpoint, segments) beside its output. */
export const WORKDIR_SUFFIX = '.huaju4k';

/** The work folder beside the output: `movie.4k.mp4` → `movie.4k.mp4.huaju4k/`. */
export function workDirFor(output: string): string {
  return path.join(path.dirname(output), `${path.basename(output)}${WORKDIR_SUFFIX}`);
}
