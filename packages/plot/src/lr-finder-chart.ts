import { CHART_CONFIG, type ChartSpec } from './chart-spec.js';

/** The learning-rate range test's curve: smoothed loss against the rate (log scale), the suggestion marked. */
export function lrFinderChart(
  steps: readonly { readonly learningRate: number; readonly loss: number }[],
  suggestion: number | undefined,
): ChartSpec {
  const finite = steps.filter((step) => Number.isFinite(step.loss));
  // fastai draws the curve without its last five steps, where it diverges off the chart.
  const shown = finite.slice(0, Math.max(2, finite.length - 5));
  const marked =
    suggestion === undefined
      ? undefined
      : shown.reduce((a, b) => (Math.abs(Math.log(b.learningRate / suggestion)) < Math.abs(Math.log(a.learningRate / suggestion)) ? b : a));
  const x = {
    field: 'learningRate',
    type: 'quantitative',
    title: 'learning rate',
    scale: { type: 'log' },
    axis: { format: '.0e' },
  } as const;
  const y = { field: 'loss', type: 'quantitative', title: 'loss (smoothed)', scale: { zero: false } } as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: suggestion === undefined ? 'Learning-rate range test' : `Learning-rate range test: suggested ${suggestion.toExponential(1)}`,
    width: 560,
    height: 320,
    config: CHART_CONFIG,
    layer: [
      {
        data: { values: shown.map(({ learningRate, loss }) => ({ learningRate, loss })) },
        mark: { type: 'line', color: '#1f77b4' },
        encoding: { x, y },
      },
      ...(marked
        ? [
            {
              data: { values: [{ learningRate: marked.learningRate, loss: marked.loss }] },
              mark: { type: 'point' as const, filled: true, size: 90, color: '#d62728' },
              encoding: { x, y },
            },
          ]
        : []),
    ],
  };
}
