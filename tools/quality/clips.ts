import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** A ground-truth clip and its ×4-downscaled input, decoded to packed RGB24 frames. */
export interface QualityClip {
  name: string;
  description: string;
  width: number;
  height: number;
  truth: Buffer[];
  input: Buffer[];
}

const IMAGEIO_DIRS = [
  process.env.HUAJU4K_IMAGEIO_DIR,
  '/usr/lib/python3/dist-packages/imageio/resources/images',
].filter((d): d is string => !!d);

export function cacheDir(): string {
  const dir = join(process.env.HUAJU4K_CACHE ?? join(homedir(), '.cache/huaju4k'), 'quality');
  mkdirSync(dir, { recursive: true });
  return dir;
}

function realClip(name: string): string {
  for (const d of IMAGEIO_DIRS) if (existsSync(join(d, name))) return join(d, name);
  throw new Error(
    `quality: the real test clip ${name} was not found in ${IMAGEIO_DIRS.join(' or ')}. ` +
      'Install it with `apt-get install python3-imageio` (or `apt-get download python3-imageio && dpkg -x *.deb x/` ' +
      'and set HUAJU4K_IMAGEIO_DIR=x/usr/lib/python3/dist-packages/imageio/resources/images).',
  );
}

const OPENCV_DATA_DIRS = [process.env.HUAJU4K_OPENCV_DATA_DIR, '/usr/share/doc/opencv-doc/examples/data'].filter(
  (d): d is string => !!d,
);

/**
 * OpenCV's vtest.avi (opencv-doc): a real fixed camera over a campus walkway, people walking through at 10 fps,
 * 768×576 MPEG-4 with its codec's noise — the kind of footage huaju4k is named for (a fixed camera, people moving).
 */
function vtest(): string {
  for (const d of OPENCV_DATA_DIRS) if (existsSync(join(d, 'vtest.avi'))) return join(d, 'vtest.avi');
  throw new Error(
    `quality: OpenCV's vtest.avi was not found in ${OPENCV_DATA_DIRS.join(' or ')}. ` +
      'Fetch it with `apt-get download opencv-doc && dpkg -x opencv-doc_*.deb x/` and set ' +
      'HUAJU4K_OPENCV_DATA_DIR=x/usr/share/doc/opencv-doc/examples/data (or `apt-get install opencv-doc`).',
  );
}

/** A part of vtest.avi from frame `start`, through `filter` (scale/crop), re-encoded lightly (crf 16). */
function peopleClip(name: string, start: number, filter: string, frames: number): string {
  return cached(`${name}-${frames}.mp4`, (tmp) =>
    ffmpeg([
      ...['-i', vtest()],
      ...['-vf', `trim=start_frame=${start},setpts=PTS-STARTPTS,${filter}`],
      ...['-frames:v', String(frames), '-c:v', 'libx264', '-preset', 'medium', '-crf', '16'],
      ...['-pix_fmt', 'yuv420p', '-f', 'mp4', tmp],
    ]),
  );
}

/** The Python with OpenCV and numpy (the graders' and the grain's). */
export function python(): string {
  if (process.env.HUAJU4K_PYTHON) return process.env.HUAJU4K_PYTHON;
  // Debian's python3-opencv installs into the system interpreter, which a pyenv shim on PATH may hide.
  return existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
}

function ffmpeg(args: string[], input?: Buffer): Buffer {
  return execFileSync('ffmpeg', ['-v', 'error', '-nostdin', '-y', ...args], { maxBuffer: 1 << 30, input });
}

/** Makes `name` in the cache once (through a temporary name, so an interrupted run leaves no half file). */
function cached(name: string, make: (tmp: string) => void): string {
  const out = join(cacheDir(), name);
  if (!existsSync(out)) {
    const tmp = join(cacheDir(), `tmp-${process.pid}-${name}`);
    make(tmp);
    renameSync(tmp, out);
  }
  return out;
}

const X264 = ['-c:v', 'libx264', '-preset', 'medium', '-crf', '20', '-pix_fmt', 'yuv420p'];
/** Camera-like grain: uniform, changing every frame (temporal), before the encoder sees it. */
const GRAIN = 'noise=alls=5:allf=t+u';

function still(): string {
  return cached('cockatoo-frame0.png', (tmp) =>
    ffmpeg(['-i', realClip('cockatoo.mp4'), '-frames:v', '1', '-f', 'image2', '-c:v', 'png', tmp]),
  );
}

/** Fixed camera: a real frame held still, grain, and a real moving part (the cockatoo's head) composited. */
function fixedCameraClip(frames: number): string {
  return cached(`fixed-640x360-${frames}.mp4`, (tmp) =>
    ffmpeg([
      ...['-loop', '1', '-framerate', '20', '-i', still()],
      ...['-i', realClip('cockatoo.mp4')],
      '-filter_complex',
      `[0:v]scale=640:360,format=yuv420p[bg];[1:v]trim=start_frame=200,setpts=PTS-STARTPTS,crop=480:480:400:120,scale=112:112[fg];[bg][fg]overlay=x=440:y=150,${GRAIN}`,
      ...['-frames:v', String(frames), ...X264, '-f', 'mp4', tmp],
    ]),
  );
}

/**
 * Panning camera: a width×height window sliding 4 px per frame (1 px at the ×4-downscaled input) across the real
 * 1280×720 frame, scaled by `zoom` first (lanczos) when the window needs more room than the frame has.
 */
function panClip(frames: number, width = 640, height = 360, zoom = 1): string {
  const scale = zoom === 1 ? '' : `scale=${1280 * zoom}:${720 * zoom}:flags=lanczos,`;
  return cached(`pan-${width}x${height}-${frames}.mp4`, (tmp) =>
    ffmpeg([
      ...['-loop', '1', '-framerate', '20', '-i', still()],
      '-vf',
      `${scale}crop=${width}:${height}:x='n*4':y=${(720 * zoom - height) / 2},${GRAIN}`,
      ...['-frames:v', String(frames), ...X264, '-f', 'mp4', tmp],
    ]),
  );
}

function decodeFrames(path: string, width: number, height: number, filter?: string): Buffer[] {
  const vf = `${filter ? `${filter},` : ''}format=rgb24`;
  const raw = ffmpeg(['-i', path, '-vf', vf, '-f', 'rawvideo', 'pipe:1']);
  const size = width * height * 3;
  if (raw.length % size !== 0)
    throw new Error(`quality: ${path} decoded to ${raw.length} bytes, not whole ${width}x${height} frames`);
  const out: Buffer[] = [];
  for (let o = 0; o < raw.length; o += size) out.push(raw.subarray(o, o + size));
  return out;
}

function load(
  name: string,
  description: string,
  path: string,
  width: number,
  height: number,
  frames: number,
  sensor = '',
): QualityClip {
  const truth = decodeFrames(path, width, height).slice(0, frames);
  // The input: the ground truth downscaled ×4 (area average), as a lower-resolution camera would record it (with
  // `sensor`'s noise when given: noise is made at the camera's own resolution).
  const input = decodeFrames(
    path,
    width / 4,
    height / 4,
    `scale=${width / 4}:${height / 4}:flags=area${sensor ? `,${sensor}` : ''}`,
  ).slice(0, frames);
  return { name, description, width, height, truth, input };
}

/** A clip whose input is what an old camera records of it (oldCameraInput): the truth stays clean. */
function loadOldCamera(name: string, description: string, path: string, width: number, height: number, frames: number) {
  const truth = decodeFrames(path, width, height).slice(0, frames);
  const input = decodeFrames(oldCameraInput(name, path, width, height, frames), width / 4, height / 4);
  if (input.length !== truth.length)
    throw new Error(`quality: ${name}'s input has ${input.length} frames, its truth ${truth.length}`);
  return { name, description, width, height, truth, input };
}

/**
 * What an old camera records of `path` at a quarter of its size: the ground truth downscaled ×4 (area), then
 * signal-dependent sensor grain made at that resolution (camera_grain.py: Poisson-Gaussian, new in every frame), then
 * MPEG-4 part 2 at a fixed quantiser with a 12-frame GOP (the codec of vtest.avi itself and of old digital cameras),
 * whose P frames code part of the grain and leave the rest: codec noise on top of sensor noise.
 */
function oldCameraInput(name: string, path: string, width: number, height: number, frames: number): string {
  const w = width / 4;
  const h = height / 4;
  return cached(`${name}-input-${w}x${h}-${frames}.avi`, (tmp) => {
    const clean = ffmpeg(['-i', path, '-vf', `scale=${w}:${h}:flags=area,format=rgb24`, '-f', 'rawvideo', 'pipe:1']);
    const noisy = execFileSync(python(), [join(__dirname, 'camera_grain.py'), String(w), String(h), '31'], {
      input: clean,
      maxBuffer: 1 << 30,
    });
    ffmpeg(
      [
        ...['-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${w}x${h}`, '-r', '10', '-i', 'pipe:0'],
        ...['-c:v', 'mpeg4', '-q:v', '3', '-g', '12', '-bf', '0', '-pix_fmt', 'yuv420p', '-f', 'avi', tmp],
      ],
      noisy,
    );
  });
}

/** Hand-held camera: cockatoo.mp4 from frame 10 (the camera shakes and tilts), 640×360. */
function handheldClip(frames: number): string {
  return cached(`handheld-640x360-${frames}.mp4`, (tmp) =>
    ffmpeg([
      ...['-i', realClip('cockatoo.mp4')],
      ...['-vf', 'trim=start_frame=10,setpts=PTS-STARTPTS,scale=640:360:flags=area'],
      ...['-frames:v', String(frames), ...X264, '-f', 'mp4', tmp],
    ]),
  );
}

/**
 * A stage: the fixed-camera clip under a spotlight (a strong vignette leaves the sides near black, gamma lowers the
 * rest), clean at full size (the truth); the input gets a sensor's temporal noise at its own resolution, after the
 * downscale (luma and chroma, gaussian, changing every frame).
 */
function stageClip(frames: number): string {
  return cached(
    `stage-640x360-${frames}-${(process.env.HUAJU4K_STAGE_VF ?? 'v25').replace(/[^a-z0-9]/gi, '')}.mp4`,
    (tmp) =>
      ffmpeg([
        ...['-i', fixedCameraClip(frames)],
        ...['-vf', process.env.HUAJU4K_STAGE_VF ?? 'vignette=angle=PI/2.5'],
        ...['-frames:v', String(frames), ...X264, '-f', 'mp4', tmp],
      ]),
  );
}

/** Sensor noise of a small camera in low light, added to the low-res input of the stage clip. */
export const STAGE_SENSOR_NOISE = 'noise=c0s=10:c1s=6:c2s=6:allf=t';

export const CLIP_NAMES = [
  'fixed',
  'pan',
  'pan1080',
  'real',
  'handheld',
  'stage',
  'people',
  'people-small',
  'people-late',
  'people-grain',
] as const;
export type ClipName = (typeof CLIP_NAMES)[number];
/** What a plain `npm run quality` runs: pan1080 (a 480×270 input) takes minutes per mode on one CPU thread. */
export const DEFAULT_CLIPS: readonly ClipName[] = ['fixed', 'pan', 'real', 'handheld', 'stage'];

export function loadClip(name: ClipName, frames: number): QualityClip {
  switch (name) {
    case 'fixed':
      return load(
        name,
        'still cockatoo frame + grain + moving head, 640x360',
        fixedCameraClip(frames),
        640,
        360,
        frames,
      );
    case 'pan':
      return load(name, 'window panning 4 px/frame over a cockatoo frame, 640x360', panClip(frames), 640, 360, frames);
    case 'pan1080':
      return load(
        name,
        'window panning 4 px/frame over a cockatoo frame upscaled x2 (lanczos), 1920x1080',
        panClip(frames, 1920, 1080, 2),
        1920,
        1080,
        frames,
      );
    case 'handheld':
      return load(name, 'cockatoo.mp4 from frame 10 (hand-held), 640x360', handheldClip(frames), 640, 360, frames);
    case 'stage':
      return load(
        name,
        'fixed camera under a spotlight (dark sides), sensor noise on the low-res input, 640x360',
        stageClip(frames),
        640,
        360,
        frames,
        STAGE_SENSOR_NOISE,
      );
    case 'real':
      return load(name, 'realshort.mp4 as is (hand-held), 320x240', realClip('realshort.mp4'), 320, 240, frames);
    case 'people':
      return load(
        name,
        "OpenCV's vtest.avi (fixed camera, people walking) from frame 100, 640x352 crop",
        peopleClip(name, 100, 'crop=640:352:64:180', frames),
        640,
        352,
        frames,
      );
    case 'people-late':
      return load(
        name,
        "OpenCV's vtest.avi from frame 560 (other people, other paths), 640x352 crop",
        peopleClip(name, 560, 'crop=640:352:0:224', frames),
        640,
        352,
        frames,
      );
    case 'people-small':
      return load(
        name,
        "OpenCV's vtest.avi from frame 100, halved (area) and cropped to 320x176",
        peopleClip(name, 100, 'scale=384:288:flags=area,crop=320:176:32:90', frames),
        320,
        176,
        frames,
      );
    case 'people-grain':
      return loadOldCamera(
        name,
        "vtest.avi from frame 100, 640x512 crop; input 160x128 with an old camera's grain + MPEG-4 (degraded, see oldCameraInput)",
        peopleClip(name, 100, 'crop=640:512:64:32', frames),
        640,
        512,
        frames,
      );
  }
}
