/**
 * Child process for close-mid-run.test.ts: opens the real model in the engine's inference worker, sends it one
 * frame and closes the worker while onnxruntime is running it (or, with `opening`, while the model is still being
 * opened), then exits. Terminating the worker mid-run aborted the process ("terminate called after throwing an
 * instance of 'Napi::Error'", SIGABRT) — the native abort on cancel.
 */
import { WorkerUpscaler } from '../../../src/engine/inference/infer-worker';

const [side, when] = [Number(process.argv[2]), process.argv[3]];

async function main(): Promise<void> {
  const w = await WorkerUpscaler.start({
    modelRef: 'realesr-animevideov3-x4',
    tile: 0,
    pad: 12,
    ep: 'cpu',
    intraOpNumThreads: 1,
  });
  const frame = new Uint8Array(side * side * 3).fill(128);
  const running = w.upscale(frame, side, side).catch(() => undefined);
  // Let the worker take the frame into onnxruntime before closing.
  await new Promise((r) => setTimeout(r, when === 'soon' ? 0 : 300));
  await w.close();
  await running;
  process.stdout.write('closed\n');
}

void main().then(() => process.exit(0));
