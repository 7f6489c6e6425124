import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { startRedisServer } from '@rxvision/redis-test-server';
import { folderHolder } from '@rxvision/folder';
import { TRIAL_CANCELLED } from '@rxvision/sweep/node';
import { describe, expect, test } from 'vitest';
import { waitFor } from './wait-for.js';
import { runCli } from './run-cli.js';
import { expectOneWritersRun } from './run-consistency.js';
import { count, EPOCHS, exists, history, useSweepQueue } from './sweep-queue-fixture.js';

// The queue's controls and guards: status, cancel, a frozen worker's lock, passwords, bad URLs.
const queue = useSweepQueue();

describe('rxvision sweep --queue: status, cancel, locks and refusals (a real redis-server)', () => {
  test('sweep status of a queued sweep: the queue says which trials wait and which run; without Redis, the folder alone', async () => {
    const out = join(queue.dir, 'status');
    const sweep = runCli(['sweep', join(queue.dir, 'two.json'), '--out', out, '--queue', queue.redis.url]);
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
    queue.startWorker(5);
    await waitFor(
      async () => ((await statusRows()).rows.some((row) => /\srunning( \(\d+ epochs\))?\s*/.test(row)) ? true : undefined),
      'a trial running',
    );
    expect((await sweep).code).toBe(0);

    await queue.redis.kill();
    try {
      const { rows, stdout } = await statusRows();
      expect(rows.every((row) => /\sfinished\s/.test(row))).toBe(true);
      expect(stdout).toContain(`(the queue at ${queue.redis.url} did not answer (`);
    } finally {
      await queue.redis.start();
    }
  }, 300_000);

  test('sweep cancel takes the waiting trial out of the queue and stops the running one, checkpointed; the sweep run again resumes it', async () => {
    const out = join(queue.dir, 'cancel');
    const trials = ['trial-000', 'trial-001'];
    const worker = queue.startWorker(2); // one trial at a time: the other waits
    await worker.pid;
    const sweep = runCli(['sweep', join(queue.dir, 'cancel.json'), '--out', out, '--queue', queue.redis.url]);
    const running = await waitFor(async () => {
      for (const trial of trials) if ((await history(join(out, trial))).length >= 1) return trial;
      return undefined;
    }, 'a trial past its first epoch');
    const waiting = trials.find((trial) => trial !== running)!;

    const cancel = await runCli(['sweep', 'cancel', out]);
    expect(cancel.code, cancel.stderr).toBe(0);
    expect(cancel.stdout).toContain(`  taken out of the queue: ${waiting}\n`);
    expect(cancel.stdout).toContain(`  stopping at their workers' next heartbeat, checkpointed: ${running}\n`);
    expect(cancel.stdout).toContain(`to resume: rxvision sweep ${join(queue.dir, 'cancel.json')} --queue ${queue.redis.url} --out ${out}`);
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
    const again = await runCli(['sweep', join(queue.dir, 'cancel.json'), '--out', out, '--queue', queue.redis.url]);
    expect(again.code, again.stderr + again.stdout).toBe(0);
    expect(worker.output()).toContain(`${out}: ${running}: resuming from its checkpoint`);
    expect(count(worker.output(), `${out}: ${waiting}: started`)).toBe(1);
    for (const trial of trials) await expectOneWritersRun(join(out, trial), 2 * EPOCHS);
  }, 300_000);

  test.runIf(process.getuid?.() === 0)(
    'a worker frozen (SIGSTOP, with its trial) past its lock on one host: a worker on another host takes the trial over and finishes it; the frozen one, woken, writes nothing more (root: unshare --uts)',
    async () => {
      const out = join(queue.dir, 'frozen');
      const trials = ['trial-000', 'trial-001'];
      const [frozen, other] = [queue.startWorker(2, { hostname: 'host-a' }), queue.startWorker(2, { hostname: 'host-b' })];
      const frozenPid = await frozen.pid;
      await other.pid;
      const sweep = runCli(['sweep', join(queue.dir, 'two.json'), '--out', out, '--queue', queue.redis.url]);
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
      await queue.expectSameAsAlone(out, trials);
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
      const missing = await runCli(['sweep', join(queue.dir, 'two.json'), '--out', join(queue.dir, 'never-queued'), '--queue', plain]);
      expect([missing.code, missing.stderr.trim(), missing.stdout]).toEqual([
        1,
        `rxvision: Redis at 127.0.0.1:${guarded.port} wants a password: give the password in the URL (redis://:PASSWORD@127.0.0.1:${guarded.port}) or in REDISCLI_AUTH`,
        '',
      ]);
      expect(await exists(join(queue.dir, 'never-queued'))).toBe(false);

      const out = join(queue.dir, 'guarded');
      const worker = queue.startWorker(5, { queue: plain, env: { REDISCLI_AUTH: password } });
      await worker.pid;
      const result = await runCli(['sweep', join(queue.dir, 'two.json'), '--out', out, '--queue', guarded.url]);
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
    const closed = queue.redis.url.replace(String(queue.redis.port), String(queue.redis.port + 1));
    const out = join(queue.dir, 'unreachable');
    const result = await runCli(['sweep', join(queue.dir, 'two.json'), '--out', out, '--queue', closed]);
    expect([result.code, result.stderr.trim(), result.stdout]).toEqual([
      1,
      `rxvision: cannot reach Redis at 127.0.0.1:${queue.redis.port + 1} (ECONNREFUSED); nothing was queued`,
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
