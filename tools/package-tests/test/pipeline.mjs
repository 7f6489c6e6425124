// A tiny pipeline from the installed tarballs: dataset → stream → train one step → metrics.
import { selectBackend } from '@rxvision/backend/node';
import { ImageDataset } from '@rxvision/dataset';
import { accuracy } from '@rxvision/metrics';
import { createTutorialModel } from '@rxvision/model';
import { epochBatches } from '@rxvision/stream';
import { fit, predictions } from '@rxvision/train';
import { memory } from '@tensorflow/tfjs-core';
import { lastValueFrom, toArray } from 'rxjs';

const report = await selectBackend('cpu');
const pixels = Uint8Array.from({ length: 8 * 12 }, (_, i) => (i * 29) % 256);
const dataset = ImageDataset.fromArrays({
  classes: ['a', 'b'],
  shape: [2, 2, 3],
  pixels,
  labels: Uint8Array.from([0, 1, 0, 1, 0, 1, 0, 1]),
});
const model = createTutorialModel({ inputShape: [2, 2, 3], classes: 2, seed: 1 });
const batches = epochBatches(dataset, { batchSize: 8, seed: 1 });
const events = await lastValueFrom(fit(model, { schedule: [{ epochs: 1, learningRate: 0.01 }], trainBatches: batches }).pipe(toArray()));
const share = await lastValueFrom(batches(0).pipe(predictions(model), accuracy()));
model.dispose();
console.log(
  JSON.stringify({
    backend: report.backend,
    steps: events.filter((e) => e.type === 'batch').length,
    accuracy: share,
    tensors: memory().numTensors,
  }),
);
