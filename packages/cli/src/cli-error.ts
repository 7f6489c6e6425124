import { constants } from 'node:os';
import { RxvisionError } from '@rxvision/errors';

/** An error whose message is meant for the person at the terminal, printed as one line. */
export class CliError extends RxvisionError {
  override readonly name = 'CliError';
}

/** A command stopped by a signal, its checkpoint written: it exits as the shell expects of that signal. */
export class InterruptedError extends RxvisionError {
  override readonly name = 'InterruptedError';
  override readonly kind = 'interrupted';

  constructor(
    message: string,
    readonly signal: 'SIGINT' | 'SIGTERM',
  ) {
    super(message);
  }

  /** 130 for SIGINT, 143 for SIGTERM. */
  get exitCode(): number {
    return 128 + constants.signals[this.signal];
  }
}
