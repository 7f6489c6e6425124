/**
 * The little of protobuf's wire format an ONNX model needs: varints, length-delimited fields and
 * 32-bit floats. Fields are built as byte arrays and joined once per message, so a 20 MB weight
 * tensor is copied a few times, not pushed byte by byte.
 */
export type Bytes = Uint8Array;

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LENGTH = 2;
export const WIRE_FIXED32 = 5;

export function join(parts: readonly Bytes[]): Bytes {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function varint(value: number): Bytes {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`cannot encode ${value} as a protobuf varint`);
  const bytes: number[] = [];
  let rest = value;
  while (rest > 0x7f) {
    bytes.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
  return Uint8Array.from(bytes);
}

/** A signed 64-bit integer as protobuf writes int64: negatives as ten-byte two's complement. */
function int64(value: number): Bytes {
  if (value >= 0) return varint(value);
  if (!Number.isSafeInteger(value)) throw new RangeError(`cannot encode ${value} as an int64`);
  let rest = BigInt.asUintN(64, BigInt(value));
  const bytes: number[] = [];
  while (rest > 0x7fn) {
    bytes.push(Number(rest & 0x7fn) | 0x80);
    rest >>= 7n;
  }
  bytes.push(Number(rest));
  return Uint8Array.from(bytes);
}

const tag = (field: number, wire: number) => varint(field * 8 + wire);

export const integerField = (field: number, value: number): Bytes => join([tag(field, WIRE_VARINT), int64(value)]);
export const bytesField = (field: number, bytes: Bytes): Bytes => join([tag(field, WIRE_LENGTH), varint(bytes.length), bytes]);
export const messageField = (field: number, parts: readonly Bytes[]): Bytes => bytesField(field, join(parts));
export const stringField = (field: number, value: string): Bytes => bytesField(field, new TextEncoder().encode(value));

export function floatField(field: number, value: number): Bytes {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setFloat32(0, value, true);
  return join([tag(field, WIRE_FIXED32), bytes]);
}

/** One field of a message as read back: its number, its wire type, and its varint value or its bytes (a fixed32's or fixed64's too). */
export interface ReadField {
  readonly field: number;
  readonly wire: number;
  readonly value: number | Bytes;
}

/**
 * The top-level fields of one message, in order; nested messages stay bytes for the caller to read.
 * Varints are read as int64, as ONNX's integers are: ten bytes of two's complement are negative.
 */
export function readFields(bytes: Bytes): ReadField[] {
  const fields: ReadField[] = [];
  let at = 0;
  const readVarint = (): number => {
    let value = 0;
    let scale = 1;
    for (let count = 0; count < 7; count++) {
      if (at >= bytes.length) throw new RangeError('not a protobuf message: it ends inside a number');
      const byte = bytes[at++]!;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 0x80;
    }
    // Past 49 bits: exactly, as a signed 64-bit integer (a negative int64 takes ten bytes).
    let big = BigInt(value);
    for (let shift = 49n; ; shift += 7n) {
      if (at >= bytes.length || shift > 63n) throw new RangeError('not a protobuf message: a number runs past 64 bits');
      const byte = bytes[at++]!;
      big |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return Number(BigInt.asIntN(64, big));
    }
  };
  const take = (length: number): Bytes => {
    if (at + length > bytes.length) throw new RangeError('not a protobuf message: a field runs past its end');
    const value = bytes.subarray(at, at + length);
    at += length;
    return value;
  };
  while (at < bytes.length) {
    const key = readVarint();
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (field < 1) throw new RangeError('not a protobuf message: field number 0');
    if (wire === WIRE_VARINT) fields.push({ field, wire, value: readVarint() });
    else if (wire === WIRE_LENGTH) fields.push({ field, wire, value: take(readVarint()) });
    else if (wire === WIRE_FIXED32) fields.push({ field, wire, value: take(4) });
    else if (wire === WIRE_FIXED64) fields.push({ field, wire, value: take(8) });
    else throw new RangeError(`not a protobuf message: wire type ${wire}`);
  }
  return fields;
}
