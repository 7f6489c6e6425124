import { describe, expect, test } from 'vitest';
import { differingSettings, flattenSettings } from '../src/run-settings.js';

describe('settings of runs', () => {
  test('every leaf by its dotted path, lists as JSON text; where an experiment came from is no setting', () => {
    expect(flattenSettings({ seed: 3, model: { type: 'mlp', hidden: [8, 4] }, description: 'x', source: 'a.json', $schema: 's' })).toEqual({
      seed: 3,
      'model.type': 'mlp',
      'model.hidden': '[8,4]',
    });
  });

  test('only the settings whose values differ, a missing one counting as different', () => {
    const runs = [
      { seed: 1, optimizer: { type: 'sgd', momentum: 0.9 }, batchSize: 32 },
      { seed: 1, optimizer: { type: 'sgd', momentum: 0.5 }, batchSize: 32, labelSmoothing: 0.1 },
    ];
    expect(differingSettings(runs)).toEqual([{ 'optimizer.momentum': 0.9 }, { 'optimizer.momentum': 0.5, labelSmoothing: 0.1 }]);
    expect(differingSettings([undefined, { seed: 2 }])).toEqual([{}, { seed: 2 }]);
  });
});
