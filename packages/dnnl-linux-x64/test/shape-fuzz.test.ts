import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { buildProblem, compileAddon } from '../build.js';

// Every kernel of the addon against tfjs's cpu backend over drawn shapes (shape-fuzz.js), in a
// child process each, so that a crash or a hang fails a test rather than the run: the addon as
// built, and its checked build (guard pages around the addon's own buffers) under AddressSanitizer.
// CI builds both (.ci/run installs g++ and libdnnl-dev); elsewhere a missing toolchain is named.
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = existsSync(join(root, 'dnnl.node'));
const problem = buildProblem();
if ((!built || problem) && !process.env.CI)
  console.warn(`skipping the shape fuzz: ${problem ?? readFileSync(join(root, 'build-status.txt'), 'utf8').trim()}`);

const scratch = mkdtempSync(join(tmpdir(), 'rxvision-dnnl-fuzz-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface Outcome {
  code: number | null;
  signal: string | null;
  failures: unknown[];
  lastCase: string;
}

/** Runs shape-fuzz-main.js on `addon`; `timeout` ends a hang, which then names its case. */
function fuzz(addon: string, seed: number, count: number, env: NodeJS.ProcessEnv = {}, timeout = 150_000): Promise<Outcome> {
  return new Promise((resolve) => {
    const main = join(root, 'test', 'shape-fuzz-main.js');
    execFile(
      process.execPath,
      [main, addon, String(seed), String(count)],
      { env: { ...process.env, ...env }, timeout, maxBuffer: 64 << 20 },
      (error, stdout, stderr) => {
        const failures = stdout
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as unknown);
        const cases = stderr.split('\n').filter((line) => /^\w+ (#|regression )\d+$/.test(line));
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, signal: error?.signal ?? null, failures, lastCase: cases.at(-1) ?? 'none' });
      },
    );
  });
}

/** Exit 0, no signal and no failing case; otherwise the message names the last case run. */
const expectClean = (outcome: Outcome) =>
  expect(outcome, `last case run: ${outcome.lastCase}`).toMatchObject({ code: 0, signal: null, failures: [] });

describe.runIf((built && !problem) || process.env.CI)('the shape fuzz', () => {
  test('every kernel, forward and gradients, matches the cpu backend on drawn shapes (the addon as built)', async () => {
    const outcomes = await Promise.all([1, 2].map((seed) => fuzz(join(root, 'dnnl.node'), seed, 40)));
    outcomes.forEach(expectClean);
  }, 200_000);

  test("and under AddressSanitizer, with the addon's own buffers against guard pages (the checked build)", async () => {
    const addon = join(scratch, 'dnnl-checked.node');
    compileAddon({ output: addon, checked: true, rpath: join(root, 'lib') });
    const asan = execFileSync('g++', ['-print-file-name=libasan.so'], { encoding: 'utf8' }).trim();
    const checked = await fuzz(addon, 3, 40, { LD_PRELOAD: asan, ASAN_OPTIONS: 'detect_leaks=0:abort_on_error=1' });
    expectClean(checked);
    // The checked build is what ran: it says so.
    const said = execFileSync(process.execPath, ['-e', `process.stdout.write(String(require(${JSON.stringify(addon)}).checked))`], {
      encoding: 'utf8',
      env: { ...process.env, LD_PRELOAD: asan, ASAN_OPTIONS: 'detect_leaks=0' },
    });
    expect(said).toBe('true');
  }, 200_000);
});
