import { type DataType, type List, makeData, RecordBatch, type Schema, Struct, type FixedSizeList, Uint8 } from 'apache-arrow';
import { type LabelArray, unsignedBitWidth } from './labels.js';
import { IMAGE_COLUMN, LABEL_COLUMN, LABELS_COLUMN } from './schema.js';

/** Every row's classes in a multi-label batch: row r's are `values[offsets[r]..offsets[r + 1]]`. */
export interface LabelSets {
  readonly offsets: Int32Array;
  readonly values: LabelArray;
}

/**
 * Wraps decoded pixels and labels (and, for a multi-label schema, the label sets) as a record batch
 * of `schema` without copying them.
 */
export function imageRecordBatch(schema: Schema, pixels: Uint8Array, labels: LabelArray, labelSets?: LabelSets): RecordBatch {
  const imageType = schema.fields.find((field) => field.name === IMAGE_COLUMN)!.type as FixedSizeList<Uint8>;
  const labelType = schema.fields.find((field) => field.name === LABEL_COLUMN)!.type as DataType;
  const setsType = schema.fields.find((field) => field.name === LABELS_COLUMN)?.type as List | undefined;
  const length = labels.length;
  if (pixels.length !== length * imageType.listSize) {
    throw new RangeError(`${pixels.length} pixels do not make ${length} images of ${imageType.listSize}`);
  }
  if (labels.BYTES_PER_ELEMENT * 8 !== unsignedBitWidth(labelType)) {
    throw new RangeError(`labels of ${labels.BYTES_PER_ELEMENT * 8} bits for a ${String(labelType)} label column`);
  }
  if (Boolean(setsType) !== Boolean(labelSets)) throw new RangeError(`label sets ${setsType ? 'missing for' : 'given to'} this schema`);
  const images = makeData({
    type: imageType,
    length,
    nullCount: 0,
    child: makeData({ type: new Uint8(), length: pixels.length, nullCount: 0, data: pixels }),
  });
  const labelData = makeData({ type: labelType, length, nullCount: 0, data: labels } as never);
  const children = [images, labelData];
  if (setsType && labelSets) {
    if (labelSets.offsets.length !== length + 1 || labelSets.offsets[length] !== labelSets.values.length)
      throw new RangeError(`${labelSets.offsets.length} offsets and ${labelSets.values.length} labels are not the sets of ${length} rows`);
    const values = makeData({ type: labelType, length: labelSets.values.length, nullCount: 0, data: labelSets.values } as never);
    children.push(makeData({ type: setsType, length, nullCount: 0, valueOffsets: labelSets.offsets, child: values }) as never);
  }
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length, nullCount: 0, children }));
}
