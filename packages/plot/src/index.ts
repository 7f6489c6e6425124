export { CHART_CONFIG, type ChartSpec } from './chart-spec.js';
export { comparisonChart, type ComparedRun, EPOCH_FIGURES, stepChart, type SteppedRun } from './comparison-chart.js';
export { confusionMatrixChart } from './confusion-matrix-chart.js';
export { accuracyChart, lossChart } from './history-charts.js';
export { lrFinderChart } from './lr-finder-chart.js';
export { parallelCoordinates, type RunSettings } from './parallel-coordinates.js';
