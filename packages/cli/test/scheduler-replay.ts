import { decide, trialScheduler } from '@rxvision/sweep';
import { SweepFolder } from '@rxvision/sweep/node';
import { expect } from 'vitest';

/** Each trial's epochs and why it ended: the decisions a sweep's scheduler made. */
export async function sweepDecisions(out: string): Promise<Record<string, { epochs: number; ended: string }>> {
  const folder = new SweepFolder(out);
  const record = (await folder.readRecord())!;
  const entries = await Promise.all(
    record.trials.map(
      async ({ name }) =>
        [
          name,
          {
            epochs: (await folder.trial(name).readHistory()).length,
            ended: (await folder.trial(name).readSummary())?.ended ?? 'completed',
          },
        ] as const,
    ),
  );
  return Object.fromEntries(entries);
}

/**
 * That every trial of the finished sweep in `out` trained each epoch once and went on or stopped
 * exactly where its scheduler's rule says, replayed on the histories the trials left. (At a
 * decision, every earlier trial had got as far or was done, so the final histories hold what the
 * rule saw.) Returns how many trials stopped early.
 */
export async function expectSchedulerFollowed(out: string): Promise<number> {
  const folder = new SweepFolder(out);
  const record = (await folder.readRecord())!;
  expect(record.scheduler).toBeDefined();
  const trials = await Promise.all(
    record.trials.map(async ({ name }) => ({
      history: await folder.trial(name).readHistory(),
      summary: await folder.trial(name).readSummary(),
      done: true,
    })),
  );
  let stopped = 0;
  record.trials.forEach(({ name, epochs }, i) => {
    const { history, summary } = trials[i]!;
    const scheduler = trialScheduler(record.scheduler!, epochs!);
    expect(
      history.map((r) => r.epoch),
      name,
    ).toEqual(Array.from({ length: history.length }, (_, e) => e + 1));
    for (let e = 1; e < history.length; e++)
      expect(decide(scheduler, trials, i, history.slice(0, e)), `${name} after epoch ${e}`).toBe('continue');
    expect(summary, `${name} finished`).toBeDefined();
    if (history.length < epochs!) {
      expect(decide(scheduler, trials, i, history), `${name} after epoch ${history.length}`).toBe('stop');
      expect(summary!.ended).toBe('scheduler');
      stopped++;
    } else {
      expect(summary!.ended, name).toBeUndefined();
    }
  });
  return stopped;
}
