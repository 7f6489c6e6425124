import type { History } from '@rxvision/metrics';
import { CHART_CONFIG, type ChartSpec } from './chart-spec.js';

/** A run to compare: its name in the legend and its history. */
export interface ComparedRun {
  readonly name: string;
  readonly history: History;
  /** The run's label smoothing (its experiment's `labelSmoothing`): its training loss includes it, its validation loss does not. */
  readonly labelSmoothing?: number;
}

/** The figures of an epoch record a chart can draw, besides the extra metrics by name (`top5`). */
export const EPOCH_FIGURES = ['valLoss', 'trainLoss', 'valAccuracy', 'learningRate'] as const;

/** An epoch record's figure by name: one of EPOCH_FIGURES, or an extra metric (`top5`). */
function figureOf(record: History[number], name: string): number | undefined {
  return (EPOCH_FIGURES as readonly string[]).includes(name)
    ? (record[name as (typeof EPOCH_FIGURES)[number]] as number)
    : record.metrics?.[name];
}

/** Each point as the mean of the last `points` points of its run (1: as recorded), computed by vega as `shown`. */
const movingMean = (points: number, along: string) => ({
  window: [{ op: 'mean' as const, field: 'value', as: 'shown' }],
  frame: [1 - points, 0],
  groupby: ['run'],
  sort: [{ field: along }],
});
const smoothed = (points: number) => (points > 1 ? ` (mean of ${points} points)` : '');

/** Drag to pan, wheel to zoom, double-click to reset: the scales are bound to an interval selection. */
const ZOOM = { name: 'zoom', select: 'interval', bind: 'scales' } as const;

const isRate = (name: string) => /accuracy|^top\d+$/i.test(name);

/**
 * Several runs side by side: validation loss (training loss dashed) and validation accuracy per
 * epoch, one colour per run, in one picture; or, with `metric`, that one figure of the epoch
 * records (`learningRate`, `top3`, …), its axis fitted to the data (a log scale for losses and rates
 * with `log`).
 */
export function comparisonChart(
  runs: readonly ComparedRun[],
  options: { readonly metric?: string; readonly log?: boolean; readonly smooth?: number } = {},
): ChartSpec {
  if (runs.length === 0) throw new RangeError('comparisonChart: no runs to compare');
  const names = runs.map((run) => run.name);
  if (new Set(names).size !== names.length) throw new RangeError(`comparisonChart: run names must differ, got ${names.join(', ')}`);
  if (options.metric !== undefined) return metricChart(runs, options.metric, options.log === true, options.smooth ?? 1);
  const losses = runs.flatMap(({ name, history }) =>
    history.flatMap((row) => [
      { run: name, epoch: row.epoch, loss: row.trainLoss, split: 'training' },
      { run: name, epoch: row.epoch, loss: row.valLoss, split: 'validation' },
    ]),
  );
  const accuracies = runs.flatMap(({ name, history }) =>
    history.map((row) => ({ run: name, epoch: row.epoch, accuracy: row.valAccuracy })),
  );
  const x = { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1, format: 'd' } } as const;
  const color = { field: 'run', type: 'nominal', title: 'run', sort: names } as const;
  // A training loss with label smoothing sits above the validation loss for that reason alone: say so.
  const smoothed = runs.filter((run) => (run.labelSmoothing ?? 0) > 0);
  const note =
    smoothed.length === 0
      ? undefined
      : `training loss includes label smoothing (${smoothed.map((run) => `${run.name}: ${run.labelSmoothing}`).join(', ')}); validation loss does not`;
  const text = runs.length === 1 ? `${runs[0]!.name}` : `${runs.length} runs compared`;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: note ? { text, subtitle: note } : text,
    config: CHART_CONFIG,
    hconcat: [
      {
        width: 420,
        height: 300,
        data: { values: losses.filter((value) => Number.isFinite(value.loss)) },
        params: [{ ...ZOOM, name: 'zoomLoss' }],
        mark: { type: 'line', point: true },
        encoding: {
          x,
          y: { field: 'loss', type: 'quantitative', title: 'loss (solid: validation, dashed: training)', scale: { zero: false } },
          color,
          // Said in the axis title: a legend of two dash styles renders as two identical dots.
          strokeDash: { field: 'split', type: 'nominal', title: null, sort: ['validation', 'training'], legend: null },
          detail: { field: 'split' },
        },
      },
      {
        width: 420,
        height: 300,
        data: { values: accuracies.filter((value) => Number.isFinite(value.accuracy)) },
        params: [{ ...ZOOM, name: 'zoomAccuracy' }],
        mark: { type: 'line', point: true },
        encoding: {
          x,
          // Fitted to the data: 0.90 against 0.92 must not be a sliver of a 0–100% axis.
          y: { field: 'accuracy', type: 'quantitative', title: 'validation accuracy', scale: { zero: false }, axis: { format: '.1%' } },
          color,
        },
      },
    ],
  };
}

function metricChart(runs: readonly ComparedRun[], metric: string, log: boolean, smooth: number): ChartSpec {
  const values = runs.flatMap(({ name, history }) => history.map((row) => ({ run: name, epoch: row.epoch, value: figureOf(row, metric) })));
  const format = isRate(metric) ? { axis: { format: '.1%' } } : {};
  return figureChart(runs, values, {
    what: metric,
    x: { field: 'epoch', axis: { tickMinStep: 1, format: 'd' } },
    y: { title: metric, ...format },
    points: true,
    log,
    smooth,
    none: `comparisonChart: no run has "${metric}" in its epoch records`,
  });
}

/** One figure of several runs along `x.field`, a line a run; points whose value is missing (or not positive, on a log scale) left out. */
function figureChart(
  runs: readonly { readonly name: string }[],
  values: readonly { readonly run: string; readonly value: number | undefined; readonly [x: string]: unknown }[],
  chart: {
    readonly what: string;
    readonly x: { readonly field: string; readonly axis?: object };
    readonly y: { readonly title: string; readonly axis?: object };
    readonly points: boolean;
    readonly log: boolean;
    readonly smooth: number;
    readonly none: string;
  },
): ChartSpec {
  const shown = values.filter(({ value }) => value !== undefined && Number.isFinite(value) && (!chart.log || value > 0));
  if (shown.length === 0) throw new RangeError(chart.none);
  const smooth = Math.max(1, Math.floor(chart.smooth));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: `${chart.what}${runs.length === 1 ? ` of ${runs[0]!.name}` : `, ${runs.length} runs`}${smoothed(smooth)}`,
    config: CHART_CONFIG,
    width: 560,
    height: 320,
    data: { values: shown },
    transform: [movingMean(smooth, chart.x.field)],
    params: [ZOOM],
    mark: { type: 'line', point: chart.points },
    encoding: {
      x: { field: chart.x.field, type: 'quantitative', title: chart.x.field, ...(chart.x.axis && { axis: chart.x.axis }) },
      y: { field: 'shown', type: 'quantitative', scale: chart.log ? { type: 'log' } : { zero: false }, ...chart.y },
      color: { field: 'run', type: 'nominal', title: 'run', sort: runs.map((run) => run.name) },
    },
  };
}

/** A run's per-step figures: every `stride`-th step of the run (progress.json's `steps`). */
export interface SteppedRun {
  readonly name: string;
  readonly steps: { readonly step: readonly number[]; readonly loss: readonly number[]; readonly learningRate: readonly number[] };
}

/**
 * Several runs' training loss (the batch's, after each step) or learning rate, step by step; a log
 * scale with `log`; with `smooth` > 1, each point the mean of the last `smooth` points of its run.
 */
export function stepChart(
  runs: readonly SteppedRun[],
  figure: 'loss' | 'learningRate',
  options: { readonly log?: boolean; readonly smooth?: number } = {},
): ChartSpec {
  const values = runs.flatMap(({ name, steps }) => steps.step.map((step, i) => ({ run: name, step, value: steps[figure][i] })));
  const what = figure === 'loss' ? 'training loss per step' : 'learning rate per step';
  return figureChart(runs, values, {
    what,
    x: { field: 'step' },
    y: { title: figure === 'loss' ? 'training loss' : 'learning rate' },
    points: false,
    log: options.log === true,
    smooth: options.smooth ?? 1,
    none: `stepChart: no run recorded its ${figure} per step`,
  });
}
