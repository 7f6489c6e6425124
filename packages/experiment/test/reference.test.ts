import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { experimentFieldReference, experimentJsonSchema } from '../src/index.js';

const file = (name: string) => readFileSync(new URL(`../${name}`, import.meta.url), 'utf8');
const regenerate = 'out of date: npx nx build experiment && node packages/experiment/scripts/generate-reference.js';

test("experiment.schema.json is the zod schema's JSON Schema, as shipped", () => {
  expect(JSON.parse(file('experiment.schema.json')), regenerate).toEqual(experimentJsonSchema());
});

test("the README's field reference is the one made from the schema", () => {
  const section = /<!-- fields:start -->\n([\s\S]*?)\n<!-- fields:end -->/.exec(file('README.md'))?.[1];
  expect(section, regenerate).toBe(experimentFieldReference());
});

test('every experiment in experiments/ names the schema, so editors complete and check its fields', () => {
  for (const name of ['tutorial.json', 'cifar10-cnn.json', 'fashion-mnist-mlp.json']) {
    const experiment = JSON.parse(readFileSync(new URL(`../../../experiments/${name}`, import.meta.url), 'utf8')) as { $schema?: string };
    expect(experiment.$schema, name).toBe('../packages/experiment/experiment.schema.json');
  }
});
