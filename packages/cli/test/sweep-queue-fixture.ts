// What the queued-sweep test files share: each file its own redis-server and folder of sweep files,
// so the files run side by side; and the workers, histories and references their tests compare.
import type { ChildProcess } from 'node:child_process';
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RedisTestServer, startRedisServer } from '@rxvision/redis-test-server';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { writeGreyBands } from './bands-fixture.js';
import { type CliRun, runCli } from './run-cli.js';
import { expectOneWritersRun } from './run-consistency.js';

export const EPOCHS = 6;

/** A `rxvision worker` process: its output so far, its pid (the process that runs trials). */
export interface WorkerProcess {
  readonly output: () => string;
  readonly pid: Promise<number>;
  readonly exited: Promise<CliRun>;
  child?: ChildProcess;
}

export interface SweepQueue {
  /** The file's redis-server (started before its tests, stopped after). */
  readonly redis: RedisTestServer;
  /** The folder of the sweep files: four.json, two.json, cancel.json, asha.json, failing.json. */
  readonly dir: string;
  /**
   * A worker, stopped after the test; `hostname` puts it in a UTS namespace of that name, as on
   * another machine, and in a process group of its own; `queue` and `env` for another Redis.
   */
  startWorker(lockSeconds: number, options?: { hostname?: string; queue?: string; env?: NodeJS.ProcessEnv }): WorkerProcess;
  /** Each trial trained alone, as `train --config` of its trial file: its history must equal the sweep's. */
  expectSameAsAlone(out: string, trials: readonly string[]): Promise<void>;
}

/** Registers the file's hooks; the returned fields are set once its beforeAll has run. */
export function useSweepQueue(): SweepQueue {
  let redis!: RedisTestServer;
  let dir!: string;
  const workers: WorkerProcess[] = [];
  beforeAll(async () => {
    redis = await startRedisServer();
    dir = await mkdtemp(join(tmpdir(), 'rxvision-sweep-queue-'));
    await writeSweepFiles(dir);
  }, 60_000);
  afterAll(async () => {
    await redis?.stop();
    await rm(dir, { recursive: true, force: true });
  });
  afterEach(async () => {
    for (const worker of workers.splice(0)) {
      worker.child?.kill('SIGTERM');
      await worker.exited;
    }
  });
  return {
    get redis() {
      return redis;
    },
    get dir() {
      return dir;
    },
    startWorker(lockSeconds, { hostname, queue = redis.url, env = {} } = {}) {
      const worker = spawnWorker(lockSeconds, queue, env, hostname);
      workers.push(worker);
      return worker;
    },
    async expectSameAsAlone(out, trials) {
      for (const trial of trials) {
        const alone = join(dir, 'alone', `${out.split('/').at(-1)}-${trial}`);
        const config = join(out, 'trials', `${trial}.json`);
        const result = await runCli(['train', '--config', config, '--out', alone, '--backend', 'wasm', '--threads', '1']);
        expect(result.code, result.stderr).toBe(0);
        const reference = await figures(alone);
        expect(reference).toHaveLength(EPOCHS);
        expect(await figures(join(out, trial)), trial).toEqual(reference);
        await expectOneWritersRun(join(out, trial), EPOCHS);
      }
    },
  };
}

async function writeSweepFiles(dir: string): Promise<void> {
  await writeGreyBands(join(dir, 'bands.arrow'), 3000);
  const base = {
    dataset: { type: 'arrow', train: 'bands.arrow', test: 'bands.arrow' },
    validation: 300,
    batchSize: 10,
    model: { type: 'mlp', hidden: [64] },
    optimizer: { type: 'sgd' },
    schedule: [{ epochs: EPOCHS, learningRate: 0.01 }],
  };
  const write = (name: string, sweep: object) => writeFile(join(dir, name), JSON.stringify(sweep));
  await write('four.json', { base, grid: { seed: [1, 2], 'optimizer.momentum': [0.5, 0.9] } });
  await write('two.json', { base, grid: { seed: [3, 4] } });
  // Longer trials, so that a cancel lands mid-trial however busy the machine is.
  await write('cancel.json', { base: { ...base, schedule: [{ epochs: 2 * EPOCHS, learningRate: 0.01 }] }, grid: { seed: [5, 6] } });
  // ASHA over six rates, three of which cannot learn: rungs at epochs 1, 2 and 4 of 6.
  const schedules = [0.01, 1e-7, 0.02, 1e-7, 0.005, 1e-7].map((learningRate) => [{ epochs: EPOCHS, learningRate }]);
  await write('asha.json', {
    base,
    grid: { schedule: schedules },
    concurrency: 2,
    scheduler: { type: 'asha', gracePeriod: 1, reductionFactor: 2 },
  });
  await write('failing.json', { base: { ...base, schedule: [{ epochs: 1, learningRate: 0.01 }] }, grid: { batchSize: [10, 100_000] } });
}

function spawnWorker(lockSeconds: number, queue: string, env: NodeJS.ProcessEnv, hostname: string | undefined): WorkerProcess {
  let output = '';
  let announce!: (pid: number) => void;
  const pid = new Promise<number>((resolve) => (announce = resolve));
  const worker: WorkerProcess = {
    output: () => output,
    pid,
    exited: runCli(['worker', '--queue', queue, '--backend', 'wasm', '--threads', '1', '--lock-seconds', String(lockSeconds)], env, {
      ...(hostname !== undefined && { hostname, detached: true }),
      onStdout: (stdout, child) => {
        output = stdout;
        worker.child = child;
        const match = /^worker (\d+)@/m.exec(stdout);
        if (match) announce(Number(match[1]));
      },
    }),
  };
  return worker;
}

/** The parent of a process of this PID namespace (from /proc), or undefined once it is gone. */
export const parentOf = (pid: number) =>
  readFile(`/proc/${pid}/stat`, 'utf8').then(
    (stat) => Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]),
    () => undefined,
  );

export const history = async (run: string) =>
  JSON.parse(await readFile(join(run, 'history.json'), 'utf8').catch(() => '[]')) as {
    epoch: number;
    trainLoss: number;
    valLoss: number;
    valAccuracy: number;
    learningRate: number;
  }[];

/** A history without its timings: what must match to the last bit. */
export const figures = async (run: string) =>
  (await history(run)).map(({ epoch, trainLoss, valLoss, valAccuracy, learningRate }) => ({
    epoch,
    trainLoss,
    valLoss,
    valAccuracy,
    learningRate,
  }));

export const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
export const count = (text: string, part: string) => text.split(part).length - 1;
