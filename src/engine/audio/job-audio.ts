import type { AudioMode } from '../../protocol/cli-options';
import type { AudioReport } from '../../protocol/engine-events';
import { type JobManifest, writeManifest } from '../checkpoint/manifest';
import { EngineError } from '../errors';
import type { Emit } from '../events';
import type { MediaInfo } from '../ffmpeg/probe';
import { levelsAfter } from './audio-chain';
import { type AudioTreatment, planAudioTreatment } from './audio-treatment';

export interface JobAudioOptions {
  mode: AudioMode | undefined;
  ffmpeg: string;
  info: Pick<MediaInfo, 'path' | 'audio'>;
  dir: string;
  manifest: JobManifest;
  emit: Emit;
  /** Measure only the recording's first seconds (a `--max-frames` trial); the whole of it when undefined. */
  durationS?: number;
  /** Aborted when the job is cancelled or has failed: the measurement killed with it is no sound left untreated. */
  signal?: AbortSignal;
}

/**
 * The job's audio treatment, measured while the frames run (two decoding passes over the sound only) and kept in
 * the checkpoint; a resumed job takes it from there instead of measuring again, so its audio is the same to the
 * byte. Undefined for `copy` (the streams go through as before) and for a source with no sound to treat.
 * The promise never rejects unhandled: the caller awaits it before the join.
 */
export function startJobAudio(o: JobAudioOptions): Promise<AudioTreatment | undefined> {
  const { mode, manifest } = o;
  if (!mode || mode === 'copy') return Promise.resolve(undefined);
  if (manifest.audio?.mode === mode) return Promise.resolve(manifest.audio);
  const work = (async () => {
    const plan = await planAudioTreatment(o.ffmpeg, o.info, mode, o.durationS).catch((err: unknown) => {
      // A sound ffmpeg cannot measure must not cost the frames: it is carried over as it is, and said so.
      if (!(err instanceof EngineError) || err.reason !== 'audio-measure-failed') throw err;
      return { skipped: `${err.message}; the audio is copied as it is` };
    });
    if ('skipped' in plan) {
      // Cancelled or failed meanwhile: the job's children were killed, the measurement with them; there is no join
      // whose sound would go untreated, nothing to warn about.
      if (o.signal?.aborted) return undefined;
      o.emit({ type: 'warning', code: 'audio-not-treated', message: plan.skipped });
      return undefined;
    }
    manifest.audio = plan.treatment;
    writeManifest(o.dir, manifest);
    return plan.treatment;
  })();
  // Awaited before the join; a failure meanwhile (the frames failed first and killed it) must not go unhandled.
  work.catch(() => {});
  return work;
}

/** The `done` report's audio part: the recording's levels and where the treatment puts them. */
export function audioReport(t: AudioTreatment): AudioReport {
  const { integratedLufs, truePeakDb, noiseFloorDb, speechDb } = t.before;
  return {
    mode: t.mode,
    before: { integratedLufs, truePeakDb, noiseFloorDb, speechDb },
    after: levelsAfter(t.measured),
  };
}
