import { type FSWatcher, readdirSync, statSync, watch } from 'node:fs';
import { join } from 'node:path';

const RUN_FILES = new Set(['history.json', 'summary.json', 'experiment.json']);

/**
 * Calls `onChange(run)` when a run folder of `root` appears or one of its files is written. One
 * plain (non-recursive) watcher per folder: Node's recursive watcher on Linux stops reporting a
 * file after it has been replaced by a rename a couple of times, which is how runs write history.json.
 * Returns a function that stops watching. A missing root is watched for nothing.
 */
export function watchRuns(root: string, onChange: (run: string) => void): () => void {
  const watchers = new Map<string, FSWatcher>();
  const watchRun = (name: string): void => {
    if (watchers.has(name) || name.startsWith('.')) return;
    try {
      if (!statSync(join(root, name)).isDirectory()) return;
      const watcher = watch(join(root, name), (_type, file) => {
        if (file && RUN_FILES.has(file.toString())) onChange(name);
      });
      watcher.on('error', () => {
        watcher.close();
        watchers.delete(name);
      });
      watchers.set(name, watcher);
    } catch {
      // gone already, or not readable: nothing to watch
    }
  };
  let rootWatcher: FSWatcher | undefined;
  try {
    rootWatcher = watch(root, (_type, file) => {
      if (!file) return;
      watchRun(file.toString());
      onChange(file.toString());
    });
    rootWatcher.on('error', () => undefined);
    for (const name of readdirSync(root)) watchRun(name);
  } catch {
    rootWatcher = undefined;
  }
  return () => {
    rootWatcher?.close();
    for (const watcher of watchers.values()) watcher.close();
    watchers.clear();
  };
}
