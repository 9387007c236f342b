import type { VIDEO_ENCODERS } from '../../protocol/cli-options';

const X26X = [
  'ultrafast',
  'superfast',
  'veryfast',
  'faster',
  'fast',
  'medium',
  'slow',
  'slower',
  'veryslow',
  'placebo',
];
// ffmpeg 5.1's NVENC (ffmpeg -h encoder=h264_nvenc): p1 (fastest) … p7 (best), and the older names it still maps.
const NVENC = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7', 'default', 'slow', 'medium', 'fast', 'hp', 'hq', 'bd'].concat([
  'll',
  'llhq',
  'llhp',
  'lossless',
  'losslesshp',
]);

/** The presets each encoder accepts: `--preset` is checked against these before any work starts. */
export const ENCODER_PRESETS: Record<(typeof VIDEO_ENCODERS)[number], readonly string[]> = {
  libx264: X26X,
  libx265: X26X,
  h264_nvenc: NVENC,
  hevc_nvenc: NVENC,
};
