import { extname } from 'node:path';
import { ExitCode } from '../../protocol/engine-events';
import { EngineError } from '../errors';
import type { MediaInfo } from './probe';

export type ContainerKind = 'mp4' | 'mov' | 'mkv';

export interface StreamWarning {
  code: string;
  message: string;
}

/** Which source audio/subtitle streams go into the output and how (copy or transcode), with the reasons. */
export interface StreamPlan {
  container: ContainerKind;
  /** ffmpeg output args: -map and -c per stream (source is input #1). */
  args: string[];
  warnings: StreamWarning[];
  mapsSource: boolean;
}

export function containerOf(output: string): ContainerKind {
  const ext = extname(output).toLowerCase();
  if (ext === '.mp4' || ext === '.m4v') return 'mp4';
  if (ext === '.mov') return 'mov';
  if (ext === '.mkv') return 'mkv';
  throw new EngineError(
    ExitCode.badInput,
    'bad-output-container',
    `unsupported output extension "${ext || '(none)'}" for ${output}`,
    'use .mp4, .mov, .m4v or .mkv',
  );
}

/** Audio codecs the ISO/QuickTime muxers take as a copy (ffmpeg 5.1); others are transcoded to AAC. */
const MP4_AUDIO = new Set(['aac', 'mp3', 'ac3', 'eac3', 'opus', 'alac', 'mp2', 'dts', 'truehd']);
const MOV_AUDIO = new Set([...MP4_AUDIO, 'pcm_s16le', 'pcm_s16be', 'pcm_s24le', 'pcm_s24be', 'pcm_f32le']);
const TEXT_SUBS = new Set(['subrip', 'ass', 'ssa', 'webvtt', 'mov_text', 'text']);

/** A source audio stream re-encoded through a filter (--audio clean|stage): AAC 192k in every container. */
export interface TreatedAudio {
  stream: number;
  filter: string;
  /** Sample rate of the encoded stream. */
  rate: number;
}

export function planStreams(
  info: Pick<MediaInfo, 'audio' | 'subtitles'>,
  output: string,
  treated?: TreatedAudio,
): StreamPlan {
  const container = containerOf(output);
  const args: string[] = [];
  const warnings: StreamWarning[] = [];
  let a = 0;
  for (const s of info.audio) {
    args.push('-map', `1:${s.index}`);
    if (treated?.stream === s.index) {
      args.push(`-filter:a:${a}`, treated.filter, `-ar:a:${a}`, String(treated.rate));
      args.push(`-c:a:${a}`, 'aac', `-b:a:${a}`, '192k');
      a++;
      continue;
    }
    const ok = container === 'mkv' || (container === 'mov' ? MOV_AUDIO : MP4_AUDIO).has(s.codec);
    if (ok) args.push(`-c:a:${a}`, 'copy');
    else {
      args.push(`-c:a:${a}`, 'aac', `-b:a:${a}`, '192k');
      warnings.push({
        code: 'audio-transcoded',
        message: `audio stream #${s.index} (${s.codec}) cannot be stored in .${container}; transcoded to AAC 192k (use .mkv to keep it as is)`,
      });
    }
    a++;
  }
  let t = 0;
  for (const s of info.subtitles) {
    if (container === 'mkv' && s.codec !== 'mov_text') {
      args.push('-map', `1:${s.index}`, `-c:s:${t++}`, 'copy');
    } else if (container === 'mkv' || TEXT_SUBS.has(s.codec)) {
      const codec = container === 'mkv' ? 'srt' : 'mov_text';
      const copy = container !== 'mkv' && s.codec === 'mov_text';
      args.push('-map', `1:${s.index}`, `-c:s:${t++}`, copy ? 'copy' : codec);
      if (!copy) {
        warnings.push({
          code: 'subtitle-transcoded',
          message: `subtitle stream #${s.index} (${s.codec}) converted to ${codec} for .${container}${container === 'mkv' ? '' : ' (styling may be lost; use .mkv to keep it)'}`,
        });
      }
    } else {
      warnings.push({
        code: 'subtitle-dropped',
        message: `subtitle stream #${s.index} (${s.codec}, bitmap) cannot be stored in .${container}; dropped (use .mkv to keep it)`,
      });
    }
  }
  return { container, args, warnings, mapsSource: args.length > 0 };
}
