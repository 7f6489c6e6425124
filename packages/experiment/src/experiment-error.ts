import { RxvisionError } from '@rxvision/errors';

/** An experiment that cannot run as written: one line, naming the source, the field and what it allows. */
export class ExperimentError extends RxvisionError {
  override readonly name = 'ExperimentError';

  constructor(
    readonly source: string,
    readonly problem: string,
  ) {
    super(`${source}: ${problem}`);
  }
}
