import { access, constants, mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { CliError } from './cli-error.js';

/**
 * Creates (if needed) a folder the command will write into and checks that it can, before any
 * work starts. `created` is the outermost folder this call made, if any. A folder that cannot be made is Node's file-system
 * error and one without write permission a CliError: `reportError` says either in one line.
 */
export async function prepareOutputFolder(path: string): Promise<{ folder: string; created: string | undefined }> {
  const folder = resolve(path);
  const created = await mkdir(folder, { recursive: true });
  await access(folder, constants.W_OK).catch(() => {
    throw new CliError(`cannot write into ${folder}: permission denied`);
  });
  return { folder, created };
}
