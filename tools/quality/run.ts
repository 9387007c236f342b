/**
 * `npm run quality [-- --model <id> --frames <n> --clips fixed,pan,real,handheld --modes per-frame,… --strength medium --json]`
 * (`--clips pan1080`, a 480×270-input pan, on request only: minutes per mode). `--audio-only` prints only the audio
 * table (audio-table.ts: --audio clean/stage on a made mix and a real recording), `--no-audio` leaves it out.
 *
 * Ground truth = real footage; input = the truth downscaled ×4; each clip is enhanced per-frame, with temporal
 * stabilisation, and with temporal stabilisation + tile reuse (each both with `--motion off` and following motion),
 * and compared with the truth: PSNR, SSIM, flicker index (static regions), warping-error ratio along the truth's
 * own flow from two independent graders (OpenCV's Farnebäck and DIS, truth-flow.ts), over the whole frame and
 * inside the moving regions (blocks that are not static in the truth), the worst 1 % of pixels' error there
 * (ghosting, stale tiles), speed, reuse ratio. `--modes` picks rows (per-frame is always run: it is
 * the baseline); `--cold` times the temporal parts without a warm-up pass. `--shift-max-age n` and
 * `--shift-tolerance x` set the reuse's shiftMaxAge and shiftTolerance. `--flow-finest <pixels|quarter>` sets the
 * optical flow's finest refined level (default: the engine's, HUAJU4K_FLOW_FINEST_PIXELS included; `quarter`: a
 * quarter of each clip's input pixels — the engine's cut on a 960×540 input, measured on these small clips). Runs the model in this thread (ORT's own
 * threads do the work), so fps is model + temporal cost without decode/encode.
 */
import { parseArgs } from 'node:util';
import { nullTileModel } from '../../src/engine/inference/null-model';
import { TileUpscaler } from '../../src/engine/inference/upscaler';
import { Int8UnavailableError, type LoadedModel, loadModel } from '../../src/engine/model/loader';
import type { FrameStage, FrameUpscaler, PipelineFrame } from '../../src/engine/pipeline/pipeline-types';
import { StageLightStage } from '../../src/engine/stage-light/light-stage';
import { createTemporal, flowFinestPixels } from '../../src/engine/temporal/create';
import type { ReuseOptions } from '../../src/engine/temporal/reuse-upscaler';
import { isTemporalStrength, type TemporalStrength } from '../../src/engine/temporal/strength';
import { audioRows, audioTable } from './audio-table';
import { CLIP_NAMES, type ClipName, DEFAULT_CLIPS, loadClip, type QualityClip } from './clips';
import { changedOutside, darkMask, flowsInDark, paintedEnergy } from './dark-regions';
import {
  flickerIndex,
  psnr,
  type Region,
  ssim,
  staleExcess,
  staticBlocks,
  staticShare,
  tailError,
  warpingError,
} from './metrics';
import { type FlowGrader, type TruthFlow, truthFlows } from './truth-flow';

/**
 * '… int8': the model's verified int8 variant (CPU) per frame, and with the defaults (temporal+reuse following
 * motion); their ΔPSNR is against fp32 per-frame.
 * 'static …': the temporal parts with `--motion off` (blend and reuse only what stayed put); the others follow
 * motion with the low-res optical flow (the default).
 */
const MODES = [
  'per-frame',
  'per-frame soften',
  'per-frame int8',
  'static temporal',
  'static temporal+reuse',
  'temporal',
  'temporal+reuse',
  'temporal+reuse int8',
] as const;
const isInt8 = (mode: Mode) => mode.endsWith(' int8');
type Mode = (typeof MODES)[number];

interface Row {
  clip: string;
  mode: Mode;
  psnr: number;
  ssim: number;
  flicker: number;
  /** Warping-error ratio along the truth's Farnebäck flow (whole frame). */
  warp: number;
  /** The same along DIS flow. */
  warpDis: number;
  /** Inside the moving regions, Farnebäck and DIS. */
  warpMoving: number;
  warpMovingDis: number;
  /** Worst 1 % of pixels' error inside the moving regions (levels). */
  tailMoving: number;
  /** The largest error there (a stale tile where something moved raises it above per-frame's). */
  maxMoving: number;
  /** The worst moving 32×32 tile's mean error above per-frame's in it (staleExcess; levels). */
  stale: number;
  fps: number;
  cpuMsPerFrame: number;
  reuseRatio: number;
}

interface Args {
  model: string;
  frames: number;
  clips: ClipName[];
  modes: Mode[];
  strength: TemporalStrength;
  reuse: ReuseOptions;
  json: boolean;
  /** Time the temporal parts from their first frame on (no warm-up pass with the null model). */
  cold: boolean;
  threads?: number;
  /** The audio table: 'with' the video table (default), 'only', or 'none'. */
  audio: 'with' | 'only' | 'none';
  /** The flow's finest refined level (pixels, as the engine sets it), or 'quarter': a quarter of each clip's input. */
  flowFinest: number | 'quarter';
}

function parse(argv: string[]): Args {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string' },
      frames: { type: 'string' },
      clips: { type: 'string' },
      modes: { type: 'string' },
      strength: { type: 'string' },
      'reuse-threshold': { type: 'string' },
      'refresh-every': { type: 'string' },
      'reuse-tile': { type: 'string' },
      'reuse-pad': { type: 'string' },
      'shift-max-age': { type: 'string' },
      'shift-tolerance': { type: 'string' },
      threads: { type: 'string' },
      json: { type: 'boolean' },
      cold: { type: 'boolean' },
      'audio-only': { type: 'boolean' },
      'no-audio': { type: 'boolean' },
      'flow-finest': { type: 'string' },
    },
  });
  const clips = (v.clips ?? DEFAULT_CLIPS.join(',')).split(',') as ClipName[];
  for (const c of clips)
    if (!CLIP_NAMES.includes(c)) throw new Error(`--clips: unknown clip "${c}" (${CLIP_NAMES.join(', ')})`);
  const modes = v.modes ? (['per-frame', ...v.modes.split(',')] as Mode[]) : [...MODES];
  for (const m of modes) if (!MODES.includes(m)) throw new Error(`--modes: unknown mode "${m}" (${MODES.join(', ')})`);
  const strength = v.strength ?? 'medium';
  if (!isTemporalStrength(strength) || strength === 'off') throw new Error('--strength must be low, medium or high');
  const num = (s: string | undefined) => (s === undefined ? undefined : Number(s));
  const reuse: ReuseOptions = {};
  if (v['reuse-threshold']) reuse.threshold = num(v['reuse-threshold']);
  if (v['refresh-every']) reuse.refreshEvery = num(v['refresh-every']);
  if (v['reuse-tile']) reuse.tile = num(v['reuse-tile']);
  if (v['reuse-pad']) reuse.pad = num(v['reuse-pad']);
  if (v['shift-max-age']) reuse.shiftMaxAge = num(v['shift-max-age']);
  if (v['shift-tolerance']) reuse.shiftTolerance = num(v['shift-tolerance']);
  return {
    model: v.model ?? 'realesr-general-x4v3',
    frames: num(v.frames) ?? 40,
    clips,
    modes: MODES.filter((m) => modes.includes(m)),
    strength,
    reuse,
    json: v.json === true,
    cold: v.cold === true,
    threads: num(v.threads),
    audio: v['audio-only'] ? 'only' : v['no-audio'] ? 'none' : 'with',
    flowFinest: flowFinestArg(v['flow-finest']),
  };
}

/** `--flow-finest`: pixels, or `quarter` (the cut the engine makes on a 960×540 input, at each clip's own size). */
function flowFinestArg(text: string | undefined): number | 'quarter' {
  if (text === 'quarter') return 'quarter';
  return text === undefined ? flowFinestPixels() : flowFinestPixels({ HUAJU4K_FLOW_FINEST_PIXELS: text });
}

interface ModeRun {
  mode: Mode;
  upscaler: FrameUpscaler;
  stages: FrameStage[];
  reuse?: { reuseRatio: number };
  outputs: Buffer[];
  seconds: number;
  cpuSeconds: number;
}

/**
 * Runs the modes frame by frame in turn (frame 0 in every mode, then frame 1…), so a busy machine slows all
 * modes alike and their fps stay comparable.
 */
async function enhanceInterleaved(clip: QualityClip, runs: ModeRun[]): Promise<void> {
  const w = clip.width / 4;
  const h = clip.height / 4;
  for (let i = 0; i < clip.input.length; i++) {
    for (const r of runs) {
      const t = performance.now();
      const cpu = process.cpuUsage();
      const output = await r.upscaler.upscale(clip.input[i], w, h);
      let frame: PipelineFrame = {
        index: i,
        input: clip.input[i],
        inputSize: { width: w, height: h },
        output,
        outputSize: { width: w * r.upscaler.scale, height: h * r.upscaler.scale },
      };
      for (const s of r.stages) frame = await s.process(frame);
      r.seconds += (performance.now() - t) / 1000;
      const used = process.cpuUsage(cpu);
      r.cpuSeconds += (used.user + used.system) / 1e6;
      r.outputs.push(frame.output);
    }
  }
}

const NO_TILES = { tile: 0, pad: 12 };

/** A mode's temporal parts around `model` (per-frame: none). */
function modeRun(mode: Mode, model: TileUpscaler, args: Args, inputPixels: number): ModeRun {
  const t = createTemporal(model, {
    flowFinestPixels: args.flowFinest === 'quarter' ? Math.floor(inputPixels / 4) : args.flowFinest,
    strength: mode.startsWith('per-frame') ? 'off' : args.strength,
    reuse: mode.includes('+reuse'),
    reuseOptions: args.reuse,
    motion: mode.startsWith('static') ? 'off' : 'flow',
  });
  // 'per-frame soften': --dark-regions soften after the model (stage-light/).
  const stages = mode === 'per-frame soften' ? [new StageLightStage()] : t.stages;
  return { mode, upscaler: t.upscaler, stages, reuse: t.reuse, outputs: [], seconds: 0, cpuSeconds: 0 };
}

/**
 * --dark-regions rows' own measures, against per-frame: the high-frequency energy the truth does not have inside its
 * dark areas (dark-regions.ts), the warping error there (along the truth's Farnebäck flow, as a ratio to the truth's
 * own), and the share of pixels outside them that differ.
 */
function darkNotes(clip: QualityClip, name: string, runs: ModeRun[]): string[] {
  const base = runs.find((r) => r.mode === 'per-frame');
  const soft = runs.find((r) => r.mode === 'per-frame soften');
  if (!base || !soft) return [];
  const { width: w, height: h } = clip;
  const darks = clip.truth.map((t) => darkMask(t, w, h));
  let painted = [0, 0];
  let share = 0;
  let outside = 0;
  for (let i = 0; i < clip.truth.length; i++) {
    const p = (o: Buffer) => paintedEnergy(o, clip.truth[i], w, h, darks[i]);
    painted = [painted[0] + p(base.outputs[i]), painted[1] + p(soft.outputs[i])];
    share += darks[i].share;
    outside += changedOutside(base.outputs[i], soft.outputs[i], darks[i]);
  }
  const flows = flowsInDark(truthFlows(clip, name, 'farneback'), darks);
  const warp = (frames: Uint8Array[]) => warpingError(frames, flows, w, h) / warpingError(clip.truth, flows, w, h);
  const n = clip.truth.length;
  const cut = 1 - painted[1] / painted[0];
  const [wb, ws] = [warp(base.outputs), warp(soft.outputs)];
  return [
    `${clip.name} dark regions (${((share / n) * 100).toFixed(0)}% of the frame): painted HF energy per-frame ${(painted[0] / n).toFixed(3)}, soften ${(painted[1] / n).toFixed(3)} (${(cut * 100).toFixed(0)}% less${cut >= 0.5 ? '' : ', under the 50% asked'}); warping error there (ratio to the truth's) per-frame ${wb.toFixed(2)}, soften ${ws.toFixed(2)}${ws <= wb ? '' : ' (worse)'}; pixels changed outside them ${((outside / n) * 100).toFixed(2)}% (where the noisy input's mask reaches past the truth's dark areas)`,
  ];
}

const fmt = (x: number, d: number) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');

function printTable(rows: Row[], notes: string[]): void {
  const head = [
    'clip',
    'mode',
    'PSNR dB',
    'ΔPSNR',
    'SSIM',
    'flicker',
    'warp F',
    'warp DIS',
    'moving F',
    'moving DIS',
    'tail99 mov',
    'max mov',
    'stale mov',
    'fps',
    'CPU ms/frame',
    'speed-up',
    'reuse',
  ];
  const lines = [head];
  for (const r of rows) {
    const base = rows.find((b) => b.clip === r.clip && b.mode === 'per-frame');
    lines.push([
      r.clip,
      r.mode,
      fmt(r.psnr, 2),
      base ? fmt(r.psnr - base.psnr, 2) : '',
      fmt(r.ssim, 4),
      fmt(r.flicker, 2),
      fmt(r.warp, 2),
      fmt(r.warpDis, 2),
      fmt(r.warpMoving, 2),
      fmt(r.warpMovingDis, 2),
      fmt(r.tailMoving, 1),
      fmt(r.maxMoving, 1),
      fmt(r.stale, 1),
      fmt(r.fps, 2),
      fmt(r.cpuMsPerFrame, 0),
      base ? `${fmt(base.cpuMsPerFrame / r.cpuMsPerFrame, 2)}×` : '',
      `${(r.reuseRatio * 100).toFixed(0)}%`,
    ]);
  }
  const widths = head.map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  const row = (l: string[]) => `| ${l.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  process.stdout.write(`${row(lines[0])}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|\n`);
  for (const l of lines.slice(1)) process.stdout.write(`${row(l)}\n`);
  for (const n of notes) process.stdout.write(`${n}\n`);
}

type Warps = Pick<Row, 'warp' | 'warpDis' | 'warpMoving' | 'warpMovingDis' | 'tailMoving' | 'maxMoving'>;

/** Grades outputs against the clip's truth: warping-error ratios by both graders, whole and moving, and the tail. */
function grade(clip: QualityClip, name: string, masks: Uint8Array[]): (outputs: Buffer[]) => Warps {
  const moving: Region = { masks, keep: 0 };
  const { width: w, height: h } = clip;
  const graders: Record<FlowGrader, TruthFlow[]> = {
    farneback: truthFlows(clip, name, 'farneback'),
    dis: truthFlows(clip, name, 'dis'),
  };
  const ratio = (outputs: Buffer[], g: FlowGrader, region?: Region) =>
    warpingError(outputs, graders[g], w, h, region) / warpingError(clip.truth, graders[g], w, h, region);
  return (outputs) => ({
    warp: ratio(outputs, 'farneback'),
    warpDis: ratio(outputs, 'dis'),
    warpMoving: ratio(outputs, 'farneback', moving),
    warpMovingDis: ratio(outputs, 'dis', moving),
    tailMoving: tailError(outputs, clip.truth, w, moving),
    maxMoving: tailError(outputs, clip.truth, w, moving, 1),
  });
}

/** The int8 variant for the int8 rows, or undefined (and a note) when the model has none. */
async function loadInt8(args: Args, notes: string[]): Promise<LoadedModel | undefined> {
  try {
    return await loadModel(args.model, { intraOpNumThreads: args.threads, precision: 'int8' });
  } catch (err) {
    if (!(err instanceof Int8UnavailableError)) throw err;
    notes.push(`no int8 rows: ${err.message}`);
    return undefined;
  }
}

/** The audio table (after the video's), or its rows in the JSON. */
async function printAudio(json: boolean): Promise<void> {
  const { rows, notes } = await audioRows();
  if (json) process.stdout.write(`${JSON.stringify({ audio: rows })}\n`);
  else process.stdout.write(`\n${[...audioTable(rows), ...notes].join('\n')}\n`);
}

async function main(): Promise<void> {
  const args = parse(process.argv.slice(2));
  if (args.audio === 'only') return printAudio(args.json);
  const model = await loadModel(args.model, { intraOpNumThreads: args.threads });
  const rows: Row[] = [];
  const notes: string[] = [
    `model ${model.id}, temporal ${args.strength}, ${args.frames} frames max per clip; flicker 1.00 = as steady as the ground truth; warp F / DIS = warping-error ratio along the ground truth's own Farnebäck / DIS flow (1.00 = as steady as reality), whole frame and inside the moving regions (blocks not static in the truth); tail99 mov / max mov = the worst 1 % of pixels' error there / the largest (levels); stale mov = the worst moving 32x32 tile's mean error above per-frame's (levels: a stale tile shows as tens); speed-up = per-frame CPU time ÷ this mode's (fps is wall-clock, modes interleaved)`,
  ];
  const int8 = args.modes.some(isInt8) ? await loadInt8(args, notes) : undefined;
  const modes = args.modes.filter((m) => !isInt8(m) || int8);
  for (const name of args.clips) {
    const clip = loadClip(name, args.frames);
    const masks = staticBlocks(clip.truth, clip.width, clip.height);
    const inputPixels = (clip.width / 4) * (clip.height / 4);
    notes.push(
      `${name}: ${clip.description}, input ${clip.width / 4}x${clip.height / 4}, ${clip.truth.length} frames, static share ${(staticShare(masks) * 100).toFixed(0)}%`,
    );
    // Warm-up: ORT's first run on a new input size pays for graph optimisation and allocations. The temporal parts
    // are then run once over the clip with the null model: V8 compiles their loops while they run, which on a short
    // clip costs more than the work itself (fixed clip, 24 frames, the motion stage: 53 ms per frame on the first
    // pass, 14 once compiled; static: 26 and 9), and a real job runs thousands of frames. `--cold` skips it.
    for (const m of int8 ? [model, int8] : [model])
      await new TileUpscaler(m, NO_TILES).upscale(clip.input[0], clip.width / 4, clip.height / 4);
    if (!args.cold) {
      const nullModel = () => new TileUpscaler(nullTileModel(model.scale), NO_TILES);
      const warm = modes.map((mode) => modeRun(mode, nullModel(), args, inputPixels));
      await enhanceInterleaved(clip, warm);
    }
    const runs = modes.map((mode) =>
      modeRun(mode, new TileUpscaler(isInt8(mode) && int8 ? int8 : model, NO_TILES), args, inputPixels),
    );
    await enhanceInterleaved(clip, runs);
    notes.push(...darkNotes(clip, name, runs));
    const graded = grade(clip, name, masks);
    const base = (runs.find((r) => r.mode === 'per-frame') as ModeRun).outputs;
    for (const r of runs) {
      let p = 0;
      let s = 0;
      for (let i = 0; i < r.outputs.length; i++) {
        p += psnr(r.outputs[i], clip.truth[i]);
        s += ssim(r.outputs[i], clip.truth[i], clip.width, clip.height);
      }
      rows.push({
        clip: name,
        mode: r.mode,
        psnr: p / r.outputs.length,
        ssim: s / r.outputs.length,
        flicker: flickerIndex(r.outputs, clip.truth, masks, clip.width, clip.height),
        ...graded(r.outputs),
        stale: staleExcess(r.outputs, base, clip.truth, clip, masks),
        fps: r.outputs.length / r.seconds,
        cpuMsPerFrame: (r.cpuSeconds * 1000) / r.outputs.length,
        reuseRatio: r.reuse?.reuseRatio ?? 0,
      });
      if (!args.json) process.stderr.write(`  ${name} ${r.mode}: ${r.seconds.toFixed(1)} s\n`);
    }
  }
  if (args.json) process.stdout.write(`${JSON.stringify({ model: model.id, strength: args.strength, rows })}\n`);
  else printTable(rows, notes);
  await model.session.release();
  await int8?.session.release();
  if (args.audio === 'with') await printAudio(args.json);
}

main().catch((err: unknown) => {
  process.stderr.write(`quality: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
