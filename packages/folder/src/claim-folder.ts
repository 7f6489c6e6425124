// Over 250 lines: the claim's whole protocol (claim, refresh, take over, release) in one file, so its
// races can be read together.
import { randomBytes } from 'node:crypto';
import { type FileHandle, link, mkdir, open, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { type ClaimHolder, parseClaimHolder } from './claim-holder.js';
import { openRegularFile, UnreadableFileError } from './durable-files.js';
import { FolderHeldError, FolderLostError } from './folder-errors.js';
import { asOutOfSpace } from './out-of-space.js';
import { isAlive, pidSpace } from './process-identity.js';
import { FolderAccessError } from './writable-folder.js';
import { replaceFile } from './write-file-atomic.js';

/** The claim file in a claimed folder. Its other names (`.new`, `.takeover`, `.released`) are the claim's own steps. */
export const CLAIM_FILE = 'writer.lock';
export const DEFAULT_STALE_AFTER_MS = 30_000;

export interface ClaimOptions {
  /** What the claimer does there ("train", "prepare"): named to whoever is refused. */
  readonly purpose: string;
  /**
   * How long after the holder's last refresh (it refreshes four times as often) the claim may be
   * taken over: the longest a frozen or cut-off holder keeps the folder. Default 30 s.
   */
  readonly staleAfterMs?: number;
}

/** A folder this process alone writes into, until `release` (or until it is lost: see `signal`). */
export interface FolderClaim {
  readonly folder: string;
  readonly holder: ClaimHolder;
  /** Aborted, with a FolderLostError as its reason, once the claim is found taken over. */
  readonly signal: AbortSignal;
  /** Resolves while the claim is ours; otherwise rejects with a FolderLostError. Call it before each write. */
  check(): Promise<void>;
  /** `<path>.<token>.tmp`: this claim's temporary for `path`, which no other process takes for its own. */
  temporaryPath(path: string): string;
  /**
   * Writes a file as readers must see it: whole or not at all. Into the temporary, then renamed,
   * the claim checked before both; on failure the temporary is removed and a full disk is an
   * OutOfSpaceError naming the folder and the bytes needed.
   */
  writeFile(path: string, data: string | Uint8Array): Promise<void>;
  /** Lets the folder go, when (and only when) the claim is still ours. Never throws. */
  release(): Promise<void>;
}

/** A temporary of any claim (`.<16 hex>.tmp`), or of rxvision before claims (`.<pid>.tmp`). */
const TEMPORARY = /\.([0-9a-f]{16}|\d+)\.tmp$/;

/**
 * Whether `path` is one of the files a writer of a claimed folder works in, never one a person
 * named: a temporary (`x.<token>.tmp`) or a claim file being linked into place (`writer.lock.<token>.new`).
 * Error messages name the folder instead.
 */
export function isWorkingFile(path: string): boolean {
  const name = basename(path);
  return TEMPORARY.test(name) || (name.startsWith(`${CLAIM_FILE}.`) && /^[0-9a-f]{16}\.new$/.test(name.slice(CLAIM_FILE.length + 1)));
}

const ATTEMPTS = 8;

/**
 * Claims `folder` (made if missing) for this process alone, or rejects with a FolderHeldError
 * naming the holder. The claim file is made whole under its own name and hard-linked into place,
 * which either wins or finds a claim there: there is no check-then-act. A claim found is taken over
 * only when stale, judged the same way on every host: its holder has not refreshed it for the
 * holder's stale time, or it is provably dead (a pid of this boot and PID namespace that no
 * longer runs). Taking over is one rename guarded by a marker file per stale claim, made
 * exclusively, and a re-read that the claim is still the one judged stale (same file, same token,
 * not refreshed since); two claimers never both win. Once held, the temporaries earlier holders
 * left (provably theirs, and they are gone or lost) are removed.
 *
 * Machines' clocks must agree to well within the stale time. The holder stops writing once lost;
 * a filesystem cannot fence a write already under way, so a frozen holder that wakes can finish at
 * most the one write it had checked for.
 */
export async function claimFolder(folder: string, options: ClaimOptions): Promise<FolderClaim> {
  const dir = resolve(folder);
  const staleAfterMs = options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
  if (!(staleAfterMs > 0)) throw new RangeError(`staleAfterMs must be positive, got ${staleAfterMs}`);
  await mkdir(dir, { recursive: true });
  const path = join(dir, CLAIM_FILE);
  const space = pidSpace();
  const holder: ClaimHolder = {
    token: randomBytes(8).toString('hex'),
    purpose: options.purpose,
    host: hostname(),
    pid: process.pid,
    ...(space && { pidSpace: space }),
    since: new Date().toISOString(),
    staleAfterMs,
  };
  const mine = `${path}.${holder.token}.new`;
  try {
    await writeFile(mine, `${JSON.stringify(holder)}\n`, { flag: 'wx' });
  } catch (error) {
    await rm(mine, { force: true });
    throw await asOutOfSpace(error, { folder: dir, what: 'its claim file' });
  }
  const handle = await open(mine, 'r');
  try {
    const { ino } = await handle.stat();
    let last: ClaimHolder | undefined;
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      if (attempt > 0) await sleep(attempt * 5);
      if (await linkedInPlace(mine, path)) return await heldClaim(dir, path, holder, handle, ino);
      const found = await readClaim(path);
      if (!found) continue; // let go meanwhile: try again
      last = found.holder;
      if (!isStale(found, staleAfterMs)) throw new FolderHeldError(dir, found.holder);
      if (await takeOver(path, found, mine, staleAfterMs)) return await heldClaim(dir, path, holder, handle, ino);
    }
    throw new FolderHeldError(dir, last);
  } catch (error) {
    await handle.close();
    throw error;
  } finally {
    await rm(mine, { force: true });
  }
}

/** The claim in a folder now, or undefined when there is none (or it cannot be read as one). */
export async function folderHolder(folder: string): Promise<ClaimHolder | undefined> {
  return (await lookAtClaim(join(resolve(folder), CLAIM_FILE)))?.holder;
}

/**
 * Whether a process writes the folder now: its claim's holder, and `live`, false for a claim left
 * by a writer that died or froze (stale by the rule a claimer applies, so another may take it).
 * Undefined when no claim is there. For showing a run as running or stopped.
 */
export async function folderWriter(
  folder: string,
): Promise<{ readonly holder: ClaimHolder | undefined; readonly live: boolean } | undefined> {
  const found = await lookAtClaim(join(resolve(folder), CLAIM_FILE));
  return found && { holder: found.holder, live: !isStale(found, DEFAULT_STALE_AFTER_MS) };
}

interface FoundClaim {
  readonly holder: ClaimHolder | undefined;
  readonly ino: number;
  readonly mtimeMs: number;
}

/** The same claim, unrefreshed: same file, same token, same time of last refresh. */
const sameClaim = (a: FoundClaim, b: FoundClaim) => a.ino === b.ino && a.mtimeMs === b.mtimeMs && a.holder?.token === b.holder?.token;

/** Larger than any claim file rxvision writes (a few hundred bytes); a larger one is not one. */
const MAX_CLAIM_BYTES = 64 << 10;

/**
 * The claim at `path`, or undefined where there is none. Anything else in its place (a link, a
 * FIFO, a folder, a file too large to be a claim) is a FolderAccessError saying to remove it: it
 * is never read, waited on or taken for another writer.
 */
async function readClaim(path: string): Promise<FoundClaim | undefined> {
  const opened = await openRegularFile(path, MAX_CLAIM_BYTES, { followLink: false }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    if (error instanceof UnreadableFileError)
      throw new FolderAccessError(`${error.message.replace(/, not a file to read$/, '')}: not a claim file; remove it to write the folder`);
    throw error;
  });
  if (!opened) return undefined;
  try {
    const [info, text] = await Promise.all([opened.handle.stat(), opened.handle.readFile('utf8')]);
    return { holder: parseClaimHolder(text), ino: info.ino, mtimeMs: info.mtimeMs };
  } finally {
    await opened.handle.close();
  }
}

/** readClaim for those who only look: a claim file that cannot be one counts as none. */
async function lookAtClaim(path: string): Promise<FoundClaim | undefined> {
  return readClaim(path).catch((error: unknown) => {
    if (error instanceof FolderAccessError) return undefined;
    throw error;
  });
}

function isStale(found: FoundClaim, fallbackStaleAfterMs: number): boolean {
  const { holder } = found;
  if (Date.now() - found.mtimeMs > (holder?.staleAfterMs ?? fallbackStaleAfterMs)) return true;
  // A pid says something only in its own pid space; this process's own pid is alive by definition.
  return holder?.pidSpace !== undefined && holder.pidSpace === pidSpace() && holder.pid !== process.pid && !isAlive(holder.pid);
}

async function linkedInPlace(mine: string, path: string): Promise<boolean> {
  try {
    await link(mine, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/**
 * Replaces the stale claim `found` by ours, unless another claimer is replacing it (its marker
 * exists) or it changed since it was judged (refreshed, let go, replaced).
 */
async function takeOver(path: string, found: FoundClaim, mine: string, staleAfterMs: number): Promise<boolean> {
  const marker = `${path}.${found.holder?.token ?? `inode-${found.ino}`}.takeover`;
  try {
    await writeFile(marker, '', { flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    // Someone is taking it over right now; a marker older than the stale time is a claimer that died doing so.
    const info = await stat(marker).catch(() => undefined);
    if (info && Date.now() - info.mtimeMs > staleAfterMs) await rm(marker, { force: true });
    return false;
  }
  try {
    const now = await readClaim(path);
    if (!now || !sameClaim(now, found)) return false;
    await rename(mine, path);
    return true;
  } finally {
    await rm(marker, { force: true });
  }
}

async function heldClaim(dir: string, path: string, holder: ClaimHolder, handle: FileHandle, ino: number): Promise<FolderClaim> {
  const lost = new AbortController();
  let released = false;
  let refreshedAt = Date.now();
  const touch = async () => {
    const now = new Date();
    await handle.utimes(now, now); // our own file, by its handle: never another claim's
    refreshedAt = now.getTime();
  };
  const check = async (): Promise<void> => {
    if (lost.signal.aborted) throw lost.signal.reason;
    if (released) throw new Error(`${dir}: written after its claim was released`);
    // Refreshed first, so that a claimer who judged it stale before now finds it changed and backs off.
    if (Date.now() - refreshedAt > holder.staleAfterMs / 4) await touch();
    const current = await stat(path).catch(() => undefined);
    if (current?.ino === ino) return;
    if (!lost.signal.aborted) lost.abort(new FolderLostError(dir, (await readClaim(path).catch(() => undefined))?.holder));
    throw lost.signal.reason;
  };
  const timer = setInterval(
    () =>
      void touch()
        .then(check)
        .catch(() => undefined),
    holder.staleAfterMs / 4,
  );
  timer.unref(); // a claim keeps nothing alive: the work it guards does
  const temporaryPath = (file: string) => `${file}.${holder.token}.tmp`;
  await removeEarlierTemporaries(dir, holder.token);
  return {
    folder: dir,
    holder,
    signal: lost.signal,
    check,
    temporaryPath,
    writeFile: (file, data) => replaceFile(file, data, temporaryPath(file), check),
    release: async () => {
      if (released) return;
      released = true;
      clearInterval(timer);
      try {
        if (lost.signal.aborted || (await stat(path)).ino !== ino) return;
        // Moved aside, then checked: were it replaced between the stat and the rename, the new holder's goes back.
        const aside = `${path}.${holder.token}.released`;
        await rename(path, aside);
        if ((await stat(aside)).ino !== ino) await link(aside, path).catch(() => undefined);
        await rm(aside, { force: true });
      } catch {
        // A claim left behind is stale after its stale time (at once, here, once this process is gone).
      } finally {
        await handle.close().catch(() => undefined);
      }
    },
  };
}

/** Removes the temporaries of other claims: their holders are gone or lost, since this one holds the folder. */
async function removeEarlierTemporaries(dir: string, token: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const earlier = names.filter((name) => {
    const owner = TEMPORARY.exec(name)?.[1];
    return owner !== undefined && owner !== token;
  });
  await Promise.all(earlier.map((name) => rm(join(dir, name), { recursive: true, force: true })));
}

const sleep = (ms: number) => new Promise((wake) => setTimeout(wake, ms));
