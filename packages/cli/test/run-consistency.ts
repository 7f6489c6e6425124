import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';

interface Epoch {
  readonly epoch: number;
  readonly valAccuracy: number;
  readonly seconds: number;
}

const readJson = async <T>(path: string): Promise<T> => JSON.parse(await readFile(path, 'utf8')) as T;

/**
 * A finished run folder that one writer wrote: history.json has each epoch 1..`epochs` exactly once,
 * and agrees with summary.json and with the checkpoint's history; nothing temporary, no claim left.
 */
export async function expectOneWritersRun(runDir: string, epochs: number): Promise<void> {
  const history = await readJson<Epoch[]>(join(runDir, 'history.json'));
  expect(
    history.map((row) => row.epoch),
    runDir,
  ).toEqual(Array.from({ length: epochs }, (_, i) => i + 1));
  const summary = await readJson<{ epochs: number; trainingSeconds: number }>(join(runDir, 'summary.json'));
  expect(summary.epochs, runDir).toBe(epochs);
  expect(summary.trainingSeconds, runDir).toBeCloseTo(
    history.reduce((sum, row) => sum + row.seconds, 0),
    6,
  );
  const checkpoint = await readJson<{ history: Epoch[]; position: { epoch: number } }>(join(runDir, 'checkpoint', 'checkpoint.json'));
  expect(checkpoint.history, runDir).toEqual(history);
  const left = (await readdir(runDir)).filter(
    (name) => name.endsWith('.tmp') || name.startsWith('writer.lock') || name === 'checkpoint.old',
  );
  expect(left, runDir).toEqual([]);
}
