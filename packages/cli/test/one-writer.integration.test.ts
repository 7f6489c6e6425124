import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { watch } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, statfs, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { openImageDataset } from '@rxvision/dataset/node';
import { folderHolder } from '@rxvision/folder';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { writeGreyBands } from './bands-fixture.js';
import { waitFor } from './wait-for.js';
import { type CliRun, runCli, type RunOptions } from './run-cli.js';
import { expectOneWritersRun } from './run-consistency.js';

// One writer per folder, tried with real processes: two trains into one run folder, a train frozen
// (SIGSTOP) past its lock while another takes over, two prepares from two PID namespaces, full disks.
const EPOCHS = 5;
const isRoot = process.getuid?.() === 0;
let dir: string;
let experiment: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rxvision-one-writer-'));
  await writeGreyBands(join(dir, 'bands.arrow'), 2000);
  experiment = join(dir, 'bands.json');
  await writeFile(
    experiment,
    JSON.stringify({
      dataset: { type: 'arrow', train: 'bands.arrow', test: 'bands.arrow' },
      validation: 200,
      batchSize: 10,
      model: { type: 'mlp', hidden: [64] },
      optimizer: { type: 'sgd', momentum: 0.9 },
      schedule: [{ epochs: EPOCHS, learningRate: 0.01 }],
    }),
  );
}, 60_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

/** A command started in the background: its exit, and the child once spawned. */
function start(
  args: readonly string[],
  options: Omit<RunOptions, 'env' | 'onSpawn'> = {},
): { exited: Promise<CliRun>; child: Promise<ChildProcess> } {
  let spawned!: (child: ChildProcess) => void;
  const child = new Promise<ChildProcess>((resolve) => (spawned = resolve));
  return { exited: runCli(args, {}, { ...options, onSpawn: spawned }), child };
}

const epochsIn = (run: string) =>
  readFile(join(run, 'history.json'), 'utf8').then(
    (text) => (JSON.parse(text) as unknown[]).length,
    () => 0,
  );
const train = ['--backend', 'wasm', '--threads', '1'];
const refusal = (folder: string, purpose: string, pid: number, host = hostname()) =>
  new RegExp(
    `^rxvision: ${folder} is being written by ${purpose} \\(pid ${pid} on host ${host}, since [0-9T:.Z-]+\\); wait for it to finish or stop it$`,
  );

describe('two trains, one run folder', () => {
  test("a second train --out into a folder another trains in is refused in one line naming it (exit 75); the folder is the first run's alone", async () => {
    const run = join(dir, 'shared-out');
    const first = start(['train', '--config', experiment, '--out', run, ...train]);
    const { pid } = await first.child;
    await waitFor(async () => ((await folderHolder(run))?.pid === pid ? true : undefined), 'the first train to claim its folder');
    const second = await runCli(['train', '--config', experiment, '--out', run, ...train, '--seed', '7']);
    expect(second.code).toBe(75);
    expect(second.stderr.trim()).toMatch(refusal(run, 'train', pid!));
    expect((await first.exited).code).toBe(0);
    await expectOneWritersRun(run, EPOCHS);
    expect(JSON.parse(await readFile(join(run, 'experiment.json'), 'utf8')).seed).not.toBe(7);
  });

  test('two train --resume of one run at once: one resumes, the other is refused; every epoch is in the history once', async () => {
    const run = join(dir, 'shared-resume');
    await runCli(
      ['train', '--config', experiment, '--out', run, ...train],
      {},
      { onStdout: (_out, child) => void epochsIn(run).then((n) => n >= 1 && child.kill('SIGINT')) },
    );
    expect(await epochsIn(run)).toBeGreaterThanOrEqual(1);
    const first = start(['train', '--resume', run, ...train]);
    const { pid } = await first.child;
    await waitFor(async () => ((await folderHolder(run))?.pid === pid ? true : undefined), 'the first resume to claim the folder');
    const second = await runCli(['train', '--resume', run, ...train]);
    expect([second.code, second.stderr.trim()]).toEqual([75, expect.stringMatching(refusal(run, 'train', pid!))]);
    expect((await first.exited).code).toBe(0);
    await expectOneWritersRun(run, EPOCHS);
  });

  test('a train frozen (SIGSTOP) past its lock loses its folder to a resume, and, woken, stops without writing (exit 75); the history has each epoch once', async () => {
    const run = join(dir, 'frozen');
    const frozen = start(['train', '--config', experiment, '--out', run, ...train, '--lock-seconds', '1'], { detached: true });
    const { pid } = await frozen.child;
    await waitFor(async () => ((await epochsIn(run)) >= 1 ? true : undefined), 'a first epoch');
    process.kill(-pid!, 'SIGSTOP');
    try {
      await new Promise((resolve) => setTimeout(resolve, 2500)); // past its lock: the claim is stale
      const taker = start(['train', '--resume', run, ...train, '--lock-seconds', '1']);
      const takerPid = (await taker.child).pid!;
      await waitFor(async () => ((await folderHolder(run))?.pid === takerPid ? true : undefined), 'the resume to take the folder over');
      process.kill(-pid!, 'SIGCONT');
      const woken = await frozen.exited;
      expect(woken.code).toBe(75);
      expect(woken.stderr.trim().split('\n').at(-1)).toMatch(
        new RegExp(`^rxvision: lost ${run} to train \\(pid ${takerPid} on host ${hostname()}, since .+\\); stopped without writing more$`),
      );
      const taken = await taker.exited;
      expect(taken.code, taken.stderr).toBe(0);
    } finally {
      try {
        process.kill(-pid!, 'SIGCONT');
      } catch {
        // gone already
      }
    }
    await expectOneWritersRun(run, EPOCHS);
  }, 180_000);
});

/** A folder on a tmpfs of `bytes` (root only: CI runs as root), unmounted afterwards. */
async function smallDisk(name: string, bytes: number): Promise<{ folder: string; unmount: () => void }> {
  const folder = join(dir, name);
  await mkdir(folder, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', folder]);
  return { folder, unmount: () => execFileSync('umount', ['--lazy', folder]) };
}

describe.runIf(isRoot)('containers and full disks (root: unshare, mount)', () => {
  test('two prepares from two PID namespaces: the second is refused naming the first (pid 1 of its namespace) and leaves its files alone; the data is whole', async () => {
    const data = join(dir, 'fashion-shared');
    const first = start(['prepare', '--dataset', 'fashion-mnist', '--data', data], { pidNamespace: true, detached: true });
    const { pid } = await first.child;
    // Frozen while it holds the folder, so that the second comes while it writes.
    await waitFor(async () => ((await folderHolder(data)) ? true : undefined), 'the first prepare to claim the folder', 60_000);
    process.kill(-pid!, 'SIGSTOP');
    try {
      const before = (await readdir(data)).sort();
      const second = await runCli(['prepare', '--dataset', 'fashion-mnist', '--data', data], {}, { pidNamespace: true });
      expect(second.code).toBe(75);
      expect(second.stderr.trim()).toMatch(refusal(data, 'prepare', 1));
      expect((await readdir(data)).sort()).toEqual(before);
    } finally {
      process.kill(-pid!, 'SIGCONT');
    }
    expect((await first.exited).code).toBe(0);
    expect((await readdir(data)).sort()).toEqual(['test.arrow', 'train.arrow']);
    expect([(await openImageDataset(join(data, 'train.arrow'))).length, (await openImageDataset(join(data, 'test.arrow'))).length]).toEqual(
      [60_000, 10_000],
    );
  }, 120_000);

  test('a prepare frozen past its lock in one PID namespace loses the folder to one in another, which removes its temporaries; woken, it stops (exit 75)', async () => {
    const data = join(dir, 'fashion-taken');
    await mkdir(data, { recursive: true });
    // Frozen the moment its temporary appears: mid-write.
    const watcher = watch(data);
    const first = start(['prepare', '--dataset', 'fashion-mnist', '--data', data, '--lock-seconds', '1'], {
      pidNamespace: true,
      detached: true,
    });
    const { pid } = await first.child;
    // Stopped at a temporary's event; on a busy machine the file may be renamed already by then, so
    // it goes on to the next one (prepare writes two) until one is caught on disk.
    await new Promise<void>((resolve) => {
      let checking = false;
      watcher.on('change', (_event, name) => {
        if (!String(name).endsWith('.tmp') || checking) return;
        checking = true;
        process.kill(-pid!, 'SIGSTOP');
        void readdir(data).then((names) => {
          if (names.some((entry) => entry.endsWith('.tmp'))) {
            watcher.close();
            return resolve();
          }
          checking = false;
          process.kill(-pid!, 'SIGCONT');
        });
      });
    });
    const temporaries = (await readdir(data)).filter((name) => name.endsWith('.tmp'));
    expect(temporaries).toHaveLength(1);
    try {
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const second = await runCli(['prepare', '--dataset', 'fashion-mnist', '--data', data], {}, { pidNamespace: true });
      expect(second.code, second.stderr).toBe(0);
    } finally {
      process.kill(-pid!, 'SIGCONT');
    }
    const woken = await first.exited;
    expect(woken.code).toBe(75);
    expect(woken.stderr.trim()).toMatch(
      new RegExp(
        `^rxvision: lost ${data} to another process, which has let it go since \\(this process did not refresh its claim in time: was it stopped\\?\\); stopped without writing more$`,
      ),
    );
    expect((await readdir(data)).sort()).toEqual(['test.arrow', 'train.arrow']);
    expect((await openImageDataset(join(data, 'train.arrow'))).length).toBe(60_000);
  }, 120_000);

  test('prepare onto a full disk: one line naming the folder and the bytes needed; no temporary left, the space free again', async () => {
    const disk = await smallDisk('full-data', 20_000_000);
    try {
      const result = await runCli(['prepare', '--dataset', 'fashion-mnist', '--data', disk.folder]);
      expect(result.code).toBe(1);
      expect(result.stderr.trim()).toMatch(
        new RegExp(
          `^rxvision: no space left in ${disk.folder}: writing train\\.arrow needs about 47 MB; [\\d.]+ [KM]?B free; free some space \\(or write elsewhere\\) and run again$`,
        ),
      );
      expect(await readdir(disk.folder)).toEqual([]);
      const { bavail, blocks } = await statfs(disk.folder);
      expect(bavail).toBe(blocks);
    } finally {
      disk.unmount();
    }
  }, 60_000);

  test('train onto a full disk: one line naming the run folder; no temporary checkpoint left', async () => {
    const disk = await smallDisk('full-run', 160_000);
    try {
      const wide = join(dir, 'wide.json');
      await writeFile(
        wide,
        JSON.stringify({
          ...JSON.parse(await readFile(experiment, 'utf8')),
          dataset: { type: 'arrow', train: join(dir, 'bands.arrow'), test: join(dir, 'bands.arrow') },
          model: { type: 'mlp', hidden: [256] },
        }),
      );
      const result = await runCli(['train', '--config', wide, '--out', disk.folder, ...train]);
      expect(result.code).toBe(1);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr.trim()).toMatch(
        new RegExp(
          `^rxvision: no space left in ${disk.folder}: (a checkpoint|writing \\S+) needs about [\\d.]+ [KM]?B; [\\d.]+ [KM]?B free; free some space`,
        ),
      );
      const left = await readdir(disk.folder);
      expect(left.filter((name) => name.endsWith('.tmp') || name.startsWith('writer.lock'))).toEqual([]);
    } finally {
      disk.unmount();
    }
  }, 60_000);
});
