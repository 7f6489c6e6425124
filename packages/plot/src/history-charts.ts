import type { History } from '@rxvision/metrics';
import { CHART_CONFIG, type ChartSpec } from './chart-spec.js';

/** Training and validation loss per epoch: the tutorial's "Loss vs. No. of epochs". */
export function lossChart(history: History): ChartSpec {
  const values = history.flatMap((row) => [
    { epoch: row.epoch, loss: row.trainLoss, split: 'training' },
    { epoch: row.epoch, loss: row.valLoss, split: 'validation' },
  ]);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'Loss vs. No. of epochs',
    width: 560,
    height: 320,
    config: CHART_CONFIG,
    data: { values: values.filter((value) => Number.isFinite(value.loss)) },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1, format: 'd' } },
      y: { field: 'loss', type: 'quantitative', title: 'loss', scale: { zero: false } },
      color: { field: 'split', type: 'nominal', title: null, scale: { range: ['#1f77b4', '#d62728'] } },
    },
  };
}

/** Validation accuracy per epoch: the tutorial's "Accuracy vs. No. of epochs". */
export function accuracyChart(history: History): ChartSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'Accuracy vs. No. of epochs',
    width: 560,
    height: 320,
    config: CHART_CONFIG,
    data: {
      values: history.filter((row) => Number.isFinite(row.valAccuracy)).map((row) => ({ epoch: row.epoch, accuracy: row.valAccuracy })),
    },
    mark: { type: 'line', point: true, color: '#2ca02c' },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1, format: 'd' } },
      y: { field: 'accuracy', type: 'quantitative', title: 'validation accuracy', scale: { domain: [0, 1] }, axis: { format: '.0%' } },
    },
  };
}
