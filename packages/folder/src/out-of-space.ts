import { statfs } from 'node:fs/promises';
import { RxvisionError } from '@rxvision/errors';

/** What a write that found the disk (or the quota) full tells the person: where, how much is needed, how much is free. */
export class OutOfSpaceError extends RxvisionError {
  override readonly name = 'OutOfSpaceError';

  constructor(
    readonly folder: string,
    /** What was being written ("the checkpoint"). */
    readonly what: string,
    readonly neededBytes: number | undefined,
    readonly freeBytes: number | undefined,
    options?: { cause?: unknown },
  ) {
    const needed = neededBytes === undefined ? '' : ` needs about ${formatBytes(neededBytes)}`;
    const free = freeBytes === undefined ? '' : `; ${formatBytes(freeBytes)} free`;
    super(`no space left in ${folder}: ${what}${needed}${free}; free some space (or write elsewhere) and run again`, options);
  }
}

export interface SpaceNeed {
  readonly folder: string;
  readonly what: string;
  readonly neededBytes?: number;
}

/**
 * `error` as an OutOfSpaceError when it is ENOSPC or EDQUOT (Node's bare "ENOSPC: no space left on
 * device, write" names neither the folder nor what was needed); any other error as it is.
 */
export async function asOutOfSpace(error: unknown, need: SpaceNeed): Promise<unknown> {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code !== 'ENOSPC' && code !== 'EDQUOT') return error;
  const free = await statfs(need.folder).then(
    (info) => info.bavail * info.bsize,
    () => undefined,
  );
  return new OutOfSpaceError(need.folder, need.what, need.neededBytes, free, { cause: error });
}

/** 1536 → "1.5 KB"; decimal units, as disks are sold and `df -H` prints. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
