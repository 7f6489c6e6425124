import { type DataType, Type, Uint16, Uint32, Uint8 } from 'apache-arrow';

/** A column of class indices, as wide as the class count needs. */
export type LabelArray = Uint8Array | Uint16Array | Uint32Array;

/** The narrowest unsigned integer type that holds every label of `classes` classes. */
export function labelType(classes: number): Uint8 | Uint16 | Uint32 {
  if (classes <= 2 ** 8) return new Uint8();
  if (classes <= 2 ** 16) return new Uint16();
  return new Uint32();
}

/** An empty label array of the width `labelType(classes)` stores. */
export function labelArray(classes: number, length: number): LabelArray {
  if (classes <= 2 ** 8) return new Uint8Array(length);
  if (classes <= 2 ** 16) return new Uint16Array(length);
  return new Uint32Array(length);
}

/** The bit width of an unsigned integer label type, or undefined for any other type. */
export function unsignedBitWidth(type: DataType | undefined): 8 | 16 | 32 | undefined {
  if (type?.typeId === Type.Uint8) return 8;
  if (type?.typeId === Type.Uint16) return 16;
  if (type?.typeId === Type.Uint32) return 32;
  const int = type as { typeId?: Type; bitWidth?: number; isSigned?: boolean } | undefined;
  if (int?.typeId !== Type.Int || int.isSigned !== false) return undefined;
  return int.bitWidth === 8 || int.bitWidth === 16 || int.bitWidth === 32 ? int.bitWidth : undefined;
}
