// Test media and workspaces for the e2e suites: tiny clips generated with ffmpeg (64x36, so the real engine
// runs them in seconds on a CPU) and a workspace with settings pointing the extension at the fast model.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

export const CLIP_FRAMES = 48;
export const LONG_FRAMES = 240;
export const MAX_FRAMES = 24;
/** The batch folder's clips that are not enhanced yet, in the order a folder batch queues them. */
export const BATCH_CLIPS = ['a.mp4', 'b.mp4', 'c.mp4'];
export const BATCH_FRAMES = 6;

/** Workbench settings that keep start-up pages, tips, recommendations, telemetry and chat out of a test's way. */
export const QUIET_WORKBENCH = Object.freeze({
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'extensions.ignoreRecommendations': true,
  'telemetry.telemetryLevel': 'off',
  'chat.disableAIFeatures': true,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
});

export function makeClip(file, frames, pattern = 'testsrc2') {
  execFileSync('ffmpeg', [
    '-v',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `${pattern}=size=64x36:rate=24`,
    '-frames:v',
    String(frames),
    '-c:v',
    'libx264',
    '-pix_fmt',
    'yuv420p',
    '-g',
    '24',
    file,
  ]);
}

/**
 * Writes <root>/ws (clip.mp4, longclip.mp4, notvideo.mp4, batch/, .vscode/settings.json) and <root>/e2e.json.
 */
export function makeWorkspace(root, { reportFile, engineSupportsResume, settings = {} }) {
  const ws = path.join(root, 'ws');
  mkdirSync(path.join(ws, '.vscode'), { recursive: true });
  makeClip(path.join(ws, 'clip.mp4'), CLIP_FRAMES);
  makeClip(path.join(ws, 'longclip.mp4'), LONG_FRAMES, 'mandelbrot');
  writeFileSync(path.join(ws, 'notvideo.mp4'), 'this is a text file with a video extension\n');
  writeFileSync(path.join(ws, 'README.txt'), 'not a video\n');
  // A folder for batches: three short clips, one already enhanced (its output beside it).
  const batchDir = path.join(ws, 'batch');
  mkdirSync(batchDir);
  for (const name of BATCH_CLIPS) makeClip(path.join(batchDir, name), BATCH_FRAMES);
  makeClip(path.join(batchDir, 'done.mp4'), BATCH_FRAMES);
  makeClip(path.join(batchDir, 'done.4k.mp4'), BATCH_FRAMES);
  writeFileSync(
    path.join(ws, '.vscode', 'settings.json'),
    JSON.stringify(
      {
        'huaju4k.model': 'realesr-animevideov3-x4',
        'huaju4k.scale': 4,
        'huaju4k.maxFrames': MAX_FRAMES,
        'huaju4k.preset': 'ultrafast',
        'huaju4k.segmentFrames': 24,
        ...QUIET_WORKBENCH,
        ...settings,
      },
      null,
      2,
    ),
  );
  const config = {
    reportFile,
    clip: path.join(ws, 'clip.mp4'),
    longClip: path.join(ws, 'longclip.mp4'),
    notVideo: path.join(ws, 'notvideo.mp4'),
    batchDir,
    batchClips: BATCH_CLIPS.map((n) => path.join(batchDir, n)),
    ffprobe: 'ffprobe',
    maxFrames: MAX_FRAMES,
    engineSupportsResume,
    grep: process.env.HUAJU4K_E2E_GREP || undefined,
  };
  writeFileSync(path.join(root, 'e2e.json'), JSON.stringify(config, null, 2));
  return { ws, config };
}

/** True once the engine CLI accepts `enhance --resume` (issue 4); until then the resume test is pending. */
export function engineSupportsResume(enginePath) {
  const r = spawnSync(process.execPath, [enginePath, 'enhance', '/nonexistent-huaju4k-probe.mp4', '--resume'], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  const text = `${r.stdout}${r.stderr}`;
  return !/unknown option '--resume'/i.test(text);
}
