import { Resvg } from '@resvg/resvg-js';
import type { ChartSpec } from '../chart-spec.js';

/** Renders a Vega-Lite spec to SVG text with vega's headless renderer. */
export async function renderSvg(spec: ChartSpec): Promise<string> {
  // Loaded on the first chart, not with the package: vega and vega-lite take a third of a second,
  // which every command that draws nothing (or fails first) would pay.
  const [{ parse, View }, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Renders a Vega-Lite spec to PNG bytes (resvg rasterises the SVG with the system's fonts). */
export async function renderPng(spec: ChartSpec, options: { scale?: number } = {}): Promise<Uint8Array> {
  const svg = await renderSvg(spec);
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: options.scale ?? 2 },
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
    background: 'white',
  });
  return resvg.render().asPng();
}
