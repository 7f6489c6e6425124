// One experiment trained by the CLI into a benchmark's folder, for the benchmarks that compare runs.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const cli = resolve(import.meta.dirname, '../../packages/cli/bin/rxvision.js');

/**
 * Trains `experiment` as `out/name` (its file `out/name.json`) unless that run finished before, and
 * returns its summary.json. `stdout: 'inherit'` shows its epochs.
 */
export function trainedSummary(out, name, experiment, { stdout = 'ignore' } = {}) {
  const run = join(out, name);
  if (!existsSync(join(run, 'summary.json'))) {
    const config = `${run}.json`;
    writeFileSync(config, `${JSON.stringify(experiment, null, 2)}\n`);
    console.log(`rxvision train --config ${config} --out ${run}`);
    execFileSync(process.execPath, [cli, 'train', '--config', config, '--out', run], { stdio: ['ignore', stdout, 'inherit'] });
  }
  return JSON.parse(readFileSync(join(run, 'summary.json'), 'utf8'));
}
