import { spawn } from 'node:child_process';

/** Number of video packets in a file (demux only): the check that an encoder really wrote every frame. */
export function countVideoPackets(ffprobe: string, path: string): Promise<number> {
  return countPackets(ffprobe, path, 'v:0');
}

/** Packets of one stream (`-select_streams` syntax: `v:0`, or a stream index); -1 when ffprobe fails. */
export function countPackets(ffprobe: string, path: string, stream: string): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(
      ffprobe,
      [
        '-v',
        'error',
        '-select_streams',
        stream,
        '-count_packets',
        '-show_entries',
        'stream=nb_read_packets',
        '-of',
        'csv=p=0',
        path,
      ],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    child.once('error', () => resolve(-1));
    child.once('close', (code) => resolve(code === 0 ? Number.parseInt(out.trim(), 10) || 0 : -1));
  });
}
