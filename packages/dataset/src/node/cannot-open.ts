import { DatasetError } from '../errors.js';

/** The one-line error for a dataset file that cannot be opened (missing: perhaps not prepared yet). */
export function cannotOpen(file: string, error: unknown): DatasetError {
  const code = (error as NodeJS.ErrnoException).code;
  const problem = code === 'ENOENT' ? 'does not exist (run `rxvision prepare` first?)' : `cannot be read (${(error as Error).message})`;
  return new DatasetError(file, problem, { cause: error });
}
