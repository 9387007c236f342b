/**
 * The smallest Matroska stream ffmpeg's demuxer reads as timestamped raw rgb24 video: how the encoder gets each
 * frame's own time (a VFR source) through a pipe. Raw frames on `-f rawvideo` carry no timestamps and ffmpeg 5.1
 * has no filter or bitstream filter that applies a list of them; its Matroska demuxer reads `V_UNCOMPRESSED` with
 * a `ColourSpace` FourCC (`RGB` + 24 = rgb24) and a timestamp per cluster.
 *
 * Layout: EBML header, a Segment of unknown size (a stream), Info (TimestampScale 1 ns), one video track, then one
 * Cluster per frame holding its Timestamp and one SimpleBlock (keyframe). Sizes are written as 8-byte EBML
 * integers (always valid, no second pass). Element IDs from the Matroska specification (RFC 9559).
 */

const ID = {
  ebml: 0x1a45dfa3,
  ebmlVersion: 0x4286,
  ebmlReadVersion: 0x42f7,
  maxIdLength: 0x42f2,
  maxSizeLength: 0x42f3,
  docType: 0x4282,
  docTypeVersion: 0x4287,
  docTypeReadVersion: 0x4285,
  segment: 0x18538067,
  info: 0x1549a966,
  timestampScale: 0x2ad7b1,
  muxingApp: 0x4d80,
  writingApp: 0x5741,
  tracks: 0x1654ae6b,
  trackEntry: 0xae,
  trackNumber: 0xd7,
  trackUid: 0x73c5,
  trackType: 0x83,
  codecId: 0x86,
  video: 0xe0,
  pixelWidth: 0xb0,
  pixelHeight: 0xba,
  colourSpace: 0x2eb524,
  cluster: 0x1f43b675,
  timestamp: 0xe7,
  simpleBlock: 0xa3,
} as const;

/** Nanoseconds per Matroska timestamp unit (TimestampScale). */
export const MKV_TIMESTAMP_NS = 1;

function idBytes(id: number): Buffer {
  const hex = id.toString(16);
  return Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
}

/** An EBML data size as an 8-byte variable-size integer (marker 0x01 then 56 bits). */
function size8(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  b[0] = 0x01;
  return b;
}

function uintBytes(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  let i = 0;
  while (i < 7 && b[i] === 0) i++;
  return b.subarray(i);
}

function element(id: number, ...body: Buffer[]): Buffer {
  const data = Buffer.concat(body);
  return Buffer.concat([idBytes(id), size8(data.length), data]);
}

const uint = (id: number, n: number): Buffer => element(id, uintBytes(n));
const text = (id: number, s: string): Buffer => element(id, Buffer.from(s, 'ascii'));

/** Everything before the first frame: EBML header, the open Segment, Info, the rgb24 track of `width`×`height`. */
export function rawMatroskaHeader(width: number, height: number): Buffer {
  return Buffer.concat([
    element(
      ID.ebml,
      uint(ID.ebmlVersion, 1),
      uint(ID.ebmlReadVersion, 1),
      uint(ID.maxIdLength, 4),
      uint(ID.maxSizeLength, 8),
      text(ID.docType, 'matroska'),
      uint(ID.docTypeVersion, 4),
      uint(ID.docTypeReadVersion, 2),
    ),
    idBytes(ID.segment),
    Buffer.from('01ffffffffffffff', 'hex'), // unknown size: the stream ends when the pipe does
    element(
      ID.info,
      uint(ID.timestampScale, MKV_TIMESTAMP_NS),
      text(ID.muxingApp, 'huaju4k'),
      text(ID.writingApp, 'huaju4k'),
    ),
    element(
      ID.tracks,
      element(
        ID.trackEntry,
        uint(ID.trackNumber, 1),
        uint(ID.trackUid, 1),
        uint(ID.trackType, 1),
        text(ID.codecId, 'V_UNCOMPRESSED'),
        element(
          ID.video,
          uint(ID.pixelWidth, width),
          uint(ID.pixelHeight, height),
          element(ID.colourSpace, Buffer.from([0x52, 0x47, 0x42, 24])),
        ),
      ),
    ),
  ]);
}

/**
 * What goes before one frame's `frameBytes` bytes: a Cluster at `timestampNs` holding one keyframe SimpleBlock
 * (track 1, relative time 0). The frame itself is written after it unchanged (no copy).
 */
export function rawMatroskaFramePrefix(timestampNs: number, frameBytes: number): Buffer {
  const stamp = uint(ID.timestamp, timestampNs);
  const blockHeader = Buffer.from([0x81, 0x00, 0x00, 0x80]);
  const block = Buffer.concat([idBytes(ID.simpleBlock), size8(blockHeader.length + frameBytes), blockHeader]);
  return Buffer.concat([idBytes(ID.cluster), size8(stamp.length + block.length + frameBytes), stamp, block]);
}
