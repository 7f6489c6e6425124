import type { ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { folderHolder } from '@rxvision/folder';
import { describe, expect, test } from 'vitest';
import { waitFor } from './wait-for.js';
import { runCli } from './run-cli.js';
import { expectSchedulerFollowed, sweepDecisions } from './scheduler-replay.js';
import { count, EPOCHS, exists, figures, history, parentOf, sleep, useSweepQueue } from './sweep-queue-fixture.js';

// Workers dying, the sweep command dying, Redis going away; the queue's controls are in
// sweep-queue-control.integration.test.ts, run beside this file.
const queue = useSweepQueue();

describe('rxvision sweep --queue and rxvision worker (a real redis-server)', () => {
  test('two workers run four trials; one killed with SIGKILL mid-trial: the other resumes that trial from its checkpoint, and every history equals its trial run alone', async () => {
    const out = join(queue.dir, 'four');
    const trials = ['trial-000', 'trial-001', 'trial-002', 'trial-003'];
    const [first, second] = [queue.startWorker(3), queue.startWorker(3)];
    const pids = await Promise.all([first.pid, second.pid]);
    const sweep = runCli(['sweep', join(queue.dir, 'four.json'), '--out', out, '--queue', queue.redis.url]);

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
    await queue.expectSameAsAlone(out, trials);

    const status = await runCli(['sweep', 'status', out]);
    const rows = status.stdout
      .trim()
      .split('\n')
      .filter((line) => line.startsWith('trial-'));
    expect(rows).toHaveLength(4);
    expect(rows.every((line) => /\sfinished\s/.test(line))).toBe(true);
  }, 400_000);

  test('a queued ASHA sweep, two workers: one SIGKILLed and the sweep command killed and restarted mid-way; the decisions are an undisturbed run’s, no epoch trained twice', async () => {
    const alone = join(queue.dir, 'asha-alone');
    const undisturbed = await runCli(['sweep', join(queue.dir, 'asha.json'), '--out', alone, '--backend', 'wasm', '--threads', '1']);
    expect(undisturbed.code, undisturbed.stderr).toBe(0);
    const reference = await sweepDecisions(alone);
    expect(Object.values(reference).filter((trial) => trial.ended === 'scheduler').length).toBeGreaterThanOrEqual(2);

    const out = join(queue.dir, 'asha-queued');
    const trials = Object.keys(reference);
    const [first, second] = [queue.startWorker(3), queue.startWorker(3)];
    const pids = await Promise.all([first.pid, second.pid]);
    let sweepChild: ChildProcess | undefined;
    const sweep = runCli(
      ['sweep', join(queue.dir, 'asha.json'), '--out', out, '--queue', queue.redis.url],
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
    const third = queue.startWorker(3); // the killed worker's machine comes back
    const restarted = await runCli(['sweep', join(queue.dir, 'asha.json'), '--out', out, '--queue', queue.redis.url]);
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
    const out = join(queue.dir, 'two');
    const trials = ['trial-000', 'trial-001'];
    const workerProcesses = [queue.startWorker(10), queue.startWorker(10)];
    await Promise.all(workerProcesses.map((worker) => worker.pid));
    const sweep = runCli(['sweep', join(queue.dir, 'two.json'), '--out', out, '--queue', queue.redis.url]);
    await waitFor(
      async () =>
        (await Promise.all(trials.map(async (trial) => (await history(join(out, trial))).length))).every((epochs) => epochs >= 1)
          ? true
          : undefined,
      'both trials training',
    );
    await queue.redis.kill();
    await sleep(3000);
    await queue.redis.start();

    const result = await sweep;
    expect(result.code, result.stderr + result.stdout).toBe(0);
    expect(result.stdout).toContain('is unreachable');
    expect(result.stdout).toContain('is back');
    const logs = workerProcesses.map((worker) => worker.output()).join('');
    for (const trial of trials) expect(count(logs, `${out}: ${trial}: started`), trial).toBe(1);
    expect(logs).not.toContain('resuming');
    await queue.expectSameAsAlone(out, trials);
  }, 300_000);

  test('a trial failing for its own reason is marked failed with it, once, and the others finish', async () => {
    const out = join(queue.dir, 'failing');
    const worker = queue.startWorker(5);
    await worker.pid;
    const result = await runCli(['sweep', join(queue.dir, 'failing.json'), '--out', out, '--queue', queue.redis.url]);
    expect([result.code, result.stderr.trim()]).toEqual([1, `rxvision: 1 of 2 trials failed (reasons above); the others are in ${out}`]);
    expect(result.stdout).toContain(
      `trial-001 (batchSize=100000): failed: ${join(queue.dir, 'failing', 'trials', 'trial-001.json')}: batchSize: 100000 is larger than the training split (2700 images)`,
    );
    expect(result.stdout).toMatch(/^trial-000 \(batchSize=10\): finished$/m);
    expect(count(worker.output(), `${out}: trial-001: started`)).toBe(1);
    const record = JSON.parse(await readFile(join(out, 'sweep.json'), 'utf8')) as { states: Record<string, { state: string }> };
    expect(record.states['trial-001']?.state).toBe('failed');
  }, 120_000);
});
