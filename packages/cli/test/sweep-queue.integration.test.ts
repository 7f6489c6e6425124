import type { ChildProcess } from 'node:child_process';
import { access, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RedisTestServer, startRedisServer } from '@rxvision/redis-test-server';
import { folderHolder } from '@rxvision/folder';
import { TRIAL_CANCELLED } from '@rxvision/sweep/node';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { writeGreyBands } from './bands-fixture.js';
import { waitFor } from './wait-for.js';
import { type CliRun, runCli } from './run-cli.js';
import { expectOneWritersRun } from './run-consistency.js';
import { expectSchedulerFollowed, sweepDecisions } from './scheduler-replay.js';

const EPOCHS = 6;
let redis: RedisTestServer;
let dir: string;
beforeAll(async () => {
  redis = await startRedisServer();
  dir = await mkdtemp(join(tmpdir(), 'rxvision-sweep-queue-'));
  await writeGreyBands(join(dir, 'bands.arrow'), 3000);
  const base = {
    dataset: { type: 'arrow', train: 'bands.arrow', test: 'bands.arrow' },
    validation: 300,
    batchSize: 10,
    model: { type: 'mlp', hidden: [64] },
    optimizer: { type: 'sgd' },
    schedule: [{ epochs: EPOCHS, learningRate: 0.01 }],
  };
  await writeFile(join(dir, 'four.json'), JSON.stringify({ base, grid: { seed: [1, 2], 'optimizer.momentum': [0.5, 0.9] } }));
  await writeFile(join(dir, 'two.json'), JSON.stringify({ base, grid: { seed: [3, 4] } }));
  // Longer trials, so that a cancel lands mid-trial however busy the machine is.
  await writeFile(
    join(dir, 'cancel.json'),
    JSON.stringify({ base: { ...base, schedule: [{ epochs: 2 * EPOCHS, learningRate: 0.01 }] }, grid: { seed: [5, 6] } }),
  );
  // ASHA over six rates, three of which cannot learn: rungs at epochs 1, 2 and 4 of 6.
  const schedules = [0.01, 1e-7, 0.02, 1e-7, 0.005, 1e-7].map((learningRate) => [{ epochs: EPOCHS, learningRate }]);
  await writeFile(
    join(dir, 'asha.json'),
    JSON.stringify({
      base,
      grid: { schedule: schedules },
      concurrency: 2,
      scheduler: { type: 'asha', gracePeriod: 1, reductionFactor: 2 },
    }),
  );
  await writeFile(
    join(dir, 'failing.json'),
    JSON.stringify({ base: { ...base, schedule: [{ epochs: 1, learningRate: 0.01 }] }, grid: { batchSize: [10, 100_000] } }),
  );
}, 60_000);
afterAll(async () => {
  await redis?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** A `rxvision worker` process: its output so far, its pid (the process that runs trials). */
interface WorkerProcess {
  readonly output: () => string;
  readonly pid: Promise<number>;
  readonly exited: Promise<CliRun>;
  child?: ChildProcess;
}
const workers: WorkerProcess[] = [];
/** The parent of a process of this PID namespace (from /proc), or undefined once it is gone. */
const parentOf = (pid: number) =>
  readFile(`/proc/${pid}/stat`, 'utf8').then(
    (stat) => Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]),
    () => undefined,
  );
/**
 * A worker; `hostname` puts it in a UTS namespace of that name, as on another machine, and in a
 * process group of its own; `queue` and `env` for another Redis than the tests'.
 */
function startWorker(
  lockSeconds: number,
  { hostname, queue = redis.url, env = {} }: { hostname?: string; queue?: string; env?: NodeJS.ProcessEnv } = {},
): WorkerProcess {
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
  workers.push(worker);
  return worker;
}
afterEach(async () => {
  for (const worker of workers.splice(0)) {
    worker.child?.kill('SIGTERM');
    await worker.exited;
  }
});

const history = async (run: string) =>
  JSON.parse(await readFile(join(run, 'history.json'), 'utf8').catch(() => '[]')) as {
    epoch: number;
    trainLoss: number;
    valLoss: number;
    valAccuracy: number;
    learningRate: number;
  }[];
/** A history without its timings: what must match to the last bit. */
const figures = async (run: string) =>
  (await history(run)).map(({ epoch, trainLoss, valLoss, valAccuracy, learningRate }) => ({
    epoch,
    trainLoss,
    valLoss,
    valAccuracy,
    learningRate,
  }));
const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const count = (text: string, part: string) => text.split(part).length - 1;

/** Each trial trained alone, as `train --config` of its trial file: the reference histories. */
async function expectSameAsAlone(out: string, trials: readonly string[]) {
  for (const trial of trials) {
    const alone = join(dir, 'alone', `${out.split('/').at(-1)}-${trial}`);
    const result = await runCli([
      'train',
      '--config',
      join(out, 'trials', `${trial}.json`),
      '--out',
      alone,
      '--backend',
      'wasm',
      '--threads',
      '1',
    ]);
    expect(result.code, result.stderr).toBe(0);
    const reference = await figures(alone);
    expect(reference).toHaveLength(EPOCHS);
    expect(await figures(join(out, trial)), trial).toEqual(reference);
    await expectOneWritersRun(join(out, trial), EPOCHS);
  }
}

describe('rxvision sweep --queue and rxvision worker (a real redis-server)', () => {
  test('two workers run four trials; one killed with SIGKILL mid-trial: the other resumes that trial from its checkpoint, and every history equals its trial run alone', async () => {
    const out = join(dir, 'four');
    const trials = ['trial-000', 'trial-001', 'trial-002', 'trial-003'];
    const [first, second] = [startWorker(3), startWorker(3)];
    const pids = await Promise.all([first.pid, second.pid]);
    const sweep = runCli(['sweep', join(dir, 'four.json'), '--out', out, '--queue', redis.url]);

    // A trial past its second epoch and not finished: kill the worker that trains it.
    const [victimTrial, victimPid, epochsBefore] = await waitFor(async () => {
      for (const trial of trials) {
        // The trial's train process holds its folder; the worker that runs it is that process's parent.
        const holder = await folderHolder(join(out, trial));
        const epochs = (await history(join(out, trial))).length;
        const pid = holder && (await parentOf(holder.pid));
        if (pid !== undefined && pids.includes(pid) && epochs >= 2 && epochs < EPOCHS - 1) return [trial, pid, epochs] as const;
      }
      return undefined;
    }, 'a trial in its third epoch');
    process.kill(victimPid, 'SIGKILL');
    const [killed, survivor] = victimPid === pids[0] ? [first, second] : [second, first];
    expect((await killed.exited).code).not.toBe(0);

    const result = await sweep;
    expect(result.code, result.stderr + result.stdout).toBe(0);
    for (const trial of trials) expect(await exists(join(out, trial, 'summary.json'))).toBe(true);
    expect(result.stdout).toMatch(/^trial-003 \(seed=2, optimizer\.momentum=0\.9\): finished$/m);

    // The survivor resumed the killed trial from its checkpoint: it never trained that trial's first epochs.
    const survivorLog = survivor.output();
    expect(survivorLog).toContain(`${out}: ${victimTrial}: resuming from its checkpoint`);
    for (let epoch = 1; epoch <= epochsBefore; epoch++) expect(survivorLog).not.toContain(`${out}: ${victimTrial}: epoch ${epoch},`);
    // Every trial started once; the killed one was resumed once.
    const logs = killed.output() + survivorLog;
    for (const trial of trials) expect(count(logs, `${out}: ${trial}: started`), trial).toBe(1);
    expect(count(logs, 'resuming from its checkpoint')).toBe(1);
    await expectSameAsAlone(out, trials);

    const status = await runCli(['sweep', 'status', out]);
    const rows = status.stdout
      .trim()
      .split('\n')
      .filter((line) => line.startsWith('trial-'));
    expect(rows).toHaveLength(4);
    expect(rows.every((line) => /\sfinished\s/.test(line))).toBe(true);
  }, 400_000);

  test('a queued ASHA sweep, two workers: one SIGKILLed and the sweep command killed and restarted mid-way; the decisions are an undisturbed run’s, no epoch trained twice', async () => {
    const alone = join(dir, 'asha-alone');
    const undisturbed = await runCli(['sweep', join(dir, 'asha.json'), '--out', alone, '--backend', 'wasm', '--threads', '1']);
    expect(undisturbed.code, undisturbed.stderr).toBe(0);
    const reference = await sweepDecisions(alone);
    expect(Object.values(reference).filter((trial) => trial.ended === 'scheduler').length).toBeGreaterThanOrEqual(2);

    const out = join(dir, 'asha-queued');
    const trials = Object.keys(reference);
    const [first, second] = [startWorker(3), startWorker(3)];
    const pids = await Promise.all([first.pid, second.pid]);
    let sweepChild: ChildProcess | undefined;
    const sweep = runCli(
      ['sweep', join(dir, 'asha.json'), '--out', out, '--queue', redis.url],
      {},
      { onSpawn: (child) => (sweepChild = child) },
    );
    // A trial that goes all the way, in training past its first epoch: kill its worker, then the sweep command.
    const [victim, victimPid] = await waitFor(async () => {
      for (const trial of trials.filter((name) => reference[name]!.epochs === EPOCHS)) {
        const holder = await folderHolder(join(out, trial));
        const pid = holder && (await parentOf(holder.pid));
        const epochs = (await history(join(out, trial))).length;
        if (pid !== undefined && pids.includes(pid) && epochs >= 1 && epochs <= EPOCHS - 2) return [trial, pid] as const;
      }
      return undefined;
    }, 'a trial past its first epoch');
    process.kill(victimPid, 'SIGKILL');
    sweepChild!.kill('SIGKILL');
    await sweep;
    const third = startWorker(3); // the killed worker's machine comes back
    const restarted = await runCli(['sweep', join(dir, 'asha.json'), '--out', out, '--queue', redis.url]);
    expect(restarted.code, restarted.stderr + restarted.stdout).toBe(0);

    expect(await sweepDecisions(out)).toEqual(reference);
    await expectSchedulerFollowed(out); // and every history has each epoch once
    for (const trial of trials) expect(await figures(join(out, trial)), trial).toEqual(await figures(join(alone, trial)));
    // No epoch trained twice: each epoch line at most once across the workers' logs.
    const logs = first.output() + second.output() + third.output();
    expect(logs).toContain(`${out}: ${victim}: resuming from its checkpoint`);
    for (const trial of trials)
      for (let epoch = 1; epoch <= EPOCHS; epoch++)
        expect(count(logs, `${out}: ${trial}: epoch ${epoch},`), `${trial} epoch ${epoch}`).toBeLessThanOrEqual(1);
  }, 400_000);

  test('Redis going away for seconds mid-sweep loses no trial and runs none twice', async () => {
    const out = join(dir, 'two');
    const trials = ['trial-000', 'trial-001'];
    const workerProcesses = [startWorker(10), startWorker(10)];
    await Promise.all(workerProcesses.map((worker) => worker.pid));
    const sweep = runCli(['sweep', join(dir, 'two.json'), '--out', out, '--queue', redis.url]);
    await waitFor(
      async () =>
        (await Promise.all(trials.map(async (trial) => (await history(join(out, trial))).length))).every((epochs) => epochs >= 1)
          ? true
          : undefined,
      'both trials training',
    );
    await redis.kill();
    await sleep(3000);
    await redis.start();

    const result = await sweep;
    expect(result.code, result.stderr + result.stdout).toBe(0);
    expect(result.stdout).toContain('is unreachable');
    expect(result.stdout).toContain('is back');
    const logs = workerProcesses.map((worker) => worker.output()).join('');
    for (const trial of trials) expect(count(logs, `${out}: ${trial}: started`), trial).toBe(1);
    expect(logs).not.toContain('resuming');
    await expectSameAsAlone(out, trials);
  }, 300_000);

  test('a trial failing for its own reason is marked failed with it, once, and the others finish', async () => {
    const out = join(dir, 'failing');
    const worker = startWorker(5);
    await worker.pid;
    const result = await runCli(['sweep', join(dir, 'failing.json'), '--out', out, '--queue', redis.url]);
    expect([result.code, result.stderr.trim()]).toEqual([1, `rxvision: 1 of 2 trials failed (reasons above); the others are in ${out}`]);
    expect(result.stdout).toContain(
      `trial-001 (batchSize=100000): failed: ${join(dir, 'failing', 'trials', 'trial-001.json')}: batchSize: 100000 is larger than the training split (2700 images)`,
    );
    expect(result.stdout).toMatch(/^trial-000 \(batchSize=10\): finished$/m);
    expect(count(worker.output(), `${out}: trial-001: started`)).toBe(1);
    const record = JSON.parse(await readFile(join(out, 'sweep.json'), 'utf8')) as { states: Record<string, { state: string }> };
    expect(record.states['trial-001']?.state).toBe('failed');
  }, 120_000);

  test('sweep status of a queued sweep: the queue says which trials wait and which run; without Redis, the folder alone', async () => {
    const out = join(dir, 'status');
    const sweep = runCli(['sweep', join(dir, 'two.json'), '--out', out, '--queue', redis.url]);
    const statusRows = async () => {
      const status = await runCli(['sweep', 'status', out]);
      return { rows: status.stdout.split('\n').filter((line) => line.startsWith('trial-')), stdout: status.stdout };
    };
    // No worker yet: both wait.
    const waiting = await waitFor(async () => {
      const { rows } = await statusRows();
      return rows.length === 2 && rows.every((row) => /\squeued\s*$/.test(row)) ? rows : undefined;
    }, 'both trials queued');
    expect(waiting).toHaveLength(2);
    startWorker(5);
    await waitFor(
      async () => ((await statusRows()).rows.some((row) => /\srunning( \(\d+ epochs\))?\s*/.test(row)) ? true : undefined),
      'a trial running',
    );
    expect((await sweep).code).toBe(0);

    await redis.kill();
    try {
      const { rows, stdout } = await statusRows();
      expect(rows.every((row) => /\sfinished\s/.test(row))).toBe(true);
      expect(stdout).toContain(`(the queue at ${redis.url} did not answer (`);
    } finally {
      await redis.start();
    }
  }, 300_000);

  test('sweep cancel takes the waiting trial out of the queue and stops the running one, checkpointed; the sweep run again resumes it', async () => {
    const out = join(dir, 'cancel');
    const trials = ['trial-000', 'trial-001'];
    const worker = startWorker(2); // one trial at a time: the other waits
    await worker.pid;
    const sweep = runCli(['sweep', join(dir, 'cancel.json'), '--out', out, '--queue', redis.url]);
    const running = await waitFor(async () => {
      for (const trial of trials) if ((await history(join(out, trial))).length >= 1) return trial;
      return undefined;
    }, 'a trial past its first epoch');
    const waiting = trials.find((trial) => trial !== running)!;

    const cancel = await runCli(['sweep', 'cancel', out]);
    expect(cancel.code, cancel.stderr).toBe(0);
    expect(cancel.stdout).toContain(`  taken out of the queue: ${waiting}\n`);
    expect(cancel.stdout).toContain(`  stopping at their workers' next heartbeat, checkpointed: ${running}\n`);
    expect(cancel.stdout).toContain(`to resume: rxvision sweep ${join(dir, 'cancel.json')} --queue ${redis.url} --out ${out}`);
    const result = await sweep;
    expect([result.code, result.stderr.trim()]).toEqual([1, `rxvision: 2 of 2 trials failed (reasons above); the others are in ${out}`]);
    expect(count(result.stdout, `: failed: ${TRIAL_CANCELLED}`)).toBe(2);
    const epochsAtCancel = (await history(join(out, running))).length;
    expect(epochsAtCancel).toBeLessThan(2 * EPOCHS);
    expect(await exists(join(out, running, 'checkpoint'))).toBe(true);
    expect(await exists(join(out, waiting, 'history.json'))).toBe(false);
    expect(worker.output()).toContain(`${running}: cancelled; its checkpoint is kept`);
    const status = await runCli(['sweep', 'status', out]);
    expect(status.stdout.split('\n').filter((line) => line.includes(`failed: ${TRIAL_CANCELLED}`))).toHaveLength(2);

    // Run again, the cancelled trials run to their ends on the same worker; the stopped one resumes.
    const again = await runCli(['sweep', join(dir, 'cancel.json'), '--out', out, '--queue', redis.url]);
    expect(again.code, again.stderr + again.stdout).toBe(0);
    expect(worker.output()).toContain(`${out}: ${running}: resuming from its checkpoint`);
    expect(count(worker.output(), `${out}: ${waiting}: started`)).toBe(1);
    for (const trial of trials) await expectOneWritersRun(join(out, trial), 2 * EPOCHS);
  }, 300_000);

  test.runIf(process.getuid?.() === 0)(
    'a worker frozen (SIGSTOP, with its trial) past its lock on one host: a worker on another host takes the trial over and finishes it; the frozen one, woken, writes nothing more (root: unshare --uts)',
    async () => {
      const out = join(dir, 'frozen');
      const trials = ['trial-000', 'trial-001'];
      const [frozen, other] = [startWorker(2, { hostname: 'host-a' }), startWorker(2, { hostname: 'host-b' })];
      const frozenPid = await frozen.pid;
      await other.pid;
      const sweep = runCli(['sweep', join(dir, 'two.json'), '--out', out, '--queue', redis.url]);
      const victim = await waitFor(async () => {
        for (const trial of trials) {
          const holder = await folderHolder(join(out, trial));
          const epochs = (await history(join(out, trial))).length;
          if (holder?.host === 'host-a' && epochs >= 1 && epochs < EPOCHS - 1) return trial;
        }
        return undefined;
      }, 'a trial of host-a in its second epoch');
      process.kill(-frozenPid, 'SIGSTOP'); // the worker and its trial's train process: their whole process group
      try {
        await waitFor(
          async () => ((await folderHolder(join(out, victim)))?.host === 'host-b' ? true : undefined),
          'host-b to take the trial over',
          180_000,
        );
      } finally {
        process.kill(-frozenPid, 'SIGCONT');
      }
      const result = await sweep;
      expect(result.code, result.stderr + result.stdout).toBe(0);
      await waitFor(
        async () => (frozen.output().includes(`${victim}: lost ${join(out, victim)} to `) ? true : undefined),
        'the woken worker to report its trial lost',
        30_000,
      );
      expect(frozen.output()).toMatch(
        new RegExp(
          `${victim}: lost ${join(out, victim)} to (train \\(pid \\d+ on host host-b, since [^)]+\\)|another process, which has let it go since) \\(this process did not refresh its claim in time: was it stopped\\?\\); stopped without writing more; trying again later`,
        ),
      );
      expect(other.output()).toContain(`${out}: ${victim}: resuming from its checkpoint`);
      await expectSameAsAlone(out, trials);
    },
    400_000,
  );

  test('a Redis that wants a password: a wrong or missing one fails at once in one line; given (URL or REDISCLI_AUTH) a sweep runs, and the password is in no line and no file', async () => {
    const password = 'pw-4f9c2e81';
    const guarded = await startRedisServer({ password });
    try {
      const plain = guarded.url.replace(`:${password}@`, '');
      const wrong = await runCli(['worker', '--queue', guarded.url.replace(password, 'nope'), '--backend', 'wasm']);
      expect([wrong.code, wrong.stderr.trim(), wrong.stdout]).toEqual([
        1,
        `rxvision: Redis at 127.0.0.1:${guarded.port} refused the password: give the password in the URL (redis://:PASSWORD@127.0.0.1:${guarded.port}) or in REDISCLI_AUTH`,
        '',
      ]);
      const missing = await runCli(['sweep', join(dir, 'two.json'), '--out', join(dir, 'never-queued'), '--queue', plain]);
      expect([missing.code, missing.stderr.trim(), missing.stdout]).toEqual([
        1,
        `rxvision: Redis at 127.0.0.1:${guarded.port} wants a password: give the password in the URL (redis://:PASSWORD@127.0.0.1:${guarded.port}) or in REDISCLI_AUTH`,
        '',
      ]);
      expect(await exists(join(dir, 'never-queued'))).toBe(false);

      const out = join(dir, 'guarded');
      const worker = startWorker(5, { queue: plain, env: { REDISCLI_AUTH: password } });
      await worker.pid;
      const result = await runCli(['sweep', join(dir, 'two.json'), '--out', out, '--queue', guarded.url]);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain(`for rxvision workers at ${plain}, into ${out}`);
      const status = await runCli(['sweep', 'status', out, '--queue', guarded.url]);
      expect(status.code, status.stderr).toBe(0);
      for (const text of [result.stdout, result.stderr, status.stdout, status.stderr, worker.output()])
        expect(text).not.toContain(password);
      const files = (await readdir(out, { recursive: true })).map((name) => join(out, name));
      for (const file of files) if ((await stat(file)).isFile()) expect((await readFile(file)).includes(password), file).toBe(false);
      for (const trial of ['trial-000', 'trial-001']) await expectOneWritersRun(join(out, trial), EPOCHS);
    } finally {
      await guarded.stop();
    }
  }, 300_000);

  test('sweep --queue with Redis unreachable: one line, nothing said queued, nothing recorded', async () => {
    const closed = redis.url.replace(String(redis.port), String(redis.port + 1));
    const out = join(dir, 'unreachable');
    const result = await runCli(['sweep', join(dir, 'two.json'), '--out', out, '--queue', closed]);
    expect([result.code, result.stderr.trim(), result.stdout]).toEqual([
      1,
      `rxvision: cannot reach Redis at 127.0.0.1:${redis.port + 1} (ECONNREFUSED); nothing was queued`,
      '',
    ]);
    expect(await exists(out)).toBe(false);
  });

  test('a bad queue URL is one clear line', async () => {
    const result = await runCli(['worker', '--queue', 'http://localhost:6379']);
    expect([result.code, result.stderr.trim()]).toEqual([
      1,
      'rxvision: --queue must be a Redis URL such as redis://localhost:6379, got "http://localhost:6379"',
    ]);
  });
});
