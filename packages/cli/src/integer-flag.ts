import { CliError } from './cli-error.js';

/** Digits only ("1e3", "0x10" and 1e22 are no integers here), within the range JavaScript counts exactly. */
export function integer(text: string, flag: string): number {
  if (!/^[+-]?\d+$/.test(text.trim())) throw new CliError(`${flag} must be an integer, got "${text}"`);
  const value = Number(text);
  if (!Number.isSafeInteger(value))
    throw new CliError(`${flag} ${text.trim()} is too large (at most ${Number.MAX_SAFE_INTEGER} either way)`);
  return value;
}

/** An integer flag that counts something: at least 1. */
export function positiveInteger(text: string, flag: string): number {
  const value = integer(text, flag);
  if (value < 1) throw new CliError(`${flag} must be at least 1, got "${text}"`);
  return value;
}
