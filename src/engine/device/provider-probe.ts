import { spawn } from 'node:child_process';
import { onnx } from 'onnx-proto';
import { engineCommand } from '../children';
import { ort } from '../model/ort';
import { parseGpu, providerEntry } from './gpu-choice';
import type { ProviderName } from './providers';

/**
 * Trying a GPU provider in-process makes its native code write to file descriptor 2 (Dawn's Vulkan adapter warnings
 * with C++ source paths, libwayland's "XDG_RUNTIME_DIR is invalid", onnxruntime's own error log for a CUDA library
 * that does not load). That bypasses `process.stderr`, so it cannot be filtered in JS. Each GPU provider is therefore
 * first tried in a short-lived child process whose stderr is captured and dropped: it creates a session on a
 * one-node model and runs it once. Only a provider that passes is opened in the engine itself.
 */
export const PROBE_COMMAND = '__probe-provider';
const PROBE_TIMEOUT_MS = 90_000;
const SIDE = 8;

/** A provider failed its probe; `message` is onnxruntime's own error (for explainProviderError). */
export class ProviderProbeError extends Error {}

/** The smallest useful model: y = Relu(x), float32 [1,3,8,8]; every provider implements Relu. */
export function probeModel(): Uint8Array {
  const { DataType } = onnx.TensorProto;
  const valueInfo = (name: string): onnx.IValueInfoProto => ({
    name,
    type: {
      tensorType: { elemType: DataType.FLOAT, shape: { dim: [1, 3, SIDE, SIDE].map((d) => ({ dimValue: d })) } },
    },
  });
  return onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    producerName: 'huaju4k-probe',
    graph: {
      name: 'probe',
      node: [{ input: ['x'], output: ['y'], opType: 'Relu', name: 'relu' }],
      input: [valueInfo('x')],
      output: [valueInfo('y')],
    },
  }).finish();
}

export type ProbeAnswer = { ok: true } | { ok: false; message: string };

/** The child's side: one JSON line on stdout. Never throws. */
export async function runProviderProbe(provider: string, gpu?: number): Promise<ProbeAnswer> {
  try {
    const session = await ort().InferenceSession.create(probeModel(), {
      executionProviders: [providerEntry(provider, gpu)],
    });
    const x = new (ort().Tensor)('float32', new Float32Array(3 * SIDE * SIDE).fill(-1), [1, 3, SIDE, SIDE]);
    const out = await session.run({ x });
    const y = out.y.data as Float32Array;
    if (y[0] !== 0) throw new Error(`${provider} computed Relu(-1) = ${y[0]}`);
    await session.release();
    return { ok: true };
  } catch (err) {
    return { ok: false, message: err instanceof Error ? err.message : String(err) };
  }
}

function parseAnswer(stdout: string, code: number | null, signal: string | null): ProbeAnswer {
  const line = stdout.trim().split('\n').pop() ?? '';
  try {
    const parsed = JSON.parse(line) as ProbeAnswer;
    if (typeof parsed.ok === 'boolean') return parsed;
  } catch {}
  // A crash in the driver kills the child, not the engine: that is the point of probing there.
  return { ok: false, message: `the provider probe ended without an answer (${signal ?? `exit code ${code}`})` };
}

/**
 * Tries `provider` in a child process and resolves with its answer. The child's stderr (native noise) is discarded;
 * its stdin is a pipe it watches, so it exits with the engine; a probe that hangs is killed after 90 s.
 */
export function probeProvider(
  provider: ProviderName,
  gpu?: number,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ProbeAnswer> {
  const args = [PROBE_COMMAND, provider, ...(gpu === undefined ? [] : [String(gpu)])];
  return new Promise((done) => {
    const child = spawn(process.execPath, [...engineCommand(), ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...env, ORT_DISABLE_TELEMETRY: env.ORT_DISABLE_TELEMETRY ?? '1' },
      windowsHide: true,
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.resume(); // read and dropped: this is where the native noise goes
    const timer = setTimeout(() => child.kill('SIGKILL'), PROBE_TIMEOUT_MS);
    child.once('error', (err) => {
      clearTimeout(timer);
      done({ ok: false, message: `cannot start the provider probe: ${err.message}` });
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      done(parseAnswer(stdout, code, signal));
    });
  });
}

/** The engine's `__probe-provider <name>` command: answers, then exits (also when the engine's pipe closes). */
export async function probeProviderCommand(argv: string[]): Promise<number> {
  process.stdin.on('end', () => process.exit(1)).resume();
  const answer = await runProviderProbe(argv[0] ?? '', argv[1] === undefined ? undefined : parseGpu(argv[1]));
  process.stdout.write(`${JSON.stringify(answer)}\n`);
  return answer.ok ? 0 : 1;
}
