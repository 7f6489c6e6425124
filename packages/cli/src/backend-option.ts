import { BACKEND_CHOICES, type BackendChoice, type BackendReport, type ComputePrecision, selectBackend } from '@rxvision/backend/node';
import { CliError } from './cli-error.js';
import { positiveInteger } from './integer-flag.js';

/** `--backend` as every command that computes declares it. */
export const BACKEND_FLAG = '--backend <name>';
export const BACKEND_HELP = BACKEND_CHOICES.join(', ');

/** Checks `--backend` before anything is loaded, with the same one-line error in every command. */
export function backendChoice(value: string): BackendChoice {
  if (!(BACKEND_CHOICES as readonly string[]).includes(value))
    throw new CliError(`--backend must be one of ${BACKEND_HELP}, got "${value}"`);
  return value as BackendChoice;
}

/** `--threads`, beside `--backend`: how many cores onednn, onnxruntime and wasm may use (default all). */
export const THREADS_FLAG = '--threads <n>';
export const THREADS_HELP = 'CPU threads for the onednn, onnxruntime and wasm backends (default: every core)';

export function threadsChoice(value: string | undefined): number | undefined {
  return value === undefined ? undefined : positiveInteger(value, '--threads');
}

/**
 * The backend as a run picks it once its model can be built (`runExperiment`'s `backend` option):
 * one that lacks a kernel the model's training needs is passed over (auto) or refused; `say` hears
 * which one it got.
 */
export function probingBackend(
  choice: BackendChoice,
  threads: number | undefined,
  say: (line: string) => void,
): (probe: () => void, settings?: { readonly precision: ComputePrecision }) => Promise<BackendReport> {
  return async (probe, settings) => {
    const selected = await selectBackend(choice, { probe, ...(threads !== undefined && { threads }), ...settings });
    say(selected.summary);
    return selected;
  };
}
