/**
 * The bytes of a small ONNX model (one graph of float32 nodes), written with a few lines of
 * protobuf encoding rather than a protobuf library: onnxruntime needs a model to run anything,
 * and the models here are a handful of nodes whose dimensions are named, so one model serves
 * every shape. Field numbers are those of onnx.proto (ModelProto, GraphProto, NodeProto, …).
 */
export interface OnnxNode {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  /** Integer attributes, e.g. Gemm's transA. */
  readonly attributes?: Readonly<Record<string, number>>;
}

export interface OnnxValue {
  readonly name: string;
  /** Each dimension a size or a name (a size fixed when the model runs). */
  readonly dims: readonly (number | string)[];
}

export interface OnnxGraph {
  readonly nodes: readonly OnnxNode[];
  readonly inputs: readonly OnnxValue[];
  readonly outputs: readonly OnnxValue[];
}

const IR_VERSION = 8;
const OPSET = 13;
const FLOAT = 1; // TensorProto.DataType.FLOAT
const ATTRIBUTE_INT = 2; // AttributeProto.AttributeType.INT

export function onnxModel(graph: OnnxGraph): Uint8Array {
  const graphBytes = [
    ...graph.nodes.flatMap((node) => message(1, nodeBytes(node))),
    ...text(2, 'rxvision'),
    ...graph.inputs.flatMap((value) => message(11, valueInfo(value))),
    ...graph.outputs.flatMap((value) => message(12, valueInfo(value))),
  ];
  const opset = [...text(1, ''), ...integer(2, OPSET)];
  return Uint8Array.from([...integer(1, IR_VERSION), ...message(8, opset), ...message(7, graphBytes)]);
}

function nodeBytes(node: OnnxNode): number[] {
  const attributes = Object.entries(node.attributes ?? {}).map(([name, value]) => [...text(1, name), ...integer(3, value), ...integer(20, ATTRIBUTE_INT)]);
  return [...node.inputs.flatMap((name) => text(1, name)), ...node.outputs.flatMap((name) => text(2, name)), ...text(4, node.op), ...attributes.flatMap((a) => message(5, a))];
}

function valueInfo({ name, dims }: OnnxValue): number[] {
  const shape = dims.flatMap((dim) => message(1, typeof dim === 'number' ? integer(1, dim) : text(2, dim)));
  const tensorType = [...integer(1, FLOAT), ...message(2, shape)];
  return [...text(1, name), ...message(2, message(1, tensorType))];
}

function varint(value: number): number[] {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`cannot encode ${value} as a protobuf varint`);
  const bytes: number[] = [];
  let rest = value;
  while (rest > 0x7f) {
    bytes.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
  return bytes;
}

const tag = (field: number, wireType: 0 | 2) => varint(field * 8 + wireType);
const integer = (field: number, value: number) => [...tag(field, 0), ...varint(value)];
const message = (field: number, bytes: readonly number[]) => [...tag(field, 2), ...varint(bytes.length), ...bytes];
const text = (field: number, value: string) => message(field, [...new TextEncoder().encode(value)]);
