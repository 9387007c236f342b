/**
 * What the monitor's buttons ask of the job manager. The job manager implements this; the panel only forwards
 * validated requests, so the webview can never name anything but these three actions on a job id it was given.
 * A thrown error (or rejected promise) becomes the reply's error text shown under the buttons.
 */
export interface MonitorJobControls {
  cancel(jobId: string): unknown;
  revealOutput(jobId: string): unknown;
  openLog(jobId: string): unknown;
}

/** Where the panel writes what it ignored or failed (a LogOutputChannel fits). */
export interface MonitorLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export const consoleLogger: MonitorLogger = {
  info: (m) => console.info(m),
  warn: (m) => console.warn(m),
  error: (m) => console.error(m),
};
