import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';

/** Written by test/e2e/run.mjs beside the temp workspace: what the suite needs to know about its fixtures. */
export interface E2eConfig {
  reportFile: string;
  /** Short clip (a few dozen frames) for the enhance test. */
  clip: string;
  /** Longer clip for the kill/resume test. */
  longClip: string;
  /** Text file named .mp4: the engine must refuse it. */
  notVideo: string;
  /** Folder with clips for batches (a, b, c not enhanced; done.mp4 with its done.4k.mp4). */
  batchDir: string;
  batchClips: string[];
  ffprobe: string;
  maxFrames: number;
  engineSupportsResume: boolean;
  grep?: string;
}

export function e2eConfig(): E2eConfig {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error('the e2e suite needs a workspace folder');
  return JSON.parse(readFileSync(path.join(folder.uri.fsPath, '..', 'e2e.json'), 'utf8')) as E2eConfig;
}
