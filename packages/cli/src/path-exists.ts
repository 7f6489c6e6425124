import { access } from 'node:fs/promises';

/** Whether anything is at `path` (a file or a folder). */
export const pathExists = (path: string): Promise<boolean> =>
  access(path).then(
    () => true,
    () => false,
  );
