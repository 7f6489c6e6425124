import type { History } from '@rxvision/metrics';
import { CHART_CONFIG, type ChartSpec } from './chart-spec.js';

/** A run to compare: its name in the legend and its history. */
export interface ComparedRun {
  readonly name: string;
  readonly history: History;
}

/**
 * Several runs side by side: validation loss (training loss dashed) and validation accuracy per
 * epoch, one colour per run, in one picture.
 */
export function comparisonChart(runs: readonly ComparedRun[]): ChartSpec {
  if (runs.length === 0) throw new RangeError('comparisonChart: no runs to compare');
  const names = runs.map((run) => run.name);
  if (new Set(names).size !== names.length) throw new RangeError(`comparisonChart: run names must differ, got ${names.join(', ')}`);
  const losses = runs.flatMap(({ name, history }) =>
    history.flatMap((row) => [
      { run: name, epoch: row.epoch, loss: row.trainLoss, split: 'training' },
      { run: name, epoch: row.epoch, loss: row.valLoss, split: 'validation' },
    ]),
  );
  const accuracies = runs.flatMap(({ name, history }) => history.map((row) => ({ run: name, epoch: row.epoch, accuracy: row.valAccuracy })));
  const x = { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1, format: 'd' } } as const;
  const color = { field: 'run', type: 'nominal', title: 'run', sort: names } as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: runs.length === 1 ? `${runs[0]!.name}` : `${runs.length} runs compared`,
    config: CHART_CONFIG,
    hconcat: [
      {
        width: 420,
        height: 300,
        data: { values: losses.filter((value) => Number.isFinite(value.loss)) },
        mark: { type: 'line', point: true },
        encoding: {
          x,
          y: { field: 'loss', type: 'quantitative', title: 'loss', scale: { zero: false } },
          color,
          strokeDash: { field: 'split', type: 'nominal', title: null, sort: ['validation', 'training'] },
          detail: { field: 'split' },
        },
      },
      {
        width: 420,
        height: 300,
        data: { values: accuracies.filter((value) => Number.isFinite(value.accuracy)) },
        mark: { type: 'line', point: true },
        encoding: {
          x,
          y: { field: 'accuracy', type: 'quantitative', title: 'validation accuracy', scale: { domain: [0, 1] }, axis: { format: '.0%' } },
          color,
        },
      },
    ],
  };
}
