import { type NamedAttrMap, type NamedTensorInfoMap, type TensorInfo, util } from '@tensorflow/tfjs-core';

/** A BatchMatMul or _FusedMatMul that a native library takes as it is, with its sizes. */
export interface PlainProduct {
  readonly a: TensorInfo;
  readonly b: TensorInfo;
  /** Of the output's columns (any leading sizes of 1). */
  readonly bias: TensorInfo | undefined;
  readonly transposeA: boolean;
  readonly transposeB: boolean;
  readonly relu: boolean;
  /** a as stored (transposed or not), and b. */
  readonly aRows: number;
  readonly aColumns: number;
  readonly bRows: number;
  readonly bColumns: number;
  /** y = op(a) · op(b) is m×n, summed over k. */
  readonly m: number;
  readonly k: number;
  readonly n: number;
  /** tfjs's output shape: m×n with the operands' leading sizes of 1. */
  readonly outShape: number[];
}

/**
 * The product's sizes when it is one float32 product (no batch), its activation none or ReLU, with
 * no PReLU and a bias only of the output's columns; undefined for anything else, which the
 * backend's own kernel computes.
 */
export function plainProduct(inputs: NamedTensorInfoMap, attrs: NamedAttrMap | undefined): PlainProduct | undefined {
  const { a, b, bias, preluActivationWeights } = inputs as {
    a: TensorInfo;
    b: TensorInfo;
    bias?: TensorInfo;
    preluActivationWeights?: TensorInfo;
  };
  const {
    transposeA = false,
    transposeB = false,
    activation = 'linear',
  } = (attrs ?? {}) as { transposeA?: boolean; transposeB?: boolean; activation?: string };
  const [aRows, aColumns] = a.shape.slice(-2) as [number, number];
  const [bRows, bColumns] = b.shape.slice(-2) as [number, number];
  const [m, k] = transposeA ? [aColumns, aRows] : [aRows, aColumns];
  const n = transposeB ? bRows : bColumns;
  const plain =
    util.sizeFromShape(a.shape.slice(0, -2)) === 1 &&
    util.sizeFromShape(b.shape.slice(0, -2)) === 1 &&
    a.dtype === 'float32' &&
    b.dtype === 'float32' &&
    m > 0 &&
    k > 0 &&
    n > 0 &&
    !preluActivationWeights &&
    (activation === 'linear' || activation === 'relu') &&
    (!bias || (bias.dtype === 'float32' && bias.shape.every((size, i) => size === (i === bias.shape.length - 1 ? n : 1))));
  if (!plain) return undefined;
  const outShape = [...Array<number>(Math.max(a.shape.length, b.shape.length) - 2).fill(1), m, n];
  return { a, b, bias, transposeA, transposeB, relu: activation === 'relu', aRows, aColumns, bRows, bColumns, m, k, n, outShape };
}
