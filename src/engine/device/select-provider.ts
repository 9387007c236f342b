import { ExitCode } from '../../protocol/engine-events';
import { EngineError } from '../errors';
import {
  type EpChoice,
  explainProviderError,
  type ProviderName,
  type ProviderPlan,
  type ProviderProblem,
  providerLabel,
} from './providers';

export interface EngineWarning {
  code: string;
  message: string;
}

export interface ProviderSelection<T> {
  value: T;
  provider: ProviderName;
  /** One `ep-fallback` warning per provider that `auto` passed over, saying why and how to enable it. */
  warnings: EngineWarning[];
  /** One `ep-summary` line for a person at a terminal when `auto` passed a provider over (the details stay above). */
  summary?: EngineWarning;
}

const fallbackWarning = (p: ProviderProblem, next: ProviderName | undefined): EngineWarning => ({
  code: 'ep-fallback',
  message:
    `${providerLabel(p.provider)} not used: ${p.reason}.` +
    `${next ? ` Using ${providerLabel(next)} instead.` : ''} To use ${providerLabel(p.provider)}: ${p.hint}`,
});

/** Says once which provider runs and, when it is the CPU, how to get the preferred GPU one. */
export function fallbackSummary(provider: ProviderName, problems: readonly ProviderProblem[]): EngineWarning {
  const passed = problems.map((p) => providerLabel(p.provider)).join(', ');
  const details = 'why: run with --json, or see the huaju4k log';
  const first = problems[0];
  return {
    code: 'ep-summary',
    message:
      provider === 'cpu' && first
        ? `running on the CPU (slow): no GPU provider works here (${passed}; ${details}). ` +
          `To use ${providerLabel(first.provider)}: ${first.hint}`
        : `running on ${providerLabel(provider)}; passed over ${passed} (${details})`,
  };
}

const unavailable = (choice: EpChoice, problems: ProviderProblem[]): EngineError => {
  const last = problems[problems.length - 1];
  const what = problems.map((p) => `${providerLabel(p.provider)}: ${p.reason}`).join('; ');
  return new EngineError(
    ExitCode.environment,
    'ep-unavailable',
    choice === 'auto'
      ? `no execution provider could run the model (${what})`
      : `--ep ${choice} cannot be used: ${what}`,
    choice === 'auto' || choice === 'cpu' ? last?.hint : `${last?.hint ?? ''}; or use --ep auto to fall back`,
  );
};

/**
 * Opens the model with each planned provider in turn until one works. onnxruntime does not fall back by itself when
 * a provider fails to initialise (session creation just fails), so this does. `isProviderError` tells a provider's
 * failure (try the next) from the model's own (rethrown at once: another provider would not fix a corrupt file).
 */
export async function openOnBestProvider<T>(
  choice: EpChoice,
  plan: ProviderPlan,
  open: (provider: ProviderName) => Promise<T>,
  isProviderError: (err: unknown) => boolean,
): Promise<ProviderSelection<T>> {
  const problems: ProviderProblem[] = [...plan.skipped];
  for (let i = 0; i < plan.candidates.length; i++) {
    const provider = plan.candidates[i];
    try {
      const value = await open(provider);
      const warnings = problems.map((p) => fallbackWarning(p, provider));
      const summary = problems.length > 0 ? fallbackSummary(provider, problems) : undefined;
      return { value, provider, warnings, ...(summary && { summary }) };
    } catch (err) {
      if (!isProviderError(err)) throw err;
      problems.push(explainProviderError(provider, err instanceof Error ? err.message : String(err)));
    }
  }
  throw unavailable(choice, problems);
}
