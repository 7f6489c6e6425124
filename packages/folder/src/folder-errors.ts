import { RxvisionError } from '@rxvision/errors';
import type { ClaimHolder } from './claim-holder.js';

/** Another process holds the folder: the message names it (what, which pid on which host, since when). */
export class FolderHeldError extends RxvisionError {
  override readonly name = 'FolderHeldError';
  override readonly kind = 'busy';

  constructor(
    readonly folder: string,
    readonly holder: ClaimHolder | undefined,
    message = `${folder} is being written by ${describeHolder(holder)}; wait for it to finish or stop it`,
  ) {
    super(message);
  }
}

/**
 * This process's claim was taken over (it did not refresh it for the claim's stale time: it was
 * stopped, or its machine lost the folder): it must write nothing more there.
 */
export class FolderLostError extends RxvisionError {
  override readonly name = 'FolderLostError';
  override readonly kind = 'busy';

  constructor(
    readonly folder: string,
    readonly holder: ClaimHolder | undefined,
    message = `lost ${folder} to ${holder ? describeHolder(holder) : 'another process, which has let it go since'} (this process did not refresh its claim in time: was it stopped?); stopped without writing more`,
  ) {
    super(message);
  }
}

/** "train (pid 4242 on host gpu-2, since 2026-12-05T04:00:00.000Z)" */
export function describeHolder(holder: ClaimHolder | undefined): string {
  if (!holder) return 'another process (its claim cannot be read)';
  return `${holder.purpose} (pid ${holder.pid} on host ${holder.host}, since ${holder.since})`;
}
