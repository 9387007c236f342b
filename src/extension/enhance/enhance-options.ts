import * as path from 'node:path';
import * as vscode from 'vscode';
import { buildEnhanceArgs, type EnhanceSettings, engineEnv } from '../settings';
import {
  AUDIOS,
  applyChoices,
  CONTAINERS,
  choiceTag,
  DARK_REGIONS,
  type EnhanceChoices,
  estimateFromTrial,
  estimateText,
  outputFor,
  QUALITIES,
  SIZES,
  trialLogLine,
} from './enhance-choices';
import { FrameRates } from './frame-rates';
import { runTrial, TRIAL_FRAMES } from './trial-run';

const CHOICES_KEY = 'huaju4k.enhanceChoices.v1';
const STEPS = 6;

interface ModelEntry {
  id: string;
  label: string;
  detail: string;
}

/** The bundled models as the settings dropdown offers them (one source: the manifest's enum, labels, descriptions). */
function bundledModels(context: vscode.ExtensionContext): ModelEntry[] {
  const groups = (context.extension.packageJSON as { contributes: { configuration: { properties: object }[] } })
    .contributes.configuration;
  const prop = Object.assign({}, ...groups.map((g) => g.properties))['huaju4k.model'] as {
    enum: string[];
    enumItemLabels: string[];
    enumDescriptions: string[];
  };
  return prop.enum.map((id, i) => ({ id, label: prop.enumItemLabels[i], detail: prop.enumDescriptions[i] }));
}

async function pickOne<T extends { id: string; label: string; detail: string }>(
  items: T[],
  step: number,
  title: string,
  current: string,
  remembered: boolean,
): Promise<T | undefined> {
  const qp = vscode.window.createQuickPick<T & vscode.QuickPickItem>();
  qp.title = `huaju4k: ${title}`;
  qp.step = step;
  qp.totalSteps = STEPS;
  qp.items = items.map((i) => ({ ...i, description: choiceTag(i.id, current, remembered) }));
  qp.activeItems = qp.items.filter((i) => i.id === current);
  qp.ignoreFocusOut = true;
  const picked = await new Promise<T | undefined>((resolve) => {
    qp.onDidAccept(() => resolve(qp.selectedItems[0] ?? qp.activeItems[0]));
    qp.onDidHide(() => resolve(undefined));
    qp.show();
  });
  qp.dispose();
  return picked;
}

/** Asks model, size, quality, container, sound and dark regions (last answers first); undefined on backing out. */
async function askChoices(context: vscode.ExtensionContext, s: EnhanceSettings): Promise<EnhanceChoices | undefined> {
  const last = context.workspaceState.get<EnhanceChoices>(CHOICES_KEY);
  const again = last !== undefined;
  const model = await pickOne(bundledModels(context), 1, 'model', last?.model ?? s.model, again);
  if (!model) return undefined;
  const size = await pickOne(SIZES, 2, 'output size', last?.size ?? (s.scale === 2 ? 'x2' : s.target), again);
  if (!size) return undefined;
  const quality = await pickOne(QUALITIES, 3, 'quality and speed', last?.quality ?? 'balanced', again);
  if (!quality) return undefined;
  const container = await pickOne(CONTAINERS, 4, 'container', last?.container ?? 'mp4', again);
  if (!container) return undefined;
  const audio = await pickOne(AUDIOS, 5, 'sound', last?.audio ?? s.audio, again && last?.audio !== undefined);
  if (!audio) return undefined;
  const dark = last?.darkRegions ?? s.darkRegions;
  const darkRegions = await pickOne(DARK_REGIONS, 6, 'dark regions', dark, again && last?.darkRegions !== undefined);
  if (!darkRegions) return undefined;
  const choices: EnhanceChoices = {
    model: model.id,
    size: size.id,
    quality: quality.id,
    container: container.id,
    audio: audio.id,
    darkRegions: darkRegions.id,
  };
  await context.workspaceState.update(CHOICES_KEY, choices);
  return choices;
}

export interface ChosenEnhance {
  output: string;
  settings: EnhanceSettings;
}

/**
 * The "Enhance to 4K As…" flow: the six choices, then an estimate of time and size on this machine from a
 * TRIAL_FRAMES-frame trial run, then Start. Undefined when the user cancels at any step.
 */
export async function chooseAndEstimate(
  context: vscode.ExtensionContext,
  enginePath: string,
  input: string,
  base: EnhanceSettings,
  log: (line: string) => void,
): Promise<ChosenEnhance | undefined> {
  const choices = await askChoices(context, base);
  if (!choices) return undefined;
  const settings = applyChoices(base, choices);
  const output = outputFor(input, choices.container);
  // The trial's few frames are one range: it runs as one engine process whatever huaju4k.workers says.
  const args = buildEnhanceArgs({ input, output }, { ...settings, maxFrames: 0, workers: 1 });
  let estimate = 'no estimate';
  try {
    const trial = await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: `huaju4k: timing a ${TRIAL_FRAMES}-frame trial of ${path.basename(input)}…`,
        cancellable: true,
      },
      (_p, token) => {
        const ac = new AbortController();
        token.onCancellationRequested(() => ac.abort());
        return runTrial(enginePath, args, engineEnv(settings), ac.signal);
      },
    );
    const frames = settings.maxFrames > 0 ? Math.min(settings.maxFrames, trial.totalFrames) : trial.totalFrames;
    // Timed by this machine's finished runs of the model where it has some (the trial's own frames are still warming up).
    const measured = new FrameRates(context.globalState).secondsPerFrame(trial);
    const timed = { ...trial, steadyFrameS: measured };
    const e = estimateFromTrial(timed, frames);
    log(trialLogLine(input, args, timed, frames));
    estimate = estimateText(e, frames, trial.frames, measured !== undefined ? 'runs' : 'trial');
  } catch (err) {
    estimate = `no estimate: ${(err as Error).message}`;
    log(`estimate trial of ${input} gave ${estimate}`);
  }
  const start = { label: 'Start', detail: estimate, id: 'start' };
  const picked = await vscode.window.showQuickPick([start, { label: 'Cancel', detail: '', id: 'cancel' }], {
    title: `huaju4k: enhance ${path.basename(input)} → ${path.basename(output)}`,
    ignoreFocusOut: true,
  });
  return picked?.id === 'start' ? { output, settings } : undefined;
}
