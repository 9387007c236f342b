#!/usr/bin/python3
"""An old camera's grain for `npm run quality`'s people-grain clip: signal-dependent sensor noise (Poisson-Gaussian:
variance = GAIN * level + READ^2, in 0..255 levels, per colour channel, independent in every frame), made at the
camera's own (low) resolution. The caller then encodes the result with a lossy codec, as the camera would.

Usage: camera_grain.py WIDTH HEIGHT SEED < RGB24 frames > RGB24 frames

The noise is seeded (SEED, then the frame's index), so the clip is the same on every run. Needs numpy only.
"""
import sys

import numpy as np

# A small sensor in dim indoor light: sigma about 2 levels in the shadows, 5 at mid grey, 6.5 in the highlights.
GAIN = 0.15
READ = 1.8


def main():
    w, h, seed = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    size = w * h * 3
    src, dst = sys.stdin.buffer, sys.stdout.buffer
    index = 0
    while True:
        raw = src.read(size)
        if not raw:
            break
        if len(raw) != size:
            sys.exit(f"camera_grain: a frame of {len(raw)} bytes, expected {size} ({w}x{h} RGB24)")
        level = np.frombuffer(raw, np.uint8).astype(np.float32)
        rng = np.random.default_rng([seed, index])
        # Shot noise: Poisson in photo-electrons (level / GAIN of them), back to levels; plus Gaussian read noise.
        shot = rng.poisson(level / GAIN).astype(np.float32) * GAIN
        noisy = shot + rng.normal(0.0, READ, size).astype(np.float32)
        dst.write(np.clip(np.rint(noisy), 0, 255).astype(np.uint8).tobytes())
        index += 1


main()
