import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import type { EpochRecord } from '@rxvision/metrics';
import sharp from 'sharp';
import * as vega from 'vega';
import * as vegaLite from 'vega-lite';
import { describe, expect, test } from 'vitest';
import {
  accuracyChart,
  comparisonChart,
  confusionMatrixChart,
  lossChart,
  lrFinderChart,
  parallelCoordinates,
  stepChart,
} from '../src/index.js';
import { renderPng, renderSvg } from '../src/node/index.js';

const history: EpochRecord[] = [1, 2, 3, 4].map((epoch) => ({
  epoch,
  phase: 0,
  learningRate: 0.05,
  trainLoss: 2.2 / epoch,
  valLoss: 2.3 / epoch + 0.1,
  valAccuracy: 0.1 + epoch * 0.1,
  seconds: 60,
}));

describe('charts', () => {
  test('the loss chart draws both curves, with the tutorial’s title and axis names', async () => {
    const svg = await renderSvg(lossChart(history));
    expect(svg).toContain('Loss vs. No. of epochs');
    expect(svg).toContain('>training<');
    expect(svg).toContain('>validation<');
    expect(svg.match(/<path[^>]*aria-roledescription="line mark"/g)?.length).toBe(2);
  });

  test("the comparison chart draws every run's losses and accuracy in its own colour, one picture", async () => {
    const other = history.slice(0, 3).map((row) => ({ ...row, valAccuracy: row.valAccuracy / 2 }));
    const svg = await renderSvg(
      comparisonChart([
        { name: 'wide', history },
        { name: 'narrow', history: other },
      ]),
    );
    expect(svg).toContain('2 runs compared');
    for (const label of ['>wide<', '>narrow<', '>loss (solid: validation, dashed: training)<']) expect(svg).toContain(label);
    // Two loss curves (training, validation) and one accuracy curve per run.
    expect(svg.match(/aria-roledescription="line mark"/g)?.length).toBe(6);
    expect(svg.match(/aria-roledescription="point"/g)?.length).toBe(3 * (4 + 3));
    const smoothing = await renderSvg(
      comparisonChart([
        { name: 'wide', history, labelSmoothing: 0.1 },
        { name: 'narrow', history: other },
      ]),
    );
    expect(smoothing).toContain('training loss includes label smoothing (wide: 0.1); validation loss does not');
    expect(svg).not.toContain('label smoothing');
    expect(() => comparisonChart([])).toThrow('no runs to compare');
    expect(() =>
      comparisonChart([
        { name: 'a', history },
        { name: 'a', history },
      ]),
    ).toThrow('run names must differ, got a, a');
  });

  test('any figure of the epoch record, by name: the learning rate (log scale too), an extra metric on a fitted percent axis', async () => {
    const withTop3 = history.map((row) => ({ ...row, learningRate: 0.1 / row.epoch, metrics: { top3: 0.9 + row.epoch * 0.01 } }));
    const rate = await renderSvg(comparisonChart([{ name: 'wide', history: withTop3 }], { metric: 'learningRate', log: true }));
    expect(rate).toContain('learningRate of wide');
    expect(rate.match(/aria-roledescription="point"/g)?.length).toBe(4);
    const top3 = comparisonChart(
      [
        { name: 'wide', history: withTop3 },
        { name: 'narrow', history },
      ],
      { metric: 'top3' },
    ) as { encoding: { y: { scale: unknown; axis: unknown } }; data: { values: unknown[] } };
    expect(top3.data.values).toHaveLength(4); // narrow records no top3
    expect(top3.encoding.y).toMatchObject({ scale: { zero: false }, axis: { format: '.1%' } });
    const svg = await renderSvg(top3 as never);
    expect(svg).toContain('>91.0%<'); // the axis starts near the data, not at 0%
    expect(() => comparisonChart([{ name: 'narrow', history }], { metric: 'top5' })).toThrow('no run has "top5" in its epoch records');
    // Per epoch too: each point the mean of the last 3 epochs' (valLoss 2.3/e + 0.1).
    const view = new vega.View(
      vega.parse(vegaLite.compile(comparisonChart([{ name: 'narrow', history }], { metric: 'valLoss', smooth: 3 }) as never).spec),
      { renderer: 'none' },
    );
    await view.runAsync();
    const shown = (view.data('data_0') as { epoch: number; shown: number }[]).map((point) => point.shown);
    const losses = history.map((row) => row.valLoss);
    expect(shown[3]).toBeCloseTo((losses[1]! + losses[2]! + losses[3]!) / 3, 10);
    expect(shown[0]).toBeCloseTo(losses[0]!, 10);
    view.finalize();
  });

  test('the range test: the curve on a log axis of rates, without its last five steps, the suggestion marked', async () => {
    const steps = Array.from({ length: 30 }, (_, i) => ({ learningRate: 1e-6 * 10 ** (i / 4), loss: 2 - Math.sin(i / 10) }));
    const svg = await renderSvg(lrFinderChart([...steps, { learningRate: 1e2, loss: Number.NaN }], steps[10]!.learningRate));
    expect(svg).toContain('suggested 3.2e-4');
    expect(svg).toContain('>1e-6<'); // the rate axis is logarithmic, in powers of ten
    expect(svg.match(/aria-roledescription="point"/g)?.length).toBe(1);
    const view = new vega.View(vega.parse(vegaLite.compile(lrFinderChart(steps, undefined) as never).spec), { renderer: 'none' });
    await view.runAsync();
    expect((view.data('data_0') as unknown[]).length).toBe(25);
    view.finalize();
  });

  test("per-step loss and learning rate, from a run's progress.json series", async () => {
    const steps = { step: [2, 4, 6], loss: [2, 1.5, 1.2], learningRate: [0.1, 0.1, 0.05] };
    const svg = await renderSvg(
      stepChart(
        [
          { name: 'wide', steps },
          { name: 'narrow', steps: { ...steps, loss: [3, 2, 1] } },
        ],
        'loss',
      ),
    );
    expect(svg).toContain('training loss per step, 2 runs');
    expect(svg.match(/aria-roledescription="line mark"/g)?.length).toBe(2);
    expect(() => stepChart([], 'learningRate')).toThrow('no run recorded its learningRate per step');
    // Smoothed: the mean of the last 2 points of each run, drawn by vega itself.
    const smoothed = await renderSvg(stepChart([{ name: 'wide', steps }], 'loss', { smooth: 2 }));
    expect(smoothed).toContain('training loss per step of wide (mean of 2 points)');
    const view = new vega.View(vega.parse(vegaLite.compile(stepChart([{ name: 'wide', steps }], 'loss', { smooth: 2 }) as never).spec), {
      renderer: 'none',
    });
    await view.runAsync();
    const shown = (view.data('data_0') as { step: number; shown: number }[]).map((point) => [point.step, point.shown]);
    expect(shown).toEqual([
      [2, 2],
      [4, 1.75],
      [6, 1.35],
    ]);
    view.finalize();
  });

  test("parallel coordinates: a line per run across its settings' axes and on to the figure, coloured by it", async () => {
    const runs = [
      { name: 'a', settings: { 'optimizer.momentum': 0, 'model.hidden': '[32]' }, figure: 0.81 },
      { name: 'b', settings: { 'optimizer.momentum': 0.5, 'model.hidden': '[64]' }, figure: 0.86 },
      { name: 'c', settings: { 'optimizer.momentum': 0.9, 'model.hidden': '[32]' }, figure: 0.9 },
    ];
    const spec = parallelCoordinates(runs, 'valAccuracy') as { data: { values: { run: string; axis: string; y: number }[] } };
    const at = (run: string, axis: string) => spec.data.values.find((v) => v.run === run && v.axis === axis)?.y;
    expect([at('a', 'optimizer.momentum'), at('b', 'optimizer.momentum'), at('c', 'optimizer.momentum')]).toEqual([0, 0.5 / 0.9, 1]);
    expect([at('a', 'model.hidden'), at('b', 'model.hidden')]).toEqual([0, 1]); // texts in their sorted order
    expect([at('a', 'valAccuracy'), at('c', 'valAccuracy')]).toEqual([0, 1]);
    const svg = await renderSvg(spec as never);
    expect(svg).toContain('settings of 3 runs against valAccuracy');
    expect(svg.match(/aria-roledescription="line mark"/g)?.length).toBe(3);
    expect(() => parallelCoordinates([], 'valAccuracy')).toThrow('no runs, or no settings');
  });

  test('the accuracy chart puts each epoch on the curve', async () => {
    const svg = await renderSvg(accuracyChart(history));
    expect(svg).toContain('Accuracy vs. No. of epochs');
    expect(svg.match(/aria-roledescription="point"/g)?.length).toBe(4);
  });

  test('the confusion matrix labels every cell with its count', async () => {
    const matrix = { classes: 2, counts: Uint32Array.from([7, 3, 1, 9]) };
    const svg = await renderSvg(confusionMatrixChart(matrix, ['cat', 'dog']));
    for (const count of ['>7<', '>3<', '>1<', '>9<']) expect(svg).toContain(count);
    expect(() => confusionMatrixChart(matrix, ['cat'])).toThrow(RangeError);
  });

  test('PNG rendering gives a real image with the chart’s size (2x)', async () => {
    const png = await renderPng(lossChart(history));
    const meta = await sharp(png).metadata();
    expect(meta.format).toBe('png');
    expect(meta.width).toBeGreaterThan(1100);
    const dir = await mkdtemp(join(tmpdir(), 'rxvision-plot-'));
    await writeFile(join(dir, 'loss.png'), png);
    // Text was rasterised: the title row is not blank.
    const { data, info } = await sharp(png)
      .extract({ left: 0, top: 0, width: meta.width!, height: 40 })
      .greyscale()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const dark = [...data].filter((v) => v < 128).length;
    expect(dark).toBeGreaterThan(info.width); // a line of text, not an empty band
  });
});
