import { RxvisionError } from '@rxvision/errors';

/**
 * An experiment that cannot run as written: a line for each problem (the first is `problem`), each
 * naming the source, the field and what it allows.
 */
export class ExperimentError extends RxvisionError {
  override readonly name = 'ExperimentError';
  /** Every problem found, the first included. */
  readonly problems: readonly string[];

  constructor(
    readonly source: string,
    readonly problem: string,
    more: readonly string[] = [],
  ) {
    const problems = [...new Set([problem, ...more])];
    super(problems.map((line) => `${source}: ${line}`).join('\n'));
    this.problems = problems;
  }
}
