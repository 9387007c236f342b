#!/usr/bin/python3
"""Ground-truth optical flow for `npm run quality`, from OpenCV (not the engine's flow): two independent graders,
Farneback's polynomial expansion and DIS (dense inverse search, Kroeger et al. 2016).

Usage: truth_flow.py WIDTH HEIGHT FRAMES_RGB24 OUT [farneback|dis]

Reads FRAMES_RGB24 (packed RGB24 frames, back to back) and writes to OUT, for each frame t >= 1 in order:
float32 u[h*w], float32 v[h*w] (backward flow: pixel p of frame t shows what frame t-1 showed at p + (u, v)),
then uint8 mask[h*w] (1 where the forward flow from t-1 leads back to p within the tolerance of Sundaram et al.
2010, and p + (u, v) lies inside the frame). Needs python3-opencv (Debian) or opencv-python.
"""
import sys

import cv2
import numpy as np

FARNEBACK = dict(pyr_scale=0.5, levels=4, winsize=15, iterations=3, poly_n=5, poly_sigma=1.2, flags=0)


def farneback(a, b):
    return cv2.calcOpticalFlowFarneback(a, b, None, **FARNEBACK)


def dis():
    d = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    return lambda a, b: d.calc(a, b, None)


def consistent(back, fwd, w, h):
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    qx = xs + back[..., 0]
    qy = ys + back[..., 1]
    inside = (qx >= 0) & (qy >= 0) & (qx <= w - 1) & (qy <= h - 1)
    f = cv2.remap(fwd, qx, qy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    d = back + f
    tol = 0.01 * ((back**2).sum(-1) + (f**2).sum(-1)) + 0.5
    return (inside & ((d**2).sum(-1) <= tol)).astype(np.uint8)


def main():
    w, h = int(sys.argv[1]), int(sys.argv[2])
    method = sys.argv[5] if len(sys.argv) > 5 else "farneback"
    flow = {"farneback": lambda: farneback, "dis": dis}[method]()
    raw = np.fromfile(sys.argv[3], dtype=np.uint8)
    frames = raw.reshape(-1, h, w, 3)
    gray = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]
    with open(sys.argv[4], "wb") as out:
        for t in range(1, len(gray)):
            back = flow(gray[t], gray[t - 1])
            fwd = flow(gray[t - 1], gray[t])
            out.write(np.ascontiguousarray(back[..., 0]).tobytes())
            out.write(np.ascontiguousarray(back[..., 1]).tobytes())
            out.write(consistent(back, fwd, w, h).tobytes())


if __name__ == "__main__":
    main()
