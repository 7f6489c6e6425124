/**
 * MNIST's IDX format (yann.lecun.com/exdb/mnist): a 4-byte magic (0, 0, type, number of
 * dimensions), each dimension as a big-endian uint32, then the values. Only unsigned bytes
 * (type 0x08) occur in image datasets; the values are a view of the input, not a copy.
 */
export interface IdxArray {
  readonly dims: readonly number[];
  readonly values: Uint8Array;
}

const UNSIGNED_BYTE = 0x08;

/** Parses IDX bytes, or returns what is wrong with them in a phrase. */
export function parseIdx(bytes: Uint8Array): IdxArray | string {
  if (bytes.length < 4) return `holds ${bytes.length} bytes, too few for an IDX header`;
  if (bytes[0] !== 0 || bytes[1] !== 0) return 'is not an IDX file (it does not start with two zero bytes)';
  if (bytes[2] !== UNSIGNED_BYTE)
    return `holds IDX values of type 0x${bytes[2]!.toString(16).padStart(2, '0')}; images and labels are unsigned bytes (0x08)`;
  const rank = bytes[3]!;
  const header = 4 + 4 * rank;
  if (rank === 0 || bytes.length < header) return `has a damaged IDX header (${rank} dimensions in ${bytes.length} bytes)`;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
  const count = dims.reduce((product, size) => product * size, 1);
  if (bytes.length - header !== count)
    return `is truncated or padded: its header [${dims.join(', ')}] needs ${count} values, it holds ${bytes.length - header}`;
  return { dims, values: bytes.subarray(header) };
}
