import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { from, lastValueFrom, Subject, take, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { crc32c, tensorBoardRecords, type TrainingEventLike } from '../src/index.js';
import { writeTensorBoard } from '../src/node/index.js';

// An independent reader: TensorFlow's message definitions (the fields used) decoded by protobufjs,
// the TFRecord framing and the masked CRC-32C reimplemented bit by bit, not with this package's table.
const { root } = protobuf.parse(`
  syntax = "proto3";
  message TensorShapeProto {}
  message TensorProto { int32 dtype = 1; TensorShapeProto tensor_shape = 2; repeated bytes string_val = 8; }
  message PluginData { string plugin_name = 1; bytes content = 2; }
  message SummaryMetadata { PluginData plugin_data = 1; }
  message Value { string tag = 1; oneof value { float simple_value = 2; TensorProto tensor = 8; } SummaryMetadata metadata = 9; }
  message Summary { repeated Value value = 1; }
  message Event { double wall_time = 1; int64 step = 2; oneof what { string file_version = 3; Summary summary = 5; } }
`);
const EventType = root.lookupType('Event');

interface DecodedEvent {
  wallTime: number;
  step?: number;
  fileVersion?: string;
  summary?: {
    value: {
      tag: string;
      simpleValue?: number;
      tensor?: { dtype: number; stringVal: Uint8Array[] };
      metadata?: { pluginData?: { pluginName: string } };
    }[];
  };
}

function bitwiseCrc32c(bytes: Uint8Array): number {
  let crc = ~0 >>> 0;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = (crc >>> 1) ^ (0x82f63b78 & -(crc & 1));
  }
  return ~crc >>> 0;
}
const masked = (bytes: Uint8Array) => {
  const crc = bitwiseCrc32c(bytes);
  return (((crc >>> 15) | (crc << 17)) + 0xa282ead8) >>> 0;
};

function readEventFile(bytes: Uint8Array): DecodedEvent[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const events: DecodedEvent[] = [];
  for (let at = 0; at < bytes.length;) {
    const length = Number(view.getBigUint64(at, true));
    expect(view.getUint32(at + 8, true)).toBe(masked(bytes.subarray(at, at + 8)));
    const data = bytes.subarray(at + 12, at + 12 + length);
    expect(view.getUint32(at + 12 + length, true)).toBe(masked(data));
    events.push(EventType.toObject(EventType.decode(data), { longs: Number, bytes: Uint8Array, defaults: false }) as DecodedEvent);
    at += 12 + length + 4;
  }
  return events;
}

const scalars = (event: DecodedEvent) => Object.fromEntries((event.summary?.value ?? []).map((value) => [value.tag, value.simpleValue]));

const record = (epoch: number) => ({
  epoch,
  phase: 0,
  learningRate: 0.1 / epoch,
  trainLoss: 2 / epoch,
  valLoss: 2.5 / epoch,
  valAccuracy: 0.3 * epoch,
  metrics: { top3: 0.5 + 0.1 * epoch },
  seconds: 12.5,
});
const batch = (epoch: number, step: number) => ({
  type: 'batch',
  epoch,
  phase: 0,
  step,
  size: 4,
  loss: 1 / (epoch * 10 + step),
  learningRate: 0.01 * step,
});
const run: TrainingEventLike[] = [
  batch(1, 1),
  batch(1, 2),
  batch(1, 3),
  { type: 'epoch', record: record(1) },
  batch(2, 1),
  batch(2, 2),
  batch(2, 3),
  { type: 'epoch', record: record(2) },
  { type: 'end' },
];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rxvision-tensorboard-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('tensorBoardRecords', () => {
  test('the CRC is CRC-32C (the standard check value of "123456789")', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
  });

  test('a header, the settings as text, per-step and per-epoch scalars, framed and checksummed', async () => {
    let clock = 1_700_000_000;
    const records = await lastValueFrom(
      from(run).pipe(tensorBoardRecords({ stepsPerEpoch: 3, settings: '```json\n{"seed": 3}\n```', now: () => (clock += 0.5) }), toArray()),
    );
    const events = readEventFile(Uint8Array.from(records.flatMap((bytes) => [...bytes])));
    expect(events[0]).toEqual({ wallTime: 1_700_000_000.5, fileVersion: 'brain.Event:2' });
    const settings = events[1]!.summary!.value[0]!;
    expect([settings.tag, settings.metadata?.pluginData?.pluginName, settings.tensor?.dtype]).toEqual(['settings', 'text', 7]);
    expect(new TextDecoder().decode(settings.tensor!.stringVal[0])).toBe('```json\n{"seed": 3}\n```');
    const steps = events.slice(2).filter((event) => 'train/loss' in scalars(event));
    expect(steps.map((event) => event.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(scalars(steps[4]!)['train/loss']).toBeCloseTo(1 / 22, 6); // float32
    expect(scalars(steps[4]!)['train/learning_rate']).toBeCloseTo(0.02, 6);
    const epochs = events.filter((event) => 'epoch/val_accuracy' in scalars(event));
    expect(epochs.map((event) => event.step)).toEqual([1, 2]);
    expect(Object.keys(scalars(epochs[1]!)).sort()).toEqual([
      'epoch/learning_rate',
      'epoch/seconds',
      'epoch/train_loss',
      'epoch/val_accuracy',
      'epoch/val_loss',
      'epoch/val_top3',
    ]);
    expect(scalars(epochs[1]!)['epoch/val_accuracy']).toBeCloseTo(0.6, 6);
    expect(scalars(epochs[1]!)['epoch/val_top3']).toBeCloseTo(0.7, 6);
    expect(events.every((event, i) => i === 0 || event.wallTime > events[i - 1]!.wallTime)).toBe(true);
  });

  test('without stepsPerEpoch, steps are counted per subscription: subscribing twice gives the same records', async () => {
    const operator = tensorBoardRecords({ now: () => 5 });
    const first = await lastValueFrom(from(run).pipe(operator, toArray()));
    const second = await lastValueFrom(from(run).pipe(operator, toArray()));
    expect(second).toEqual(first);
    const steps = readEventFile(Uint8Array.from(first.flatMap((bytes) => [...bytes]))).filter((event) => 'train/loss' in scalars(event));
    expect(steps.map((event) => event.step)).toEqual([1, 2, 3, 4, 5, 6]);
  });
});

describe('writeTensorBoard', () => {
  test('passes events through, and each one is in the file as soon as it passed, before the run ends', async () => {
    const logdir = join(dir, 'run-a');
    const events = new Subject<TrainingEventLike>();
    const seen: TrainingEventLike[] = [];
    const subscription = events.pipe(writeTensorBoard(logdir, { stepsPerEpoch: 3 })).subscribe((event) => seen.push(event));
    for (const event of run.slice(0, 4)) events.next(event);
    const [name] = await readdir(logdir);
    expect(name).toMatch(/^events\.out\.tfevents\.\d+\./);
    const soFar = readEventFile(await readFile(join(logdir, name!)));
    expect(soFar.filter((event) => 'train/loss' in scalars(event))).toHaveLength(3);
    expect(soFar.filter((event) => 'epoch/val_loss' in scalars(event))).toHaveLength(1);
    subscription.unsubscribe(); // interrupted: the file stays whole, records so far
    expect(seen).toEqual(run.slice(0, 4));
    expect(readEventFile(await readFile(join(logdir, name!)))).toHaveLength(soFar.length);
  });

  test('each subscription writes its own file', async () => {
    const logdir = join(dir, 'run-b');
    const events = from(run).pipe(writeTensorBoard(logdir));
    await lastValueFrom(events);
    await lastValueFrom(events.pipe(take(2)));
    const files = await readdir(logdir);
    expect(files).toHaveLength(2);
    const sizes = await Promise.all(files.map(async (file) => readEventFile(await readFile(join(logdir, file))).length));
    expect(sizes.sort((a, b) => a - b)).toEqual([3, 9]); // header + 2 steps; header + 6 steps + 2 epochs
  });
});
