// Adds up the vitest JSON reports of every project into one closing line: "N passed, N failed, N skipped",
// followed by any unhandled errors.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../', import.meta.url).pathname;
let passed = 0;
let failed = 0;
let skipped = 0;
const unhandled = [];
for (const group of ['packages', 'tools']) {
  for (const name of readdirSync(join(root, group))) {
    const report = join(root, group, name, '.vitest-results.json');
    if (!existsSync(report)) continue;
    const results = JSON.parse(readFileSync(report, 'utf8'));
    passed += results.numPassedTests;
    failed += results.numFailedTests;
    skipped += results.numPendingTests + results.numTodoTests;
    const errors = join(root, group, name, '.vitest-unhandled.json');
    if (existsSync(errors)) unhandled.push(...JSON.parse(readFileSync(errors, 'utf8')).messages.map((message) => `${name}: ${message}`));
  }
}
// Unhandled errors fail a project's run without failing a test: named so the count never reads clean.
const errors = unhandled.length ? `, ${unhandled.length} unhandled error${unhandled.length > 1 ? 's' : ''} (${unhandled.join('; ')})` : '';
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped${errors}`);
