import { selectBackend } from '@rxvision/backend/node';
import { ImageDataset } from '@rxvision/dataset';
import { createTutorialModel } from '@rxvision/model';
import { epochBatches } from '@rxvision/stream';
import { fit } from '@rxvision/train';
import { filter, lastValueFrom, map, toArray } from 'rxjs';
import { expect, test } from 'vitest';

// Elsewhere the test may skip (no adapter); in CI it must run, so there a missing adapter fails it.
const webgpu = await selectBackend('webgpu').then(
  (report) => ({ ok: true as const, device: report.device }),
  (error: Error) => ({ ok: false as const, reason: error.message }),
);
if (!webgpu.ok && !process.env.CI) console.warn(`skipping the WebGPU test: ${webgpu.reason}`);

/** Losses of the first steps of training the tutorial network (on 8×8 images) on one backend. */
async function stepLosses(backend: 'cpu' | 'webgpu'): Promise<number[]> {
  await selectBackend(backend);
  // Learnable: an image's brightness says its class, plus noise.
  const labels = Uint8Array.from({ length: 128 }, (_, i) => (i * 7) % 10);
  const pixels = Uint8Array.from({ length: 128 * 192 }, (_, i) => labels[Math.floor(i / 192)]! * 20 + (((i * 2654435761) >>> 24) % 40));
  const dataset = ImageDataset.fromArrays({ classes: [...'abcdefghij'], shape: [8, 8, 3], pixels, labels });
  const model = createTutorialModel({ inputShape: [8, 8, 3], seed: 43 });
  const losses = await lastValueFrom(
    fit(model, { schedule: [{ epochs: 2, learningRate: 0.05 }], trainBatches: epochBatches(dataset, { batchSize: 32, seed: 43 }) }).pipe(
      filter((event) => event.type === 'batch'),
      map((event) => event.loss),
      toArray(),
    ),
  );
  model.dispose();
  return losses;
}

test.runIf(webgpu.ok || process.env.CI)(
  'training steps on WebGPU give the same losses as on cpu',
  async () => {
    expect(webgpu.ok ? '' : webgpu.reason).toBe('');
    const cpu = await stepLosses('cpu');
    const gpu = await stepLosses('webgpu');
    expect(gpu).toHaveLength(8);
    gpu.forEach((loss, step) => expect(Math.abs(loss - cpu[step]!)).toBeLessThan(1e-3 * Math.max(1, cpu[step]!)));
    expect(cpu[7]).toBeLessThan(cpu[0]!); // and it trains
  },
  300_000,
);
