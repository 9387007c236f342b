import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { type FfprobeOutput, firstVideoStream, geometryOf, parseRational } from '../../protocol/ffprobe';
import type { VideoMeta } from './videos-model';

export type ProbeResult = VideoMeta | { error: string };

/** Runs ffprobe on one file: first video stream's size and frame rate, container duration. */
export function probeVideo(ffprobe: string, file: string, timeoutMs = 15000): Promise<ProbeResult> {
  const args = [
    '-v',
    'error',
    '-select_streams',
    'v:0',
    '-show_entries',
    'stream=codec_type,width,height,sample_aspect_ratio,avg_frame_rate,r_frame_rate:stream_side_data=side_data_type,rotation:stream_tags=rotate:stream_disposition=attached_pic:format=duration',
    '-of',
    'json',
    file,
  ];
  return new Promise((resolve) => {
    execFile(ffprobe, args, { timeout: timeoutMs, maxBuffer: 1 << 20, windowsHide: true }, (err, stdout, stderr) => {
      if (err) {
        const code = (err as NodeJS.ErrnoException).code;
        resolve({ error: code === 'ENOENT' ? `ffprobe not found (${ffprobe})` : stderr.trim() || err.message });
        return;
      }
      resolve(parseProbe(stdout));
    });
  });
}

/** The display size (rotation and pixel aspect applied, as the engine sees it), frame rate and duration. */
export function parseProbe(json: string): ProbeResult {
  let data: FfprobeOutput;
  try {
    data = JSON.parse(json) as FfprobeOutput;
  } catch {
    return { error: 'ffprobe printed no JSON' };
  }
  const s = firstVideoStream(data.streams);
  if (!s) return { error: 'no video stream' };
  const g = geometryOf(s);
  const fps = parseRational(s.avg_frame_rate) || parseRational(s.r_frame_rate);
  return {
    width: g.displayWidth,
    height: g.displayHeight,
    fps: Math.round(fps * 1000) / 1000,
    durationS: Number(data.format?.duration ?? 0) || 0,
  };
}

/**
 * Lazy, cached ffprobe: one probe at a time (it reads the disk), results keyed by path + size + mtime so an
 * edited file is probed again.
 */
export class ProbeCache {
  private readonly cache = new Map<string, { key: string; result: ProbeResult }>();
  private readonly pending = new Set<string>();
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly ffprobe: () => string,
    private readonly onProbed: (file: string) => void,
  ) {}

  /** The cached result, or undefined after scheduling a probe (onProbed fires when it lands). */
  get(file: string): ProbeResult | undefined {
    const hit = this.cache.get(file);
    if (!this.pending.has(file)) {
      this.pending.add(file);
      this.chain = this.chain.then(() => this.refresh(file, hit?.key));
    }
    return hit?.result;
  }

  invalidate(file: string): void {
    this.cache.delete(file);
  }

  private async refresh(file: string, knownKey: string | undefined): Promise<void> {
    try {
      const st = await stat(file);
      const key = `${st.size}:${st.mtimeMs}`;
      if (key === knownKey) return;
      const result = await probeVideo(this.ffprobe(), file);
      this.cache.set(file, { key, result });
      this.onProbed(file);
    } catch {
      this.cache.delete(file);
    } finally {
      this.pending.delete(file);
    }
  }
}
