import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, test } from 'vitest';
import { runNode } from './run-cli.js';

const readme = fileURLToPath(new URL('../../../README.md', import.meta.url));
const source = process.env.RXVISION_CIFAR10_SOURCE;
const cleanup: string[] = [];
afterAll(() => Promise.all(cleanup.map((path) => rm(path, { recursive: true, force: true }))));

/** Runs the README's code block marked `name` exactly as written; returns what it printed, uncoloured. */
async function runExample(name: string): Promise<string> {
  const text = await readFile(readme, 'utf8');
  const code = new RegExp(`<!-- ${name} -->\\s*\`\`\`js\\n([\\s\\S]*?)\`\`\``).exec(text)?.[1];
  expect(code, `README block ${name}`).toBeDefined();
  // Inside the workspace, so that `@rxvision/*` resolve to the workspace packages.
  const script = fileURLToPath(new URL(`./.${name}.mjs`, import.meta.url));
  await writeFile(script, code!);
  const cwd = await mkdtemp(join(tmpdir(), 'rxvision-readme-'));
  cleanup.push(script, cwd);
  const output = await runNode([script], { cwd });
  expect(output.code, output.stderr).toBe(0);
  // console.log colours objects when the environment forces colour (CI may): compare plain text.
  return output.stdout.replace(/\u001b\[\d+m/g, '');
}

test.runIf(source)('the README’s pipeline example runs as written and prints an epoch record', async () => {
  const printed = await runExample('pipeline-example');
  expect(printed).toMatch(/epoch: 1,\s+phase: 0,\s+learningRate: 0\.05,\s+trainLoss: [\d.]+,\s+valLoss: [\d.]+,\s+valAccuracy: 0\.[1-9]/);
}, 600_000);

test.runIf(source)('the README’s experiment example runs as written: two epochs of a CNN, then per-class accuracy', async () => {
  const printed = await runExample('experiment-example');
  const records = [...printed.matchAll(/epoch: (\d),\s+phase: 0,\s+learningRate: ([\d.e-]+),\s+trainLoss: ([\d.]+),\s+valLoss: [\d.]+,\s+valAccuracy: ([\d.]+)/g)];
  expect(records.map((r) => Number(r[1]))).toEqual([1, 2]);
  expect(Number(records[1]![2])).toBeLessThan(Number(records[0]![2])); // one-cycle: falling in the second half
  expect(Number(records[1]![3])).toBeLessThan(Number(records[0]![3]));
  expect(Number(records[1]![4])).toBeGreaterThan(0.2); // chance is 0.1
  expect(printed).toMatch(/validation accuracy 0\.\d{3} airplane \d\.\d\d, automobile \d\.\d\d, .*truck \d\.\d\d/);
}, 600_000);
