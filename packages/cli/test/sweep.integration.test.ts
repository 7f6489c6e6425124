import { access, cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageDatasetWriter } from '@rxvision/dataset/node';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli } from './run-cli.js';
import { expectOneWritersRun } from './run-consistency.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rxvision-sweep-'));
  // 300 grey 8×8 images in three classes, class c brighter in band c.
  const writer = await ImageDatasetWriter.create(join(dir, 'data', 'bands.arrow'), {
    classes: ['top', 'middle', 'bottom'],
    shape: [8, 8, 1],
    rows: 300,
  });
  for (let row = 0; row < 300; row++) {
    const label = row % 3;
    await writer.append(
      Uint8Array.from({ length: 64 }, (_, i) => (Math.min(2, Math.floor(i / 22)) === label ? 160 : 30) + ((row * 17 + i * 5) % 50)),
      label,
    );
  }
  await writer.commit();
  // The base in its own file, with a path relative to it; the sweep beside it names it.
  await writeFile(
    join(dir, 'data', 'base.json'),
    JSON.stringify({
      dataset: { type: 'arrow', train: 'bands.arrow', test: 'bands.arrow' },
      validation: 60,
      batchSize: 30,
      model: { type: 'mlp', hidden: [8] },
      optimizer: { type: 'sgd' },
      schedule: [{ epochs: 2, learningRate: 0.05 }],
    }),
  );
  // Four trials; the two with a batch larger than the training split fail for their own reason.
  await writeFile(
    join(dir, 'sweep.json'),
    JSON.stringify({ base: 'data/base.json', grid: { batchSize: [30, 100_000], 'optimizer.momentum': [0, 0.9] }, concurrency: 2 }),
  );
}, 60_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

const history = async (run: string) => JSON.parse(await readFile(join(run, 'history.json'), 'utf8')) as { valAccuracy: number }[];

describe('rxvision sweep', () => {
  test('runs every trial, two at a time; failures are marked with their reason; status shows the table; a rerun keeps what finished', async () => {
    const out = join(dir, 'out');
    const result = await runCli(['sweep', join(dir, 'sweep.json'), '--out', out, '--backend', 'wasm'], {}, { cwd: tmpdir() });
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr.trim()).toBe(`rxvision: 2 of 4 trials failed (reasons above); the others are in ${out}`);
    expect(result.stdout).toMatch(
      /trial-002 \(batchSize=100000, optimizer.momentum=0\): failed: \S+trial-002.json: batchSize: 100000 is larger than the training split \(240 images\)/,
    );
    const record = JSON.parse(await readFile(join(out, 'sweep.json'), 'utf8'));
    expect(Object.fromEntries(Object.entries(record.states).map(([name, state]) => [name, (state as { state: string }).state]))).toEqual({
      'trial-000': 'finished',
      'trial-001': 'finished',
      'trial-002': 'failed',
      'trial-003': 'failed',
    });
    for (const trial of ['trial-000', 'trial-001']) await expectOneWritersRun(join(out, trial), 2);
    await access(join(out, 'comparison.png'));

    // A trial's history is the same as its experiment run alone.
    const alone = join(dir, 'alone');
    expect((await runCli(['train', '--config', join(out, 'trials', 'trial-001.json'), '--out', alone, '--backend', 'wasm'])).code).toBe(0);
    expect((await history(alone)).map((r) => r.valAccuracy)).toEqual((await history(join(out, 'trial-001'))).map((r) => r.valAccuracy));

    await rm(join(out, 'comparison.png'));
    const status = await runCli(['sweep', 'status', out]);
    expect(status.code, status.stderr).toBe(0);
    const lines = status.stdout.trim().split('\n');
    expect(lines).toHaveLength(6);
    expect(lines[5]).toBe(`curves of the trials so far: ${join(out, 'comparison.png')}`);
    await access(join(out, 'comparison.png')); // drawn again
    expect(lines[0]).toMatch(/^trial\s+settings\s+state\s+val_acc\s+test_acc$/);
    expect(lines[2]).toMatch(/^trial-001\s+batchSize=30, optimizer\.momentum=0\.9\s+finished\s+[01]\.\d{4}\s+[01]\.\d{4}$/);
    expect(lines[3]).toContain('batchSize: 100000 is larger than the training split');
    const cancel = await runCli(['sweep', 'cancel', out]);
    expect([cancel.code, cancel.stderr.trim()]).toEqual([
      1,
      `rxvision: ${out}: this sweep runs on this machine, not through a queue; stop it with Ctrl-C where it runs`,
    ]);

    const before = await readFile(join(out, 'trial-000', 'history.json'), 'utf8');
    const again = await runCli(
      ['sweep', join(dir, 'sweep.json'), '--out', out, '--backend', 'wasm', '--concurrency', '1'],
      {},
      { cwd: tmpdir() },
    );
    expect(again.code).toBe(1);
    expect(await readFile(join(out, 'trial-000', 'history.json'), 'utf8')).toBe(before); // finished: not run again
  }, 300_000);

  test("status trusts no trial's figures: an edited history shows as damaged, naming the trial and epoch; a null figure is left blank (#34)", async () => {
    const out = join(dir, 'out'); // the sweep the first test ran
    const damaged = join(dir, 'damaged');
    await cp(out, damaged, { recursive: true });
    const edit = async (trial: string, change: (records: Record<string, unknown>[]) => void) => {
      const path = join(damaged, trial, 'history.json');
      const records = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>[];
      change(records);
      await writeFile(path, JSON.stringify(records));
    };
    await edit('trial-000', (records) => void (records[0]!.valAccuracy = 1e308));
    await edit('trial-001', (records) => void (records.at(-1)!.valAccuracy = null));
    const status = await runCli(['sweep', 'status', damaged]);
    expect(status.code, status.stderr).toBe(0);
    const lines = status.stdout.trim().split('\n');
    expect(lines[1]).toContain(`damaged: ${join(damaged, 'trial-000', 'history.json')}: epoch 1: valAccuracy 1e+308 is outside [0, 1]`);
    expect(lines[2]).toMatch(/^trial-001\s+batchSize=30, optimizer\.momentum=0\.9\s+finished\s+[01]\.\d{4}$/); // no val_acc, the test's still there
  }, 120_000);

  test('a bad sweep file fails in one line before anything runs', async () => {
    await writeFile(join(dir, 'bad.json'), JSON.stringify({ base: 'data/base.json', grid: { 'optimizer.momentum': [0.5, 2] } }));
    const result = await runCli(['sweep', join(dir, 'bad.json'), '--out', join(dir, 'never')]);
    expect([result.code, result.stderr.trim()]).toEqual([
      1,
      `rxvision: ${join(dir, 'bad.json')} (trial-001: optimizer.momentum=2): optimizer.momentum: expected a number < 1, got 2`,
    ]);
    await expect(access(join(dir, 'never'))).rejects.toThrow('ENOENT');
  });

  test("run, status and cancel are subcommands: `sweep FILE` is `sweep run FILE`; a usage error names the subcommand's help", async () => {
    const explicit = await runCli(['sweep', 'run', join(dir, 'bad.json'), '--out', join(dir, 'never')]);
    expect([explicit.code, explicit.stderr.trim()]).toEqual([
      1,
      `rxvision: ${join(dir, 'bad.json')} (trial-001: optimizer.momentum=2): optimizer.momentum: expected a number < 1, got 2`,
    ]);
    const missing = await runCli(['sweep', 'status']);
    expect([missing.code, missing.stderr.trim()]).toEqual([
      1,
      "rxvision: missing required argument 'dir' (see rxvision sweep status --help)",
    ]);
    const help = await runCli(['sweep', 'cancel', '--help']);
    expect(help.stdout).toContain('Usage: rxvision sweep cancel [options] <dir>');
  });

  test('the folder of a sweep file called sweep.json is neither a sweep folder nor its output', async () => {
    const file = join(dir, 'sweep.json');
    const before = await readFile(file, 'utf8');
    const status = await runCli(['sweep', 'status', dir]);
    expect([status.code, status.stderr.trim()]).toEqual([1, `rxvision: ${dir}: not a sweep folder (no sweep.json)`]);
    const over = await runCli(['sweep', file, '--out', dir]);
    expect([over.code, over.stderr.trim()]).toEqual([
      1,
      `rxvision: ${file}: --out ${dir} would write the sweep's record over this sweep file; choose another folder`,
    ]);
    expect(await readFile(file, 'utf8')).toBe(before);
  });
});
