import { makeData, RecordBatch, type Schema, Struct, type FixedSizeList, Uint8 } from 'apache-arrow';
import { IMAGE_COLUMN } from './schema.js';

/** Wraps decoded pixels and labels as a record batch of `schema` without copying them. */
export function imageRecordBatch(schema: Schema, pixels: Uint8Array, labels: Uint8Array): RecordBatch {
  const imageType = schema.fields.find((field) => field.name === IMAGE_COLUMN)!.type as FixedSizeList<Uint8>;
  const length = labels.length;
  if (pixels.length !== length * imageType.listSize) {
    throw new RangeError(`${pixels.length} pixels do not make ${length} images of ${imageType.listSize}`);
  }
  const images = makeData({
    type: imageType,
    length,
    nullCount: 0,
    child: makeData({ type: new Uint8(), length: pixels.length, nullCount: 0, data: pixels }),
  });
  const labelData = makeData({ type: new Uint8(), length, nullCount: 0, data: labels });
  return new RecordBatch(
    schema,
    makeData({ type: new Struct(schema.fields), length, nullCount: 0, children: [images, labelData] }),
  );
}
