import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/** Imports an optional package by a computed name, so that bundlers and tsc do not require it. */
export const importOptional = (name: string): Promise<unknown> => import(name);

/** The entry file of an installed package, as this package would import it; throws when absent. */
export function resolvePackage(name: string): string {
  try {
    return require.resolve(name);
  } catch {
    throw new Error('not installed');
  }
}

/**
 * Checks that a tfjs-node package is installed with its native addon before importing it. A copy
 * whose install script did not run (or could not download libtensorflow, tensorflow/tfjs#8742)
 * fails only after registering hundreds of kernels, which pollutes the engine for whatever is
 * tried next; checking the file first avoids that.
 */
export function nodeBindingProblem(packageName: string): string | undefined {
  let root: string;
  try {
    root = dirname(require.resolve(`${packageName}/package.json`));
  } catch {
    return 'not installed';
  }
  const lib = join(root, 'lib');
  const folders = existsSync(lib) ? readdirSync(lib).filter((name) => name.startsWith('napi-v')) : [];
  if (folders.some((folder) => existsSync(join(lib, folder, 'tfjs_binding.node')))) return undefined;
  return 'installed without its native addon (its install script did not run or could not download libtensorflow)';
}
