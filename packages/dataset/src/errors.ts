import { RxvisionError } from '@rxvision/errors';

/**
 * A problem with a dataset file or source. The message always starts with the file it concerns,
 * so a user can tell at a glance which input is bad.
 */
export class DatasetError extends RxvisionError {
  override readonly name = 'DatasetError';

  constructor(
    readonly file: string,
    readonly problem: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${problem}`, options);
  }
}
