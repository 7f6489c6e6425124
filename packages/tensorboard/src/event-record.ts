import { maskedCrc32c } from './crc32c.js';

/**
 * One TFRecord: the length (uint64, little-endian), its masked CRC-32C, the data, the data's
 * masked CRC-32C. An event file is such records one after another.
 */
export function eventRecord(data: Uint8Array): Uint8Array {
  const record = new Uint8Array(8 + 4 + data.length + 4);
  const view = new DataView(record.buffer);
  view.setBigUint64(0, BigInt(data.length), true);
  view.setUint32(8, maskedCrc32c(record.subarray(0, 8)), true);
  record.set(data, 12);
  view.setUint32(12 + data.length, maskedCrc32c(data), true);
  return record;
}
