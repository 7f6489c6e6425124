import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { writeGreyBands } from './bands-fixture.js';
import { runCli } from './run-cli.js';

// rxvision lr-find: the learning-rate range test on an experiment file, writing nothing but its chart.
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rxvision-lr-find-'));
  await writeGreyBands(join(dir, 'train.arrow'), 300);
  await writeFile(
    join(dir, 'bands.json'),
    JSON.stringify({
      dataset: { type: 'arrow', train: 'train.arrow' },
      validation: 30,
      batchSize: 32,
      model: { type: 'cnn', blocks: [4] },
      optimizer: { type: 'adam' },
      schedule: [{ epochs: 1, learningRate: 0.01 }],
    }),
  );
}, 60_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('rxvision lr-find', () => {
  test('steps over rising rates, stops where the loss diverges, suggests a rate and draws the curve', async () => {
    const chart = join(dir, 'lr-find.png');
    const before = await readdir(dir);
    const result = await runCli([
      'lr-find',
      '--config',
      join(dir, 'bands.json'),
      '--steps',
      '40',
      '--start',
      '1e-5',
      '--end',
      '1e3',
      '--json',
      '--chart',
      chart,
    ]);
    expect(result.code, result.stderr).toBe(0);
    const events = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    const end = events.at(-1);
    expect(end.steps).toEqual(events.slice(0, -1));
    expect(end.steps.length).toBeLessThanOrEqual(40);
    expect(end.steps[0].learningRate).toBeCloseTo(1e-5, 12);
    expect(end.suggestion).toBeGreaterThan(1e-5);
    expect(end.suggestion).toBeLessThan(1e3);
    expect((await readFile(chart)).subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect((await readdir(dir)).sort()).toEqual([...before, 'lr-find.png'].sort());

    const text = await runCli(['lr-find', '--config', join(dir, 'bands.json'), '--steps', '40', '--start', '1e-5', '--end', '1e3']);
    expect(text.stdout).toMatch(/suggested learning rate: \d\.\d\de-?\+?\d+ \(fastai's valley\)\n$/);
    expect(text.stdout).toContain(`minimum/10 ${end.suggestions.minimum.toExponential(2)}`);
    expect(text.stdout).toContain(`suggested learning rate: ${end.suggestion.toExponential(2)}`);
  }, 120_000);

  test.runIf(process.getuid?.() === 0)(
    'a chart onto a full disk is one line, and no part of it is left (root: mount)',
    async () => {
      const disk = join(dir, 'full');
      await mkdir(disk);
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8192', 'tmpfs', disk]); // two pages: less than the chart
      try {
        const chart = join(disk, 'lr-find.png');
        const result = await runCli(['lr-find', '--config', join(dir, 'bands.json'), '--steps', '20', '--chart', chart]);
        expect(result.code).toBe(1);
        expect(result.stderr.trim()).toMatch(
          new RegExp(`^rxvision: no space left in ${disk}: writing ${chart} needs about [\\d.]+ [KM]?B; .*$`),
        );
        expect(await readdir(disk)).toEqual([]);
      } finally {
        execFileSync('umount', ['--lazy', disk]);
      }
    },
    120_000,
  );

  test('rates that do not rise are one line', async () => {
    const result = await runCli(['lr-find', '--config', join(dir, 'bands.json'), '--start', '1', '--end', '0.1']);
    expect(result).toMatchObject({ code: 1, stderr: 'rxvision: --end (0.1) must be above --start (1)\n' });
  });
});
