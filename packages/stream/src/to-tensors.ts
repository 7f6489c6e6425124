import type { LabeledImages } from '@rxvision/dataset';
import { cast, oneHot, type Tensor, tensor, tensor1d } from '@tensorflow/tfjs-core';
import { defer, map, type Observable, of } from 'rxjs';
import type { Pending } from './pending.js';
import type { TensorBatch } from './tensor-batch.js';

export interface ToTensorsOptions {
  /** `image` (default) gives `[n, h, w, c]`, what a model starting with a flatten layer takes; `flat` gives `[n, h·w·c]`. */
  readonly layout?: 'flat' | 'image';
  readonly labels?: 'int32' | 'oneHot';
}

/**
 * Turns batches of row indices into pending tensor batches: pixels are read from the dataset and
 * scaled to [0, 1] only when the batch is pulled, so nothing is read ahead of demand.
 */
export function toTensors(dataset: LabeledImages, options: ToTensorsOptions = {}) {
  const { layout = 'image', labels: labelEncoding = 'int32' } = options;
  const [height, width, channels] = dataset.shape;
  const pixels = height * width * channels;
  return (source: Observable<Uint32Array>): Observable<Pending<TensorBatch>> =>
    source.pipe(map((rows) => defer(() => of(readBatch(dataset, rows, pixels, layout === 'flat' ? [pixels] : [height, width, channels], labelEncoding)))));
}

function readBatch(dataset: LabeledImages, rows: Uint32Array, pixels: number, shape: number[], labelEncoding: 'int32' | 'oneHot'): TensorBatch {
  const size = rows.length;
  const values = new Float32Array(size * pixels);
  const labels = new Uint8Array(size);
  const scale = 1 / 255;
  for (let i = 0; i < size; i++) {
    const image = dataset.image(rows[i]!);
    const offset = i * pixels;
    for (let p = 0; p < pixels; p++) values[offset + p] = image[p]! * scale;
    labels[i] = dataset.label(rows[i]!);
  }
  const xs = tensor(values, [size, ...shape], 'float32');
  const indices = tensor1d(Int32Array.from(labels), 'int32');
  let ys: Tensor = indices;
  if (labelEncoding === 'oneHot') {
    const hot = oneHot(indices, dataset.classes.length);
    ys = cast(hot, 'float32');
    hot.dispose();
    indices.dispose();
  }
  return { xs, ys, labels, size, dispose: () => { xs.dispose(); ys.dispose(); } };
}
