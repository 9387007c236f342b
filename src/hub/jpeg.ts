/**
 * JPEG framing: validate a single frame and split a concatenated MJPEG byte stream into frames.
 * The splitter walks marker segments (length-prefixed) and scans entropy-coded data for a real EOI, so an 0xFFD9
 * inside a segment payload (e.g. an EXIF thumbnail) does not cut a frame short.
 */

const MARKER = 0xff;
const SOI = 0xd8;
const EOI = 0xd9;
const SOS = 0xda;

/** Markers without a length field: TEM, RST0-7, SOI, EOI. */
function isStandalone(marker: number): boolean {
  return marker === 0x01 || (marker >= 0xd0 && marker <= 0xd9);
}

/**
 * True when `buf` is exactly one well-formed JPEG: SOI, a chain of length-prefixed segments with a frame header
 * (SOFn) and a scan (SOS), entropy-coded data, and EOI as its last two bytes. Walks the same state machine as the
 * stream splitter, so what a `/video_in` client may send and what a decoder's output yields agree.
 */
export function isCompleteJpeg(buf: Uint8Array): boolean {
  const n = buf.length;
  if (n < 4 || buf[0] !== MARKER || buf[1] !== SOI || buf[n - 2] !== MARKER || buf[n - 1] !== EOI) return false;
  const splitter = new JpegStreamSplitter(n, false);
  const frames = splitter.push(Buffer.from(buf.buffer, buf.byteOffset, n));
  return frames.length === 1 && frames[0].length === n && splitter.discarded === 0 && splitter.pendingBytes === 0;
}

/** Frame header markers (SOF0-15 except DHT, JPG and DAC). */
function isSof(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

/** Width and height from a JPEG's first SOFn segment (what a decoded frame really holds), or undefined. */
export function jpegDimensions(buf: Uint8Array): { width: number; height: number } | undefined {
  let i = 2;
  while (i + 4 <= buf.length) {
    if (buf[i] !== MARKER) return undefined;
    const marker = buf[i + 1];
    if (isStandalone(marker)) {
      i += 2;
      continue;
    }
    const len = (buf[i + 2] << 8) | buf[i + 3];
    if (isSof(marker) && i + 9 <= buf.length) {
      return { height: (buf[i + 5] << 8) | buf[i + 6], width: (buf[i + 7] << 8) | buf[i + 8] };
    }
    if (marker === SOS) return undefined; // a scan before any frame header
    i += 2 + len;
  }
  return undefined;
}

type SplitState = 'seek-soi' | 'segments' | 'entropy';

/**
 * Incremental splitter for a stream of concatenated JPEGs (ffmpeg `-f mjpeg`). Feed chunks; complete frames come
 * back in order. Garbage before an SOI is skipped; a frame growing beyond `maxFrameBytes`, or one that reaches EOI
 * without a frame header and a scan, is discarded and the splitter resynchronises on the next SOI (counted in
 * `discarded`).
 */
export class JpegStreamSplitter {
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  private state: SplitState = 'seek-soi';
  /** The current frame has had a frame header (SOFn) and a scan (SOS). */
  private sawSof = false;
  private sawScan = false;
  discarded = 0;

  /** `copyFrames`: copy each frame out of the input (so a small frame does not pin a large chunk); false to view. */
  constructor(
    private readonly maxFrameBytes: number,
    private readonly copyFrames = true,
  ) {}

  push(chunk: Buffer): Buffer[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const frames: Buffer[] = [];
    for (;;) {
      const frame = this.advance();
      if (frame === undefined) break;
      if (frame.length > this.maxFrameBytes) this.discarded++;
      else frames.push(frame);
    }
    if (this.state !== 'seek-soi' && this.buf.length > this.maxFrameBytes) {
      this.discarded++;
      this.reset(this.buf.subarray(2));
    }
    return frames;
  }

  /** Bytes held for an incomplete frame. */
  get pendingBytes(): number {
    return this.buf.length;
  }

  private reset(rest: Buffer): void {
    this.buf = rest;
    this.pos = 0;
    this.state = 'seek-soi';
    this.sawSof = false;
    this.sawScan = false;
  }

  /** Runs the state machine until a frame completes (returned) or more input is needed (undefined). */
  private advance(): Buffer | undefined {
    const b = this.buf;
    for (;;) {
      if (this.state === 'seek-soi') {
        const at = findSoi(b, 0);
        if (at < 0) {
          // Keep a trailing 0xFF: it may be the first half of the next SOI.
          this.buf = b.length > 0 && b[b.length - 1] === MARKER ? b.subarray(b.length - 1) : Buffer.alloc(0);
          return undefined;
        }
        this.buf = b.subarray(at);
        this.pos = 2;
        this.state = 'segments';
        return this.advance();
      }
      if (this.state === 'segments') {
        if (this.pos + 2 > b.length) return undefined;
        if (b[this.pos] !== MARKER) {
          // Corrupt segment chain: drop this SOI and resynchronise.
          this.discarded++;
          this.reset(b.subarray(1));
          return this.advance();
        }
        const marker = b[this.pos + 1];
        if (marker === MARKER) {
          this.pos++; // fill byte
          continue;
        }
        if (marker === EOI) {
          if (this.sawSof && this.sawScan) return this.emit(this.pos + 2);
          this.discarded++; // an EOI with no picture before it
          this.reset(b.subarray(this.pos + 2));
          return this.advance();
        }
        if (isStandalone(marker)) {
          this.pos += 2;
          continue;
        }
        if (this.pos + 4 > b.length) return undefined;
        const len = (b[this.pos + 2] << 8) | b[this.pos + 3];
        if (this.pos + 2 + len > b.length) return undefined;
        if (len < 2) {
          this.discarded++; // a segment length counts its own two bytes
          this.reset(b.subarray(1));
          return this.advance();
        }
        this.pos += 2 + len;
        if (isSof(marker)) this.sawSof = true;
        if (marker === SOS) {
          this.sawScan = true;
          this.state = 'entropy';
        }
        continue;
      }
      // entropy-coded data: 0xFF00 is a stuffed byte, 0xFFD0-D7 are restart markers, anything else is a marker.
      let i = this.pos;
      while (i + 1 < b.length) {
        if (b[i] !== MARKER) {
          i = b.indexOf(MARKER, i + 1);
          if (i < 0) i = b.length;
          continue;
        }
        const next = b[i + 1];
        if (next === 0x00 || (next >= 0xd0 && next <= 0xd7) || next === MARKER) {
          i += next === MARKER ? 1 : 2;
          continue;
        }
        break;
      }
      if (i + 1 >= b.length) {
        this.pos = i;
        return undefined;
      }
      this.pos = i;
      if (b[i + 1] === EOI) return this.emit(i + 2);
      this.state = 'segments'; // e.g. DHT/SOS between progressive scans
    }
  }

  private emit(end: number): Buffer {
    const view = this.buf.subarray(0, end);
    const frame = this.copyFrames ? Buffer.from(view) : view;
    this.reset(this.buf.subarray(end));
    return frame;
  }
}

function findSoi(b: Buffer, from: number): number {
  let i = b.indexOf(MARKER, from);
  while (i >= 0 && i + 1 < b.length) {
    if (b[i + 1] === SOI) return i;
    i = b.indexOf(MARKER, i + 1);
  }
  return -1;
}
