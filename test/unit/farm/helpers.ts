import { execFileSync } from 'node:child_process';

/** md5 of every decoded video frame: what a viewer sees, independent of the container. */
export function decodedFrameMd5s(path: string): string[] {
  return execFileSync('ffmpeg', ['-v', 'error', '-i', path, '-map', '0:v:0', '-f', 'framemd5', 'pipe:1'])
    .toString()
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(',').slice(-1)[0].trim());
}
