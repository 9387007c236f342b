/** A deterministic RGB24 test pattern (gradients plus a checker), so upscaled outputs can be compared. */
export function testFrame(width: number, height: number): Uint8Array {
  const f = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const checker = ((x >> 3) + (y >> 3)) & 1 ? 60 : 0;
      f[i] = (x * 255) / Math.max(1, width - 1);
      f[i + 1] = (y * 255) / Math.max(1, height - 1);
      f[i + 2] = 120 + checker;
    }
  }
  return f;
}
