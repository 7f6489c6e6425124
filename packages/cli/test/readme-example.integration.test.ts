import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, test } from 'vitest';
import { runNode } from './run-cli.js';

const readme = fileURLToPath(new URL('../../../README.md', import.meta.url));
// Inside the workspace, so that `@rxvision/*` resolve to the workspace packages.
const script = fileURLToPath(new URL('./.readme-example.mjs', import.meta.url));
const source = process.env.RXVISION_CIFAR10_SOURCE;
let cwd: string | undefined;
afterAll(async () => {
  await rm(script, { force: true });
  if (cwd) await rm(cwd, { recursive: true, force: true });
});

test.runIf(source)('the README’s pipeline example runs as written and prints an epoch record', async () => {
  const text = await readFile(readme, 'utf8');
  const code = /<!-- pipeline-example -->\s*```js\n([\s\S]*?)```/.exec(text)?.[1];
  expect(code).toBeDefined();
  await writeFile(script, code!);
  cwd = await mkdtemp(join(tmpdir(), 'rxvision-readme-'));
  const output = await runNode([script], { cwd });
  expect(output.code, output.stderr).toBe(0);
  // console.log colours objects when the environment forces colour (CI may): compare plain text.
  const plain = output.stdout.replace(/\u001b\[\d+m/g, '');
  expect(plain).toMatch(/epoch: 1,\s+phase: 0,\s+learningRate: 0\.05,\s+trainLoss: [\d.]+,\s+valLoss: [\d.]+,\s+valAccuracy: 0\.[1-9]/);
}, 600_000);
