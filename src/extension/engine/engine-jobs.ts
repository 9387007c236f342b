import { fork } from 'node:child_process';
import type { InterruptedJobInfo } from '../../protocol/jobs';
import type { JobRecord } from '../jobs/job-journal';

/** What the extension relies on of one `huaju4k jobs --json` entry (validated by parseEngineJobs). */
export type EngineJobInfo = Pick<
  InterruptedJobInfo,
  'workDir' | 'input' | 'output' | 'framesDone' | 'totalFrames' | 'percent' | 'updatedAt' | 'runningPid'
>;

export function parseEngineJobs(text: string): EngineJobInfo[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return [];
  }
  if (!Array.isArray(data)) return [];
  return data.filter(
    (j): j is EngineJobInfo =>
      typeof j === 'object' &&
      j !== null &&
      typeof j.workDir === 'string' &&
      typeof j.input === 'string' &&
      typeof j.output === 'string' &&
      typeof j.framesDone === 'number' &&
      typeof j.totalFrames === 'number',
  );
}

/** A checkpoint as a journal-style record; resuming it runs `huaju4k resume <work folder>`. */
export function recordFromEngineJob(j: EngineJobInfo): JobRecord {
  const updatedAt = Date.parse(j.updatedAt) || 0;
  return {
    id: `checkpoint:${j.workDir}`,
    input: j.input,
    output: j.output,
    args: ['resume', j.workDir],
    env: {},
    phase: 'interrupted',
    frame: j.framesDone,
    total: j.totalFrames,
    startedAt: updatedAt,
    updatedAt,
    workDir: j.workDir,
  };
}

/** Runs `huaju4k jobs <folders...> --json` with the engine bundle (forked like a job, so it works in Electron). */
export function listEngineJobs(enginePath: string, folders: string[], timeoutMs = 20_000): Promise<EngineJobInfo[]> {
  if (folders.length === 0) return Promise.resolve([]);
  return new Promise((resolve) => {
    const child = fork(enginePath, ['jobs', ...folders, '--json'], { stdio: ['ignore', 'pipe', 'ignore', 'ipc'] });
    let out = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (c: string) => {
      out += c;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', () => resolve([]));
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve(code === 0 ? parseEngineJobs(out.trim().split('\n').pop() ?? '') : []);
    });
  });
}
