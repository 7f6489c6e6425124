import { cast, dispose, oneHot, type Tensor, tensor, tensor1d } from '@tensorflow/tfjs-core';
import { map, type Observable } from 'rxjs';
import type { ImageBatch } from './image-batch.js';
import type { Pending } from './pending.js';
import type { TensorBatch } from './tensor-batch.js';

export interface ToTensorsOptions {
  /** `image` (default) gives `[n, h, w, c]`, what a model starting with a flatten layer takes; `flat` gives `[n, h·w·c]`. */
  readonly layout?: 'flat' | 'image';
  readonly labels?: 'int32' | 'oneHot';
}

/** Turns pending image batches into pending tensor batches; tensors are made when a batch is pulled. */
export function imagesToTensors(classes: number, options: ToTensorsOptions = {}) {
  const { layout = 'image', labels: labelEncoding = 'int32' } = options;
  return (source: Observable<Pending<ImageBatch>>): Observable<Pending<TensorBatch>> =>
    source.pipe(map((pending) => pending.pipe(map((images) => toTensorBatch(images, classes, layout, labelEncoding)))));
}

function toTensorBatch(images: ImageBatch, classes: number, layout: 'flat' | 'image', labelEncoding: 'int32' | 'oneHot'): TensorBatch {
  const { rows, labels, pixels, shape, epoch, index, targets } = images;
  const size = rows.length;
  const xs = tensor(pixels, layout === 'flat' ? [size, shape[0] * shape[1] * shape[2]] : [size, ...shape], 'float32');
  const ys = targets ? tensor(targets, [size, classes], 'float32') : labelTensor(labels, classes, labelEncoding);
  return {
    xs,
    ys,
    labels,
    ...(targets && { targets }),
    rows,
    epoch,
    index,
    size,
    dispose: () => {
      xs.dispose();
      ys.dispose();
    },
  };
}

/** The labels as int32 indices, or one-hot float32. */
function labelTensor(labels: Uint32Array, classes: number, encoding: 'int32' | 'oneHot'): Tensor {
  const indices = tensor1d(Int32Array.from(labels), 'int32');
  if (encoding === 'int32') return indices;
  const hot = oneHot(indices, classes);
  const ys = cast(hot, 'float32');
  dispose([hot, indices]);
  return ys;
}
