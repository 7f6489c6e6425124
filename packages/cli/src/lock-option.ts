import { DEFAULT_STALE_AFTER_MS } from '@rxvision/folder';
import { CliError } from './cli-error.js';

/**
 * `--lock-seconds`, as every command that writes a folder declares it: how long the folder stays
 * claimed after its process stops answering (frozen, or its machine cut off) before another
 * process may take it over. The worker's flag of the same name is passed to its trials.
 */
export const LOCK_FLAG = '--lock-seconds <s>';
export const LOCK_HELP =
  'how long the folder this writes stays claimed after this process stops answering (frozen, or its machine cut off) before another process may take it over';
export const LOCK_DEFAULT = String(DEFAULT_STALE_AFTER_MS / 1000);

/** The flag in milliseconds; a clear line for anything but a number of seconds ≥ 1. */
export function lockMs(value: string): number {
  const seconds = Number(value);
  if (!(seconds >= 1 && seconds <= 86_400))
    throw new CliError(`--lock-seconds must be a number of seconds from 1 to 86400, got "${value}"`);
  return seconds * 1000;
}
