import { type DataType, makeData, RecordBatch, type Schema, Struct, type FixedSizeList, Uint8 } from 'apache-arrow';
import { type LabelArray, unsignedBitWidth } from './labels.js';
import { IMAGE_COLUMN, LABEL_COLUMN } from './schema.js';

/** Wraps decoded pixels and labels as a record batch of `schema` without copying them. */
export function imageRecordBatch(schema: Schema, pixels: Uint8Array, labels: LabelArray): RecordBatch {
  const imageType = schema.fields.find((field) => field.name === IMAGE_COLUMN)!.type as FixedSizeList<Uint8>;
  const labelType = schema.fields.find((field) => field.name === LABEL_COLUMN)!.type as DataType;
  const length = labels.length;
  if (pixels.length !== length * imageType.listSize) {
    throw new RangeError(`${pixels.length} pixels do not make ${length} images of ${imageType.listSize}`);
  }
  if (labels.BYTES_PER_ELEMENT * 8 !== unsignedBitWidth(labelType)) {
    throw new RangeError(`labels of ${labels.BYTES_PER_ELEMENT * 8} bits for a ${String(labelType)} label column`);
  }
  const images = makeData({
    type: imageType,
    length,
    nullCount: 0,
    child: makeData({ type: new Uint8(), length: pixels.length, nullCount: 0, data: pixels }),
  });
  const labelData = makeData({ type: labelType, length, nullCount: 0, data: labels } as never);
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length, nullCount: 0, children: [images, labelData] }));
}
