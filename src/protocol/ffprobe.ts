/**
 * What both the engine (src/engine/probe.ts) and the extension's Videos view (src/extension/video-probe.ts) read from
 * `ffprobe -of json`: the stream fields, rates, and the picture's geometry after rotation and sample aspect ratio —
 * so a portrait phone clip is 1080×1920 in the list as in the engine.
 */

import type { ProbeInfo } from './engine-events';

export interface FfprobeStream {
  index: number;
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  pix_fmt?: string;
  sample_aspect_ratio?: string;
  r_frame_rate?: string;
  avg_frame_rate?: string;
  time_base?: string;
  nb_frames?: string;
  duration?: string;
  start_time?: string;
  color_space?: string;
  color_range?: string;
  color_primaries?: string;
  color_transfer?: string;
  field_order?: string;
  bits_per_raw_sample?: string;
  disposition?: { attached_pic?: number };
  tags?: Record<string, string>;
  side_data_list?: Array<{ side_data_type?: string; rotation?: number }>;
}

export interface FfprobeOutput {
  streams?: FfprobeStream[];
  format?: { format_name?: string; duration?: string; start_time?: string; size?: string };
}

/** The frame as decoded (after autorotation) and as displayed (after the sample aspect ratio). */
export type VideoGeometry = Pick<ProbeInfo, 'width' | 'height' | 'displayWidth' | 'displayHeight' | 'rotation' | 'sar'>;

/** The first real video stream (cover art skipped), if any. */
export function firstVideoStream(streams: FfprobeStream[] | undefined): FfprobeStream | undefined {
  return streams?.find((s) => s.codec_type === 'video' && s.disposition?.attached_pic !== 1 && (s.width ?? 0) > 0);
}

export function parseRational(text: string | undefined): number {
  if (!text) return 0;
  const [n, d] = text.split('/').map(Number);
  if (d === undefined) return Number.isFinite(n) ? n : 0;
  return d > 0 && Number.isFinite(n) ? n / d : 0;
}

export function parseSar(text: string | undefined): [number, number] {
  const m = /^(\d+):(\d+)$/.exec(text ?? '');
  if (!m) return [1, 1];
  const n = Number(m[1]);
  const d = Number(m[2]);
  return n > 0 && d > 0 ? [n, d] : [1, 1];
}

/** Clockwise rotation in degrees (0/90/180/270) that the player (and ffmpeg's autorotate) applies. */
export function rotationOf(s: FfprobeStream): number {
  const matrix = s.side_data_list?.find((d) => d.side_data_type === 'Display Matrix');
  let deg = 0;
  if (matrix && typeof matrix.rotation === 'number') deg = matrix.rotation;
  else if (s.tags?.rotate) deg = Number(s.tags.rotate) || 0;
  return (((Math.round(deg / 90) * 90) % 360) + 360) % 360;
}

/** The frame size after autorotation, and the display size after the sample aspect ratio. */
export function geometryOf(v: FfprobeStream): VideoGeometry {
  const rotation = rotationOf(v);
  const swap = rotation === 90 || rotation === 270;
  const codedW = v.width ?? 0;
  const codedH = v.height ?? 0;
  const width = swap ? codedH : codedW;
  const height = swap ? codedW : codedH;
  let sar = parseSar(v.sample_aspect_ratio);
  if (swap) sar = [sar[1], sar[0]];
  const ratio = sar[0] / sar[1];
  const displayWidth = ratio > 1 ? Math.round(width * ratio) : width;
  const displayHeight = ratio < 1 ? Math.round(height / ratio) : height;
  return { width, height, displayWidth, displayHeight, rotation, sar };
}
