import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, expect, test } from 'vitest';
import { runCli } from './run-cli.js';
import { runNode } from './run-cli.js';

const readme = fileURLToPath(new URL('../../../README.md', import.meta.url));
const source = process.env.RXVISION_CIFAR10_SOURCE;
const cleanup: string[] = [];
afterAll(() => Promise.all(cleanup.map((path) => rm(path, { recursive: true, force: true }))));

/** Runs the README's code block marked `name` exactly as written (in a new folder, or `cwd`), with `args`; returns what it printed, uncoloured. */
async function runExample(name: string, args: readonly string[] = [], cwd?: string): Promise<string> {
  const text = await readFile(readme, 'utf8');
  const code = new RegExp(`<!-- ${name} -->\\s*\`\`\`js\\n([\\s\\S]*?)\`\`\``).exec(text)?.[1];
  expect(code, `README block ${name}`).toBeDefined();
  // Inside the workspace, so that `@rxvision/*` resolve to the workspace packages.
  const script = fileURLToPath(new URL(`./.${name}.mjs`, import.meta.url));
  await writeFile(script, code!);
  const folder = cwd ?? (await mkdtemp(join(tmpdir(), 'rxvision-readme-')));
  cleanup.push(script, folder);
  const output = await runNode([script, ...args], { cwd: folder });
  expect(output.code, output.stderr).toBe(0);
  // console.log colours objects when the environment forces colour (CI may): compare plain text.
  return output.stdout.replace(/\u001b\[\d+m/g, '');
}

test.runIf(source)(
  'the README’s pipeline example runs as written and prints an epoch record',
  async () => {
    const printed = await runExample('pipeline-example');
    expect(printed).toMatch(/epoch: 1,\s+phase: 0,\s+learningRate: 0\.05,\s+trainLoss: [\d.]+,\s+valLoss: [\d.]+,\s+valAccuracy: 0\.[1-9]/);
  },
  600_000,
);

test.runIf(source)(
  'the README’s experiment example runs as written: two epochs of a CNN, then per-class accuracy',
  async () => {
    const printed = await runExample('experiment-example');
    const records = [
      ...printed.matchAll(
        /epoch: (\d),\s+phase: 0,\s+learningRate: ([\d.e-]+),\s+trainLoss: ([\d.]+),\s+valLoss: [\d.]+,\s+valAccuracy: ([\d.]+)/g,
      ),
    ];
    expect(records.map((r) => Number(r[1]))).toEqual([1, 2]);
    expect(Number(records[1]![2])).toBeLessThan(Number(records[0]![2])); // one-cycle: falling in the second half
    expect(Number(records[1]![3])).toBeLessThan(Number(records[0]![3]));
    expect(Number(records[1]![4])).toBeGreaterThan(0.2); // chance is 0.1
    expect(printed).toMatch(/validation accuracy 0\.\d{3} airplane \d\.\d\d, automobile \d\.\d\d, .*truck \d\.\d\d/);
  },
  600_000,
);

const jsonLines = (printed: string) =>
  printed
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { type: string; [field: string]: unknown });

test('the README’s resume example: stopped mid-epoch in one process, resumed in another, the events and history of an uninterrupted run', async () => {
  const interrupted = await mkdtemp(join(tmpdir(), 'rxvision-readme-resume-'));
  const first = jsonLines(await runExample('resume-example', ['--stop', '2:4'], interrupted));
  expect(first.at(-1)).toMatchObject({ type: 'stopped', position: { epoch: 2, step: 4 } });
  const second = jsonLines(await runExample('resume-example', [], interrupted));
  const whole = jsonLines(await runExample('resume-example'));
  expect(whole.filter((event) => event.type === 'epoch')).toHaveLength(3);
  expect(second[0]).toMatchObject({ type: 'batch', epoch: 2, step: 5 });
  // Every event, losses to the last digit, and the final history: as if it had never stopped.
  expect([...first.slice(0, -1), ...second]).toEqual(whole);
  expect(whole.at(-1)).toMatchObject({ type: 'end', reason: 'completed' });
}, 300_000);

test('the README’s early-stopping example stops early and ends with the best epoch’s weights', async () => {
  const { reason, epochs, bestEpoch, valLosses, modelValLoss } = JSON.parse(await runExample('early-stopping-example')) as {
    reason: string;
    epochs: number;
    bestEpoch: number;
    valLosses: number[];
    modelValLoss: number;
  };
  const [patience, minDelta] = [2, 0.05]; // as the example sets them
  expect(reason).toBe('early-stopping');
  expect(valLosses).toHaveLength(epochs);
  // The best epoch is the last to beat every one before it by minDelta; patience epochs after it did not, and the run stopped.
  expect(epochs).toBe(bestEpoch + patience);
  for (let e = 1; e < bestEpoch; e++) expect(valLosses[bestEpoch - 1]!).toBeLessThan(valLosses[e - 1]!);
  for (let e = bestEpoch + 1; e <= epochs; e++) expect(valLosses[e - 1]!).toBeGreaterThanOrEqual(valLosses[bestEpoch - 1]! - minDelta);
  // The model ends with that epoch's weights, not the last epoch's.
  expect(modelValLoss).toBeCloseTo(valLosses[bestEpoch - 1]!, 5);
  expect(modelValLoss).not.toBeCloseTo(valLosses.at(-1)!, 5);
}, 300_000);

test('the README’s run example: a run made in code is evaluated, predicted and listed by the CLI as the CLI’s own are', async () => {
  const cwd = await mkdtemp(join(tmpdir(), 'rxvision-readme-run-'));
  const printed = await runExample('run-example', [], cwd);
  expect(printed).toMatch(/^epoch 1: val_acc [\d.]+\nepoch 2: val_acc [\d.]+\ntest_acc [\d.]+: wrote runs\/bands\n/);
  const ranked = JSON.parse(printed.trim().split('\n').at(-1)!) as { class: string; probability: number }[];
  expect(ranked.map((r) => r.class)).toEqual(['bottom', 'top']);
  const run = join(cwd, 'runs', 'bands');
  const summary = JSON.parse(await readFile(join(run, 'summary.json'), 'utf8'));
  expect(summary).toMatchObject({
    format: 1,
    epochs: 2,
    batchSize: 50,
    split: { train: 480, validation: 120, test: 200 },
    backend: { name: 'wasm' },
  });
  // The CLI reads the run as its own: evaluate (on the run's own test file), predict, the dashboard's list.
  const evaluated = await runCli(['evaluate', '--model', run, '--backend', 'wasm', '--json']);
  expect(evaluated.code, evaluated.stderr).toBe(0);
  expect(JSON.parse(evaluated.stdout)).toMatchObject({ images: 200, accuracy: summary.test.accuracy });
  const png = join(cwd, 'bottom.png');
  await sharp(Buffer.from(Uint8Array.from({ length: 64 }, (_, i) => (i < 32 ? 60 : 150))), { raw: { width: 8, height: 8, channels: 1 } })
    .png()
    .toFile(png);
  const predicted = await runCli(['predict', '--model', run, '--backend', 'wasm', '--json', '--top', '1', png]);
  expect(predicted.code, predicted.stderr).toBe(0);
  expect(JSON.parse(predicted.stdout).top[0].class).toBe('bottom');
  let listed: Promise<string[]> | undefined;
  const dashboard = await runCli(
    ['dashboard', join(cwd, 'runs'), '--port', '0'],
    {},
    {
      onStdout: (stdout, child) => {
        const url = stdout.match(/(http:\/\/127\.0\.0\.1:\d+\/) \(Ctrl-C stops it\)/)?.[1];
        if (!url || listed) return;
        listed = fetch(new URL('/api/runs', url)).then(async (response) =>
          ((await response.json()) as { name: string }[]).map((r) => r.name),
        );
        void listed.finally(() => child.kill('SIGINT'));
      },
    },
  );
  expect(dashboard.code, dashboard.stderr).toBe(0);
  expect(await listed).toEqual(['bands']);
}, 300_000);
