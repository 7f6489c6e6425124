import { RxvisionError } from '@rxvision/errors';

/** A backend that cannot be had, or cannot run what it must: said in one line to the user. */
export class BackendError extends RxvisionError {
  override readonly name: string = 'BackendError';
}

/** The backend lacks a kernel the model needs; names the backends that have it. */
export class MissingKernelError extends BackendError {
  override readonly name: string = 'MissingKernelError';

  constructor(
    readonly kernel: string,
    readonly backend: string,
    readonly backendsWithKernel: readonly string[],
  ) {
    super(
      `the model needs the ${kernel} kernel, which the ${backend} backend lacks; backends that have it: ${backendsWithKernel.length > 0 ? backendsWithKernel.join(', ') : 'none installed'}`,
    );
  }
}
