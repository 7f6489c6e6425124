import type { ConfusionMatrix } from '@rxvision/metrics';
import { CHART_CONFIG, type ChartSpec } from './chart-spec.js';

/** A heatmap of (true, predicted) counts, each cell labelled with its count. */
export function confusionMatrixChart(
  matrix: ConfusionMatrix,
  classNames: readonly string[],
  title = 'Confusion matrix (test set)',
): ChartSpec {
  if (classNames.length !== matrix.classes) throw new RangeError(`${classNames.length} class names for a ${matrix.classes}-class matrix`);
  const values = [];
  let max = 0;
  for (let actual = 0; actual < matrix.classes; actual++) {
    for (let predicted = 0; predicted < matrix.classes; predicted++) {
      const count = matrix.counts[actual * matrix.classes + predicted]!;
      max = Math.max(max, count);
      values.push({ actual: classNames[actual], predicted: classNames[predicted], count });
    }
  }
  const order = [...classNames];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: 44 * matrix.classes,
    height: 44 * matrix.classes,
    config: { ...CHART_CONFIG, axis: { ...CHART_CONFIG.axis, grid: false, domain: false } },
    data: { values },
    encoding: {
      x: { field: 'predicted', type: 'ordinal', sort: order, title: 'predicted', axis: { labelAngle: -40 } },
      y: { field: 'actual', type: 'ordinal', sort: order, title: 'true class' },
    },
    layer: [
      {
        mark: 'rect',
        encoding: { color: { field: 'count', type: 'quantitative', scale: { scheme: 'blues' }, legend: { title: 'images' } } },
      },
      {
        mark: { type: 'text', fontSize: 11 },
        encoding: {
          text: { field: 'count', type: 'quantitative' },
          color: { condition: { test: `datum.count > ${max / 2}`, value: 'white' }, value: 'black' },
        },
      },
    ],
  };
}
