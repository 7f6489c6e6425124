#!/usr/bin/env node
// Writes experiment.schema.json and the field reference in README.md from the zod schema (run after
// a build: `npx nx build experiment && node packages/experiment/scripts/generate-reference.js`).
// test/reference.test.ts fails while either is out of date.
import { readFileSync, writeFileSync } from 'node:fs';
import { experimentFieldReference, experimentJsonSchema } from '../dist/index.js';

const root = new URL('../', import.meta.url);
writeFileSync(new URL('experiment.schema.json', root), `${JSON.stringify(experimentJsonSchema(), null, 2)}\n`);
const readme = new URL('README.md', root);
const [before, rest] = readFileSync(readme, 'utf8').split('<!-- fields:start -->');
const [, after] = rest.split('<!-- fields:end -->');
writeFileSync(readme, `${before}<!-- fields:start -->\n${experimentFieldReference()}\n<!-- fields:end -->${after}`);
