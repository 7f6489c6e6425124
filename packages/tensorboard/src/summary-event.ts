import { ProtobufWriter } from './protobuf-writer.js';

// Field numbers of tensorflow/core/util/event.proto and framework/summary.proto, tensor.proto.
const Event = { wallTime: 1, step: 2, fileVersion: 3, summary: 5 } as const;
const Summary = { value: 1 } as const;
const Value = { tag: 1, simpleValue: 2, tensor: 8, metadata: 9 } as const;
const SummaryMetadata = { pluginData: 1 } as const;
const PluginData = { pluginName: 1 } as const;
const Tensor = { dtype: 1, shape: 2, stringVal: 8 } as const;
const DT_STRING = 7;

/** The first event of every file: says which version of the format follows. */
export function fileVersionEvent(wallTime: number): Uint8Array {
  return new ProtobufWriter().double(Event.wallTime, wallTime).string(Event.fileVersion, 'brain.Event:2').finish();
}

/** Scalars at one step, one summary value per tag (TensorBoard's Scalars tab). */
export function scalarsEvent(wallTime: number, step: number, scalars: Readonly<Record<string, number>>): Uint8Array {
  const summary = new ProtobufWriter();
  for (const [tag, value] of Object.entries(scalars))
    summary.message(Summary.value, new ProtobufWriter().string(Value.tag, tag).float(Value.simpleValue, value));
  return new ProtobufWriter().double(Event.wallTime, wallTime).varint(Event.step, step).message(Event.summary, summary).finish();
}

/** Markdown text under a tag (TensorBoard's Text tab): a string tensor marked for the text plugin. */
export function textEvent(wallTime: number, step: number, tag: string, markdown: string): Uint8Array {
  const tensor = new ProtobufWriter()
    .varint(Tensor.dtype, DT_STRING)
    .message(Tensor.shape, new ProtobufWriter())
    .string(Tensor.stringVal, markdown);
  const metadata = new ProtobufWriter().message(SummaryMetadata.pluginData, new ProtobufWriter().string(PluginData.pluginName, 'text'));
  const value = new ProtobufWriter().string(Value.tag, tag).message(Value.metadata, metadata).message(Value.tensor, tensor);
  return new ProtobufWriter()
    .double(Event.wallTime, wallTime)
    .varint(Event.step, step)
    .message(Event.summary, new ProtobufWriter().message(Summary.value, value))
    .finish();
}
