import { renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ExitCode } from '../../protocol/engine-events';
import { EngineError } from '../errors';
import type { Emit } from '../events';
import { type EncoderOptions, FrameEncoder } from '../ffmpeg/encoder';
import { countVideoPackets } from '../ffmpeg/verify';
import { fileSha256, framesDone, type JobManifest, writeManifest } from './manifest';
import { partialSegmentName, segmentName } from './workdir';

export type SegmentEncoderOptions = Omit<
  EncoderOptions,
  'output' | 'source' | 'maxFrames' | 'videoStartS' | 'closesOnCancel'
>;

export interface SegmentWriterOptions {
  dir: string;
  manifest: JobManifest;
  encoder: SegmentEncoderOptions;
  ffprobe: string;
  emit: Emit;
}

/**
 * Writes the video as segments of the plan's size (the first after a cancel's short one up to the plan's next
 * boundary), each its own encoder run (so each starts on a keyframe and its bytes
 * depend only on its frames and the pinned settings). A segment is written as a per-process partial file, closed,
 * its packets counted, renamed, and only then recorded in the manifest: a crash at any point leaves a manifest
 * that lists only segments known to be whole.
 */
export class SegmentWriter {
  private encoder: FrameEncoder | undefined;
  private partial = '';
  private inSegment = 0;
  private recordedFrames: number;
  /** Timed segments (`encoder.timeBase`): the open segment's first frame time and the last frame time written. */
  private firstPts = 0;
  private lastPts: number | undefined;

  constructor(private readonly opts: SegmentWriterOptions) {
    this.recordedFrames = framesDone(opts.manifest);
    this.lastPts = opts.manifest.segments.at(-1)?.lastPts;
  }

  /** Frames written so far including the open segment. */
  get framesWritten(): number {
    return this.recordedFrames + this.inSegment;
  }

  /** Path of the segment being written, if any. */
  get partialPath(): string | undefined {
    return this.encoder ? this.partial : undefined;
  }

  /**
   * Writes one frame; on a timed job `pts` is its source timestamp. Each segment's frames are timed from its own
   * first frame (its bytes do not depend on where it sits); a time that does not move forward (a damaged source)
   * becomes the previous one plus one tick, so the frames keep their order.
   */
  async write(frame: Buffer, pts?: number): Promise<void> {
    if (!this.encoder) this.open();
    let local: number | undefined;
    if (this.opts.encoder.timeBase) {
      if (pts === undefined) throw new Error("a timed segment needs every frame's timestamp");
      const t = this.lastPts !== undefined && pts <= this.lastPts ? this.lastPts + 1 : pts;
      if (this.inSegment === 0) this.firstPts = t;
      this.lastPts = t;
      local = t - this.firstPts;
    }
    await this.encoder?.write(frame, local);
    this.inSegment++;
    // Segments end on the plan's boundaries (multiples of segmentFrames): after a segment a cancel closed short, the
    // resume's first segment ends where the uninterrupted run's did, so every later segment holds the same frames
    // and a lossy encoder gives the same bytes for them (its frame types and rate control follow the cut).
    if (this.framesWritten % this.opts.manifest.segmentFrames === 0) await this.close();
  }

  /** Closes the last (shorter) segment and marks the job as fully decoded. */
  async finish(): Promise<void> {
    if (this.encoder) await this.close();
    this.opts.manifest.decodedAll = true;
    this.opts.manifest.totalFrames = this.recordedFrames;
    writeManifest(this.opts.dir, this.opts.manifest);
  }

  /**
   * A cancel keeps what was encoded: the open segment is closed at its last written frame, a shorter segment
   * verified and recorded like any other, so a resume continues from the frame after it. Not `finish`: the job
   * is not decoded to its end.
   */
  async closeOpen(): Promise<void> {
    if (this.encoder && this.inSegment > 0) await this.close();
    else await this.discardPartial();
  }

  /** Drops the open segment (its frames are redone on resume); recorded segments stay. */
  abort(): void {
    this.encoder?.kill();
    this.encoder = undefined;
    this.inSegment = 0;
    this.lastPts = this.opts.manifest.segments.at(-1)?.lastPts;
    if (this.partial) rmSync(this.partial, { force: true });
  }

  /** Waits for a killed encoder to exit, then removes its partial file. */
  async discardPartial(): Promise<void> {
    const enc = this.encoder;
    this.abort();
    if (enc) await enc.exited();
    if (this.partial) rmSync(this.partial, { force: true });
  }

  private open(): void {
    const index = this.opts.manifest.segments.length;
    this.partial = join(this.opts.dir, partialSegmentName(index));
    rmSync(this.partial, { force: true });
    this.encoder = new FrameEncoder({ ...this.opts.encoder, output: this.partial, closesOnCancel: true });
    this.inSegment = 0;
  }

  private async close(): Promise<void> {
    const enc = this.encoder;
    if (!enc) return;
    await enc.finish();
    this.encoder = undefined;
    const { manifest, dir } = this.opts;
    const index = manifest.segments.length;
    const packets = await countVideoPackets(this.opts.ffprobe, this.partial);
    if (packets !== this.inSegment) {
      rmSync(this.partial, { force: true });
      throw new EngineError(
        ExitCode.failure,
        'segment-incomplete',
        `segment ${index} has ${packets} video packets, ${this.inSegment} frames were written; it was discarded`,
        'resume with --resume to redo it',
      );
    }
    const file = segmentName(index);
    renameSync(this.partial, join(dir, file));
    const bytes = statSync(join(dir, file)).size;
    const startFrame = this.recordedFrames;
    const times = this.opts.encoder.timeBase ? { firstPts: this.firstPts, lastPts: this.lastPts } : {};
    const sha256 = fileSha256(join(dir, file));
    manifest.segments.push({ index, startFrame, frames: this.inSegment, bytes, file, sha256, ...times });
    writeManifest(dir, manifest);
    this.recordedFrames += this.inSegment;
    this.inSegment = 0;
    this.partial = '';
    this.opts.emit({
      type: 'segment',
      index,
      startFrame,
      endFrame: startFrame + manifest.segments[index].frames - 1,
      bytes,
    });
  }
}
