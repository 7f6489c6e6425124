import { open, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';

/** Who holds a run folder: written into its lease file. */
export interface LeaseHolder {
  readonly host: string;
  /** Processes whose life keeps the lease: the worker, and the trial's process once started. */
  readonly pids: readonly number[];
  readonly since: string;
}

export interface RunFolderLease {
  /** Adds a process (the trial's) to those that keep the lease alive. */
  addProcess(pid: number): Promise<void>;
  /** Marks the lease as still held; the holder calls it more often than `staleAfterMs`. */
  refresh(): Promise<void>;
  release(): Promise<void>;
}

export const LEASE_FILE = 'worker.lease';

/**
 * Claims a run folder for one worker, so that a trial never trains in two processes at once, even
 * when the queue hands it out twice (a lock that expired while Redis was away, a worker that lost
 * its network but not its processes). The lease is a file created exclusively in the folder (a
 * folder every worker reaches, so it works across machines); it is taken over only when its holder
 * is known dead: on this host, none of its processes is alive; elsewhere, it has not been refreshed
 * for `staleAfterMs` (machines' clocks must agree to well within that). Resolves to undefined
 * when someone else holds it.
 */
export async function claimRunFolder(runDir: string, options: { readonly staleAfterMs: number }): Promise<RunFolderLease | undefined> {
  const path = join(runDir, LEASE_FILE);
  const holder: { host: string; pids: number[]; since: string } = { host: hostname(), pids: [process.pid], since: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const file = await open(path, 'wx');
      await file.writeFile(JSON.stringify(holder));
      await file.close();
      return {
        addProcess: async (pid) => {
          holder.pids.push(pid);
          await writeFile(path, JSON.stringify(holder));
        },
        refresh: async () => {
          const now = new Date();
          await utimes(path, now, now);
        },
        release: () => rm(path, { force: true }),
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (!(await isStale(runDir, options.staleAfterMs))) return undefined;
    // The holder is gone: take the folder over (whoever removes it first; the other finds it held).
    await rm(path, { force: true });
  }
  return undefined;
}

/** The lease's holder, or undefined when the folder has none (or it cannot be read). */
export async function leaseHolder(runDir: string): Promise<LeaseHolder | undefined> {
  try {
    return JSON.parse(await readFile(join(runDir, LEASE_FILE), 'utf8')) as LeaseHolder;
  } catch {
    return undefined;
  }
}

async function isStale(runDir: string, staleAfterMs: number): Promise<boolean> {
  const [holder, stats] = await Promise.all([leaseHolder(runDir), stat(join(runDir, LEASE_FILE)).catch(() => undefined)]);
  if (!stats) return true;
  if (holder?.host === hostname()) return !holder.pids.some(isAlive);
  return Date.now() - stats.mtimeMs > staleAfterMs;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
