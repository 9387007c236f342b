import { runTool } from './children';

/** Number of video packets in a file (demux only): the check that an encoder really wrote every frame. */
export function countVideoPackets(ffprobe: string, path: string): Promise<number> {
  return countPackets(ffprobe, path, 'v:0');
}

/** Packets of one stream (`-select_streams` syntax: `v:0`, or a stream index); -1 when ffprobe fails. */
export async function countPackets(ffprobe: string, path: string, stream: string): Promise<number> {
  const args = ['-v', 'error', '-select_streams', stream, '-count_packets'];
  const r = await runTool(ffprobe, [...args, '-show_entries', 'stream=nb_read_packets', '-of', 'csv=p=0', path]);
  return r.code === 0 ? Number.parseInt(r.stdout.toString('utf8').trim(), 10) || 0 : -1;
}
