import { type DataType, Field, FixedSizeList, List, Schema, Type, Uint8 } from 'apache-arrow';
import { labelType, unsignedBitWidth } from './labels.js';

/** Column names and schema-metadata keys of an rxvision image dataset file. */
export const IMAGE_COLUMN = 'image';
export const LABEL_COLUMN = 'label';
/** Every class an image shows, in multi-label datasets (`label` is then the first of them). */
export const LABELS_COLUMN = 'labels';
export const FORMAT_VERSION = '1';

export const MetadataKey = {
  format: 'rxvision.format',
  classes: 'rxvision.classes',
  shape: 'rxvision.shape',
  layout: 'rxvision.layout',
  rows: 'rxvision.rows',
  sources: 'rxvision.sources',
} as const;

/** Height, width, channels. */
export type ImageShape = readonly [number, number, number];

export interface ImageDatasetInfo {
  readonly classes: readonly string[];
  readonly shape: ImageShape;
  readonly rows: number;
  /** Names and sha256 of the raw files the rows came from, for provenance and re-prepare checks. */
  readonly sources: Readonly<Record<string, string>>;
  /** Whether each image has a set of labels (column `labels`), not one. */
  readonly multiLabel?: boolean;
}

/**
 * One row per image: the pixels as a fixed-size list of uint8 in HWC order (what `tf.tensor`
 * and PNG encoders expect), the label as the narrowest unsigned integer that holds every class
 * (uint8 up to 256 classes, then uint16, then uint32). A multi-label dataset adds `labels`, a list
 * of such integers per row (ascending, at least one), and `label` holds the first. Everything else
 * lives in the metadata.
 */
export function imageDatasetSchema(info: ImageDatasetInfo): Schema {
  const [height, width, channels] = info.shape;
  const pixels = height * width * channels;
  const metadata = new Map<string, string>([
    [MetadataKey.format, FORMAT_VERSION],
    [MetadataKey.classes, JSON.stringify(info.classes)],
    [MetadataKey.shape, JSON.stringify(info.shape)],
    [MetadataKey.layout, 'HWC'],
    [MetadataKey.rows, String(info.rows)],
    [MetadataKey.sources, JSON.stringify(info.sources)],
  ]);
  return new Schema(
    [
      new Field(IMAGE_COLUMN, new FixedSizeList(pixels, new Field('pixel', new Uint8(), false)), false),
      new Field(LABEL_COLUMN, labelType(info.classes.length), false),
      ...(info.multiLabel ? [new Field(LABELS_COLUMN, new List(new Field('class', labelType(info.classes.length), false)), false)] : []),
    ],
    metadata,
  );
}

/**
 * Reads the metadata back and checks that the schema is one this library writes.
 * Returns the problem as text rather than throwing, so callers can name the file.
 */
export function parseImageDatasetSchema(schema: Schema): ImageDatasetInfo | string {
  const image = schema.fields.find((field) => field.name === IMAGE_COLUMN);
  const label = schema.fields.find((field) => field.name === LABEL_COLUMN);
  if (!image || !label) {
    return `not an rxvision image dataset: expected columns "${IMAGE_COLUMN}" and "${LABEL_COLUMN}", found ${describeFields(schema)}`;
  }
  // Compare type ids, not classes: a second copy of apache-arrow in the tree has other classes.
  const imageType = image.type as DataType;
  if (imageType.typeId !== Type.FixedSizeList || unsignedBitWidth(imageType.children[0]?.type) !== 8) {
    return `column "${IMAGE_COLUMN}" must be FixedSizeList<Uint8>, found ${String(image.type)}`;
  }
  if (unsignedBitWidth(label.type as DataType) === undefined) {
    return `column "${LABEL_COLUMN}" must be an unsigned integer (Uint8, Uint16 or Uint32), found ${String(label.type)}`;
  }
  const labels = schema.fields.find((field) => field.name === LABELS_COLUMN)?.type as DataType | undefined;
  if (labels && (labels.typeId !== Type.List || unsignedBitWidth(labels.children[0]?.type) !== unsignedBitWidth(label.type as DataType))) {
    return `column "${LABELS_COLUMN}" must be a List of the label column's type (${String(label.type)}), found ${String(labels)}`;
  }
  const format = schema.metadata.get(MetadataKey.format);
  if (format !== FORMAT_VERSION) {
    return format === undefined
      ? `schema metadata lacks "${MetadataKey.format}"`
      : `written in format version ${format}; this version of @rxvision/dataset reads version ${FORMAT_VERSION}`;
  }
  try {
    const classes = JSON.parse(schema.metadata.get(MetadataKey.classes) ?? 'null') as unknown;
    const shape = JSON.parse(schema.metadata.get(MetadataKey.shape) ?? 'null') as unknown;
    const sources = JSON.parse(schema.metadata.get(MetadataKey.sources) ?? '{}') as unknown;
    const rows = Number(schema.metadata.get(MetadataKey.rows));
    if (!Array.isArray(classes) || !classes.every((name) => typeof name === 'string')) {
      return `schema metadata "${MetadataKey.classes}" must be a JSON array of names`;
    }
    const width = (imageType as FixedSizeList).listSize;
    if (!isShape(shape)) return `schema metadata "${MetadataKey.shape}" must be [height, width, channels]`;
    if (shape[0] * shape[1] * shape[2] !== width) {
      return `column "${IMAGE_COLUMN}" holds ${width} values per image, but its shape ${shape.join('×')} needs ${shape[0] * shape[1] * shape[2]}`;
    }
    if (schema.metadata.get(MetadataKey.layout) !== 'HWC') {
      return `schema metadata "${MetadataKey.layout}" must be "HWC"`;
    }
    if (!Number.isInteger(rows) || rows < 0) return `schema metadata "${MetadataKey.rows}" must be a row count`;
    return { classes, shape, rows, sources: sources as Record<string, string>, ...(labels && { multiLabel: true }) };
  } catch (error) {
    return `schema metadata is not valid JSON (${(error as Error).message})`;
  }
}

function isShape(value: unknown): value is ImageShape {
  return Array.isArray(value) && value.length === 3 && value.every((n) => Number.isInteger(n) && (n as number) > 0);
}

function describeFields(schema: Schema): string {
  const names = schema.fields.map((field) => `"${field.name}"`);
  return names.length > 0 ? names.join(', ') : 'no columns';
}
