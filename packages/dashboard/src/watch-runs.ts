import { existsSync, type FSWatcher, readdirSync, statSync, watch } from 'node:fs';
import { join } from 'node:path';
import { RUN_FILES } from '@rxvision/run-folder';
import { SWEEP_FILE } from './run-path.js';

const WATCHED = new Set<string>([RUN_FILES.history, RUN_FILES.summary, RUN_FILES.experiment]);

/**
 * Calls `onChange(run)` when a run folder of `root` (or of a sweep folder of `root`: `SWEEP/TRIAL`)
 * appears or one of its files is written. One plain (non-recursive) watcher per folder: Node's
 * recursive watcher on Linux stops reporting a file after it has been replaced by a rename a couple
 * of times, which is how runs write history.json. Returns a function that stops watching. A missing
 * root is watched for nothing.
 */
export function watchRuns(root: string, onChange: (run: string) => void): () => void {
  const watchers = new Map<string, FSWatcher>();
  const isSweep = (name: string) => existsSync(join(root, name, SWEEP_FILE));
  /** Watches folder `name` (a run, a sweep, or a trial `SWEEP/TRIAL`). */
  const watchFolder = (name: string): void => {
    if (watchers.has(name) || name.split('/').some((segment) => segment.startsWith('.'))) return;
    try {
      if (!statSync(join(root, name)).isDirectory()) return;
      // Only a folder of the root itself may be a sweep holding trial folders.
      const topLevel = !name.includes('/');
      const watcher = watch(join(root, name), (_type, file) => {
        if (!file) return;
        const entry = file.toString();
        if (WATCHED.has(entry)) onChange(name);
        if (!topLevel) return;
        // A sweep's trial folders are runs too; its sweep file may come after its first folders.
        if (entry === SWEEP_FILE) watchTrials(name);
        else if (isSweep(name)) {
          watchFolder(`${name}/${entry}`);
          onChange(`${name}/${entry}`);
        }
      });
      watcher.on('error', () => {
        watcher.close();
        watchers.delete(name);
      });
      watchers.set(name, watcher);
      if (topLevel && isSweep(name)) watchTrials(name);
    } catch {
      // gone already, or not readable: nothing to watch
    }
  };
  const watchTrials = (sweep: string): void => {
    try {
      for (const trial of readdirSync(join(root, sweep))) watchFolder(`${sweep}/${trial}`);
    } catch {
      // gone already
    }
  };
  let rootWatcher: FSWatcher | undefined;
  try {
    rootWatcher = watch(root, (_type, file) => {
      if (!file) return;
      watchFolder(file.toString());
      onChange(file.toString());
    });
    rootWatcher.on('error', () => undefined);
    for (const name of readdirSync(root)) watchFolder(name);
  } catch {
    rootWatcher = undefined;
  }
  return () => {
    rootWatcher?.close();
    for (const watcher of watchers.values()) watcher.close();
    watchers.clear();
  };
}
