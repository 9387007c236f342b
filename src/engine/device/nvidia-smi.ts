import { execFile } from 'node:child_process';
import type { GpuSample, GpuState } from '../../protocol/engine-events';

const MIB = 2 ** 20;

/** The query the monitor runs; the parser expects exactly these columns. */
export const GPU_QUERY_ARGS = [
  '--query-gpu=index,name,memory.used,memory.total,utilization.gpu',
  '--format=csv,noheader,nounits',
];
export const APPS_QUERY_ARGS = ['--query-compute-apps=pid,used_memory', '--format=csv,noheader,nounits'];

/** nvidia-smi prints `[N/A]`, `[Not Supported]`, `[Unknown Error]`… where a field has no value. */
function numberField(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const t = text.trim();
  if (t === '' || t.startsWith('[')) return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * Parses `nvidia-smi --query-gpu=index,name,memory.used,memory.total,utilization.gpu --format=csv,noheader,nounits`
 * (one GPU a line, MiB and percent). A GPU whose memory fields are unavailable is listed with 0 bytes rather than
 * dropped, so the chart still shows the card; a line that is not a GPU row (warnings) is skipped.
 */
export function parseGpuQuery(text: string): GpuSample[] {
  const gpus: GpuSample[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const fields = raw.split(',').map((f) => f.trim());
    if (fields.length < 5) continue;
    const index = numberField(fields[0]);
    if (index === undefined || !Number.isInteger(index)) continue;
    // A name could hold a comma; the four numeric columns are at the ends.
    const [used, total, util] = fields.slice(-3);
    const name = fields.slice(1, -3).join(', ');
    const sample: GpuSample = {
      index,
      name,
      usedBytes: (numberField(used) ?? 0) * MIB,
      totalBytes: (numberField(total) ?? 0) * MIB,
    };
    const u = numberField(util);
    if (u !== undefined) sample.utilPercent = u;
    gpus.push(sample);
  }
  return gpus;
}

/** Parses `--query-compute-apps=pid,used_memory --format=csv,noheader,nounits` into pid → bytes. */
export function parseComputeApps(text: string): Map<number, number> {
  const apps = new Map<number, number>();
  for (const raw of text.split(/\r?\n/)) {
    const [pidText, usedText] = raw.split(',');
    const pid = numberField(pidText);
    const used = numberField(usedText);
    if (pid === undefined || used === undefined) continue;
    apps.set(pid, (apps.get(pid) ?? 0) + used * MIB);
  }
  return apps;
}

export type SmiResult = { ok: true; stdout: string } | { ok: false; reason: string };

const firstLine = (text: string): string => text.trim().split(/\r?\n/)[0] ?? '';

/** Runs nvidia-smi with `args`; never throws: a missing binary or a failing driver becomes a reason. */
export function runNvidiaSmi(args: readonly string[], bin = 'nvidia-smi', timeoutMs = 5000): Promise<SmiResult> {
  return new Promise((resolve) => {
    execFile(bin, [...args], { timeout: timeoutMs, windowsHide: true }, (err, stdout, stderr) => {
      if (!err) return resolve({ ok: true, stdout });
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        return resolve({ ok: false, reason: `${bin} not found: no NVIDIA driver on this machine` });
      }
      if (err.killed) return resolve({ ok: false, reason: `${bin} did not answer within ${timeoutMs} ms` });
      const detail = firstLine(`${stdout}`) || firstLine(`${stderr}`) || err.message;
      resolve({ ok: false, reason: `${bin} failed: ${detail}` });
    });
  });
}

/** One reading of every NVIDIA GPU, as the `sample` event carries it. */
export async function queryGpuState(budgetBytes: number, bin = 'nvidia-smi'): Promise<GpuState> {
  const r = await runNvidiaSmi(GPU_QUERY_ARGS, bin);
  if (!r.ok) return { available: false, reason: r.reason };
  const gpus = parseGpuQuery(r.stdout);
  if (gpus.length === 0) return { available: false, reason: `${bin} lists no GPU` };
  return { available: true, gpus, budgetBytes };
}

/**
 * GPU memory this process (pid) holds, summed over the GPUs. Undefined when nvidia-smi cannot say or does not list the
 * pid: inside a container nvidia-smi reports host pids, so a process with a CUDA context can still be missing.
 */
export async function processGpuBytes(pid = process.pid, bin = 'nvidia-smi'): Promise<number | undefined> {
  const r = await runNvidiaSmi(APPS_QUERY_ARGS, bin);
  if (!r.ok) return undefined;
  return parseComputeApps(r.stdout).get(pid);
}

/** memory.used of GPU `index` (device-wide, every process); undefined without nvidia-smi. */
export async function deviceUsedBytes(index = 0, bin = 'nvidia-smi'): Promise<number | undefined> {
  const r = await runNvidiaSmi(GPU_QUERY_ARGS, bin);
  if (!r.ok) return undefined;
  return parseGpuQuery(r.stdout).find((g) => g.index === index)?.usedBytes;
}
