import { readFileSync, writeFileSync } from 'node:fs';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, expect, test } from 'vitest';
import { join } from 'node:path';
import { IMPORTED_OPERATORS, readOnnx } from '../src/index.js';
import { type CaseResult, matchingCases, ONNX_TEST_DATA, runCase } from './onnx-test-cases.js';

const REPORT = new URL('../CONFORMANCE.md', import.meta.url);
const operatorsOf = (name: string) => readOnnx(readFileSync(join(ONNX_TEST_DATA, name, 'model.onnx'))).nodes.map((node) => node.op);

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** The report as committed: every matching case, passed or refused with the importer's line. */
function report(results: ReadonlyMap<string, CaseResult>): string {
  const passed = [...results].filter(([, r]) => r.outcome === 'passed').map(([name]) => name);
  const refused = [...results].filter(([, r]) => r.outcome === 'refused') as [string, { reason: string }][];
  return [
    "# ONNX conformance: `onnxToLayers` on ONNX's own node tests",
    '',
    "Every case of Debian's `libonnx-testdata` 1.12 (`/usr/share/libonnx-testdata/data/node`) whose",
    'nodes are all operators the importer takes, on float tensors: imported, run on the cpu backend, and',
    "compared with the case's expected outputs within 1e-4 (relative above 1). A refused case is one the",
    "importer declines in one line, for the reason given: an imported model's first axis is its batch, so",
    'a case that moves, merges or reduces it (or has 1-D inputs) cannot be one. No case is computed wrong:',
    '`test/conformance.test.ts` fails on any, and on any difference from this file',
    '(`UPDATE_CONFORMANCE=1 npx vitest run test/conformance.test.ts` rewrites it).',
    '',
    `Operators: ${IMPORTED_OPERATORS.join(', ')}.`,
    '',
    `## Passed (${passed.length} of ${results.size})`,
    '',
    ...passed.map((name) => `- \`${name}\``),
    '',
    `## Refused (${refused.length})`,
    '',
    '| case | why |',
    '| ---- | --- |',
    ...refused.map(([name, r]) => `| \`${name}\` | ${r.reason.replace(/\|/g, '\\|')} |`),
    '',
  ].join('\n');
}

test(`ONNX's node tests for every imported operator: each passes within 1e-4 or is refused in one line (${ONNX_TEST_DATA})`, () => {
  const results = new Map(matchingCases().map((name) => [name, runCase(name)] as const));
  const wrong = [...results].filter(([, r]) => r.outcome === 'wrong').map(([name, r]) => `${name}: ${'reason' in r ? r.reason : ''}`);
  expect(wrong).toEqual([]);
  // Every imported operator is in a case that passes but Constant (its one case has no input) and
  // Sum (its cases are 1-D): the round trips of onnx-to-layers.test.ts run both.
  const passedOps = new Set([...results].filter(([, r]) => r.outcome === 'passed').flatMap(([name]) => operatorsOf(name)));
  expect(IMPORTED_OPERATORS.filter((op) => !passedOps.has(op))).toEqual(['Sum', 'Constant']);
  if (process.env.UPDATE_CONFORMANCE) writeFileSync(REPORT, report(results));
  expect(readFileSync(REPORT, 'utf8')).toBe(report(results));
}, 300_000);
