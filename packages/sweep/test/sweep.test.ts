import { defer, lastValueFrom, Observable, timer, toArray } from 'rxjs';
import { describe, expect, test } from 'vitest';
import { expandTrials, parseSweep, runTrials, type Trial } from '../src/index.js';

const base = {
  dataset: { type: 'arrow', train: 'x.arrow' },
  model: { type: 'mlp', hidden: [8] },
  optimizer: { type: 'sgd' },
  schedule: { type: 'oneCycle', epochs: 2, peak: 0.1 },
};

describe('expandTrials', () => {
  test('every grid combination (first field slowest), each with its samples of the random fields, validated', () => {
    const sweep = parseSweep(
      {
        base,
        grid: { 'model.hidden': [[8], [16]], 'optimizer.momentum': [0.8, 0.9] },
        random: { 'schedule.peak': { logUniform: [0.01, 1] } },
        samples: 2,
        seed: 5,
      },
      's.json',
    );
    const trials = expandTrials(sweep, base, 's.json');
    expect(trials.map((trial) => trial.name)).toEqual(Array.from({ length: 8 }, (_, i) => `trial-00${i}`));
    expect(trials.map((trial) => [trial.settings['model.hidden'], trial.settings['optimizer.momentum']])).toEqual([
      [[8], 0.8],
      [[8], 0.8],
      [[8], 0.9],
      [[8], 0.9],
      [[16], 0.8],
      [[16], 0.8],
      [[16], 0.9],
      [[16], 0.9],
    ]);
    const peaks = trials.map((trial) => trial.settings['schedule.peak'] as number);
    expect(new Set(peaks).size).toBe(8);
    expect(peaks.every((peak) => peak >= 0.01 && peak <= 1)).toBe(true);
    expect(trials[7]!.experiment).toMatchObject({
      model: { type: 'mlp', hidden: [16] },
      optimizer: { type: 'sgd', momentum: 0.9 },
      schedule: { type: 'oneCycle', epochs: 2, peak: peaks[7] },
    });
    expect(trials[7]!.experiment.description).toBe(
      `trial-007 of a sweep: model.hidden=[16], optimizer.momentum=0.9, schedule.peak=${peaks[7]}`,
    );
    // The same file gives the same trials; the base is not changed.
    expect(expandTrials(sweep, base, 's.json')).toEqual(trials);
    expect(base.model.hidden).toEqual([8]);
  });

  test('choices and integers are drawn from the seed; without random fields one trial per combination', () => {
    const sweep = parseSweep(
      { base, random: { seed: { integer: [1, 3] }, 'model.dropout': { choice: [0, 0.25] } }, samples: 30 },
      's.json',
    );
    const trials = expandTrials(sweep, base, 's.json');
    expect(new Set(trials.map((trial) => trial.experiment.seed))).toEqual(new Set([1, 2, 3]));
    expect(new Set(trials.map((trial) => (trial.experiment.model as { dropout?: number }).dropout))).toEqual(new Set([0, 0.25]));
    expect(expandTrials(parseSweep({ base, samples: 5 }, 's.json'), base, 's.json')).toHaveLength(1);
  });

  test('a bad sweep or a trial that is no valid experiment fails in one line, naming the trial and the field', () => {
    expect(() => parseSweep({ base, grid: { lr: [] } }, 's.json')).toThrow('s.json: grid.lr: expected a list of length ≥ 1, got []');
    expect(() => parseSweep({ base, concurency: 2 }, 's.json')).toThrow('s.json: the sweep: unknown field "concurency"');
    const badMomentum = parseSweep({ base, grid: { 'optimizer.momentum': [0.9, 1.5] } }, 's.json');
    expect(() => expandTrials(badMomentum, base, 's.json')).toThrow(
      's.json (trial-001: optimizer.momentum=1.5): optimizer.momentum: expected a number < 1, got 1.5',
    );
    expect(() => expandTrials(parseSweep({ base, grid: { 'model.hidden.size': [1] } }, 's.json'), base, 's.json')).toThrow(
      's.json (trial-000): cannot set model.hidden.size: hidden is [8], not an object',
    );
    expect(() => expandTrials(parseSweep({ base, grid: { '__proto__.x': [1] } }, 's.json'), base, 's.json')).toThrow(
      '"__proto__.x" is not a field path',
    );
  });
});

describe('runTrials', () => {
  const trials = expandTrials(parseSweep({ base, grid: { seed: [1, 2, 3, 4, 5] } }, 's.json'), base, 's.json');

  test('runs at most `concurrency` trials at once, in order as slots free up; a failure does not stop the rest', async () => {
    let running = 0;
    let most = 0;
    const run = (trial: Trial) =>
      defer(async () => {
        running++;
        most = Math.max(most, running);
        await lastValueFrom(timer(10 * (6 - trial.experiment.seed)));
        running--;
        if (trial.experiment.seed === 3) throw new Error('loss became NaN at epoch 1');
      });
    const updates = await lastValueFrom(runTrials(trials, { concurrency: 2, run }).pipe(toArray()));
    expect(most).toBe(2);
    expect(updates.filter((u) => u.state === 'running').map((u) => u.trial)).toEqual([
      'trial-000',
      'trial-001',
      'trial-002',
      'trial-003',
      'trial-004',
    ]);
    expect(
      updates
        .filter((u) => u.state === 'finished')
        .map((u) => u.trial)
        .sort(),
    ).toEqual(['trial-000', 'trial-001', 'trial-003', 'trial-004']);
    expect(updates.find((u) => u.state === 'failed')).toEqual({
      trial: 'trial-002',
      state: 'failed',
      reason: 'loss became NaN at epoch 1',
    });
  });

  test('unsubscribing stops the trials in progress and starts no more', () => {
    const started: string[] = [];
    const stopped: string[] = [];
    const run = (trial: Trial) =>
      new Observable<never>(() => {
        started.push(trial.name);
        return () => stopped.push(trial.name);
      });
    const subscription = runTrials(trials, { concurrency: 2, run }).subscribe();
    subscription.unsubscribe();
    expect([started, stopped]).toEqual([
      ['trial-000', 'trial-001'],
      ['trial-000', 'trial-001'],
    ]);
  });
});
