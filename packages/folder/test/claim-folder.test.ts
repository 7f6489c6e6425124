import { type ChildProcess, execFileSync, fork } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, symlink, truncate, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, test } from 'vitest';
import {
  CLAIM_FILE,
  type ClaimHolder,
  claimFolder,
  FolderAccessError,
  FolderHeldError,
  FolderLostError,
  folderHolder,
  folderWriter,
  isWorkingFile,
  OutOfSpaceError,
  readRegularFile,
  UnreadableFileError,
} from '../src/index.js';
import { pidSpace } from '../src/process-identity.js';

const fresh = () => mkdtemp(join(tmpdir(), 'rxvision-claim-'));

/** A claim file as another process wrote it. */
function foreignHolder(fields: Partial<ClaimHolder>): ClaimHolder {
  return {
    token: 'f'.repeat(16),
    purpose: 'train',
    host: 'elsewhere',
    pid: 4242,
    since: '2026-12-01T00:00:00.000Z',
    staleAfterMs: 30_000,
    ...fields,
  };
}

async function writeClaim(folder: string, holder: ClaimHolder, ageMs = 0): Promise<void> {
  const path = join(folder, CLAIM_FILE);
  await writeFile(path, JSON.stringify(holder));
  const then = new Date(Date.now() - ageMs);
  await utimes(path, then, then);
}

/** A pid of this pid space that no process has: a child that has exited. */
function deadPid(): number {
  return Number(execFileSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']));
}

describe('claimFolder', () => {
  it('gives a folder to one claimer; a second is refused in one line naming the holder, until the first lets go', async () => {
    const folder = await fresh();
    const claim = await claimFolder(folder, { purpose: 'train' });
    const refusal = await claimFolder(folder, { purpose: 'prepare' }).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(FolderHeldError);
    expect((refusal as Error).message).toBe(
      `${folder} is being written by train (pid ${process.pid} on host ${claim.holder.host}, since ${claim.holder.since}); wait for it to finish or stop it`,
    );
    expect(await folderHolder(folder)).toEqual(claim.holder);
    await claim.release();
    expect(await readdir(folder)).toEqual([]);
    const again = await claimFolder(folder, { purpose: 'prepare' });
    expect(again.holder.token).not.toBe(claim.holder.token);
    await again.release();
  });

  it('folderWriter: live while the holder refreshes it; not live once it is stale or its pid is dead here; undefined without a claim', async () => {
    const folder = await fresh();
    expect(await folderWriter(folder)).toBeUndefined();
    const claim = await claimFolder(folder, { purpose: 'train' });
    expect(await folderWriter(folder)).toEqual({ holder: claim.holder, live: true });
    await claim.release();
    await writeClaim(folder, foreignHolder({ staleAfterMs: 1000 }), 5000);
    expect((await folderWriter(folder))?.live).toBe(false);
    await writeClaim(folder, foreignHolder({ pid: deadPid(), pidSpace: pidSpace()! }));
    expect((await folderWriter(folder))?.live).toBe(false);
    await writeClaim(folder, foreignHolder({ pid: deadPid(), pidSpace: 'another-boot pid:[1]' }));
    expect((await folderWriter(folder))?.live).toBe(true); // a fresh claim of another host: nothing says it is dead
  });

  it("takes over a claim not refreshed for its holder's stale time, from any host", async () => {
    const folder = await fresh();
    await writeClaim(folder, foreignHolder({ staleAfterMs: 1000 }), 5000);
    const claim = await claimFolder(folder, { purpose: 'train', staleAfterMs: 60_000 });
    expect((await folderHolder(folder))?.token).toBe(claim.holder.token);
    await claim.release();
  });

  it('takes a claim whose token is a path for no holder: its takeover marker is made in the folder, never where the token points (#34)', async () => {
    const parent = await fresh();
    const folder = join(parent, 'run');
    await mkdir(folder);
    await writeClaim(folder, foreignHolder({ token: '../../escaped', staleAfterMs: 1000 }), 5 * 60_000);
    const claim = await claimFolder(folder, { purpose: 'train' });
    expect(await readdir(parent)).toEqual(['run']);
    expect(await readdir(folder)).toEqual([CLAIM_FILE]);
    await claim.release();
    await writeClaim(folder, foreignHolder({ token: '../../escaped' }));
    expect(await folderHolder(folder)).toBeUndefined();
  });

  it('refuses a fresh claim from another pid space whatever its pid, and takes over one of a dead pid of this one at once', async () => {
    const folder = await fresh();
    const dead = deadPid();
    await writeClaim(folder, foreignHolder({ pid: dead, pidSpace: 'another-boot pid:[1]' }));
    await expect(claimFolder(folder, { purpose: 'train' })).rejects.toThrow(/being written by train \(pid \d+ on host elsewhere/);
    await writeClaim(folder, foreignHolder({ pid: dead, pidSpace: pidSpace()! }));
    const claim = await claimFolder(folder, { purpose: 'train' });
    await claim.release();
  });

  it("refreshes and releases only its own claim: once taken over, it is lost and the new holder's claim stays", async () => {
    const folder = await fresh();
    const claim = await claimFolder(folder, { purpose: 'train' });
    await claim.check();
    // Another claimer replaced it (as a takeover does: a rename over it).
    const other = join(folder, 'other');
    await writeFile(other, JSON.stringify(foreignHolder({ host: 'worker-b' })));
    await rename(other, join(folder, CLAIM_FILE));
    const lost = await claim.check().catch((error: unknown) => error);
    expect(lost).toBeInstanceOf(FolderLostError);
    expect((lost as Error).message).toMatch(/^lost .+ to train \(pid 4242 on host worker-b, since .+\); stopped without writing more$/);
    expect(claim.signal.aborted).toBe(true);
    await expect(claim.writeFile(join(folder, 'history.json'), '[]')).rejects.toBeInstanceOf(FolderLostError);
    await claim.release();
    expect((await folderHolder(folder))?.host).toBe('worker-b');
    expect((await readdir(folder)).sort()).toEqual([CLAIM_FILE]);
  });

  it("names its temporaries by its token and removes those of earlier holders, never the holder's own", async () => {
    const folder = await fresh();
    await writeFile(join(folder, 'train.arrow.0123456789abcdef.tmp'), 'left by a lost claim');
    await writeFile(join(folder, 'history.json.31337.tmp'), 'left by rxvision before claims');
    await writeFile(join(folder, 'notes.tmp'), "the user's");
    const claim = await claimFolder(folder, { purpose: 'prepare' });
    expect((await readdir(folder)).sort()).toEqual(['notes.tmp', CLAIM_FILE].sort());
    const temporary = claim.temporaryPath(join(folder, 'train.arrow'));
    expect(temporary).toBe(join(folder, `train.arrow.${claim.holder.token}.tmp`));
    await writeFile(temporary, 'being written');
    await expect(claimFolder(folder, { purpose: 'prepare' })).rejects.toBeInstanceOf(FolderHeldError);
    expect(await readFile(temporary, 'utf8')).toBe('being written');
    await claim.release();
  });
});

/** Two processes claiming one stale folder at the same moment, round after round. */
describe('what stands where a claim file belongs (#34)', () => {
  test.each([
    ['a FIFO', (path: string) => void execFileSync('mkfifo', [path]), /a FIFO: not a claim file; remove it to write the folder$/],
    [
      'a dangling symbolic link',
      (path: string) => symlink(join(tmpdir(), 'rxvision-nothing-here'), path),
      /a symbolic link: not a claim file; remove it to write the folder$/,
    ],
    [
      'a link to /dev/zero',
      (path: string) => symlink('/dev/zero', path),
      /a symbolic link: not a claim file; remove it to write the folder$/,
    ],
    ['a folder', (path: string) => mkdir(path), /a folder: not a claim file; remove it to write the folder$/],
    [
      'a 3 GB sparse file',
      async (path: string) => {
        await writeFile(path, '');
        await truncate(path, 3e9);
      },
      /3000000000 bytes, more than the 65536 such a file may hold: not a claim file/,
    ],
  ])('%s: claiming is one line at once, nothing is left behind, and lookers see no claim', async (_, make, message) => {
    const folder = await fresh();
    const path = join(folder, CLAIM_FILE);
    await make(path);
    const claimed = claimFolder(folder, { purpose: 'train' });
    await expect(claimed).rejects.toThrow(FolderAccessError);
    await expect(claimed).rejects.toThrow(message);
    expect((await readdir(folder)).sort()).toEqual([CLAIM_FILE]);
    expect([await folderHolder(folder), await folderWriter(folder)]).toEqual([undefined, undefined]);
  });

  test('readRegularFile refuses a FIFO without waiting for a writer', async () => {
    const path = join(await fresh(), 'pipe');
    execFileSync('mkfifo', [path]);
    await expect(readRegularFile(path, 1024)).rejects.toThrow(new UnreadableFileError(`${path}: a FIFO, not a file to read`));
  });
});

describe('two claimers racing', () => {
  let racers: ChildProcess[] = [];
  const answers = new Map<ChildProcess, ((message: Record<string, unknown>) => void)[]>();
  const next = (racer: ChildProcess) => new Promise<Record<string, unknown>>((resolve) => answers.get(racer)!.push(resolve));

  beforeAll(async () => {
    // Plain Node, as a user's process: not the test worker's `--conditions`, which would resolve @rxvision/errors to its TypeScript.
    racers = [0, 1].map(() =>
      fork(new URL('./claim-racer.js', import.meta.url), { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
    );
    for (const racer of racers) {
      answers.set(racer, []);
      racer.on('message', (message: Record<string, unknown>) => answers.get(racer)!.shift()?.(message));
    }
    await Promise.all(racers.map(next)); // ready
  });
  afterAll(() => {
    for (const racer of racers) racer.kill();
  });

  const race = async (stale: (folder: string) => Promise<void>, rounds: number) => {
    const winners: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const folder = await fresh();
      await stale(folder);
      const results = racers.map(next);
      for (const racer of racers) racer.send({ type: 'go', folder, round });
      const outcome = await Promise.all(results);
      // The loser was refused (held by the winner), never failed for another reason.
      expect(
        outcome.filter((result) => !result.won).every((result) => result.refused === true),
        JSON.stringify(outcome),
      ).toBe(true);
      winners.push(outcome.filter((result) => result.won).length);
      expect((await folderHolder(folder))?.token).toBe(outcome.find((result) => result.won)?.token);
      const released = racers.map(next);
      for (const racer of racers) racer.send({ type: 'release', folder, round });
      await Promise.all(released);
      await rm(folder, { recursive: true, force: true });
    }
    return winners;
  };

  it("never has two winners for a dead holder's claim on this host (300 rounds)", async () => {
    const dead = deadPid();
    const winners = await race((folder) => writeClaim(folder, foreignHolder({ host: 'this', pid: dead, pidSpace: pidSpace()! })), 300);
    expect(winners.every((count) => count === 1)).toBe(true);
  });

  it("never has two winners for another host's old claim (300 rounds)", async () => {
    const winners = await race((folder) => writeClaim(folder, foreignHolder({ staleAfterMs: 1000 }), 10_000), 300);
    expect(winners.every((count) => count === 1)).toBe(true);
  });

  it('never has two winners for a free folder (300 rounds)', async () => {
    const winners = await race(async () => {}, 300);
    expect(winners.every((count) => count === 1)).toBe(true);
  });
});

const isRoot = process.getuid?.() === 0;

/** A folder on a tmpfs of `bytes` (root only: CI runs as root). */
async function smallDisk(bytes: number): Promise<{ folder: string; unmount: () => void }> {
  const folder = await fresh();
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', folder]);
  return { folder, unmount: () => execFileSync('umount', [folder]) };
}

describe.runIf(isRoot)('a full disk (as root)', () => {
  it('fails a write with the folder and the bytes it needed, leaving no temporary', async () => {
    const disk = await smallDisk(64 * 1024);
    try {
      const claim = await claimFolder(disk.folder, { purpose: 'train' });
      const path = join(disk.folder, 'weights.bin');
      const error = await claim.writeFile(path, new Uint8Array(1_000_000)).catch((failure: unknown) => failure);
      expect(error).toBeInstanceOf(OutOfSpaceError);
      expect((error as Error).message).toMatch(
        new RegExp(`^no space left in ${disk.folder}: writing ${path} needs about 1.0 MB; \\d+(\\.\\d)? KB free; free some space`),
      );
      expect(await readdir(disk.folder)).toEqual([CLAIM_FILE]);
      await claim.release();
      expect(await readdir(disk.folder)).toEqual([]);
    } finally {
      disk.unmount();
    }
  });
});

test('isWorkingFile knows the temporaries and the claim files being placed, nothing a person named', () => {
  const working = ['/d/train.arrow.0123456789abcdef.tmp', '/d/history.json.31337.tmp', `/d/${CLAIM_FILE}.0123456789abcdef.new`];
  const named = [
    '/d/notes.tmp',
    '/d/x.new',
    `/d/${CLAIM_FILE}`,
    '/d/other.lock.0123456789abcdef.new',
    '/d/xxxxxxxxxxx.0123456789abcdef.new',
  ];
  expect(working.map(isWorkingFile)).toEqual(working.map(() => true));
  expect(named.map(isWorkingFile)).toEqual(named.map(() => false));
});
