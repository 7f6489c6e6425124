import { CHART_CONFIG, type ChartSpec } from './chart-spec.js';

/** A run as one line across its settings' axes, coloured by a figure. */
export interface RunSettings {
  readonly name: string;
  /** Setting (dotted path) → value: numbers are placed on their axis' range, anything else in the order of its values. */
  readonly settings: Readonly<Record<string, number | string>>;
  readonly figure: number | undefined;
}

/**
 * Parallel coordinates of runs (a sweep's trials): one vertical axis per setting, each scaled to its
 * own range (texts spaced in their sorted order), a line per run across them and on to the figure's
 * axis, coloured by the figure: which settings the good runs share shows at a glance.
 */
export function parallelCoordinates(runs: readonly RunSettings[], figure: string): ChartSpec {
  const axes = [...new Set(runs.flatMap((run) => Object.keys(run.settings)))];
  if (runs.length === 0 || axes.length === 0) throw new RangeError('parallelCoordinates: no runs, or no settings to lay out');
  const position = (axis: string): ((value: number | string | undefined) => number | undefined) => {
    const values = runs.map((run) => run.settings[axis]).filter((value) => value !== undefined);
    if (values.every((value) => typeof value === 'number')) {
      const [low, high] = [Math.min(...(values as number[])), Math.max(...(values as number[]))];
      return (value) => (typeof value === 'number' ? (high === low ? 0.5 : (value - low) / (high - low)) : undefined);
    }
    const order = [...new Set(values.map(String))].sort();
    return (value) => (value === undefined ? undefined : order.length === 1 ? 0.5 : order.indexOf(String(value)) / (order.length - 1));
  };
  const figures = runs.map((run) => run.figure).filter((value): value is number => value !== undefined && Number.isFinite(value));
  const [low, high] = [Math.min(...figures), Math.max(...figures)];
  const columns = [...axes, figure];
  const placed = new Map(axes.map((axis) => [axis, position(axis)]));
  const values = runs.flatMap((run) =>
    columns.flatMap((column, index) => {
      const raw = column === figure ? run.figure : run.settings[column];
      const y =
        column === figure
          ? typeof raw === 'number' && Number.isFinite(raw)
            ? high === low
              ? 0.5
              : (raw - low) / (high - low)
            : undefined
          : placed.get(column)!(raw);
      return y === undefined
        ? []
        : [
            {
              run: run.name,
              axis: column,
              index,
              y,
              value: typeof raw === 'number' ? Number(raw.toPrecision(4)) : String(raw),
              figure: run.figure,
            },
          ];
    }),
  );
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: `settings of ${runs.length} runs against ${figure}`,
    config: CHART_CONFIG,
    width: Math.max(320, 140 * columns.length),
    height: 300,
    data: { values },
    layer: [
      {
        mark: { type: 'rule', color: '#bbb' },
        encoding: { x: { field: 'axis', type: 'nominal', sort: columns, title: null, axis: { labelAngle: 0, orient: 'top' } } },
      },
      {
        mark: { type: 'line', strokeWidth: 2, opacity: 0.8 },
        encoding: {
          x: { field: 'axis', type: 'nominal', sort: columns },
          y: { field: 'y', type: 'quantitative', axis: null, scale: { domain: [0, 1] } },
          detail: { field: 'run', type: 'nominal' },
          color: { field: 'figure', type: 'quantitative', title: figure, scale: { scheme: 'viridis' } },
          order: { field: 'index' },
          tooltip: [{ field: 'run' }, { field: 'axis', title: 'setting' }, { field: 'value' }, { field: 'figure', title: figure }],
        },
      },
      {
        mark: { type: 'text', dx: 4, align: 'left', fontSize: 10, color: '#444' },
        transform: [{ filter: "datum.y === 0 || datum.y === 1 || datum.axis === '' " }],
        encoding: {
          x: { field: 'axis', type: 'nominal', sort: columns },
          y: { field: 'y', type: 'quantitative' },
          text: { field: 'value' },
        },
      },
    ],
  };
}
