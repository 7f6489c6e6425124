/**
 * What kind of failure an error is, which decides what a program does with it; the CLI turns each
 * into its exit code, so a new error class needs no edit there:
 * - `input`: something the person can fix (a file, a flag, a field, the data, a backend or the
 *   memory it lacks); one line, exit 1;
 * - `busy`: another process writes the folder, or took it over; try again later (exit 75);
 * - `paused`: a sweep's scheduler paused the trial, checkpointed, until others get as far (exit 76);
 * - `interrupted`: stopped by a signal after writing a checkpoint (exit 128 + the signal's number).
 */
export type ErrorKind = 'input' | 'busy' | 'paused' | 'interrupted';

/**
 * The base of every error rxvision means for the person who ran it: its message is one line that
 * names the input, and its kind (`input` unless a subclass says otherwise) what kind of failure it
 * is. Anything else that is thrown is a bug (the CLI's "internal error").
 */
export class RxvisionError extends Error {
  override readonly name: string = 'RxvisionError';
  readonly kind: ErrorKind = 'input';
  /** For an `interrupted` one: the signal that stopped it (SIGINT, SIGTERM), which sets its exit code. */
  readonly signal?: string;
}
