import { type FolderClaim, writeFileAtomic } from '@rxvision/folder';

/** JSON as people read it, written whole: by the folder's claim where there is one. */
export function writeJsonAtomic(path: string, value: unknown, claim?: FolderClaim): Promise<void> {
  const text = `${JSON.stringify(value, null, 2)}\n`;
  return claim ? claim.writeFile(path, text) : writeFileAtomic(path, text);
}
