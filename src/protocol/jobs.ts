/**
 * `huaju4k jobs --json`: the interrupted (and running) jobs found from their checkpoint work folders. The engine writes this
 * shape, the extension reads it (Resume quick pick, Videos tree); defined once here so the two cannot drift.
 */
export interface InterruptedJobInfo {
  workDir: string;
  input: string;
  output: string;
  framesDone: number;
  totalFrames: number;
  percent: number;
  segments: number;
  diskBytes: number;
  /** ISO time of the manifest's last write. */
  updatedAt: string;
  /** A live engine is working on it now (its pid); `percent` is then what its finished segments hold so far. */
  runningPid?: number;
  /** Only the join is left. */
  joinPending: boolean;
  /** Set when the manifest could not be read. */
  error?: string;
}
