import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';

/** Debian's chromium, which `.ci/run` installs; playwright-core drives it without downloading one. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
}

export const epochRecord = (epoch: number, seed = 1) => ({
  epoch,
  phase: 0,
  learningRate: 0.05,
  trainLoss: 2 / (epoch + seed),
  valLoss: 2.2 / (epoch + seed),
  valAccuracy: Math.min(0.95, 0.2 * seed + 0.1 * epoch),
  seconds: 3,
});

/** Writes a file as the CLI does: a temporary file renamed into place, so readers never see half of it. */
export async function writeAtomic(path: string, value: unknown): Promise<void> {
  await writeFile(`${path}.tmp`, JSON.stringify(value));
  await rename(`${path}.tmp`, path);
}

/** A run folder with `epochs` epochs of history; finished runs also get a summary. */
export async function writeRun(
  root: string,
  name: string,
  epochs: number,
  options: { seed?: number; finished?: boolean; ended?: string } = {},
): Promise<string> {
  const folder = join(root, name);
  await mkdir(folder, { recursive: true });
  await writeAtomic(join(folder, 'experiment.json'), {
    description: `run ${name}`,
    dataset: { type: 'cifar10' },
    model: { type: 'mlp', hidden: [8] },
  });
  await writeAtomic(
    join(folder, 'history.json'),
    Array.from({ length: epochs }, (_, i) => epochRecord(i + 1, options.seed)),
  );
  if (options.finished) {
    await writeAtomic(join(folder, 'summary.json'), {
      architecture: 'mlp {"hidden":[8]}',
      seconds: 9,
      ...(options.ended && { ended: options.ended, epochsRun: epochs }),
      test: { accuracy: 0.5, loss: 1.2, perClassAccuracy: { cat: 0.4, dog: 0.6 } },
    });
  }
  return folder;
}

/** The dashboard's server-sent events as text: `until(pattern)` reads on until the text so far matches. */
export async function readEvents(
  url: string,
): Promise<{ contentType: string | null; until: (pattern: RegExp) => Promise<RegExpMatchArray>; cancel: () => Promise<void> }> {
  const response = await fetch(new URL('/api/events', url));
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let received = '';
  return {
    contentType: response.headers.get('content-type'),
    until: async (pattern) => {
      while (!pattern.test(received)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`the stream ended before ${pattern}`);
        received += value;
      }
      return received.match(pattern)!;
    },
    cancel: () => reader.cancel(),
  };
}
