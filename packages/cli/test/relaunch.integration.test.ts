import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MALLOC_TUNABLES } from '@rxvision/backend';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli } from './run-cli.js';

const source = process.env.RXVISION_CIFAR10_SOURCE;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rxvision-relaunch-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** The processes `pid` started (Linux). */
const childrenOf = (pid: number) => readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
const processState = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]![0];
  } catch {
    return 'gone';
  }
};
const environment = (pid: number) => Object.fromEntries(readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean).map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]));

describe.runIf(source && process.platform === 'linux')('the CLI runs its command in a child with glibc malloc settings', () => {
  test('the child has GLIBC_TUNABLES; killing the parent outright makes the child checkpoint and stop', async () => {
    const run = join(dir, 'run');
    let seen: { child: number; tunables: string | undefined } | undefined;
    const result = await runCli(['train', '--data', join(dir, 'data'), '--out', run, '--schedule', '2@0.05,1@0.01', '--limit', '15000', '--backend', 'onnxruntime'], { GLIBC_TUNABLES: '' }, {
      onStdout: (stdout, parent) => {
        if (seen || !stdout.includes('Epoch [1]')) return;
        const [child] = childrenOf(parent.pid!);
        seen = { child: child!, tunables: environment(child!).GLIBC_TUNABLES };
        parent.kill('SIGKILL'); // no chance to forward anything
      },
    });
    expect(seen, result.stderr).toBeDefined();
    // glibc cuts the variable at its first ':' as it parses it; what is left is ours.
    expect(seen!.tunables).toMatch(/^glibc\.malloc\.mmap_threshold=\d+/);
    expect(MALLOC_TUNABLES.startsWith(seen!.tunables!)).toBe(true);
    expect(result.stdout).toMatch(/backend onnxruntime/);
    expect(result.stdout).not.toContain('GLIBC_TUNABLES='); // the backend's hint for processes without them
    // The output pipes closed: the child has exited too (gone, or a zombie its new parent has not
    // reaped yet), after writing its checkpoint.
    expect(['gone', 'Z']).toContain(processState(seen!.child));
    expect(result.stderr).toContain('SIGTERM: stopping after the current step and writing a checkpoint');
    const checkpoint = JSON.parse(await readFile(join(run, 'checkpoint', 'checkpoint.json'), 'utf8'));
    expect(checkpoint.position.epoch).toBe(2);
  }, 600_000);

  test('one Ctrl-C that arrives twice at once (the terminal, and npm forwarding it) checkpoints instead of quitting', async () => {
    const run = join(dir, 'twice-at-once');
    let sent = false;
    const result = await runCli(['train', '--data', join(dir, 'data'), '--out', run, '--schedule', '2@0.05,1@0.01', '--limit', '15000', '--backend', 'onnxruntime'], {}, {
      onStdout: (stdout, parent) => {
        if (sent || !stdout.includes('Epoch [1]')) return;
        sent = true;
        // Inside epoch 2 (13,500 images: several seconds even on the faster kernels); two deliveries 5 ms apart (the kernel would merge two pending at once).
        setTimeout(() => parent.kill('SIGINT'), 1500);
        setTimeout(() => parent.kill('SIGINT'), 1505);
      },
    });
    expect(result.code, result.stderr).toBe(130);
    expect(result.stderr).toContain('SIGINT: stopping after the current step and writing a checkpoint');
    expect(result.stderr).toContain(`continue with rxvision train --resume ${run}`);
    const checkpoint = JSON.parse(await readFile(join(run, 'checkpoint', 'checkpoint.json'), 'utf8'));
    expect(checkpoint.position).toMatchObject({ epoch: 2, step: expect.any(Number) });
    expect(checkpoint.position.step).toBeGreaterThan(0); // stopped after a step, not quit at the epoch's start
  }, 600_000);
});
