import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom } from 'rxjs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { trialProcess } from '../src/trial-process.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rxvision-trial-process-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('trialProcess', () => {
  test('a signal aborted before it starts: no train process, an error; a finished run: nothing to do', async () => {
    const lines: string[] = [];
    const options = {
      backend: 'wasm',
      threads: 1,
      label: 'trial-000',
      log: (line: string) => lines.push(line),
      signal: AbortSignal.abort(),
    };
    const trial = { experiment: join(dir, 'trial-000.json'), runDir: dir };
    await expect(lastValueFrom(trialProcess(trial, options), { defaultValue: undefined })).rejects.toThrow('stopped before it started');
    expect(lines).toEqual([]); // neither "started" nor "resuming"
    expect(await readdir(dir)).toEqual([]);

    await writeFile(join(dir, 'summary.json'), '{}');
    await expect(lastValueFrom(trialProcess(trial, options), { defaultValue: undefined })).resolves.toBeUndefined();
    expect(lines).toEqual([]);
  });
});
