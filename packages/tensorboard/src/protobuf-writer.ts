const WIRE_VARINT = 0;
const WIRE_64BIT = 1;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_32BIT = 5;
const encoder = new TextEncoder();

/**
 * Just enough of the protobuf wire format to write TensorBoard's `Event` messages: fields are
 * appended in order, and `message` nests another writer's bytes as a length-delimited field.
 */
export class ProtobufWriter {
  readonly #parts: number[] = [];

  double(field: number, value: number): this {
    this.#tag(field, WIRE_64BIT);
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setFloat64(0, value, true);
    this.#parts.push(...bytes);
    return this;
  }

  float(field: number, value: number): this {
    this.#tag(field, WIRE_32BIT);
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setFloat32(0, value, true);
    this.#parts.push(...bytes);
    return this;
  }

  /** A non-negative integer below 2^53 (int64 and enum fields). */
  varint(field: number, value: number): this {
    this.#tag(field, WIRE_VARINT);
    this.#varint(value);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.#tag(field, WIRE_LENGTH_DELIMITED);
    this.#varint(value.length);
    for (const byte of value) this.#parts.push(byte);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, encoder.encode(value));
  }

  message(field: number, message: ProtobufWriter): this {
    return this.bytes(field, message.finish());
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.#parts);
  }

  #tag(field: number, wire: number): void {
    this.#varint(field * 8 + wire);
  }

  #varint(value: number): void {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`a varint must be a whole number in 0..2^53, got ${value}`);
    let rest = value;
    while (rest >= 0x80) {
      this.#parts.push((rest % 0x80) | 0x80);
      rest = Math.floor(rest / 0x80);
    }
    this.#parts.push(rest);
  }
}
