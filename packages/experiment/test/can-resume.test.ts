import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { canResume } from '../src/index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rxvision-checkpoint-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function run(name: string, files: readonly string[]): Promise<string> {
  const folder = join(dir, name);
  await mkdir(folder, { recursive: true });
  for (const file of files) {
    await mkdir(join(folder, file, '..'), { recursive: true });
    await writeFile(join(folder, file), '{}');
  }
  return folder;
}

describe('canResume: whether a sweep trial resumes or starts', () => {
  test('a checkpoint, or the .old one a crash between the two renames leaves, can be resumed', async () => {
    expect(await canResume(await run('saved', ['checkpoint/checkpoint.json']))).toBe(true);
    expect(await canResume(await run('crashed', ['checkpoint.old/checkpoint.json']))).toBe(true);
  });

  test('a run without a checkpoint file starts over', async () => {
    expect(await canResume(await run('fresh', ['history.json']))).toBe(false);
    expect(await canResume(await run('empty-folder', ['checkpoint/model/model.json']))).toBe(false);
  });
});
