import { statSync } from 'node:fs';
import { dirname } from 'node:path';
import { type ErrorKind, RxvisionError } from '@rxvision/errors';
import { isWorkingFile } from '@rxvision/folder';
import { CommanderError } from 'commander';
import { SIGNAL_EXIT_CODES, type StopSignal } from './stop-signals.js';

/** What the user sees of a failure: one line on stderr (none where commander already printed it) and an exit code. */
export interface ErrorReport {
  readonly line: string | undefined;
  readonly exitCode: number;
}

/** Exit code of a failure that no check foresaw: a bug in rxvision (BSD's EX_SOFTWARE). */
export const INTERNAL_ERROR_EXIT_CODE = 70;
/** Exit code when another process writes the folder (or took it over): try again later (BSD's EX_TEMPFAIL). */
export const FOLDER_BUSY_EXIT_CODE = 75;
/** Exit code of a trial its sweep's scheduler paused (checkpointed) until earlier trials get as far: run it again later. */
export const PAUSED_EXIT_CODE = 76;
export const DEBUG_VARIABLE = 'RXVISION_DEBUG';

/** The exit code of each kind of RxvisionError (an interrupted command's is its signal's). */
const EXIT_CODES: Record<ErrorKind, number> = { input: 1, busy: FOLDER_BUSY_EXIT_CODE, paused: PAUSED_EXIT_CODE, interrupted: 130 };

/**
 * The one place that decides how an error reaches the user. Expected failures (bad input, files,
 * permissions, full disks) become one line that names the input; anything else is reported as an
 * internal error, still on one line, with the stack trace only when RXVISION_DEBUG is set.
 */
export function reportError(error: unknown): ErrorReport {
  if (error instanceof CommanderError) return { line: undefined, exitCode: error.exitCode };
  // Every package's errors meant for the user share one base: its kind, not its class, sets the code.
  if (error instanceof RxvisionError)
    return {
      // A line per problem (an experiment file's every error), each prefixed.
      line: error.message
        .split('\n')
        .map((line) => `rxvision: ${line}`)
        .join('\n'),
      exitCode: (error.kind === 'interrupted' && SIGNAL_EXIT_CODES[error.signal as StopSignal]) || EXIT_CODES[error.kind],
    };
  const system = describeSystemError(error);
  if (system) return { line: `rxvision: ${system}`, exitCode: 1 };
  const detail = process.env[DEBUG_VARIABLE] ? `\n${(error as Error)?.stack ?? ''}` : ` (set ${DEBUG_VARIABLE}=1 for the stack trace)`;
  return { line: `rxvision: internal error: ${messageOf(error)}${detail}`, exitCode: INTERNAL_ERROR_EXIT_CODE };
}

const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EISDIR: 'is a folder, not a file',
  ENOENT: 'does not exist',
  EMFILE: 'too many open files',
};

const ACTIONS: Record<string, string> = {
  mkdir: 'create folder',
  open: 'open',
  write: 'write',
  read: 'read',
  rename: 'rename',
  rm: 'remove',
  unlink: 'remove',
  rmdir: 'remove',
  scandir: 'list folder',
  copyfile: 'copy',
};

/** A Node.js file-system error (it has `code`, `syscall` and `path`) as "cannot create folder X: reason". */
function describeSystemError(error: unknown): string | undefined {
  const { code, syscall, path } = (error ?? {}) as NodeJS.ErrnoException;
  if (typeof code !== 'string' || typeof syscall !== 'string' || typeof path !== 'string') return undefined;
  const action = ACTIONS[syscall] ?? syscall;
  // A temporary (x.<token>.tmp, or a claim's writer.lock.<token>.new) is our own detail: name the folder the user chose.
  const target = isWorkingFile(path) ? dirname(path) : path;
  const verb = target === path ? action : 'write into';
  if (code === 'ENOTDIR') return `cannot ${verb} ${target}: ${fileOnTheWay(target) ?? 'a part of the path'} is a file, not a folder`;
  if (code === 'EEXIST') return `cannot ${verb} ${target}: a file of that name exists`;
  return `cannot ${verb} ${target}: ${REASONS[code] ?? `${code} (${messageOf(error)})`}`;
}

/** The nearest ancestor of `path` (or itself) that exists and is not a folder. */
function fileOnTheWay(path: string): string | undefined {
  for (let current = path; ; current = dirname(current)) {
    let info;
    try {
      info = statSync(current);
    } catch {
      // ENOENT or ENOTDIR: look further up
    }
    if (info) return info.isDirectory() ? undefined : current;
    if (dirname(current) === current) return undefined;
  }
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message.split('\n')[0]!;
  // Some libraries reject with plain objects (Arrow's queues do): say what it held.
  try {
    return JSON.stringify(error) ?? String(error);
  } catch {
    return String(error);
  }
}
