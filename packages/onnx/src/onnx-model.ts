import { type Bytes, bytesField, floatField, integerField, join, messageField, readFields, stringField } from './protobuf.js';

/**
 * ONNX models written and read with a few lines of protobuf rather than a protobuf library. Field
 * numbers are those of onnx.proto (ModelProto, GraphProto, NodeProto, TensorProto, …).
 */

/** A float attribute (epsilon, alpha); a plain number is an integer attribute. */
export interface FloatAttribute {
  readonly float: number;
}

/** An attribute's value: an integer, integers, a string, or a float. */
/** A tensor attribute (a Constant's value). */
export interface TensorAttribute {
  readonly tensor: OnnxInitializer;
}

export type OnnxAttribute = number | readonly number[] | string | FloatAttribute | TensorAttribute;

export interface OnnxNode {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes?: Readonly<Record<string, OnnxAttribute>>;
}

export interface OnnxValue {
  readonly name: string;
  /** Each dimension a size or a name (a size fixed when the model runs). */
  readonly dims: readonly (number | string)[];
}

/** A constant tensor of the graph: float32 (a weight), or int64 (a shape, pads). */
export interface OnnxInitializer {
  readonly name: string;
  readonly dims: readonly number[];
  readonly values: Float32Array | BigInt64Array;
}

export interface OnnxGraph {
  readonly name?: string;
  readonly nodes: readonly OnnxNode[];
  readonly inputs: readonly OnnxValue[];
  readonly outputs: readonly OnnxValue[];
  readonly initializers?: readonly OnnxInitializer[];
}

export interface OnnxModelOptions {
  /** Key–value pairs stored in the model (ModelProto.metadata_props): what a runtime shows of it. */
  readonly metadata?: Readonly<Record<string, string>>;
  readonly producer?: string;
  readonly docString?: string;
  /** The default domain's opset (default ONNX_OPSET, 13). */
  readonly opset?: number;
}

/** ONNX IR version 8 and the default opset 13: what onnxruntime 1.14 and later, and onnxruntime-web, read. */
export const ONNX_IR_VERSION = 8;
export const ONNX_OPSET = 13;
const FLOAT = 1; // TensorProto.DataType.FLOAT
const INT64 = 7;
const ATTRIBUTE = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, INTS: 7 } as const;

/**
 * The bytes of an ONNX model of one graph of float32 values.
 *
 * ```ts
 * const bytes = onnxModel({ nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }], inputs: [{ name: 'x', dims: ['n'] }], outputs: [{ name: 'y', dims: ['n'] }] });
 * const session = await InferenceSession.create(bytes); // onnxruntime-node or onnxruntime-web
 * ```
 */
export function onnxModel(graph: OnnxGraph, options: OnnxModelOptions = {}): Bytes {
  const graphBytes = [
    ...graph.nodes.map((node, i) => messageField(1, nodeFields(node, `${node.op}_${i}`))),
    stringField(2, graph.name ?? 'rxvision'),
    ...(graph.initializers ?? []).map((tensor) => messageField(5, tensorFields(tensor))),
    ...graph.inputs.map((value) => messageField(11, valueInfo(value))),
    ...graph.outputs.map((value) => messageField(12, valueInfo(value))),
  ];
  const metadata = Object.entries(options.metadata ?? {}).map(([key, value]) =>
    messageField(14, [stringField(1, key), stringField(2, value)]),
  );
  return join([
    integerField(1, ONNX_IR_VERSION),
    stringField(2, options.producer ?? 'rxvision'),
    ...(options.docString ? [stringField(6, options.docString)] : []),
    messageField(8, [stringField(1, ''), integerField(2, options.opset ?? ONNX_OPSET)]),
    messageField(7, graphBytes),
    ...metadata,
  ]);
}

/** The metadata an ONNX model carries (ModelProto.metadata_props), read from its bytes. */
export function onnxMetadata(bytes: Bytes): Record<string, string> {
  const decoder = new TextDecoder();
  const metadata: Record<string, string> = {};
  for (const { field, value } of readFields(bytes)) {
    if (field !== 14 || typeof value === 'number') continue;
    let key = '';
    let text = '';
    for (const entry of readFields(value)) {
      if (typeof entry.value === 'number' || entry.wire !== 2) continue;
      if (entry.field === 1) key = decoder.decode(entry.value);
      if (entry.field === 2) text = decoder.decode(entry.value);
    }
    metadata[key] = text;
  }
  return metadata;
}

function nodeFields(node: OnnxNode, name: string): Bytes[] {
  return [
    ...node.inputs.map((input) => stringField(1, input)),
    ...node.outputs.map((output) => stringField(2, output)),
    stringField(3, name),
    stringField(4, node.op),
    ...Object.entries(node.attributes ?? {}).map(([key, value]) => messageField(5, attributeFields(key, value))),
  ];
}

function attributeFields(name: string, value: OnnxAttribute): Bytes[] {
  const named = stringField(1, name);
  if (typeof value === 'number') return [named, integerField(3, value), integerField(20, ATTRIBUTE.INT)];
  if (typeof value === 'string') return [named, stringField(4, value), integerField(20, ATTRIBUTE.STRING)];
  if (isFloat(value)) return [named, floatField(2, value.float), integerField(20, ATTRIBUTE.FLOAT)];
  if ('tensor' in value) return [named, messageField(5, tensorFields(value.tensor)), integerField(20, ATTRIBUTE.TENSOR)];
  return [named, ...value.map((n) => integerField(8, n)), integerField(20, ATTRIBUTE.INTS)];
}

const isFloat = (value: OnnxAttribute): value is FloatAttribute => typeof value === 'object' && 'float' in value;

function tensorFields({ name, dims, values }: OnnxInitializer): Bytes[] {
  const size = dims.reduce((a, b) => a * b, 1);
  if (size !== values.length) throw new RangeError(`onnxModel: ${name} has ${values.length} values for dims [${dims.join(', ')}]`);
  // raw_data is little-endian, as typed arrays are on every platform that runs JavaScript engines in practice.
  return [
    ...dims.map((d) => integerField(1, d)),
    integerField(2, values instanceof BigInt64Array ? INT64 : FLOAT),
    stringField(8, name),
    bytesField(9, new Uint8Array(values.buffer, values.byteOffset, values.byteLength)),
  ];
}

function valueInfo({ name, dims }: OnnxValue): Bytes[] {
  const wrong = dims.find((dim) => typeof dim === 'number' && !(Number.isSafeInteger(dim) && dim >= 0));
  if (wrong !== undefined) throw new RangeError(`onnxModel: ${name} has dimension ${wrong}, not a size or a name`);
  const shape = dims.map((dim) => messageField(1, [typeof dim === 'number' ? integerField(1, dim) : stringField(2, dim)]));
  const tensorType = [integerField(1, FLOAT), messageField(2, shape)];
  return [stringField(1, name), messageField(2, [messageField(1, tensorType)])];
}
