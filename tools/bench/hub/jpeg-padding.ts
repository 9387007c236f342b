/**
 * A JPEG made `bytes` long by COM (comment) segments inserted at byte `at` (after SOI by default): still a valid
 * image that decoders read as the original, so hub tests and the hub bench can send frames of any size.
 */
export function padJpeg(jpeg: Buffer, bytes: number, at = 2): Buffer {
  const segs: Buffer[] = [];
  let left = bytes - jpeg.length;
  while (left > 4) {
    const n = Math.min(60_000, left - 4);
    const seg = Buffer.alloc(4 + n, 0x20);
    seg[0] = 0xff;
    seg[1] = 0xfe;
    seg.writeUInt16BE(n + 2, 2);
    segs.push(seg);
    left -= 4 + n;
  }
  return Buffer.concat([jpeg.subarray(0, at), ...segs, jpeg.subarray(at)]);
}
