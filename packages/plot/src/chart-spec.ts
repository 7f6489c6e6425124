import type { TopLevelSpec } from 'vega-lite';

export type ChartSpec = TopLevelSpec;

/** Shared look: white background, readable sizes, a font that most systems have. */
export const CHART_CONFIG = {
  background: 'white',
  font: 'DejaVu Sans, Helvetica, Arial, sans-serif',
  axis: { labelFontSize: 12, titleFontSize: 13 },
  legend: { labelFontSize: 12, titleFontSize: 12 },
  title: { fontSize: 15 },
} as const;
