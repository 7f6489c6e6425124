// Over 250 lines: one reader per onnx.proto message (model, graph, node, attribute, tensor), each beside the others.
import { RxvisionError } from '@rxvision/errors';
import { type Bytes, readFields, type ReadField, WIRE_FIXED32, WIRE_LENGTH } from './protobuf.js';

/**
 * An ONNX model read back from its bytes: what an importer needs of onnx.proto's ModelProto (field
 * numbers as there), with every tensor decoded. External data and float16 are refused by name.
 */

/** A model that cannot be imported (not ONNX, damaged, an operator or attribute not taken); one line naming it. */
export class OnnxImportError extends RxvisionError {
  override readonly name = 'OnnxImportError';
}

/** A constant tensor: floats as Float32Array, integers (int64, int32, bool, …) as exact numbers. */
export interface OnnxTensor {
  readonly name: string;
  readonly dims: readonly number[];
  readonly values: Float32Array | Float64Array;
  readonly integer: boolean;
}

export interface OnnxAttributeValue {
  readonly int?: number;
  readonly float?: number;
  readonly string?: string;
  readonly tensor?: OnnxTensor;
  readonly ints?: readonly number[];
  readonly floats?: readonly number[];
}

export interface ReadNode {
  readonly name: string;
  readonly op: string;
  readonly domain: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes: Readonly<Record<string, OnnxAttributeValue>>;
}

/** A graph input or output: its element type (onnx.proto's TensorProto.DataType) and dims (a size, or a name for one fixed at run time). */
export interface ReadValue {
  readonly name: string;
  readonly elementType: number;
  readonly dims: readonly (number | string)[] | undefined;
}

export interface ReadModel {
  readonly irVersion: number;
  /** The default domain's opset. */
  readonly opset: number;
  readonly nodes: readonly ReadNode[];
  readonly initializers: ReadonlyMap<string, OnnxTensor>;
  readonly inputs: readonly ReadValue[];
  readonly outputs: readonly ReadValue[];
  readonly metadata: Readonly<Record<string, string>>;
}

const DATA_TYPES: Record<number, string> = {
  1: 'float',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'double',
  12: 'uint32',
  13: 'uint64',
  16: 'bfloat16',
};
const text = new TextDecoder();

/** The model in `bytes`; an OnnxImportError, in one line, for bytes that are not an ONNX model. */
export function readOnnx(bytes: Bytes): ReadModel {
  let fields: ReadField[];
  try {
    fields = readFields(bytes);
  } catch (error) {
    throw new OnnxImportError(`not an ONNX model (${(error as Error).message}; a truncated or damaged file?)`);
  }
  const graph = fields.find((f) => f.field === 7 && f.wire === WIRE_LENGTH);
  const irVersion = fields.find((f) => f.field === 1 && typeof f.value === 'number')?.value as number | undefined;
  if (!graph || irVersion === undefined) throw new OnnxImportError('not an ONNX model (no graph or IR version)');
  const opsets = fields.filter((f) => f.field === 8).map((f) => messageOf(f, 'opset_import'));
  const defaultOpset = opsets.find((o) => (stringOf(o, 1) ?? '') === '');
  const metadata: Record<string, string> = {};
  for (const entry of fields.filter((f) => f.field === 14)) {
    const pair = messageOf(entry, 'metadata_props');
    metadata[stringOf(pair, 1) ?? ''] = stringOf(pair, 2) ?? '';
  }
  return { irVersion, opset: (defaultOpset && intOf(defaultOpset, 2)) ?? 1, ...readGraph(messageOf(graph, 'graph')), metadata };
}

function readGraph(fields: ReadField[]): Pick<ReadModel, 'nodes' | 'initializers' | 'inputs' | 'outputs'> {
  const initializers = new Map<string, OnnxTensor>();
  for (const f of fields.filter((f) => f.field === 5)) {
    const tensor = readTensor(messageOf(f, 'initializer'));
    initializers.set(tensor.name, tensor);
  }
  const values = (field: number) => fields.filter((f) => f.field === field).map((f) => readValue(messageOf(f, 'value_info')));
  return {
    nodes: fields.filter((f) => f.field === 1).map((f) => readNode(messageOf(f, 'node'))),
    initializers,
    inputs: values(11),
    outputs: values(12),
  };
}

function readNode(fields: ReadField[]): ReadNode {
  const attributes: Record<string, OnnxAttributeValue> = {};
  for (const f of fields.filter((f) => f.field === 5)) {
    const attribute = messageOf(f, 'attribute');
    attributes[stringOf(attribute, 1) ?? ''] = readAttribute(attribute);
  }
  return {
    name: stringOf(fields, 3) ?? '',
    op: stringOf(fields, 4) ?? '',
    domain: stringOf(fields, 7) ?? '',
    inputs: stringsOf(fields, 1),
    outputs: stringsOf(fields, 2),
    attributes,
  };
}

function readAttribute(fields: ReadField[]): OnnxAttributeValue {
  const float = fields.find((f) => f.field === 2 && f.wire === WIRE_FIXED32);
  const int = intOf(fields, 3);
  const string = stringOf(fields, 4);
  const tensor = fields.find((f) => f.field === 5);
  const floats = floatsOf(fields, 7);
  const ints = intsOf(fields, 8);
  return {
    ...(float && { float: float32(float.value as Bytes) }),
    ...(int !== undefined && { int }),
    ...(string !== undefined && { string }),
    ...(tensor && { tensor: readTensor(messageOf(tensor, 'attribute tensor')) }),
    ...(floats.length > 0 && { floats }),
    ...(ints.length > 0 && { ints }),
  };
}

function readValue(fields: ReadField[]): ReadValue {
  const name = stringOf(fields, 1) ?? '';
  const type = fields.find((f) => f.field === 2);
  const tensorType = type && messageOf(type, 'type').find((f) => f.field === 1);
  if (!tensorType) return { name, elementType: 0, dims: undefined };
  const tensorFields = messageOf(tensorType, 'tensor_type');
  const shape = tensorFields.find((f) => f.field === 2);
  const dims = shape
    ? messageOf(shape, 'shape')
        .filter((f) => f.field === 1)
        .map((f) => {
          const dim = messageOf(f, 'dim');
          return intOf(dim, 1) ?? stringOf(dim, 2) ?? '?';
        })
    : undefined;
  return { name, elementType: intOf(tensorFields, 1) ?? 0, dims };
}

/** A TensorProto, decoded. */
export function readTensor(fields: ReadField[]): OnnxTensor {
  const name = stringOf(fields, 8) ?? '';
  const dims = intsOf(fields, 1);
  const type = intOf(fields, 2) ?? 0;
  const typeName = DATA_TYPES[type] ?? `data type ${type}`;
  if (intOf(fields, 14) === 1) throw new OnnxImportError(`tensor ${name}: its data is in an external file, which is not imported`);
  const count = dims.reduce((product, d) => product * d, 1);
  const raw = fields.find((f) => f.field === 9)?.value as Bytes | undefined;
  let values: Float32Array | Float64Array;
  if (type === 1 || type === 11) {
    const wide = type === 11;
    if (raw) {
      // A copy: aligned, and the model's bytes stay the caller's (little-endian, as ONNX stores them).
      // (new Uint8Array copies: a Node Buffer's slice would be a view of its shared pool.)
      const copy = new Uint8Array(raw).buffer;
      values = wide ? Float32Array.from(new Float64Array(copy)) : new Float32Array(copy);
    } else values = Float32Array.from(wide ? doublesOf(fields, 10) : floatsOf(fields, 4));
  } else if (['int64', 'int32', 'int8', 'uint8', 'int16', 'uint16', 'bool', 'uint32'].includes(typeName)) {
    values = Float64Array.from(raw ? rawIntegers(raw, typeName) : intsOf(fields, typeName === 'int64' ? 7 : 5));
  } else throw new OnnxImportError(`tensor ${name}: ${typeName} tensors are not imported`);
  if (values.length !== count)
    throw new OnnxImportError(`tensor ${name}: ${values.length} values for dims [${dims.join(', ')}] (${count}); a damaged file?`);
  return { name, dims, values, integer: !(type === 1 || type === 11) };
}

function rawIntegers(raw: Bytes, type: string): number[] {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const size = { int64: 8, int32: 4, uint32: 4, int16: 2, uint16: 2 }[type] ?? 1;
  return Array.from({ length: Math.floor(raw.length / size) }, (_, i) => {
    const at = i * size;
    if (type === 'int64') return Number(view.getBigInt64(at, true));
    if (type === 'int32') return view.getInt32(at, true);
    if (type === 'uint32') return view.getUint32(at, true);
    if (type === 'int16') return view.getInt16(at, true);
    if (type === 'uint16') return view.getUint16(at, true);
    return type === 'int8' ? view.getInt8(at) : view.getUint8(at);
  });
}

function messageOf(field: ReadField, what: string): ReadField[] {
  if (typeof field.value === 'number' || field.wire !== WIRE_LENGTH)
    throw new OnnxImportError(`not an ONNX model (its ${what} is not a message)`);
  try {
    return readFields(field.value);
  } catch (error) {
    throw new OnnxImportError(`not an ONNX model (its ${what}: ${(error as Error).message})`);
  }
}

const float32 = (bytes: Bytes) => new DataView(bytes.buffer, bytes.byteOffset, 4).getFloat32(0, true);
const stringOf = (fields: ReadField[], field: number) => {
  const found = fields.find((f) => f.field === field && f.wire === WIRE_LENGTH);
  return found ? text.decode(found.value as Bytes) : undefined;
};
const stringsOf = (fields: ReadField[], field: number) =>
  fields.filter((f) => f.field === field && f.wire === WIRE_LENGTH).map((f) => text.decode(f.value as Bytes));
const intOf = (fields: ReadField[], field: number) => {
  const found = fields.find((f) => f.field === field && typeof f.value === 'number');
  return found?.value as number | undefined;
};

/** A repeated integer field, packed or not. */
function intsOf(fields: ReadField[], field: number): number[] {
  return fields.filter((f) => f.field === field).flatMap((f) => (typeof f.value === 'number' ? [f.value] : packedVarints(f.value)));
}

function packedVarints(bytes: Bytes): number[] {
  // A packed field is varints back to back: read as fields of one tag each.
  const out: number[] = [];
  let at = 0;
  while (at < bytes.length) {
    let end = at;
    while (end < bytes.length && bytes[end]! >= 0x80) end++;
    if (end >= bytes.length) throw new OnnxImportError('not an ONNX model (a packed number runs past its field)');
    const framed = new Uint8Array(end - at + 2);
    framed[0] = 0x08; // field 1, varint
    framed.set(bytes.subarray(at, end + 1), 1);
    out.push(readFields(framed.subarray(0, end - at + 2))[0]!.value as number);
    at = end + 1;
  }
  return out;
}

/** A repeated float field, packed or not. */
function floatsOf(fields: ReadField[], field: number): number[] {
  return fields
    .filter((f) => f.field === field)
    .flatMap((f) => {
      const bytes = f.value as Bytes;
      if (f.wire === WIRE_FIXED32) return [float32(bytes)];
      return Array.from({ length: bytes.length / 4 }, (_, i) => float32(bytes.subarray(i * 4)));
    });
}

function doublesOf(fields: ReadField[], field: number): number[] {
  return fields
    .filter((f) => f.field === field)
    .flatMap((f) => {
      const bytes = f.value as Bytes;
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      return Array.from({ length: bytes.length / 8 }, (_, i) => view.getFloat64(i * 8, true));
    });
}
